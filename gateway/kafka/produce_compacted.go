package kafka

// Produce to a compacted topic (cleanup.policy has compact): as Kafka's
// LogValidator, every record needs a key, since compaction keeps the latest
// record per key and a record without one could never be superseded. The
// batch is refused whole with INVALID_RECORD, its message naming the
// partition as Kafka's does, and (v8+) a record error pointing at the first
// record without a key. Only compacted topics pay for decoding the batch.

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// keylessRecordError is the refusal of a batch holding a record without a
// key, with the index of the first such record.
type keylessRecordError struct {
	*kafkaError
	index int32
}

func (e *keylessRecordError) Unwrap() error { return e.kafkaError }

// checkKeys refuses batch when one of its records has no key.
func checkKeys(topic string, partition int32, batch []byte) error {
	_, recs, err := recordbatch.Decode(batch)
	if err != nil {
		return refuse(kerr.CorruptMessage, "%v", err)
	}
	for i := range recs {
		if recs[i].Key == nil {
			return &keylessRecordError{
				kafkaError: refuse(kerr.InvalidRecord, "Compacted topic cannot accept message without key in topic partition %s-%d.", topic, partition),
				index:      int32(i),
			}
		}
	}
	return nil
}

// recordErrors returns the record errors (Produce v8+) of err.
func recordErrors(err error) []kmsg.ProduceResponseTopicPartitionErrorRecord {
	var ke *keylessRecordError
	if !errors.As(err, &ke) {
		return nil
	}
	re := kmsg.NewProduceResponseTopicPartitionErrorRecord()
	re.RelativeOffset = ke.index
	msg := ke.msg
	re.ErrorMessage = &msg
	return []kmsg.ProduceResponseTopicPartitionErrorRecord{re}
}
