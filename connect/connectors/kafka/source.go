package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
)

// Source settings.
const (
	sourceServers   = "source.bootstrap.servers"
	sourceTopics    = "topics"
	sourceExclude   = "topics.exclude"
	refreshInterval = "refresh.topics.interval.ms"
	offsetSyncs     = "offset.syncs.topic"
	offsetLagMax    = "offset.lag.max"
	pollTimeout     = "poll.timeout.ms"
	taskPartitions  = "task.partitions" // in task configurations only
)

var sourceDef = append(connect.ConfigDef{
	{Name: sourceServers, Type: connect.ConfigList, Required: true, Importance: connect.High,
		Doc: "The remote cluster's bootstrap servers (host:port, ...).", Check: connect.NonEmpty},
	{Name: sourceTopics, Type: connect.ConfigList, Default: ".*", Importance: connect.High,
		Doc: "Topics to copy: names or regular expressions matching whole names.", Check: checkRegexes},
	{Name: sourceExclude, Type: connect.ConfigList, Default: `.*[\-\.]internal, .*\.replica, __.*, connect-.*`, Importance: connect.Medium,
		Doc: "Topics never copied, as regular expressions (MirrorMaker 2's default plus Connect's own topics).", Check: checkRegexes},
	{Name: refreshInterval, Type: connect.ConfigLong, Default: "60000", Importance: connect.Low,
		Doc: "How often the connector looks for new topics and partitions upstream.", Check: connect.AtLeast(100)},
	{Name: offsetSyncs, Type: connect.ConfigString, Default: "connect-offset-syncs", Importance: connect.Medium,
		Doc: "Topic of the worker's cluster that receives offset syncs; empty writes none."},
	{Name: offsetLagMax, Type: connect.ConfigLong, Default: "100", Importance: connect.Low,
		Doc: "A partition's next offset sync is written after at most this many records (MirrorMaker 2's offset.lag.max).", Check: connect.AtLeast(0)},
	{Name: pollTimeout, Type: connect.ConfigLong, Default: "1000", Importance: connect.Low,
		Doc: "How long one poll waits for records upstream.", Check: connect.AtLeast(1)},
}, append(renameDef, kafkaclient.ConfigDef(sourcePrefix, "the source cluster")...)...)

type sourceConnector struct {
	cfg        connect.Config
	vals       connect.Values
	cl         *kgo.Client
	match      matcher
	cancel     context.CancelFunc
	done       chan struct{}
	mu         sync.Mutex
	partitions []string // "topic:partition", sorted
}

func (c *sourceConnector) Start(ctx context.Context, cc connect.ConnectorContext, cfg connect.Config) error {
	vals, errs := sourceDef.Parse(cfg)
	if errs != nil {
		return fmt.Errorf("invalid configuration: %v", errs)
	}
	c.cfg, c.vals = cfg, vals
	var err error
	if c.match, err = newMatcher(vals.List(sourceTopics), vals.List(sourceExclude)); err != nil {
		return err
	}
	opts, err := clientOpts(cfg, vals.List(sourceServers), sourcePrefix)
	if err != nil {
		return err
	}
	if c.cl, err = kgo.NewClient(opts...); err != nil {
		return err
	}
	if c.partitions, err = c.discover(ctx); err != nil {
		c.cl.Close()
		return fmt.Errorf("listing topics of %s: %w", strings.Join(vals.List(sourceServers), ","), err)
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.done = make(chan struct{})
	go c.watch(ctx, cc, vals.Millis(refreshInterval))
	return nil
}

// discover lists the upstream partitions to copy.
func (c *sourceConnector) discover(ctx context.Context) ([]string, error) {
	md, err := kadm.NewClient(c.cl).Metadata(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range md.Topics.Sorted() {
		if t.Err != nil || t.IsInternal || !c.match.match(t.Topic) {
			continue
		}
		for _, p := range t.Partitions.Sorted() {
			out = append(out, t.Topic+":"+strconv.Itoa(int(p.Partition)))
		}
	}
	return out, nil
}

// watch asks for new task configurations when upstream partitions change.
func (c *sourceConnector) watch(ctx context.Context, cc connect.ConnectorContext, every time.Duration) {
	defer close(c.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		parts, err := c.discover(ctx)
		if err != nil {
			continue
		}
		c.mu.Lock()
		changed := !slices.Equal(parts, c.partitions)
		c.partitions = parts
		c.mu.Unlock()
		if changed {
			cc.RequestTaskReconfiguration()
		}
	}
}

// TaskConfigs deals the partitions round-robin over at most maxTasks tasks.
func (c *sourceConnector) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	c.mu.Lock()
	parts := slices.Clone(c.partitions)
	c.mu.Unlock()
	n := min(maxTasks, len(parts))
	groups := make([][]string, n)
	for i, p := range parts {
		groups[i%n] = append(groups[i%n], p)
	}
	var out []connect.Config
	for _, g := range groups {
		tc := connect.Config{}
		for k, v := range c.cfg {
			tc[k] = v
		}
		tc[taskPartitions] = strings.Join(g, ",")
		out = append(out, tc)
	}
	return out, nil
}

func (c *sourceConnector) Stop() error {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
	if c.cl != nil {
		c.cl.Close()
	}
	return nil
}

func (c *sourceConnector) NewTask() connect.SourceTask { return &sourceTask{} }

// Validate checks the source cluster's security settings as a whole (a
// key store that does not parse, a JAAS entry without a password).
func (c *sourceConnector) Validate(cfg connect.Config) map[string][]string {
	return kafkaclient.Validate(cfg, sourcePrefix)
}

// OffsetSync is one offset sync record's value (JSON; key "topic:partition"):
// the record at UpstreamOffset of Topic/Partition upstream was written at
// DownstreamOffset of its copy. A consumer committed at upstream offset U
// resumes on the copy at D + (U - Up) for the latest sync with Up <= U,
// bounded by the next sync's downstream offset (MirrorMaker 2's translation;
// exact when no record was filtered between the two).
type OffsetSync struct {
	Topic            string `json:"topic"`
	Partition        int32  `json:"partition"`
	UpstreamOffset   int64  `json:"upstreamOffset"`
	DownstreamOffset int64  `json:"downstreamOffset"`
}

type sourceTask struct {
	cl       *kgo.Client
	format   string
	preserve bool
	syncs    string
	lagMax   int64
	timeout  time.Duration
	// partitions holds one SourcePartition map per partition, shared by its
	// records (the runtime keys its bookkeeping by the map's identity).
	partitions map[connect.TopicPartition]copiedPartition

	mu       sync.Mutex
	pending  []connect.Record // offset syncs for the next Poll
	lastSync map[connect.TopicPartition]OffsetSync
}

func (t *sourceTask) Start(_ context.Context, tc connect.SourceTaskContext, cfg connect.Config) error {
	vals, errs := sourceDef.Parse(cfg)
	if errs != nil {
		return fmt.Errorf("invalid configuration: %v", errs)
	}
	t.format, t.preserve = vals.String(topicRenameFormat), vals.Bool(partitionPreserve)
	t.syncs, t.lagMax, t.timeout = vals.String(offsetSyncs), vals.Long(offsetLagMax), vals.Millis(pollTimeout)
	t.lastSync = make(map[connect.TopicPartition]OffsetSync)
	assign := make(map[string]map[int32]kgo.Offset)
	for _, tp := range strings.Split(cfg[taskPartitions], ",") {
		topic, ps, ok := strings.Cut(tp, ":")
		p, err := strconv.Atoi(ps)
		if !ok || err != nil {
			continue
		}
		start := kgo.NewOffset().AtStart()
		stored, err := tc.Offset(sourcePartition(topic, int32(p)))
		if err != nil {
			return err
		}
		if off, ok := storedOffset(stored["offset"]); ok {
			start = kgo.NewOffset().At(off + 1)
		}
		if assign[topic] == nil {
			assign[topic] = make(map[int32]kgo.Offset)
		}
		assign[topic][int32(p)] = start
	}
	// Kafka's 1 MiB per partition per fetch, not more: a fetch's batches
	// are all decompressed as it arrives, and 8 MiB of snappy batches of
	// repetitive records is 120 MiB per partition, too much to come from
	// the task's buffer pool (recycle.go). Against 8 MiB, bridge bench
	// connect's kafka-kafka was as fast in medians of 3 and half again as
	// fast in single runs (cold pools).
	opts, err := clientOpts(cfg, vals.List(sourceServers), sourcePrefix)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ConsumePartitions(assign),
		kgo.FetchMaxWait(t.timeout), kgo.FetchMaxPartitionBytes(1<<20),
		kgo.WithPools(newFetchPool())) // recycle.go
	t.cl, err = kgo.NewClient(opts...)
	return err
}

// storedOffset reads a stored offset: float64 from the standalone file
// store, int64 from the offsets topic (JsonConverter's Long).
func storedOffset(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case float64:
		return int64(x), x == float64(int64(x))
	}
	return 0, false
}

// copiedPartition is what every record of an upstream partition shares:
// its SourcePartition map and its topic's downstream name.
type copiedPartition struct {
	source map[string]any
	topic  string
}

func (t *sourceTask) partitionOf(topic string, p int32) copiedPartition {
	tp := connect.TopicPartition{Topic: topic, Partition: p}
	c, ok := t.partitions[tp]
	if !ok {
		if t.partitions == nil {
			t.partitions = make(map[connect.TopicPartition]copiedPartition)
		}
		c = copiedPartition{sourcePartition(topic, p), rename(t.format, topic)}
		t.partitions[tp] = c
	}
	return c
}

func sourcePartition(topic string, p int32) map[string]any {
	return map[string]any{"topic": topic, "partition": p}
}

func (t *sourceTask) Poll(ctx context.Context) ([]connect.Record, error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	fetches := t.cl.PollFetches(ctx)
	t.mu.Lock()
	out := t.pending
	t.pending = nil
	t.mu.Unlock()
	var fetchErr error
	fetches.EachError(func(topic string, p int32, err error) {
		if ctx.Err() == nil && fetchErr == nil {
			fetchErr = connect.Retriable(fmt.Errorf("fetching %s-%d: %w", topic, p, err))
		}
	})
	out = slices.Grow(out, fetches.NumRecords())
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		if len(p.Records) == 0 {
			return
		}
		cp := t.partitionOf(p.Topic, p.Partition)
		for _, r := range p.Records {
			rec := connect.Record{
				Topic: cp.topic, Partition: connect.NoPartition, Offset: -1, Timestamp: r.Timestamp,
				KeySchema: connect.OptionalBytesSchema, Key: r.Key,
				ValueSchema: connect.OptionalBytesSchema, Value: r.Value,
				SourcePartition: cp.source,
				Handle:          r,
			}
			if t.preserve {
				rec.Partition = r.Partition
			}
			if r.Key == nil {
				rec.Key = nil
			}
			for _, h := range r.Headers {
				rec.Headers = append(rec.Headers, connect.Header{Key: h.Key, Value: h.Value})
			}
			out = append(out, rec)
		}
		// The partition's last record carries the offset for all of them
		// (connect.Record.SourceOffset): a map per record was a tenth of
		// a copy's CPU.
		last := p.Records[len(p.Records)-1]
		out[len(out)-1].SourceOffset = map[string]any{"offset": last.Offset}
	})
	if len(out) == 0 && fetchErr != nil {
		return nil, fetchErr
	}
	return out, nil
}

// CommitRecord writes an offset sync when a partition has none yet, when
// downstream and upstream offsets drifted apart, or every offset.lag.max
// records.
func (t *sourceTask) CommitRecord(_ context.Context, rec connect.Record) error {
	r, ok := rec.Handle.(*kgo.Record)
	if !ok {
		return nil // an offset sync
	}
	tp := connect.TopicPartition{Topic: r.Topic, Partition: r.Partition}
	up := r.Offset
	if rec.Offset >= 0 {
		// Produced: nothing reads the record any more (see recycle.go).
		r.Recycle()
	}
	if t.syncs == "" || rec.Offset < 0 {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	last, seen := t.lastSync[tp]
	drifted := seen && rec.Offset-last.DownstreamOffset != up-last.UpstreamOffset
	if seen && !drifted && up-last.UpstreamOffset < t.lagMax {
		return nil
	}
	sync := OffsetSync{Topic: tp.Topic, Partition: tp.Partition, UpstreamOffset: up, DownstreamOffset: rec.Offset}
	t.lastSync[tp] = sync
	value, _ := json.Marshal(sync)
	t.pending = append(t.pending, connect.Record{
		Topic: t.syncs, Partition: 0, Offset: -1,
		KeySchema: connect.OptionalBytesSchema, Key: []byte(tp.String()),
		ValueSchema: connect.OptionalBytesSchema, Value: value,
	})
	return nil
}

func (t *sourceTask) Commit(context.Context) error { return nil }

func (t *sourceTask) Stop() error {
	if t.cl != nil {
		t.cl.Close()
	}
	return nil
}
