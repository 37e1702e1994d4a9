//go:build !linux

package main

// reexecWithAllocatorEnv does nothing outside Linux: the settings it adds
// there are Linux's (see allocator.go).
func reexecWithAllocatorEnv([]string) {}

// adviseHugePageHeap does nothing outside Linux.
func adviseHugePageHeap(int) (uintptr, int, error) { return 0, 0, nil }

// hugePageHeapSize is zero outside Linux.
func hugePageHeapSize() int { return 0 }
