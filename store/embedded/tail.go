package embedded

import (
	"container/heap"
	"sync"
	"sync/atomic"

	"github.com/streambridge/bridge/store"
)

// The tail cache keeps the batches appended last in memory, so consumers at
// the tail (most consumers, most of the time) are answered without touching
// pebble and without copying: a cached batch is immutable and handed out as
// is. The budget is the store's, not each partition's: when the cache as a
// whole is over it, Store.trimTails evicts the batches appended longest ago,
// whichever partitions hold them, as the OS page cache does for Kafka's log
// segments. So one busy partition among many idle ones keeps the whole
// budget, and an idle partition's batches age out instead of holding a share
// nobody reads. Reads still stop at the high watermark and never go below
// the log start.

type tailBatch struct {
	base, last int64
	raw        []byte // immutable, in the clear
	key        int64  // the data key that sealed it on disk, or noKey
	seq        uint64 // store-wide order of the appends (tailBudget.seq)
}

type partitionTail struct {
	mu sync.RWMutex
	// batches[head:] are consecutive batches of the partition, oldest
	// first; evicted ones before head are compacted away in bulk, so an
	// append does not shift the whole slice.
	batches []tailBatch
	head    int
	bytes   int
}

// evict forgets the oldest cached batch. Called with t.mu held.
func (t *partitionTail) evict(budget *tailBudget) {
	n := len(t.batches[t.head].raw)
	t.bytes -= n
	budget.used.Add(-int64(n))
	t.batches[t.head] = tailBatch{}
	t.head++
	if t.head == len(t.batches) {
		t.batches, t.head = t.batches[:0], 0
	} else if t.head >= 64 && 2*t.head >= len(t.batches) {
		n := copy(t.batches, t.batches[t.head:])
		clear(t.batches[n:])
		t.batches, t.head = t.batches[:n], 0
	}
}

// tailBudget is the store-wide cache budget, the partition count, the
// bytes cached in all and the order of the appends.
type tailBudget struct {
	bytes      int64 // <= 0: no tail cache
	partitions atomic.Int64
	used       atomic.Int64
	seq        atomic.Uint64
	trimming   sync.Mutex
}

// largest is the largest batch the cache takes: an even share of the budget
// by the partitions, so a few huge batches do not push out every other
// partition's tail at once.
func (b *tailBudget) largest() int {
	n := max(b.partitions.Load(), 1)
	return int(b.bytes / n)
}

// add caches the batch just appended at base..last, which nothing may
// modify from now on. Called under p.mu, so batches arrive in offset order.
// The cache may then be over budget: the caller calls Store.trimTails.
func (t *partitionTail) add(budget *tailBudget, base, last int64, raw []byte, key int64) {
	if largest := budget.largest(); largest <= 0 || len(raw) > largest {
		t.reset(budget)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.batches = append(t.batches, tailBatch{base: base, last: last, raw: raw, key: key, seq: budget.seq.Add(1)})
	t.bytes += len(raw)
	budget.used.Add(int64(len(raw)))
}

// oldest is the append order of the partition's oldest cached batch; ok is
// false when it caches none.
func (t *partitionTail) oldest() (seq uint64, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.head == len(t.batches) {
		return 0, false
	}
	return t.batches[t.head].seq, true
}

// evictOldest evicts the partition's oldest batch if it is still the one
// appended at seq, and says whether the partition caches another.
func (t *partitionTail) evictOldest(budget *tailBudget, seq uint64) (next uint64, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.head < len(t.batches) && t.batches[t.head].seq == seq {
		t.evict(budget)
	}
	if t.head == len(t.batches) {
		return 0, false
	}
	return t.batches[t.head].seq, true
}

func (t *partitionTail) reset(budget *tailBudget) {
	t.mu.Lock()
	budget.used.Add(-int64(t.bytes))
	t.batches, t.head, t.bytes = nil, 0, 0
	t.mu.Unlock()
}

// trimSlack is the fraction of the budget a trim frees beyond the overflow,
// so that appends to a full cache trim once per budget/trimSlack bytes
// rather than each time.
const trimSlack = 16

// trimTails evicts the batches appended longest ago, store-wide, while the
// cache is over budget, down to a sixteenth under it. Callers hold no
// store, stream or partition lock; one trim runs at a time, and an append
// that finds one running leaves the overflow to it or to the next append.
func (s *Store) trimTails() {
	if s.tail.bytes <= 0 || s.tail.used.Load() <= s.tail.bytes || !s.tail.trimming.TryLock() {
		return
	}
	defer s.tail.trimming.Unlock()
	s.mu.RLock()
	var tails []*partitionTail
	for _, st := range s.streams {
		for _, p := range *st.parts.Load() {
			tails = append(tails, &p.tail)
		}
	}
	s.mu.RUnlock()
	s.tail.trim(tails)
}

// trim evicts the oldest batches of tails, oldest first across them, until
// the cache is a trimSlack-th of the budget under it.
func (b *tailBudget) trim(tails []*partitionTail) {
	target := b.bytes - b.bytes/trimSlack
	h := make(tailHeap, 0, len(tails))
	for _, t := range tails {
		if seq, ok := t.oldest(); ok {
			h = append(h, tailHeapEntry{t, seq})
		}
	}
	heap.Init(&h)
	for len(h) > 0 && b.used.Load() > target {
		if seq, ok := h[0].t.evictOldest(b, h[0].seq); ok {
			h[0].seq = seq
			heap.Fix(&h, 0)
		} else {
			heap.Pop(&h)
		}
	}
}

// tailHeap orders partitions by the append order of their oldest cached
// batch, as of when the trim looked.
type tailHeap []tailHeapEntry

type tailHeapEntry struct {
	t   *partitionTail
	seq uint64
}

func (h tailHeap) Len() int           { return len(h) }
func (h tailHeap) Less(i, j int) bool { return h[i].seq < h[j].seq }
func (h tailHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *tailHeap) Push(x any)        { *h = append(*h, x.(tailHeapEntry)) }
func (h *tailHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// read answers key from the cache when the batch holding key.offset is
// cached; ok is false otherwise. keys is nil when every batch of the
// answer is stored in the clear, and else says which data key sealed each
// (the reader checks they still open: encrypt.go).
func (t *partitionTail) read(key readKey, res store.ReadResult) (_ store.ReadResult, keys []int64, ok bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	cached := t.batches[t.head:]
	if len(cached) == 0 || key.offset < cached[0].base {
		return res, nil, false
	}
	// Batches are consecutive: find the one holding offset by binary search.
	lo, hi := 0, len(cached)
	for lo < hi {
		mid := (lo + hi) / 2
		if cached[mid].last < key.offset {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	total, records := 0, 0
	for _, b := range cached[lo:] {
		if b.base >= key.end {
			break
		}
		if len(res.Batches) > 0 && total+len(b.raw) > key.maxBytes {
			break
		}
		if b.key != noKey && keys == nil {
			keys = make([]int64, len(res.Batches), len(res.Batches)+1)
			for i := range keys {
				keys[i] = noKey
			}
		}
		if keys != nil {
			keys = append(keys, b.key)
		}
		res.Batches = append(res.Batches, store.Batch{BaseOffset: b.base, LastOffset: b.last, Raw: b.raw, Encrypted: b.key != noKey})
		total += len(b.raw)
		records += int(b.last - b.base + 1)
		if key.maxRecords > 0 && records >= key.maxRecords {
			break
		}
	}
	// Bytes must be the batches back to back; cached batches are separate
	// allocations, so only a single one qualifies (readers fall back to
	// Batches).
	if len(res.Batches) == 1 {
		res.Bytes = res.Batches[0].Raw
	}
	return res, keys, true
}

// dropBelow forgets the cached batches wholly below a new log start.
func (t *partitionTail) dropBelow(budget *tailBudget, start int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.head < len(t.batches) && t.batches[t.head].last < start {
		t.evict(budget)
	}
}
