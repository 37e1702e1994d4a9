//go:build !cgo

package embedded

// pebbleAllocatesWithC: without cgo, pebble's manual allocations (block
// cache, memtables) are Go slices.
const pebbleAllocatesWithC = false
