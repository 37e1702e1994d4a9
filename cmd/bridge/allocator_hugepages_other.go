//go:build !(linux && (amd64 || arm64))

package main

// adviseHugePageHeap does nothing outside 64-bit Linux (see
// allocator_hugepages.go).
func adviseHugePageHeap(int) (uintptr, int, error) { return 0, 0, nil }

// hugePageHeapSize is zero outside 64-bit Linux.
func hugePageHeapSize() int { return 0 }
