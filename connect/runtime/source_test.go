package runtime

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// counterSource writes records "v0", "v1", ... up to count to topic, one
// source partition, resuming after its stored offset.
type counterSource struct{ cfg connect.Config }

func (c *counterSource) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	c.cfg = cfg
	return nil
}
func (c *counterSource) TaskConfigs(int) ([]connect.Config, error) {
	return []connect.Config{c.cfg}, nil
}
func (c *counterSource) Stop() error                 { return nil }
func (c *counterSource) NewTask() connect.SourceTask { return &counterTask{} }

type counterTask struct {
	topic     string
	next, end int
	mu        sync.Mutex
	committed int // CommitRecord calls
	commits   int
}

var counterPartition = map[string]any{"source": "counter"}

func (t *counterTask) Start(_ context.Context, tc connect.SourceTaskContext, cfg connect.Config) error {
	t.topic = cfg["topic"]
	t.end, _ = strconv.Atoi(cfg["count"])
	off, err := tc.Offset(counterPartition)
	if err != nil {
		return err
	}
	if off != nil {
		t.next = int(off["n"].(float64)) + 1
	}
	return nil
}

func (t *counterTask) Poll(ctx context.Context) ([]connect.Record, error) {
	if t.next >= t.end {
		sleep(ctx, 10*time.Millisecond)
		return nil, nil
	}
	var out []connect.Record
	for ; t.next < t.end && len(out) < 100; t.next++ {
		out = append(out, connect.Record{
			Topic: t.topic, Partition: connect.NoPartition,
			Key: fmt.Sprintf("k%d", t.next), Value: fmt.Sprintf("v%d", t.next),
			Headers:         []connect.Header{{Key: "n", Value: []byte(strconv.Itoa(t.next))}},
			SourcePartition: counterPartition, SourceOffset: map[string]any{"n": t.next},
		})
	}
	return out, nil
}

func (t *counterTask) CommitRecord(context.Context, connect.Record) error {
	t.mu.Lock()
	t.committed++
	t.mu.Unlock()
	return nil
}

func (t *counterTask) Commit(context.Context) error {
	t.mu.Lock()
	t.commits++
	t.mu.Unlock()
	return nil
}

func (t *counterTask) Stop() error { return nil }

var counterPlugin = connect.Plugin{Class: "test.CounterSourceConnector", Type: connect.PluginSource,
	NewSource: func() connect.SourceConnector { return &counterSource{} }}

// consumeAll reads topic from the start until it has want records.
func consumeAll(t *testing.T, addr, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s", len(out), want, topic)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

func TestSourceTaskWritesAndResumes(t *testing.T) {
	addr := startKafka(t)
	w, offsets, st := newTestWorker(t, addr, counterPlugin)
	cfg := connect.Config{"name": "counter", "connector.class": "CounterSource", "topic": "numbers", "count": "1000"}
	id := TaskID{"counter", 0}
	if err := w.StartTask(id, cfg, cfg); err != nil {
		t.Fatal(err)
	}
	consumeAll(t, addr, "numbers", 1000)
	eventually(t, "offsets stored", func() bool {
		o, _ := offsets.Get(context.Background(), "counter", counterPartition)
		return o != nil && o["n"] == float64(999)
	})
	w.StopTask(id)
	if s, _ := st.task(id); s != Running {
		t.Errorf("state after a clean stop = %s", s)
	}
	if got := st.topics["counter"]; len(got) != 1 || got[0] != "numbers" {
		t.Errorf("active topics = %q", got)
	}

	// A second run with a higher count continues after the stored offset.
	cfg["count"] = "1500"
	if err := w.StartTask(id, cfg, cfg); err != nil {
		t.Fatal(err)
	}
	recs := consumeAll(t, addr, "numbers", 1500)
	w.StopTask(id)
	seen := make(map[string]int)
	for _, r := range recs {
		seen[string(r.Value)]++
		if want := "k" + string(r.Value[1:]); string(r.Key) != want {
			t.Fatalf("record %s has key %s", r.Value, r.Key)
		}
	}
	for i := range 1500 {
		if n := seen[fmt.Sprintf("v%d", i)]; n != 1 {
			t.Errorf("v%d written %d times", i, n)
		}
	}
	if len(recs) != 1500 {
		t.Errorf("%d records, want 1500", len(recs))
	}
}

// TestSubmittedRecords: an offset is committable only when every earlier
// record of its source partition is acknowledged; a record without an
// offset counts toward a later one, and a LazyOffset handle is asked for
// its offset only when that is the one stored.
func TestSubmittedRecords(t *testing.T) {
	var s submitted
	pa, pb := map[string]any{"p": "a"}, map[string]any{"p": "b"}
	rec := func(p map[string]any, n int) *connect.Record {
		return &connect.Record{SourcePartition: p, SourceOffset: map[string]any{"n": n}}
	}
	lazy := func(p map[string]any, n int) (*connect.Record, *countingOffset) {
		h := &countingOffset{n: n}
		return &connect.Record{SourcePartition: p, Handle: h}, h
	}
	a1 := s.submit(rec(pa, 1))
	a2 := s.submit(rec(pa, 2))
	b1 := s.submit(rec(pb, 1))
	s.ack(a2)
	s.ack(b1)
	got := s.committable()
	if len(got) != 1 || got[0].Partition["p"] != "b" {
		t.Fatalf("committable = %v, want only b", got)
	}
	s.ack(a1)
	got = s.committable()
	if len(got) != 1 || got[0].Offset["n"] != 2 {
		t.Fatalf("committable = %v, want a at 2", got)
	}
	if got := s.committable(); len(got) != 0 {
		t.Fatalf("committable again = %v", got)
	}

	r3, h3 := lazy(pa, 3)
	r4, h4 := lazy(pa, 4)
	a3, a4 := s.submit(r3), s.submit(r4)
	a5 := s.submit(&connect.Record{SourcePartition: pa}) // no offset of its own
	s.ack(a3)
	s.ack(a4)
	s.ack(a5)
	got = s.committable()
	if len(got) != 1 || got[0].Offset["n"] != 4 {
		t.Fatalf("committable = %v, want a at 4", got)
	}
	if h3.asked != 0 || h4.asked != 1 {
		t.Errorf("lazy offsets asked %d and %d times, want 0 and 1", h3.asked, h4.asked)
	}

	// A partition's queue keeps its arrays across commits: records still
	// unacknowledged move to the front and keep their handles working.
	q := s.partitions[s.keyOf(pa)]
	for i := range 100 {
		s.ack(s.submit(rec(pa, 10+i)))
	}
	a6 := s.submit(rec(pa, 200))
	a7 := s.submit(rec(pa, 201))
	grown := cap(q.offsets)
	if got := s.committable(); len(got) != 1 || got[0].Offset["n"] != 109 {
		t.Fatalf("committable = %v, want a at 109", got)
	}
	if len(q.offsets) != 2 || cap(q.offsets) != grown || q.offsets[0].(map[string]any)["n"] != 200 {
		t.Fatalf("queue after the commit: %d entries (capacity %d, was %d), first %v", len(q.offsets), cap(q.offsets), grown, q.offsets[0])
	}
	if q.offsets[:cap(q.offsets)][2] != nil {
		t.Error("an offset left behind the moved records")
	}
	s.ack(a7)
	s.ack(a6)
	if got := s.committable(); len(got) != 1 || got[0].Offset["n"] != 201 {
		t.Fatalf("committable = %v, want a at 201", got)
	}
	// Empty at two commits in a row, the queue is dropped; b's went the
	// same way.
	s.committable()
	if _, ok := s.partitions[s.keyOf(pa)]; ok || len(s.partitions) != 0 {
		t.Errorf("%d queues kept after two empty commits", len(s.partitions))
	}
}

// countingOffset is a connect.LazyOffset that counts how often it is asked.
type countingOffset struct{ n, asked int }

func (c *countingOffset) SourceOffset() map[string]any {
	c.asked++
	return map[string]any{"n": c.n}
}

// TestSourceTaskTransforms: the connector's transformation chain runs
// between Poll and the producer.
func TestSourceTaskTransforms(t *testing.T) {
	addr := startKafka(t)
	w, _, _ := newTestWorker(t, addr, counterPlugin)
	cfg := connect.Config{"name": "counter", "connector.class": "CounterSource", "topic": "numbers", "count": "10",
		"transforms": "route", "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
		"transforms.route.regex": "num(.*)", "transforms.route.replacement": "renamed-num$1"}
	id := TaskID{"counter", 0}
	if err := w.StartTask(id, cfg, cfg); err != nil {
		t.Fatal(err)
	}
	defer w.StopTask(id)
	if recs := consumeAll(t, addr, "renamed-numbers", 10); len(recs) != 10 {
		t.Errorf("%d records in the renamed topic", len(recs))
	}
}

func TestTaskProgress(t *testing.T) {
	addr := startKafka(t)
	w, _, _ := newTestWorker(t, addr, counterPlugin)
	cfg := connect.Config{"name": "counter", "connector.class": "CounterSource", "topic": "numbers", "count": "300"}
	id := TaskID{"counter", 0}
	if _, ok := w.TaskProgress(id); ok {
		t.Fatal("progress of a task that does not run")
	}
	if err := w.StartTask(id, cfg, cfg); err != nil {
		t.Fatal(err)
	}
	defer w.StopTask(id)
	eventually(t, "progress", func() bool {
		p, ok := w.TaskProgress(id)
		return ok && p.RecordsIn == 300 && p.RecordsOut == 300 && !p.LastCommit.IsZero()
	})
}

// BenchmarkSubmitted tracks a commit interval's records of one partition
// (10,000), all acknowledged, then commits, as a running source task does
// over and over.
func BenchmarkSubmitted(b *testing.B) {
	var s submitted
	p := map[string]any{"p": "a"}
	recs := make([]connect.Record, 10_000)
	for i := range recs {
		recs[i] = connect.Record{SourcePartition: p, SourceOffset: map[string]any{"n": i}}
	}
	b.ReportAllocs()
	for b.Loop() {
		for i := range recs {
			s.ack(s.submit(&recs[i]))
		}
		if len(s.committable()) != 1 {
			b.Fatal("no offset to store")
		}
	}
}
