//go:build linux

package embedded

import (
	"errors"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/sys/unix"

	"github.com/streambridge/bridge/internal/directio"
)

// Object bodies are written with O_DIRECT where the file system takes it:
// from the process's buffer to the device, past the page cache. A large
// produce spent half its CPU copying bodies into the page cache (in a
// virtual machine every fresh page-cache page costs the host a fault), and
// written pages then waited for writeback; a direct write costs no copy
// and leaves the closing fsync only the device's cache to flush.
//
// Direct I/O wants the buffer's address, the file offset and the length
// aligned to the device's logical block (directio.Align); a device that
// wants more refuses the first write (EINVAL) and the file goes on through
// the page cache, as does the tail of every file that is not a whole
// number of blocks.
const (
	directAlign = directio.Align
	directChunk = 1 << 20 // bytes gathered per direct write
)

// directBufs recycles the aligned buffers a directFile gathers writes in.
var directBufs = sync.Pool{New: func() any {
	b := directio.AlignedBuffer(directChunk)
	return &b
}}

// directFile writes a new file in whole aligned chunks with O_DIRECT, and
// its last partial block through the page cache once writing ends (Sync or
// Close). Writes are sequential, as objFiles makes them; WriteAt is not
// supported.
type directFile struct {
	vfs.File
	fd     int
	buf    *[]byte // nil once flushed for good
	n      int     // bytes gathered in buf
	direct bool    // O_DIRECT is set on fd
	err    error   // the first failed write: every later one fails too
}

// openDirect switches f, a new empty file, to direct writes. It returns f
// itself when the file system refuses O_DIRECT (tmpfs, FUSE, ...).
func openDirect(f vfs.File) vfs.File {
	fd := f.Fd()
	if fd == vfs.InvalidFd || directio.SetDirect(fd, true) != nil {
		return f
	}
	return &directFile{File: f, fd: int(fd), buf: directBufs.Get().(*[]byte), direct: true}
}

func (d *directFile) Write(p []byte) (int, error) {
	if d.err != nil {
		return 0, d.err
	}
	if d.buf == nil {
		return 0, errors.New("store: write to a flushed object file")
	}
	written := 0
	for len(p) > 0 {
		// An aligned run of whole blocks needs no gathering: copyBody's
		// buffers are large allocations, which Go aligns to its pages.
		if d.n == 0 && d.direct && directio.IsAligned(p) && len(p) >= directAlign {
			k := len(p) &^ (directAlign - 1)
			if err := d.writeOut(p[:k]); err != nil {
				return written, err
			}
			p, written = p[k:], written+k
			continue
		}
		k := copy((*d.buf)[d.n:], p)
		d.n += k
		p, written = p[k:], written+k
		if d.n == len(*d.buf) {
			if err := d.writeOut((*d.buf)[:d.n]); err != nil {
				return written, err
			}
			d.n = 0
		}
	}
	return written, nil
}

// writeOut writes p, a whole number of blocks while direct, at the end of
// the file. A direct write the device refuses is written again through the
// page cache, and so is the rest of the file.
func (d *directFile) writeOut(p []byte) error {
	_, err := d.File.Write(p)
	if err != nil && d.direct && errors.Is(err, unix.EINVAL) {
		if err = directio.SetDirect(uintptr(d.fd), false); err == nil {
			d.direct = false
			_, err = d.File.Write(p)
		}
	}
	if err != nil {
		d.err = err
	}
	return err
}

// flush writes what is gathered: the whole blocks directly, the rest (less
// than a block) through the page cache; then the buffer goes back.
func (d *directFile) flush() error {
	if d.buf == nil || d.err != nil {
		return d.err
	}
	buf := (*d.buf)[:d.n]
	whole := len(buf) &^ (directAlign - 1)
	if !d.direct {
		whole = len(buf)
	}
	err := error(nil)
	if whole > 0 {
		err = d.writeOut(buf[:whole])
	}
	if err == nil && whole < len(buf) {
		if err = directio.SetDirect(uintptr(d.fd), false); err == nil {
			d.direct = false
			err = d.writeOut(buf[whole:])
		}
	}
	directBufs.Put(d.buf)
	d.buf, d.n = nil, 0
	if err != nil {
		d.err = err
	}
	return err
}

// Sync makes the file durable. Its data went to the device with each
// direct write, so what is left is the tail, the size and the extents, and
// the device's cache: fdatasync covers them all (the modification time,
// which fsync would also write, is nothing a reader needs).
func (d *directFile) Sync() error {
	return d.SyncData()
}

func (d *directFile) SyncData() error {
	if err := d.flush(); err != nil {
		return err
	}
	return d.File.SyncData()
}

func (d *directFile) WriteAt([]byte, int64) (int, error) {
	return 0, errors.New("store: WriteAt on an object file being written")
}

// Close writes what is gathered, then closes the file: under FsyncOS the
// background loop syncs it later, so nothing may stay in the buffer.
func (d *directFile) Close() error {
	err := d.flush()
	if cerr := d.File.Close(); err == nil {
		err = cerr
	}
	return err
}

// directReadMin is the smallest read worth taking past the page cache: a
// large payload read whole (a Kafka fetch restoring an offloaded record)
// would otherwise fill the cache with pages it copies out once and drops.
const directReadMin = 256 << 10

// readDirect reads into p from f at off with O_DIRECT when p's address and
// length and off are block-aligned and p is large, and reports whether it
// did. The descriptor is its reader's own (objFiles.open), so O_DIRECT is
// set for the one pread and cleared again. Pages of the range still dirty
// in the page cache (a tail written through it) are written back by the
// kernel before it reads, so the bytes are the file's either way.
func readDirect(f vfs.File, p []byte, off int64) (n int, done bool, err error) {
	fd := f.Fd()
	if len(p) < directReadMin || fd == vfs.InvalidFd || !directio.IsAligned(p) || off&(directAlign-1) != 0 {
		return 0, false, nil
	}
	p = p[:len(p)&^(directAlign-1)]
	if directio.SetDirect(fd, true) != nil {
		return 0, false, nil
	}
	defer directio.SetDirect(fd, false)
	n, err = unix.Pread(int(fd), p, off)
	if errors.Is(err, unix.EINVAL) {
		return 0, false, nil
	}
	if err != nil {
		return 0, true, err
	}
	return n, true, nil
}
