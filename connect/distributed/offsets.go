package distributed

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
	"github.com/streambridge/bridge/connect/runtime"
)

// OffsetStore keeps source offsets in the offset.storage.topic as Kafka
// Connect's KafkaOffsetBackingStore does: key ["<connector>",{partition}],
// value the offset, both JSON as JsonConverter with schemas.enable=false
// writes them; a null value deletes. It implements runtime.OffsetStore.
//
// Keys are compared by meaning, not bytes: a key another worker wrote with
// its members in another order is the same partition, and a Put for it
// reuses that worker's key bytes so compaction keeps one record per
// partition.
type OffsetStore struct {
	producer *kgo.Client
	log      *kafkaLog
	conv     *convert.JSONConverter

	mu   sync.Mutex
	data map[string]map[string]offsetEntry // connector → canonical partition JSON → entry
}

type offsetEntry struct {
	rawKey    []byte
	partition map[string]any
	offset    map[string]any
}

var _ runtime.OffsetStore = (*OffsetStore)(nil)

// OpenOffsetStore creates the topic if needed (default connect-offsets, 25
// partitions, compacted) and reads it to its end before returning.
func OpenOffsetStore(ctx context.Context, o Options) (*OffsetStore, error) {
	conv := convert.NewJSONConverter()
	if err := conv.Configure(connect.Config{"schemas.enable": "false"}, true); err != nil {
		return nil, err
	}
	producer, err := newProducer(o)
	if err != nil {
		return nil, err
	}
	spec := o.spec("connect-offsets", 25, "offset.storage.topic", "source connector offsets")
	if err := EnsureTopic(ctx, producer, spec); err != nil {
		producer.Close()
		return nil, err
	}
	s := &OffsetStore{producer: producer, conv: conv, data: map[string]map[string]offsetEntry{}}
	s.log, err = openLogIsolated(ctx, producer, o.Brokers, o.Client, spec.Name, s.applyRecord, o.ReadCommitted)
	if err != nil {
		producer.Close()
		return nil, err
	}
	return s, nil
}

// Close stops reading and writing.
func (s *OffsetStore) Close() {
	s.log.close()
	s.producer.Close()
}

// EncodeOffsetKey is the record key of a connector's partition:
// ["<connector>",{…}] with the partition's members sorted.
func (s *OffsetStore) EncodeOffsetKey(connector string, partition map[string]any) ([]byte, error) {
	return s.conv.FromConnect("", nil, []any{connector, partition})
}

// decodeKey parses a key; ok is false for a key of another format, which
// Kafka skips too.
func (s *OffsetStore) decodeKey(key []byte) (connector string, partition map[string]any, canonical string, ok bool) {
	_, v, err := s.conv.ToConnect("", key)
	if err != nil {
		return "", nil, "", false
	}
	arr, isArr := v.([]any)
	if !isArr || len(arr) != 2 {
		return "", nil, "", false
	}
	connector, isStr := arr[0].(string)
	if !isStr {
		return "", nil, "", false
	}
	if arr[1] != nil {
		if partition, ok = arr[1].(map[string]any); !ok {
			return "", nil, "", false
		}
	}
	c, err := s.conv.FromConnect("", nil, partition)
	if err != nil {
		return "", nil, "", false
	}
	return connector, partition, string(c), true
}

func (s *OffsetStore) applyRecord(r *kgo.Record) {
	connector, partition, canon, ok := s.decodeKey(r.Key)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.Value == nil {
		delete(s.data[connector], canon)
		return
	}
	_, v, err := s.conv.ToConnect("", r.Value)
	if err != nil {
		return
	}
	offset, _ := v.(map[string]any)
	if offset == nil {
		return
	}
	if s.data[connector] == nil {
		s.data[connector] = map[string]offsetEntry{}
	}
	s.data[connector][canon] = offsetEntry{rawKey: r.Key, partition: partition, offset: offset}
}

// Get implements runtime.OffsetStore: it reads the topic to its end first,
// so it sees every write acknowledged before the call.
func (s *OffsetStore) Get(ctx context.Context, connector string, partition map[string]any) (map[string]any, error) {
	if err := s.log.readToEnd(ctx); err != nil {
		return nil, err
	}
	c, err := s.conv.FromConnect("", nil, partition)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data[connector][string(c)].offset, nil
}

// List implements runtime.OffsetStore.
func (s *OffsetStore) List(ctx context.Context, connector string) ([]runtime.SourceOffset, error) {
	if err := s.log.readToEnd(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]runtime.SourceOffset, 0, len(s.data[connector]))
	for _, e := range s.data[connector] {
		out = append(out, runtime.SourceOffset{Partition: e.partition, Offset: e.offset})
	}
	return out, nil
}

// Put implements runtime.OffsetStore: it returns once every record is
// acknowledged by the cluster. A nil Offset writes a tombstone.
func (s *OffsetStore) Put(ctx context.Context, connector string, offsets []runtime.SourceOffset) error {
	recs, err := s.OffsetRecords(connector, offsets)
	if err != nil || len(recs) == 0 {
		return err
	}
	return s.log.sendAll(ctx, recs)
}

// OffsetRecords returns the records of the offsets topic that store offsets
// (a nil Offset is a tombstone), for a task's transactional producer to
// write (runtime.TransactionalOffsetStore); Put writes them itself.
func (s *OffsetStore) OffsetRecords(connector string, offsets []runtime.SourceOffset) ([]*kgo.Record, error) {
	if connector == "" {
		return nil, errors.New("offsets need a connector name")
	}
	recs := make([]*kgo.Record, 0, len(offsets))
	for _, o := range offsets {
		key, err := s.EncodeOffsetKey(connector, o.Partition)
		if err != nil {
			return nil, fmt.Errorf("encoding the offset key: %w", err)
		}
		c, _ := s.conv.FromConnect("", nil, o.Partition)
		s.mu.Lock()
		if e, ok := s.data[connector][string(c)]; ok {
			key = e.rawKey
		}
		s.mu.Unlock()
		var value []byte
		if o.Offset != nil {
			if value, err = s.conv.FromConnect("", nil, o.Offset); err != nil {
				return nil, fmt.Errorf("encoding the offset: %w", err)
			}
		}
		recs = append(recs, &kgo.Record{Topic: s.log.topic, Key: key, Value: value})
	}
	return recs, nil
}
