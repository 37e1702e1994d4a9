package embedded

// The store holds three kinds of memory for speed: pebble's block cache,
// the tail cache of each partition's latest batches (tail.go), and pebble's
// memtables, the mutable one and those waiting to be flushed. Without a
// limit they take up to 256 MiB, 256 MiB and five memtables of 64 MiB; a
// process in a container with a smaller memory limit would be killed by it
// once enough data had passed through. A MemoryPlan sizes them to a limit.

const (
	defaultBlockCacheBytes = 256 << 20
	defaultTailCacheBytes  = 256 << 20
	defaultMemTableBytes   = 64 << 20

	// memTableStopWrites is pebble's MemTableStopWritesThreshold: writes
	// wait while this many memtables are queued for flushing. With the one
	// being written, memTableStopWrites+1 memtables can exist at once.
	memTableStopWrites = 4

	// Floors below which the store slows down more than it saves.
	minBlockCacheBytes = 8 << 20
	minTailCacheBytes  = 8 << 20
	minMemTableBytes   = 4 << 20
)

// MemoryPlan is how much memory the store's caches and memtables may hold.
type MemoryPlan struct {
	BlockCache int64 // pebble's block cache
	TailCache  int64 // all partitions' tail caches together
	MemTable   int64 // each memtable; up to five exist at once
}

// PlanMemory divides a process's memory limit: an eighth to the block
// cache, an eighth to the tail cache, and memtables of a thirty-second
// (five of them at once: 5/32), so at most 13/32 of the limit is held for
// speed. The rest is for the requests being served, the readers' buffers,
// the connections and the Go collector's headroom: a produce request alone
// may be 100 MiB. No share exceeds its size without a limit nor falls below
// a floor (8 MiB for the caches, 4 MiB for a memtable), so a limit under
// about 100 MiB is not met by the store's choices alone. A limit of zero or
// less is no limit: the sizes without one.
func PlanMemory(limit int64) MemoryPlan {
	if limit <= 0 {
		return MemoryPlan{BlockCache: defaultBlockCacheBytes, TailCache: defaultTailCacheBytes, MemTable: defaultMemTableBytes}
	}
	return MemoryPlan{
		BlockCache: min(max(limit/8, minBlockCacheBytes), defaultBlockCacheBytes),
		TailCache:  min(max(limit/8, minTailCacheBytes), defaultTailCacheBytes),
		MemTable:   min(max(limit/32, minMemTableBytes), defaultMemTableBytes),
	}
}

// Bytes is the most memory the plan holds at once.
func (p MemoryPlan) Bytes() int64 {
	return p.BlockCache + p.TailCache + (memTableStopWrites+1)*p.MemTable
}

// OutsideGoHeap is the part of Bytes that pebble allocates outside the Go
// heap: its block cache and memtables, which it allocates with C's malloc
// when built with cgo, and in the Go heap otherwise (pebble/internal/manual).
// The Go collector's memory limit does not count it.
func (p MemoryPlan) OutsideGoHeap() int64 {
	if !pebbleAllocatesWithC {
		return 0
	}
	return p.BlockCache + (memTableStopWrites+1)*p.MemTable
}
