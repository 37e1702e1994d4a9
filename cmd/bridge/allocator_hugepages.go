//go:build linux && (amd64 || arm64)

package main

import (
	"os"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// hugePageSize is the size of a transparent huge page on amd64, and on arm64
// with 4 KiB pages (hugePageHeapSize checks the page size), the size the
// kernel gives anonymous memory on request (MADV_HUGEPAGE). Only 64-bit
// address spaces have room for the range advised.
const hugePageSize = 2 << 20

// adviseHugePageHeap makes the first n bytes of address space the Go heap
// will use eligible for transparent huge pages, and returns the range it
// advised: its start and length.
//
// The runtime maps heap memory untouched and leaves the kernel's default
// for it, which on Debian and most distributions (THP "madvise") is small
// pages: every 4 KiB the heap uses for the first time costs a fault
// (about 11 µs on the VM the README's figures come from), and a fresh
// server moving a few hundred megabytes spends most of a core on them
// until its heap stops growing (README, "Allocator settings"). The heap
// offers no hook where it maps memory, but the runtime never maps a range
// of its heap twice, and the flag MADV_HUGEPAGE sets on a range stays with
// it: so this allocates n bytes, advises the 2 MiB pages inside them, and
// frees them. The page allocator hands out the lowest free addresses
// first, so the heap grows into the advised range, whose pages the
// kernel then faults in 2 MiB at a time, and only when they are used:
// nothing is touched here and the resident size does not change.
//
// It must run before the heap has freed memory of its own: a fresh range
// is known to be zero and is not cleared, a reused one would be, touching
// all of it. main calls it first thing.
func adviseHugePageHeap(n int) (uintptr, int, error) {
	if n < 2*hugePageSize {
		return 0, 0, nil
	}
	b := make([]byte, n)
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	start := int((addr+hugePageSize-1)&^(hugePageSize-1) - addr)
	end := int((addr+uintptr(n))&^(hugePageSize-1) - addr)
	err := unix.Madvise(b[start:end], unix.MADV_HUGEPAGE)
	b = nil
	runtime.GC() // frees the range now, for the server's first allocations
	if err != nil {
		return 0, 0, err
	}
	return addr + uintptr(start), end - start, nil
}

// hugePageHeapSize is how much of the heap adviseHugePageHeap advises: a
// gibibyte, which covers the heap of a busy server with the default tail
// cache, or a quarter of the machine's memory when that is less, so that
// mapping it never meets the kernel's overcommit check on a small machine.
// None with pages other than 4 KiB (arm64 kernels with 16 or 64 KiB pages
// have larger huge pages).
func hugePageHeapSize() int {
	if os.Getpagesize() != 4096 {
		return 0
	}
	size := 1 << 30
	var info unix.Sysinfo_t
	if unix.Sysinfo(&info) == nil {
		if quarter := uint64(info.Totalram) * uint64(info.Unit) / 4; quarter < uint64(size) {
			size = int(quarter)
		}
	}
	return size &^ (hugePageSize - 1)
}
