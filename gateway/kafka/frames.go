package kafka

import (
	"math/bits"
	"sync"
)

// Request frames are pooled by size class: a producer sends the same large
// frames (up to its batch size, 1 MiB by default, or a batch of large records
// per partition) over and over, and a fresh
// allocation for each costs zeroing, page faults and garbage collections
// for nothing. Only Produce frames go back to the pool, once the response
// is written: the produce handler has copied the records into the store by
// then (StartAppendBatch copies them into its write batch) and keeps no
// other slice of the request. Frames of other requests are left to the
// garbage collector, so their handlers may keep request bytes as long as
// they like.

const (
	minFrameClass = 10 // 1 KiB
	maxFrameClass = 27 // 128 MiB; larger frames are allocated and dropped
)

var framePools [maxFrameClass - minFrameClass + 1]sync.Pool

// frameClass is the pool index for a frame of n bytes: the smallest power
// of two holding it, or -1 when it is too large to pool.
func frameClass(n int) int {
	c := bits.Len(uint(n - 1))
	if c < minFrameClass {
		c = minFrameClass
	}
	if c > maxFrameClass {
		return -1
	}
	return c - minFrameClass
}

// getFrame returns a buffer of n bytes; its contents are garbage.
func getFrame(n int) []byte {
	c := frameClass(n)
	if c < 0 {
		return make([]byte, n)
	}
	if p, ok := framePools[c].Get().(*[]byte); ok {
		return (*p)[:n]
	}
	return make([]byte, n, 1<<(c+minFrameClass))
}

// putFrame returns a buffer from getFrame to its pool. Nothing may use it
// afterwards.
func putFrame(b []byte) {
	if b == nil || cap(b)&(cap(b)-1) != 0 {
		return // not from getFrame
	}
	c := frameClass(cap(b))
	if c < 0 || 1<<(c+minFrameClass) != cap(b) {
		return
	}
	b = b[:0]
	framePools[c].Put(&b)
}
