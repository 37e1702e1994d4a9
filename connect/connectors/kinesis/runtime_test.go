package kinesis

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
	"github.com/streambridge/bridge/connect/runtime"
	"github.com/streambridge/bridge/internal/kafkatest"
)

// startWorker runs a Connect worker with these connectors and the
// converters against the Kafka at addr, and starts the connector; the
// worker stops its tasks when the test ends.
func startWorker(t *testing.T, addr string, cfg connect.Config) {
	t.Helper()
	var reg connect.Registry
	reg.Register(Plugins()...)
	reg.Register(convert.Plugins()...)
	w, err := runtime.NewWorker(runtime.WorkerConfig{Registry: &reg, Kafka: []kgo.Opt{kgo.SeedBrokers(addr)},
		Offsets: &runtime.MemoryOffsetStore{}, OffsetFlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	h, err := w.StartConnector(context.Background(), cfg["name"], cfg, runtime.Hooks{})
	if err != nil {
		t.Fatal(err)
	}
	tcs, err := h.TaskConfigs(2)
	if err != nil {
		t.Fatal(err)
	}
	for i, tc := range tcs {
		if err := w.StartTask(runtime.TaskID{Connector: cfg["name"], Task: i}, cfg, tc); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for i := range tcs {
			w.StopTask(runtime.TaskID{Connector: cfg["name"], Task: i})
		}
		w.StopConnector(cfg["name"])
	})
}

// TestRuntimeKinesisToKafka copies a 3-shard stream into a Kafka topic
// through the real worker (converters, producer, offset commits), by
// polling and by enhanced fan-out, and compares the topic with the stream
// record for record: shard N in partition N, partition key as key, data as
// value, arrival time as timestamp. With answers of 7 records the task
// reads many answers per shard and reuses their buffers (answers.go)
// while records of later ones are still being produced.
func TestRuntimeKinesisToKafka(t *testing.T) {
	for _, tc := range []struct {
		name, consumer, limit string
	}{
		{consumerPolling, consumerPolling, "1000"},
		{consumerPolling + "/answers of 7", consumerPolling, "7"},
		{consumerEFO, consumerEFO, "1000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			consumer := tc.consumer
			tg := startBridge(t)
			tg.createStream(t, "orders", 3)
			tg.put(t, "orders", entries("order", 300, 41))
			want := tg.readAll(t, "orders")
			addr := kafkatest.Start(t, 3)
			startWorker(t, addr, tg.config(connect.Config{
				"name": "kinesis-in", "connector.class": "KinesisSource", "tasks.max": "2",
				StreamConfig: "orders", TopicConfig: "copy", KafkaPartitionConfig: "preserve", ConsumerTypeConfig: consumer,
				RecordsLimitConfig: tc.limit, "key.converter": "org.apache.kafka.connect.storage.StringConverter",
			}))
			got := map[int32][]*kgo.Record{}
			for _, r := range consumeN(t, addr, "copy", 300) {
				got[r.Partition] = append(got[r.Partition], r)
			}
			for shard, recs := range want {
				idx, _ := shardIndex(shard)
				if len(got[idx]) != len(recs) {
					t.Fatalf("partition %d: %d records, shard %s has %d", idx, len(got[idx]), shard, len(recs))
				}
				for i, w := range recs {
					g := got[idx][i]
					if string(g.Key) != aws.ToString(w.PartitionKey) || string(g.Value) != string(w.Data) ||
						!g.Timestamp.Equal(aws.ToTime(w.ApproximateArrivalTimestamp)) {
						t.Fatalf("partition %d record %d: %s=%s at %v, want %s=%s at %v", idx, i, g.Key, g.Value, g.Timestamp,
							aws.ToString(w.PartitionKey), w.Data, w.ApproximateArrivalTimestamp)
					}
				}
			}
		})
	}
}

// TestRuntimeKafkaToKinesis copies a 3-partition topic into a 3-shard
// stream through the real worker (consumer group, converters, commits),
// partition P onto shard P, and compares record for record.
func TestRuntimeKafkaToKinesis(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "events", 3)
	addr := kafkatest.Start(t, 3)
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := range 300 {
		recs = append(recs, &kgo.Record{Topic: "src", Partition: int32(i % 3), Key: []byte(fmt.Sprintf("key-%d", i%17)), Value: []byte(fmt.Sprintf("%d/%03d", i%3, i/3))})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	startWorker(t, addr, tg.config(connect.Config{
		"name": "kinesis-out", "connector.class": SinkClass, "tasks.max": "2", "topics": "src",
		StreamConfig: "events", ExplicitHashKeyConfig: "partition",
	}))
	for {
		stored := tg.readAll(t, "events")
		n := 0
		for _, rs := range stored {
			n += len(rs)
		}
		if n < 300 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		for shard, rs := range stored {
			idx, _ := shardIndex(shard)
			if len(rs) != 100 {
				t.Fatalf("shard %s: %d records, want 100", shard, len(rs))
			}
			for i, r := range rs {
				want := fmt.Sprintf("%d/%03d", idx, i)
				if string(r.Data) != want || aws.ToString(r.PartitionKey) != fmt.Sprintf("key-%d", (i*3+int(idx))%17) {
					t.Fatalf("shard %s record %d: %s=%s, want %s", shard, i, aws.ToString(r.PartitionKey), r.Data, want)
				}
			}
		}
		return
	}
}

// consumeN reads topic at addr from the start until it has n records.
func consumeN(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(t.Context())
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		out = append(out, fs.Records()...)
	}
	return out
}
