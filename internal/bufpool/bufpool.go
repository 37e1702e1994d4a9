// Package bufpool keeps byte buffers for reuse: a free list bounded in
// bytes, for data paths that read or decode into a buffer per call and can
// tell when a buffer is no longer referenced (a store read's caller, a
// Connect source once Kafka acknowledged the records cut from it).
//
// Why not sync.Pool: it empties itself after two garbage collections, and a
// process moving hundreds of megabytes a second collects often, so it would
// hand out fresh memory again, which must be zeroed (or faulted in by the
// kernel) before use. Why not unbounded: a burst of large reads must not
// pin its memory for the process's life.
package bufpool

import (
	"slices"
	"sync"
)

// Pool is a free list of buffers. Its zero value keeps nothing; set the
// limits before first use.
type Pool struct {
	// MaxBytes bounds the capacity kept in all, MaxBuffer that of any one
	// buffer kept; Round rounds up the capacity of new buffers, so that one
	// fits the requests of about its size that follow once it is back.
	MaxBytes, MaxBuffer, Round int

	mu    sync.Mutex
	free  [][]byte
	bytes int
}

// Get returns a buffer of length 0 and capacity at least n: a kept one
// that fits, else a new one.
func (p *Pool) Get(n int) []byte {
	p.mu.Lock()
	if i := slices.IndexFunc(p.free, func(b []byte) bool { return cap(b) >= n }); i >= 0 {
		b := p.free[i]
		p.free = slices.Delete(p.free, i, i+1)
		p.bytes -= cap(b)
		p.mu.Unlock()
		return b[:0]
	}
	p.mu.Unlock()
	if n > p.MaxBuffer || n == 0 || p.Round <= 0 {
		return make([]byte, 0, n)
	}
	return make([]byte, 0, (n+p.Round-1)/p.Round*p.Round)
}

// Put keeps b for a later Get, unless it is over MaxBuffer or the pool
// holds MaxBytes already. The caller must not use b afterwards.
func (p *Pool) Put(b []byte) {
	if cap(b) > p.MaxBuffer || cap(b) == 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bytes+cap(b) <= p.MaxBytes {
		p.free = append(p.free, b[:0])
		p.bytes += cap(b)
	}
}

// Bytes returns the capacity the pool keeps.
func (p *Pool) Bytes() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.bytes
}
