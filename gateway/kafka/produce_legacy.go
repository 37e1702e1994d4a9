package kafka

// Produce v0-2 carry message sets of magic 0 and 1 (the formats before
// 0.11) instead of record batch v2. A broker converts them on append; so do
// we, before the v3+ checks: recordbatch.FromMessageSet turns a partition's
// messages into one v2 batch compressed with the producer's codec, which
// then goes through checkProduce and the append like any v3+ batch. This is
// what lets librdkafka before 2.11 compress (it compresses only when the
// broker offers Produce v0-2, see README).

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// legacyProduceBatch converts one partition's message set to a v2 batch,
// or returns the refusal a broker gives.
func (s *Server) legacyProduceBatch(topic string, partition int32, set []byte) ([]byte, error) {
	batch, err := recordbatch.FromMessageSet(nil, set)
	if err == nil {
		return batch, nil
	}
	s.log.Info("produce: message set refused", "topic", topic, "partition", partition, "err", err)
	switch {
	case errors.Is(err, recordbatch.ErrCorrupt), errors.Is(err, recordbatch.ErrTruncated):
		return nil, refuse(kerr.CorruptMessage, "%v", err)
	case errors.Is(err, recordbatch.ErrUnknownCodec):
		// zstd in magic 0/1 (KIP-110), or codec bits 5-7.
		return nil, refuse(kerr.UnsupportedCompressionType, "%v", err)
	case errors.Is(err, recordbatch.ErrTooLarge):
		return nil, refuse(kerr.MessageTooLarge, "%v", err)
	}
	// A v2 batch in Produce v0-2, no messages, mixed magics, a wrapper
	// beside other messages.
	return nil, refuse(kerr.InvalidRecord, "%v", err)
}
