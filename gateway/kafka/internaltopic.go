// __consumer_offsets and __transaction_state, Kafka's internal topics, as
// the Kafka front end shows them. Kafka creates them on the first
// FindCoordinator (of a group, of a transactional id) and keeps group
// offsets and metadata, and transactional ids' state, in them; Metadata
// lists them with IsInternal, and clients rely on that flag (regex
// consumers skip internal topics, kgo's TestConsumeRegex waits for one;
// tools list them). The bridge keeps committed offsets, group metadata and
// transaction state in its store's state area instead (cgroup_persist.go,
// group_persist.go, txn_state.go), so the topics here are views with
// nothing behind them: never store streams, nothing written for them, and
// listed from the start (Kafka lists each once it was first needed).
//
// The view is internalTopics, a wrapper around the store that New puts in
// Server.store: every handler that describes, lists or reads topics sees
// the topic through its ordinary path (Metadata all and by name or id,
// Fetch, ListOffsets, DescribeConfigs, OffsetForLeaderEpoch, KIP-848 regex
// subscriptions, which Kafka's broker lets match it), with an empty
// log (log start and high watermark 0) in each of its 50 partitions
// (offsets.topic.num.partitions, transaction.state.log.num.partitions). The calls that would change it are
// refused the way Kafka refuses a client changing an internal topic:
//   - Produce: INVALID_TOPIC_EXCEPTION, "Cannot append to internal topic"
//     (Kafka's ReplicaManager.appendToLocalLog; checked in handleProduce
//     after WRITE is authorized, before the records are looked at);
//   - DeleteRecords: INVALID_TOPIC_EXCEPTION, "Cannot delete records of
//     internal topic" (ReplicaManager.deleteRecordsOnLocalLog);
//   - CreateTopics: TOPIC_ALREADY_EXISTS;
//   - DeleteTopics, CreatePartitions, AlterConfigs: INVALID_TOPIC_EXCEPTION.
//     Kafka's own tools refuse deleting an internal topic or growing one;
//     a broker lets an admin client do both. Here there is no topic to
//     delete or grow, so the refusal is the honest answer.
//
// A store stream that happens to be called like one of them (made through
// the Kinesis API, or before this view existed) is hidden from the Kafka
// front end by the view; the Kinesis API still sees it.
package kafka

import (
	"context"
	"crypto/sha256"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/store"
)

// offsetsTopic is Kafka's group offsets topic.
const offsetsTopic = "__consumer_offsets"

// offsetsTopicPartitions is Kafka's offsets.topic.num.partitions default.
// Clients see the count only; every partition is empty.
const offsetsTopicPartitions = 50

// txnStateTopic is Kafka's transaction log topic.
const txnStateTopic = "__transaction_state"

// txnStateTopicPartitions is Kafka's transaction.state.log.num.partitions
// default.
const txnStateTopicPartitions = 50

// internalTopicNames are the internal topics the front end shows, sorted.
var internalTopicNames = []string{offsetsTopic, txnStateTopic}

// isInternalTopic says whether name is one of Kafka's internal topics the
// front end shows.
func isInternalTopic(name string) bool { return name == offsetsTopic || name == txnStateTopic }

// internalTopicPartitions is the partition count of an internal topic.
func internalTopicPartitions(name string) int {
	if name == txnStateTopic {
		return txnStateTopicPartitions
	}
	return offsetsTopicPartitions
}

// offsetsTopicStream is the view's description of __consumer_offsets.
func offsetsTopicStream() store.Stream { return internalTopicStream(offsetsTopic) }

// internalTopicStream is the view's description of an internal topic: a
// stream that is never stored. Its topic id is derived from the name, so it
// is the same across restarts and never the zero UUID; its only config
// override is cleanup.policy=compact, as in Kafka.
func internalTopicStream(name string) store.Stream {
	n := internalTopicPartitions(name)
	sum := sha256.Sum256([]byte("streambridge internal topic " + name))
	var id [16]byte
	copy(id[:], sum[:])
	id[6] = id[6]&0x0f | 0x80 // RFC 9562 version 8: custom
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	st := store.Stream{
		Name:       name,
		Created:    time.Unix(0, 0).UTC(),
		Retention:  DefaultRetention,
		Shards:     make([]store.Shard, n),
		Partitions: make([]store.Partition, n),
		Config:     map[string]string{topicIDKey: formatUUID(id)},
	}
	for i := range n {
		st.Shards[i] = store.Shard{Index: i, Parent: store.NoShard, AdjacentParent: store.NoShard, Partition: int32(i), EndOffset: -1}
		st.Partitions[i] = store.Partition{ID: int32(i), Shards: []int{i}}
	}
	applyTopicOverrides(&st, map[string]string{cfgCleanupPolicy: "compact"})
	return st
}

// internalTopics is the store as the Kafka front end sees it: the store
// plus the internal topics, which it describes, lists and reads as empty
// and refuses to change. Everything else passes through.
type internalTopics struct {
	store.Store
}

// withInternalTopics wraps st, once.
func withInternalTopics(st store.Store) store.Store {
	if _, ok := st.(internalTopics); ok || st == nil {
		return st
	}
	return internalTopics{st}
}

// partitionOf checks that partition is one of internal topic name's.
func partitionOf(name string, partition int32) error {
	if partition < 0 || int(partition) >= internalTopicPartitions(name) {
		return store.ErrPartitionNotFound
	}
	return nil
}

func (s internalTopics) CreateStream(ctx context.Context, cfg store.StreamConfig) (store.Stream, error) {
	if isInternalTopic(cfg.Name) {
		return store.Stream{}, refuse(kerr.TopicAlreadyExists, "Topic '%s' already exists.", cfg.Name)
	}
	return s.Store.CreateStream(ctx, cfg)
}

func (s internalTopics) DeleteStream(ctx context.Context, name string) error {
	if isInternalTopic(name) {
		return refuse(kerr.InvalidTopicException, "Topic %s is an internal topic and cannot be deleted: the bridge keeps group offsets and transaction state in its state area, not in this topic.", name)
	}
	return s.Store.DeleteStream(ctx, name)
}

func (s internalTopics) DescribeStream(ctx context.Context, name string) (store.Stream, error) {
	if isInternalTopic(name) {
		return internalTopicStream(name), nil
	}
	return s.Store.DescribeStream(ctx, name)
}

func (s internalTopics) ListStreams(ctx context.Context) ([]string, error) {
	names, err := s.Store.ListStreams(ctx)
	if err != nil {
		return nil, err
	}
	for _, it := range internalTopicNames {
		if i, found := slices.BinarySearch(names, it); !found {
			names = slices.Insert(names, i, it)
		}
	}
	return names, nil
}

func (s internalTopics) UpdateStream(ctx context.Context, name string, change func(*store.Stream) error) (store.Stream, error) {
	if isInternalTopic(name) {
		return store.Stream{}, refuse(kerr.InvalidTopicException, "Topic %s is an internal topic; its configs cannot be changed here.", name)
	}
	return s.Store.UpdateStream(ctx, name, change)
}

func (s internalTopics) GrowPartitions(ctx context.Context, name string, total int) (store.Stream, error) {
	if isInternalTopic(name) {
		return store.Stream{}, refuse(kerr.InvalidTopicException, "The number of partitions for the internal topic %s cannot be changed.", name)
	}
	return s.Store.GrowPartitions(ctx, name, total)
}

// errInternalAppend is what an append to an internal topic gets, should
// one get past handleProduce's check.
func errInternalAppend(name string) error {
	return refuse(kerr.InvalidTopicException, "Cannot append to internal topic %s", name)
}

func (s internalTopics) AppendBatch(ctx context.Context, name string, partition int32, batch []byte, opts store.AppendOptions) (store.AppendResult, error) {
	if isInternalTopic(name) {
		return store.AppendResult{}, errInternalAppend(name)
	}
	return s.Store.AppendBatch(ctx, name, partition, batch, opts)
}

func (s internalTopics) StartAppendBatch(ctx context.Context, name string, partition int32, batch []byte, opts store.AppendOptions) (store.Pending, error) {
	if isInternalTopic(name) {
		return nil, errInternalAppend(name)
	}
	return s.Store.StartAppendBatch(ctx, name, partition, batch, opts)
}

// Read answers the empty log: nothing at offset 0, the only offset in
// range.
func (s internalTopics) Read(ctx context.Context, name string, partition int32, offset int64, lim store.ReadLimits) (store.ReadResult, error) {
	if !isInternalTopic(name) {
		return s.Store.Read(ctx, name, partition, offset, lim)
	}
	if err := partitionOf(name, partition); err != nil {
		return store.ReadResult{}, err
	}
	if offset != 0 {
		return store.ReadResult{}, store.ErrOffsetOutOfRange
	}
	return store.ReadResult{}, nil
}

// Wait on an internal topic waits for ctx: the log never grows.
func (s internalTopics) Wait(ctx context.Context, name string, partition int32, offset int64) error {
	if !isInternalTopic(name) {
		return s.Store.Wait(ctx, name, partition, offset)
	}
	if err := partitionOf(name, partition); err != nil {
		return err
	}
	<-ctx.Done()
	return ctx.Err()
}

func (s internalTopics) Offsets(ctx context.Context, name string, partition int32) (int64, int64, error) {
	if isInternalTopic(name) {
		return 0, 0, partitionOf(name, partition)
	}
	return s.Store.Offsets(ctx, name, partition)
}

func (s internalTopics) Size(ctx context.Context, name string, partition int32) (int64, error) {
	if isInternalTopic(name) {
		return 0, partitionOf(name, partition)
	}
	return s.Store.Size(ctx, name, partition)
}

func (s internalTopics) OffsetForTimestamp(ctx context.Context, name string, partition int32, ts int64) (int64, int64, bool, error) {
	if isInternalTopic(name) {
		return 0, 0, false, partitionOf(name, partition)
	}
	return s.Store.OffsetForTimestamp(ctx, name, partition, ts)
}

func (s internalTopics) MaxTimestamp(ctx context.Context, name string, partition int32) (int64, int64, bool, error) {
	if isInternalTopic(name) {
		return 0, 0, false, partitionOf(name, partition)
	}
	return s.Store.MaxTimestamp(ctx, name, partition)
}

func (s internalTopics) TrimBefore(ctx context.Context, name string, partition int32, offset int64) (int64, error) {
	if isInternalTopic(name) {
		return 0, refuse(kerr.InvalidTopicException, "Cannot delete records of internal topic %s-%d", name, partition)
	}
	return s.Store.TrimBefore(ctx, name, partition, offset)
}

// produceInternalRefusal is handleProduce's check, made once WRITE is
// authorized: Kafka refuses a client's append to an internal topic before
// it looks at the records.
func (s *Server) produceInternalRefusal(topic string) int16 {
	if !isInternalTopic(topic) {
		return 0
	}
	s.log.Info("kafka: produce to an internal topic refused", "topic", topic)
	return kerr.InvalidTopicException.Code
}
