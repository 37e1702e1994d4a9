package runtime

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/kafkatest"
)

// blobSource hands out 1 KiB values, polls of 1,000 records over four
// source partitions, each record with its own offset map: the shape of the
// Kafka and Kinesis sources. It stops at end records.
type blobSource struct{ cfg connect.Config }

func (c *blobSource) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	c.cfg = cfg
	return nil
}
func (c *blobSource) TaskConfigs(int) ([]connect.Config, error) { return []connect.Config{c.cfg}, nil }
func (c *blobSource) Stop() error                               { return nil }
func (c *blobSource) NewTask() connect.SourceTask               { return &blobTask{} }

// blobEnd is how many records the running blobTask writes; the benchmark
// sets it before starting the task.
var blobEnd atomic.Int64

type blobTask struct {
	topic string
	next  int64
	value []byte
	parts [4]map[string]any
}

func (t *blobTask) Start(_ context.Context, _ connect.SourceTaskContext, cfg connect.Config) error {
	t.topic, t.value = cfg["topic"], make([]byte, 1024)
	for i := range t.parts {
		t.parts[i] = map[string]any{"partition": int32(i)}
	}
	return nil
}

func (t *blobTask) Poll(ctx context.Context) ([]connect.Record, error) {
	end := blobEnd.Load()
	if t.next >= end {
		sleep(ctx, 10*time.Millisecond)
		return nil, nil
	}
	out := make([]connect.Record, 0, 1000)
	for ; t.next < end && len(out) < cap(out); t.next++ {
		p := int32(t.next % 4)
		out = append(out, connect.Record{
			Topic: t.topic, Partition: p, Value: t.value, ValueSchema: connect.OptionalBytesSchema,
			SourcePartition: t.parts[p], SourceOffset: map[string]any{"offset": t.next},
		})
	}
	return out, nil
}

func (t *blobTask) CommitRecord(context.Context, connect.Record) error { return nil }
func (t *blobTask) Commit(context.Context) error                       { return nil }
func (t *blobTask) Stop() error                                        { return nil }

// BenchmarkSourceTask measures the source runtime per record: poll,
// convert, produce to the bridge (in this process), acknowledge, store
// offsets. b.N is the record count.
func BenchmarkSourceTask(b *testing.B) {
	addr := kafkaForBench(b)
	w, _, _ := newTestWorker(b, addr, connect.Plugin{Class: "test.BlobSourceConnector", Type: connect.PluginSource,
		NewSource: func() connect.SourceConnector { return &blobSource{} }})
	adm := admin(b, addr)
	if _, err := adm.CreateTopic(context.Background(), 4, -1, nil, "blobs"); err != nil {
		b.Fatal(err)
	}
	blobEnd.Store(int64(b.N))
	b.SetBytes(1024)
	b.ReportAllocs()
	b.ResetTimer()
	cfg := connect.Config{"name": "blobs", "connector.class": "BlobSource", "topic": "blobs"}
	if err := w.StartTask(TaskID{"blobs", 0}, cfg, cfg); err != nil {
		b.Fatal(err)
	}
	waitForEnd(b, adm, "blobs", int64(b.N))
	b.StopTimer()
}

func waitForEnd(b *testing.B, adm *kadm.Client, topic string, want int64) {
	for {
		ends, err := adm.ListEndOffsets(context.Background(), topic)
		if err != nil {
			b.Fatal(err)
		}
		var sum int64
		ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
		if sum >= want {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func kafkaForBench(b *testing.B) string { return kafkatest.Start(b, 4) }
