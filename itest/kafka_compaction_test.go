package itest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// A compacted topic used the way Kafka Connect uses its offset and config
// topics (and Schema Registry its _schemas topic): a small set of keys
// rewritten over and over, some deleted by tombstones, read from the
// beginning at every start to rebuild the map. Driven by sarama against the
// real binary, whose cleaner runs on its own schedule (no test hooks): the
// partition comes down to about one record per live key, offsets stay as
// written, the map a reader rebuilds is the writer's, and all of that holds
// after kill -9 and a restart.
func TestKafkaCompactedTopicAsOffsetStore(t *testing.T) {
	needsBridge(t) // kfake does not compact
	k := startKafka(t)
	const topic = "connect-offsets"
	str := func(s string) *string { return &s }
	k.createTopic(topic, 1, map[string]*string{
		"cleanup.policy":            str("compact"),
		"min.cleanable.dirty.ratio": str("0.01"),
		"delete.retention.ms":       str("0"),
	})
	const keys, rounds = 100, 30
	want := map[string]string{}
	written := map[int64]string{}
	write := func(recs []rec) {
		t.Helper()
		for _, r := range saramaProduce(t, sarama.V3_6_0_0, k.addr, topic, "none", recs) {
			written[r.Offset] = string(r.Value)
			if r.Value == nil {
				delete(want, string(r.Key))
			} else {
				want[string(r.Key)] = string(r.Value)
			}
		}
	}
	now := time.Now().UnixMilli()
	for round := range rounds {
		recs := make([]rec, keys)
		for i := range recs {
			recs[i] = rec{Key: fmt.Appendf(nil, `["sink-%d",{"partition":%d}]`, i%7, i), Value: fmt.Appendf(nil, `{"offset":%d}`, round*1000+i), Timestamp: now}
		}
		write(recs)
	}
	var tombstones []rec
	for i := range 10 {
		tombstones = append(tombstones, rec{Key: fmt.Appendf(nil, `["sink-%d",{"partition":%d}]`, i%7, i), Timestamp: now})
	}
	write(tombstones)

	// read rebuilds the map from the start, checking every record is the
	// one written at its offset, and returns how many records it read
	// besides the worker's status records.
	read := func() (map[string]string, int) {
		t.Helper()
		got := map[string]string{}
		recs := saramaConsume(t, sarama.V3_6_0_0, k.addr, topic, k.endOffsets(topic))
		for i, r := range recs {
			if w, ok := written[r.Offset]; !ok || w != string(r.Value) || (i > 0 && r.Offset <= recs[i-1].Offset) {
				t.Fatalf("offset %d holds %q, written %q", r.Offset, r.Value, w)
			}
			if r.Value == nil {
				delete(got, string(r.Key))
			} else {
				got[string(r.Key)] = string(r.Value)
			}
		}
		n := 0
		for _, r := range recs {
			if string(r.Key) != "status" {
				n++
			}
		}
		return got, n
	}

	// The cleaner runs every 15 s. A worker keeps writing its status now and
	// then, as Connect does, which also moves the newest batch (never
	// cleaned) past the tombstones so they can go.
	start := time.Now()
	deadline := start.Add(kafkaTimeout)
	var n int
	for i := 0; ; i++ {
		write([]rec{{Key: []byte("status"), Value: fmt.Appendf(nil, "%d", i), Timestamp: time.Now().UnixMilli()}})
		var got map[string]string
		got, n = read()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("rebuilt map differs from the written one")
		}
		if n == keys-10 { // one record per live key, tombstones gone
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d records (statuses aside) of %d written after %v; want %d", n, len(written), kafkaTimeout, keys-10)
		}
		time.Sleep(time.Second)
	}
	t.Logf("%d records written, %d left after compaction (%v after the last write)", len(written), n, time.Since(start).Round(time.Second))

	// kill -9 and a restart change nothing a reader sees.
	ends := k.endOffsets(topic)
	k.kill9()
	k.restart()
	if got := k.endOffsets(topic); got[0] != ends[0] {
		t.Fatalf("end offset %d after restart, %d before", got[0], ends[0])
	}
	got, n2 := read()
	if fmt.Sprint(got) != fmt.Sprint(want) || n2 != n {
		t.Fatalf("after restart: %d records (%d before), map equal: %v", n2, n, fmt.Sprint(got) == fmt.Sprint(want))
	}
	// And the topic still refuses what Kafka refuses.
	cfg := saramaConfig(sarama.V3_6_0_0)
	cfg.Producer.Return.Successes = true
	cfg.Producer.Retry.Max = 0
	p, err := sarama.NewSyncProducer([]string{k.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder("no key")}); !errors.Is(err, sarama.ErrInvalidRecord) {
		t.Fatalf("a record without a key: %v, want INVALID_RECORD", err)
	}
}
