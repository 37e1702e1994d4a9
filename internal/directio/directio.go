// Package directio is what writing and reading past the page cache
// (O_DIRECT) needs on any file: turning the flag on and off on an open
// file, and buffers at the address alignment direct I/O wants.
//
// Direct I/O wants the buffer's address, the file offset and the length to
// be multiples of the device's logical block; Align (4 KiB) is that for
// every device this project runs on, and a file system that wants more
// refuses the I/O with EINVAL, which callers treat as "use the page cache".
package directio

import "unsafe"

// Align is the alignment of buffers, offsets and lengths for direct I/O.
const Align = 4096

// AlignedBuffer returns a buffer of size bytes whose first byte's address
// is a multiple of Align. Its capacity is size: appending reallocates it
// unaligned.
func AlignedBuffer(size int) []byte {
	raw := make([]byte, size+Align)
	off := int(-uintptr(unsafe.Pointer(&raw[0])) & (Align - 1))
	return raw[off : off+size : off+size]
}

// IsAligned reports whether p's first byte is at an address that is a
// multiple of Align; an empty p is not.
func IsAligned(p []byte) bool {
	return len(p) > 0 && uintptr(unsafe.Pointer(&p[0]))&(Align-1) == 0
}
