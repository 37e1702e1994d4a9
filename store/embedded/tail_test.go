package embedded

import (
	"fmt"
	"testing"

	"github.com/streambridge/bridge/mapping"

	"github.com/streambridge/bridge/store"
)

// The cache keeps the newest batches within the budget, across many
// evictions and compactions, and answers only what it holds.
func TestPartitionTailEviction(t *testing.T) {
	var budget tailBudget
	budget.bytes = 10 * 100 // ten 100-byte batches
	budget.partitions.Store(1)
	var tail partitionTail
	for i := int64(0); i < 1000; i++ {
		tail.add(&budget, 2*i, 2*i+1, make([]byte, 100), noKey)
		if budget.used.Load() > budget.bytes { // as Store.trimTails
			budget.trim([]*partitionTail{&tail})
		}
		if tail.bytes > int(budget.bytes) {
			t.Fatalf("after %d batches the cache holds %d bytes", i+1, tail.bytes)
		}
	}
	if n := len(tail.batches) - tail.head; n != 10 {
		t.Fatalf("%d batches cached, want 10", n)
	}
	key := readKey{offset: 1981, end: 2000, maxBytes: 1 << 20}
	res, _, ok := tail.read(key, store.ReadResult{})
	if !ok || len(res.Batches) != 10 || res.Batches[0].BaseOffset != 1980 || res.Batches[9].LastOffset != 1999 {
		t.Fatalf("read at 1981: ok=%v %+v", ok, res.Batches)
	}
	key.end = 1990 // high watermark: nothing at or past it
	if res, _, _ := tail.read(key, store.ReadResult{}); len(res.Batches) != 5 {
		t.Fatalf("read bounded by 1990 gave %d batches", len(res.Batches))
	}
	if _, _, ok := tail.read(readKey{offset: 1979, end: 2000, maxBytes: 1 << 20}, store.ReadResult{}); ok {
		t.Fatal("an evicted offset was answered from the cache")
	}
	tail.dropBelow(&budget, 1995)
	if res, _, ok := tail.read(readKey{offset: 1995, end: 2000, maxBytes: 150}, store.ReadResult{}); !ok || len(res.Batches) != 1 {
		t.Fatalf("after dropBelow: ok=%v %d batches (maxBytes 150 allows one)", ok, len(res.Batches))
	}
	// A batch over the largest cached empties the partition's cache rather
	// than evicting it at once.
	tail.add(&budget, 2000, 2000, make([]byte, 2000), noKey)
	if len(tail.batches)-tail.head != 0 || tail.bytes != 0 {
		t.Fatalf("oversized batch: %d cached, %d bytes", len(tail.batches)-tail.head, tail.bytes)
	}
	if used := budget.used.Load(); used != 0 {
		t.Fatalf("budget counts %d bytes for an empty cache", used)
	}
}

// The cache as a whole stays within its budget as streams are created,
// appended to, split and deleted, and a deleted stream's cache is freed.
func TestTailCacheStaysWithinBudget(t *testing.T) {
	s, _ := openEightBatchTail(t)
	budget := s.tail.bytes
	for i := range 4 {
		name := fmt.Sprint("s", i)
		mustCreate(t, s, name, 1)
		for j := range 8 {
			if _, err := s.AppendBatch(ctx, name, 0, kafkaBatch(t, 5, fmt.Sprint(j), 0), store.AppendOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if used := s.tail.used.Load(); used > budget {
			t.Fatalf("after %d streams the tail cache holds %d bytes, budget %d", i+1, used, budget)
		}
	}
	if _, err := s.SplitShard(ctx, "s0", 0, mapping.MaxHashKey); err != nil {
		t.Fatal(err)
	}
	if used := s.tail.used.Load(); used > budget {
		t.Fatalf("after a split the tail cache holds %d bytes, budget %d", used, budget)
	}
	for i := range 4 {
		if err := s.DeleteStream(ctx, fmt.Sprint("s", i)); err != nil {
			t.Fatal(err)
		}
	}
	if used := s.tail.used.Load(); used != 0 {
		t.Fatalf("with every stream deleted the tail cache counts %d bytes", used)
	}
}

// The cache keeps the batches appended last, store-wide: one busy partition
// among idle ones uses the whole budget, and an idle partition's batches
// age out when others append, rather than each partition keeping a share.
func TestTailCacheKeepsTheNewestBatches(t *testing.T) {
	s, one := openEightBatchTail(t)
	budget := s.tail.bytes
	for i := range 4 {
		mustCreate(t, s, fmt.Sprint("s", i), 1)
	}
	appendTo := func(name string, n int) {
		t.Helper()
		for j := range n {
			if _, err := s.AppendBatch(ctx, name, 0, kafkaBatch(t, 5, fmt.Sprint(j%10), 0), store.AppendOptions{}); err != nil { // batches of one size
				t.Fatal(err)
			}
		}
	}
	cached := func(name string) int {
		t.Helper()
		st, err := s.stream(name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := st.partition(0)
		if err != nil {
			t.Fatal(err)
		}
		p.tail.mu.RLock()
		defer p.tail.mu.RUnlock()
		return p.tail.bytes / one
	}
	check := func(when string, want map[string]int) {
		t.Helper()
		for name, n := range want {
			if got := cached(name); got != n {
				t.Errorf("%s: %s caches %d batches, want %d", when, name, got, n)
			}
		}
		if used := s.tail.used.Load(); used > budget {
			t.Errorf("%s: the cache holds %d bytes, budget %d", when, used, budget)
		}
	}

	appendTo("s0", 12)
	check("s0 alone appended 12", map[string]int{"s0": 8, "s1": 0})
	hits := s.tailHits.Load()
	if recs := readAll(t, s, "s0", 0, 20); len(recs) != 40 || s.tailHits.Load() == hits {
		t.Errorf("reading s0's last 8 batches: %d records, tail hits %d -> %d; want 40, from the cache", len(recs), hits, s.tailHits.Load())
	}
	appendTo("s1", 1) // into a full cache: s0's oldest go, down to a sixteenth under the budget
	check("s1 appended 1", map[string]int{"s0": 6, "s1": 1})
	appendTo("s1", 11)
	check("s1 appended 12", map[string]int{"s0": 0, "s1": 8})
}

// openEightBatchTail opens an in-memory store whose tail cache holds eight
// batches of kafkaBatch(t, 5, "0", 0)'s size, one.
func openEightBatchTail(t *testing.T) (s *Store, one int) {
	t.Helper()
	one = len(kafkaBatch(t, 5, "0", 0))
	s, err := Open(Options{InMemory: true, TailCacheBytes: int64(8 * one)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, one
}
