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

func TestInflightCommit(t *testing.T) {
	recs := make([]kgo.Record, 3000)
	var f inflight
	for i := range recs {
		recs[i].Offset = int64(10 + 2*i) // gaps, as after compaction
		f.add(&recs[i])
	}
	// Out of order, with unknown and repeated offsets in between.
	f.commit(12, true)
	f.commit(11, true)
	f.commit(12, true)
	if f.head != 0 || f.recs[1].rec != nil {
		t.Fatalf("after committing offset 12 alone: head %d, entry %+v", f.head, f.recs[1])
	}
	f.commit(10, false)
	if f.head != 2 {
		t.Fatalf("head %d after the first two, want 2", f.head)
	}
	for i := 2; i < 2500; i++ {
		f.commit(int64(10+2*i), i%2 == 0)
	}
	if len(f.recs)-f.head != 500 || f.recs[f.head].offset != 10+2*2500 {
		t.Fatalf("%d entries left from offset %d, want 500 from %d", len(f.recs)-f.head, f.recs[f.head].offset, 10+2*2500)
	}
}

// A record never committed (an aborted transaction's) does not keep its
// partition's list growing: it is forgotten after maxInflight newer ones.
func TestInflightForgetsTheNeverCommitted(t *testing.T) {
	var f inflight
	stuck := kgo.Record{Offset: 0}
	f.add(&stuck)
	recs := make([]kgo.Record, 3*maxInflight)
	for i := range recs {
		recs[i].Offset = int64(i + 1)
		f.add(&recs[i])
		f.commit(recs[i].Offset, true)
		if live := len(f.recs) - f.head; live > maxInflight {
			t.Fatalf("after %d records: %d live entries", i+1, live)
		}
	}
	if len(f.recs) > maxInflight {
		t.Errorf("%d entries kept, at most %d wanted", len(f.recs), maxInflight)
	}
	f.commit(0, true) // long forgotten: nothing to recycle
}
