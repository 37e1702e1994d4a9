package embedded

import (
	"fmt"
	"testing"

	"github.com/streambridge/bridge/mapping"

	"github.com/streambridge/bridge/store"
)

// The cache keeps the newest batches within the partition's share, across
// many evictions and compactions, and answers only what it holds.
func TestPartitionTailEviction(t *testing.T) {
	var budget tailBudget
	budget.bytes = 10 * 100 // ten 100-byte batches
	budget.partitions.Store(1)
	var tail partitionTail
	for i := int64(0); i < 1000; i++ {
		tail.add(&budget, 2*i, 2*i+1, make([]byte, 100), noKey)
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
	// A batch over the share empties the cache rather than evicting it at once.
	tail.add(&budget, 2000, 2000, make([]byte, 2000), noKey)
	if len(tail.batches)-tail.head != 0 || tail.bytes != 0 {
		t.Fatalf("oversized batch: %d cached, %d bytes", len(tail.batches)-tail.head, tail.bytes)
	}
	if used := budget.used.Load(); used != 0 {
		t.Fatalf("budget counts %d bytes for an empty cache", used)
	}
}

// Partitions that filled up to a larger share and went idle are cut down
// when new streams shrink the share, and a deleted stream's cache is freed:
// the cache as a whole stays within its budget.
func TestTailCacheStaysWithinBudget(t *testing.T) {
	one := len(kafkaBatch(t, 5, "0", 0))
	budget := int64(8 * one)
	s, err := Open(Options{InMemory: true, TailCacheBytes: budget})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
