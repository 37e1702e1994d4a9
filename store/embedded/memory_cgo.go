//go:build cgo

package embedded

// pebbleAllocatesWithC: pebble's manual allocations (block cache,
// memtables) use C's malloc in cgo builds.
const pebbleAllocatesWithC = true
