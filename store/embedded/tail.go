package embedded

import (
	"sync"
	"sync/atomic"

	"github.com/streambridge/bridge/store"
)

// The tail cache keeps the batches each partition appended last in memory,
// so consumers at the tail (most consumers, most of the time) are answered
// without touching pebble and without copying: a cached batch is immutable
// and handed out as is. The store's budget is shared evenly by its
// partitions; a partition evicts its oldest batches past its share when it
// appends, and when new partitions shrink the share, Store.trimTails cuts
// the others (idle ones included) down to it, so the cache as a whole stays
// within the budget. Reads still stop at the high watermark and never go
// below the log start.

type tailBatch struct {
	base, last int64
	raw        []byte // immutable, in the clear
	key        int64  // the data key that sealed it on disk, or noKey
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

// tailBudget is the store-wide cache budget, the partition count it is
// shared by and the bytes cached in all.
type tailBudget struct {
	bytes      int64 // <= 0: no tail cache
	partitions atomic.Int64
	used       atomic.Int64
	trimming   sync.Mutex
}

func (b *tailBudget) share() int {
	n := max(b.partitions.Load(), 1)
	return int(b.bytes / n)
}

// add caches the batch just appended at base..last, which nothing may
// modify from now on. Called under p.mu, so batches arrive in offset order.
func (t *partitionTail) add(budget *tailBudget, base, last int64, raw []byte, key int64) {
	share := budget.share()
	if share <= 0 || len(raw) > share {
		t.reset(budget)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.batches = append(t.batches, tailBatch{base: base, last: last, raw: raw, key: key})
	t.bytes += len(raw)
	budget.used.Add(int64(len(raw)))
	for t.bytes > share {
		t.evict(budget)
	}
}

// trim evicts the oldest batches until the partition holds at most share
// bytes.
func (t *partitionTail) trim(budget *tailBudget, share int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.bytes > share && t.head < len(t.batches) {
		t.evict(budget)
	}
}

func (t *partitionTail) reset(budget *tailBudget) {
	t.mu.Lock()
	budget.used.Add(-int64(t.bytes))
	t.batches, t.head, t.bytes = nil, 0, 0
	t.mu.Unlock()
}

// trimTails cuts every partition's tail cache down to its share when the
// cache as a whole is over budget: after partitions were added, those that
// filled up to a larger share and went idle would otherwise keep it.
// Callers hold no store, stream or partition lock. Partitions past the
// share only exist after the partition count grew, so a trim is rare; one
// runs at a time.
func (s *Store) trimTails() {
	if s.tail.bytes <= 0 || s.tail.used.Load() <= s.tail.bytes || !s.tail.trimming.TryLock() {
		return
	}
	defer s.tail.trimming.Unlock()
	s.mu.RLock()
	var parts []*partition
	for _, st := range s.streams {
		parts = append(parts, *st.parts.Load()...)
	}
	s.mu.RUnlock()
	share := s.tail.share()
	for _, p := range parts {
		p.tail.trim(&s.tail, share)
	}
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
