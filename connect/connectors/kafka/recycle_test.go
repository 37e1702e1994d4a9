package kafka

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/kafkatest"
)

// recycledValue is record i's value: 1 KiB that differs from every other
// record's and compresses well (so the batches are snappy, decompressed into
// pooled buffers): a buffer handed out again while a copy still needed it
// shows as a wrong value.
func recycledValue(i int) []byte {
	var out []byte
	for len(out) < 1024 {
		out = fmt.Appendf(out, "%08d;", i)
	}
	return out[:1024]
}

// TestSourceRecyclesBatchMemory copies enough snappy batches that the
// task's pool hands decompression buffers and record slices out again and
// again, with a filter dropping every seventh record (which must not be
// recycled), and checks every copied value byte for byte.
func TestSourceRecyclesBatchMemory(t *testing.T) {
	const n = 20_000
	upstream := newKfake(t, "blobs")
	bridge := kafkatest.Start(t, 3)
	cl, err := kgo.NewClient(kgo.SeedBrokers(upstream), kgo.ProducerBatchCompression(kgo.SnappyCompression()),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(10*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		r := &kgo.Record{Topic: "blobs", Partition: int32(i % 3), Value: recycledValue(i), Key: []byte(strconv.Itoa(i))}
		if i%7 == 0 {
			r.Headers = []kgo.RecordHeader{{Key: "drop"}}
		}
		cl.Produce(context.Background(), r, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Error(err)
			}
		})
	}
	if err := cl.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cl.Close()

	w := newWorker(t, bridge)
	stop := w.start(connect.Config{"name": "blobs", "connector.class": "KafkaSource", "source.bootstrap.servers": upstream,
		"topics": "blobs", "offset.syncs.topic": "",
		"transforms": "drop", "transforms.drop.type": "Filter", "transforms.drop.predicate": "marked",
		"predicates": "marked", "predicates.marked.type": "HasHeaderKey", "predicates.marked.name": "drop"}, 2)
	defer stop()
	want := n - (n+6)/7
	got := consume(t, bridge, "blobs", want)
	if len(got) != want {
		t.Errorf("%d records copied, want %d", len(got), want)
	}
	for _, r := range got {
		i, err := strconv.Atoi(string(r.Key))
		if err != nil || i%7 == 0 {
			t.Fatalf("copied record with key %q", r.Key)
		}
		if string(r.Value) != string(recycledValue(i)) {
			t.Fatalf("record %d: value %.40q…, want %.40q…", i, r.Value, recycledValue(i))
		}
	}
}
