package kafka

// Fetch v0-3 return message sets of magic 0 (v0-1) or 1 (v2-3): the
// partition reads run as for v4+ (fetch), then the v2 batches read are
// down-converted with recordbatch.AppendMessageSet, as a broker does for
// old consumers: headers dropped, control batches skipped, a compressed
// batch re-encoded as one wrapper message with the same codec. That costs
// a decode and, for compressed batches, a decompression and a compression
// per batch and fetch; v4+ never pays it (their batches go out as stored).
//
// Limits: v0-2 have no response MaxBytes, only PartitionMaxBytes, and it
// is a hard limit (Kafka's hardMaxBytesLimit): a message set that does not
// fit is cut, the last message partial, which old consumers skip (or, when
// not even the first message fits, report as too large). v3 adds MaxBytes
// and the KIP-74 rule: the first message set of the response goes whole.
// A zstd batch has no old form (KIP-110): the partition gets
// UNSUPPORTED_COMPRESSION_TYPE when it comes first, otherwise the fetch
// stops before it.

import (
	"context"
	"errors"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// handleLegacyFetch answers Fetch v0-3.
func handleLegacyFetch(r *Request, req *kmsg.FetchRequest, received time.Time, denied map[string]bool, pointers bool) (Reply, error) {
	if req.Version < 3 {
		req.MaxBytes = maxFetchBytes // no MaxBytes field: the partitions' limits only
	}
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		return r.Server.downConvert(req, r.Server.fetch(ctx, req, received, denied, pointers)), nil
	}), nil
}

// downConvert turns fr's batches into message sets of the magic req's
// version reads, within its limits.
func (s *Server) downConvert(req *kmsg.FetchRequest, fr *fetchResponse) *kmsg.FetchResponse {
	magic := int8(1)
	if req.Version < 2 {
		magic = 0
	}
	hard := req.Version < 3
	resp := fr.FetchResponse
	total := 0
	for i := range resp.Topics {
		t := &resp.Topics[i]
		for j := range t.Partitions {
			rp := &t.Partitions[j]
			p := &req.Topics[i].Partitions[j]
			limit := int(p.PartitionMaxBytes)
			if !hard {
				limit = min(limit, int(req.MaxBytes)-total)
			}
			rp.RecordBatches = s.downConvertPartition(t.Topic, rp, fr.records[i][j], magic, p.FetchOffset, limit, hard || total > 0)
			total += len(rp.RecordBatches)
		}
	}
	return resp
}

// downConvertPartition converts one partition's batches. Set hard when the
// limit binds even the first message set.
func (s *Server) downConvertPartition(topic string, rp *kmsg.FetchResponseTopicPartition, pieces [][]byte, magic int8, fetchOffset int64, limit int, hard bool) []byte {
	out := []byte{} // empty, not null
	if len(pieces) == 0 {
		return out
	}
	batches, err := recordbatch.Split(joinBatches(pieces))
	if err != nil {
		s.log.Warn("fetch: a stored batch cannot be read for down-conversion", "topic", topic, "partition", rp.Partition, "err", err)
		rp.ErrorCode = kerr.CorruptMessage.Code
		return out
	}
	limit = max(limit, 0)
	for _, b := range batches {
		prev := len(out)
		out, err = recordbatch.AppendMessageSet(out, b, magic, fetchOffset)
		if err != nil {
			if prev == 0 {
				if errors.Is(err, recordbatch.ErrUnknownCodec) {
					rp.ErrorCode = kerr.UnsupportedCompressionType.Code
				} else {
					s.log.Warn("fetch: a stored batch cannot be down-converted", "topic", topic, "partition", rp.Partition, "err", err)
					rp.ErrorCode = kerr.CorruptMessage.Code
				}
			}
			break
		}
		if len(out) > limit {
			switch {
			case prev > 0:
				out = out[:prev] // the rest waits for the next fetch
			case hard:
				out = out[:limit] // cut: the consumer sees a partial message
			}
			break
		}
	}
	return out
}
