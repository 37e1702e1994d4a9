package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
)

// Sink settings.
const (
	targetServers     = "target.bootstrap.servers"
	targetCompression = "target.compression.type"
)

var sinkDef = append(connect.ConfigDef{
	{Name: targetServers, Type: connect.ConfigList, Required: true, Importance: connect.High,
		Doc: "The remote cluster's bootstrap servers (host:port, ...).", Check: connect.NonEmpty},
	{Name: targetCompression, Type: connect.ConfigString, Default: "none", Importance: connect.Medium,
		Doc: "Compression of the batches written to the remote cluster.", Recommended: []string{"none", "gzip", "snappy", "lz4", "zstd"}},
}, append(renameDef, kafkaclient.ConfigDef(targetPrefix, "the target cluster")...)...)

type sinkConnector struct{ cfg connect.Config }

// Validate checks the target cluster's security settings as a whole.
func (c *sinkConnector) Validate(cfg connect.Config) map[string][]string {
	return kafkaclient.Validate(cfg, targetPrefix)
}

func (c *sinkConnector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	if _, errs := sinkDef.Parse(cfg); errs != nil {
		return fmt.Errorf("invalid configuration: %v", errs)
	}
	c.cfg = cfg
	return nil
}

// TaskConfigs gives every task the same configuration: the consumer group
// spreads the partitions over them.
func (c *sinkConnector) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	out := make([]connect.Config, maxTasks)
	for i := range out {
		out[i] = c.cfg
	}
	return out, nil
}

func (c *sinkConnector) Stop() error               { return nil }
func (c *sinkConnector) NewTask() connect.SinkTask { return &sinkTask{} }

// sinkTask produces each Put's records asynchronously; PreCommit waits for
// all of them, so an offset is committed only after the remote cluster
// acknowledged every record before it. A record the remote cluster refuses
// fails the task: it restarts from the last commit, so nothing is lost.
type sinkTask struct {
	tc       connect.SinkTaskContext
	cl       *kgo.Client
	format   string
	preserve bool

	mu     sync.Mutex
	failed error
}

func (t *sinkTask) Start(_ context.Context, tc connect.SinkTaskContext, cfg connect.Config) error {
	t.tc = tc
	vals, errs := sinkDef.Parse(cfg)
	if errs != nil {
		return fmt.Errorf("invalid configuration: %v", errs)
	}
	t.format, t.preserve = vals.String(topicRenameFormat), vals.Bool(partitionPreserve)
	var codec kgo.CompressionCodec
	switch vals.String(targetCompression) {
	case "gzip":
		codec = kgo.GzipCompression()
	case "snappy":
		codec = kgo.SnappyCompression()
	case "lz4":
		codec = kgo.Lz4Compression()
	case "zstd":
		codec = kgo.ZstdCompression()
	default:
		codec = kgo.NoCompression()
	}
	partitioner := kgo.StickyKeyPartitioner(nil)
	if t.preserve {
		partitioner = kgo.ManualPartitioner()
	}
	opts, err := clientOpts(cfg, vals.List(targetServers), targetPrefix)
	if err != nil {
		return err
	}
	opts = append(opts, kgo.ProducerBatchCompression(codec),
		kgo.RecordPartitioner(partitioner), kgo.AllowAutoTopicCreation())
	t.cl, err = kgo.NewClient(opts...)
	return err
}

func (t *sinkTask) Open(context.Context, []connect.TopicPartition) error  { return nil }
func (t *sinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

func (t *sinkTask) Put(ctx context.Context, recs []connect.Record) error {
	if err := t.err(); err != nil {
		return err
	}
	for _, rec := range recs {
		key, err := asBytes(rec.Key)
		if err != nil {
			if rerr := t.tc.Report(ctx, rec, err); rerr != nil {
				return rerr
			}
			continue
		}
		value, err := asBytes(rec.Value)
		if err != nil {
			if rerr := t.tc.Report(ctx, rec, err); rerr != nil {
				return rerr
			}
			continue
		}
		kr := &kgo.Record{Topic: rename(t.format, rec.Topic), Key: key, Value: value, Timestamp: rec.Timestamp}
		if t.preserve {
			kr.Partition = rec.Partition
		}
		for _, h := range rec.Headers {
			kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
		t.cl.Produce(context.WithoutCancel(ctx), kr, t.produced)
	}
	return nil
}

func (t *sinkTask) produced(r *kgo.Record, err error) {
	if err == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed == nil {
		t.failed = fmt.Errorf("writing to %s-%d: %w", r.Topic, r.Partition, err)
	}
}

func (t *sinkTask) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed
}

func (t *sinkTask) PreCommit(ctx context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	if err := t.cl.Flush(ctx); err != nil {
		return nil, err
	}
	if err := t.err(); err != nil {
		return nil, err
	}
	return offsets, nil
}

func (t *sinkTask) Stop() error {
	if t.cl != nil {
		t.cl.Close()
	}
	return nil
}

// asBytes is a record's key or value as the bytes to write: copies carry
// bytes (ByteArrayConverter); strings are written as UTF-8.
func asBytes(v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, errors.New("the Kafka sink writes bytes or strings: set key.converter and value.converter to org.apache.kafka.connect.converters.ByteArrayConverter")
}
