package distributed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TopicSpec says which internal topic a store uses and how to create it.
type TopicSpec struct {
	Name string
	// Partitions when the topic is created (offset.storage.partitions 25,
	// status.storage.partitions 5; the config topic always has 1).
	Partitions int32
	// ReplicationFactor when created; 0 or -1 means min(3, brokers).
	ReplicationFactor int16
	// Property and Purpose name the worker setting and what the topic
	// holds, for Kafka's error about a topic that is not compacted.
	Property string
	Purpose  string
}

// EnsureTopic creates spec's topic with cleanup.policy=compact when it is
// missing, and refuses an existing one whose cleanup.policy is not exactly
// compact, with Kafka's TopicAdmin wording.
func EnsureTopic(ctx context.Context, cl *kgo.Client, spec TopicSpec) error {
	adm := kadm.NewClient(cl)
	rf := spec.ReplicationFactor
	if rf <= 0 {
		meta, err := adm.BrokerMetadata(ctx)
		if err != nil {
			return fmt.Errorf("describing the cluster: %w", err)
		}
		rf = int16(min(3, len(meta.Brokers)))
		if rf == 0 {
			rf = 1
		}
	}
	compact := "compact"
	resp, err := adm.CreateTopic(ctx, spec.Partitions, rf, map[string]*string{"cleanup.policy": &compact}, spec.Name)
	if err == nil {
		err = resp.Err
	}
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, kerr.TopicAlreadyExists):
		return fmt.Errorf("creating topic %s: %w", spec.Name, err)
	}
	cfgs, err := adm.DescribeTopicConfigs(ctx, spec.Name)
	if err != nil {
		return fmt.Errorf("describing topic %s: %w", spec.Name, err)
	}
	rc, err := cfgs.On(spec.Name, nil)
	if err != nil {
		return fmt.Errorf("describing topic %s: %w", spec.Name, err)
	}
	if rc.Err != nil {
		return fmt.Errorf("describing topic %s: %w", spec.Name, rc.Err)
	}
	policy := "delete"
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" {
			policy = c.MaybeValue()
		}
	}
	var set []string
	for p := range strings.SplitSeq(policy, ",") {
		if p = strings.TrimSpace(strings.ToLower(p)); p != "" && !slices.Contains(set, p) {
			set = append(set, p)
		}
	}
	if len(set) == 1 && set[0] == "compact" {
		return nil
	}
	return fmt.Errorf("Topic '%s' supplied via the '%s' property is required to have 'cleanup.policy=compact' to guarantee consistency and durability of %s, but found the topic currently has 'cleanup.policy=%s'. Continuing would likely result in eventually losing %s and problems restarting this Connect cluster in the future. Change the '%s' property in the Connect worker configurations to use a topic with 'cleanup.policy=compact'.",
		spec.Name, spec.Property, spec.Purpose, strings.Join(set, ","), spec.Purpose, spec.Property)
}

// kafkaLog is Kafka Connect's KafkaBasedLog: it consumes every partition of
// one topic from the beginning and hands each record to apply, in offset
// order per partition, on one goroutine; readToEnd waits until everything
// written before the call has been applied. Writes go through the shared
// client with the default partitioner (murmur2 of the key, as Kafka's).
type kafkaLog struct {
	topic    string
	producer *kgo.Client
	consumer *kgo.Client
	apply    func(*kgo.Record)
	// committed: the consumer reads read_committed, and readToEnd waits
	// for the last stable offsets rather than the high watermarks.
	committed bool
	cancel    context.CancelFunc
	done      chan struct{}

	mu      sync.Mutex
	changed *sync.Cond
	next    map[int32]int64 // next offset to apply per partition
	err     error           // the reader's fatal error
}

// openLog starts reading topic; apply sees every record, tombstones too.
func openLog(ctx context.Context, producer *kgo.Client, seeds []string, extra []kgo.Opt, topic string, apply func(*kgo.Record)) (*kafkaLog, error) {
	return openLogIsolated(ctx, producer, seeds, extra, topic, apply, false)
}

// openLogIsolated is openLog reading only committed records when committed
// is set.
func openLogIsolated(ctx context.Context, producer *kgo.Client, seeds []string, extra []kgo.Opt, topic string, apply func(*kgo.Record), committed bool) (*kafkaLog, error) {
	if committed {
		extra = append([]kgo.Opt{kgo.FetchIsolationLevel(kgo.ReadCommitted())}, extra...)
	}
	opts := append([]kgo.Opt{
		kgo.SeedBrokers(seeds...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.KeepControlRecords(),
		// Kafka's consumer default (fetch.max.wait.ms): a reader that
		// waits on an idle topic answers a later readToEnd within it even
		// where the broker does not end a long poll early.
		kgo.FetchMaxWait(500 * time.Millisecond),
	}, extra...)
	consumer, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	l := &kafkaLog{topic: topic, producer: producer, consumer: consumer, apply: apply, cancel: cancel, committed: committed,
		done: make(chan struct{}), next: map[int32]int64{}}
	l.changed = sync.NewCond(&l.mu)
	go l.read(rctx)
	if err := l.readToEnd(ctx); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

func (l *kafkaLog) read(ctx context.Context) {
	defer close(l.done)
	for {
		fs := l.consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		for _, fe := range fs.Errors() {
			if errors.Is(fe.Err, context.Canceled) {
				return
			}
			if errors.Is(fe.Err, kerr.UnknownTopicOrPartition) {
				continue
			}
			l.mu.Lock()
			l.err = fmt.Errorf("reading %s: %w", l.topic, fe.Err)
			l.changed.Broadcast()
			l.mu.Unlock()
		}
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			for _, r := range p.Records {
				if r.Attrs.IsControl() {
					continue
				}
				l.apply(r)
			}
			if n := len(p.Records); n > 0 {
				l.mu.Lock()
				l.next[p.Partition] = p.Records[n-1].Offset + 1
				l.changed.Broadcast()
				l.mu.Unlock()
			}
		})
	}
}

// readToEnd waits until every record below the end offsets listed now has
// been applied (KafkaBasedLog.readToEnd). A partition with nothing left to
// read (its start offset is its end, everything deleted) counts as read.
func (l *kafkaLog) readToEnd(ctx context.Context) error {
	adm := kadm.NewClient(l.producer)
	list := adm.ListEndOffsets
	if l.committed {
		list = adm.ListCommittedOffsets
	}
	ends, err := list(ctx, l.topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("listing end offsets of %s: %w", l.topic, err)
	}
	starts, err := adm.ListStartOffsets(ctx, l.topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return fmt.Errorf("listing start offsets of %s: %w", l.topic, err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if s, ok := starts.Lookup(l.topic, o.Partition); !ok || s.Offset < o.Offset {
			want[o.Partition] = o.Offset
		}
	})
	stop := context.AfterFunc(ctx, func() {
		l.mu.Lock()
		l.changed.Broadcast()
		l.mu.Unlock()
	})
	defer stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		if l.err != nil {
			return l.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		caught := true
		for p, end := range want {
			if l.next[p] < end {
				caught = false
			}
		}
		if caught {
			return nil
		}
		l.changed.Wait()
	}
}

// send writes one record and returns when the cluster acknowledged it.
// A nil value is a tombstone.
func (l *kafkaLog) send(ctx context.Context, key, value []byte) error {
	return l.producer.ProduceSync(ctx, &kgo.Record{Topic: l.topic, Key: key, Value: value}).FirstErr()
}

// sendAll writes records in order and returns when all are acknowledged.
func (l *kafkaLog) sendAll(ctx context.Context, recs []*kgo.Record) error {
	for _, r := range recs {
		r.Topic = l.topic
	}
	return l.producer.ProduceSync(ctx, recs...).FirstErr()
}

func (l *kafkaLog) close() {
	l.cancel()
	<-l.done
	l.consumer.Close()
}
