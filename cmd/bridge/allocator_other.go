//go:build !linux

package main

// reexecWithAllocatorEnv does nothing outside Linux: the settings it adds
// there are Linux's (see allocator.go).
func reexecWithAllocatorEnv([]string) {}
