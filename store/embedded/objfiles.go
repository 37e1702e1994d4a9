package embedded

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"strconv"
	"sync"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/streambridge/bridge/store"
)

// objFiles holds object bodies and multipart parts, one file each, named
// <dir>/<bucket id>/<file id>. File ids come from a counter that never goes
// back (Store.allocFileID), so a name is never reused: a file is written
// once under its final name, and until the metadata record naming it
// commits, nothing refers to it (to the sweeper it is an orphan).
//
// Files are read by position (ReadAt), so any number of readers share one
// open file; and a file removed while open stays readable through the open
// handle (POSIX unlink semantics, which vfs.MemFS shares), which is what
// lets a reader finish an object that was replaced or deleted meanwhile.
type objFiles struct {
	fs   vfs.FS
	dir  string
	sync bool // fsync files and directories (false InMemory: nothing to sync)
	log  *slog.Logger
	// lazy, under FsyncOS, takes the fsyncs off the ack path: files and
	// directories are queued for its background loop instead (fsync.go).
	lazy *lazySync
}

// lazyFile is an object file under FsyncOS: finish queues its path.
type lazyFile struct {
	vfs.File
	path string
}

// writeCategory tags the store's object writes in pebble's disk statistics.
const writeCategory vfs.DiskWriteCategory = "bridge-objects"

func (o *objFiles) bucketDir(bucket uint64) string {
	return o.fs.PathJoin(o.dir, strconv.FormatUint(bucket, 10))
}

func (o *objFiles) path(bucket, file uint64) string {
	return o.fs.PathJoin(o.bucketDir(bucket), strconv.FormatUint(file, 10))
}

// makeBucketDir creates a bucket's directory durably: it exists before the
// bucket's record commits (an orphan directory is swept at open).
func (o *objFiles) makeBucketDir(bucket uint64) error {
	if err := o.fs.MkdirAll(o.bucketDir(bucket), 0o755); err != nil {
		return err
	}
	return o.syncDir(o.dir)
}

func (o *objFiles) syncDir(dir string) error {
	if !o.sync {
		return nil
	}
	if o.lazy != nil {
		o.lazy.later(dir, true)
		return nil
	}
	d, err := o.fs.OpenDir(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// create makes file id's file in bucket's directory, written past the page
// cache when uncached (store.PutOptions.Uncached). A missing directory
// means the bucket was deleted meanwhile.
func (o *objFiles) create(bucket, file uint64, uncached bool) (vfs.File, error) {
	path := o.path(bucket, file)
	f, err := o.fs.Create(path, writeCategory)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: deleted while writing", store.ErrBucketNotFound)
	}
	if err != nil || !o.sync {
		return f, err
	}
	direct := f
	if uncached {
		direct = openDirect(f)
	}
	if direct != f {
		f = direct
	} else {
		// Start writing back every MiB as the body arrives
		// (sync_file_range, not waited on), so the fsync at the end
		// waits for the tail only. Under FsyncOS the close must not
		// fsync either: the loop does.
		f = vfs.NewSyncingFile(f, vfs.SyncingFileOptions{BytesPerSync: 1 << 20, NoSyncOnClose: o.lazy != nil})
	}
	if o.lazy != nil {
		return &lazyFile{File: f, path: path}, nil
	}
	return f, nil
}

func (o *objFiles) open(bucket, file uint64) (vfs.File, error) {
	return o.fs.Open(o.path(bucket, file))
}

// remove deletes a file no record refers to any more. A failure is only
// logged: the file is an orphan, which the next open sweeps.
func (o *objFiles) remove(bucket, file uint64) {
	if file == 0 {
		return
	}
	if err := o.fs.Remove(o.path(bucket, file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		o.log.Warn("store: object file not removed; the next open sweeps it", "bucket", bucket, "file", file, "err", err)
	}
}

// finish makes a written file durable: its data, then its directory entry.
// It closes f either way.
func (o *objFiles) finish(bucket uint64, f vfs.File) error {
	var err error
	lf, lazy := f.(*lazyFile)
	if lazy {
		// Written to the kernel is enough until the loop syncs it.
		o.lazy.later(lf.path, false)
	} else if o.sync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = o.syncDir(o.bucketDir(bucket))
	}
	return err
}

// copyBufs recycles the buffers bodies stream through.
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// copyBody copies src to dst until EOF and returns the bytes copied. With
// size >= 0, src must hold exactly size bytes (store.ErrIncompleteBody
// otherwise); it is never read further than one byte past size. ctx is
// checked between reads, so an abandoned request stops.
func copyBody(ctx context.Context, dst io.Writer, src io.Reader, size int64) (int64, error) {
	if size >= 0 {
		src = io.LimitReader(src, size+1)
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	buf := *bp
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		k, rerr := src.Read(buf)
		if k > 0 {
			// vfs.File.Write may modify its argument: dst writes the
			// digests first (digester before the file in a MultiWriter).
			if _, err := dst.Write(buf[:k]); err != nil {
				return n, err
			}
			n += int64(k)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return n, rerr
		}
	}
	if size >= 0 && n != size {
		return n, fmt.Errorf("%w: %d bytes, declared %d", store.ErrIncompleteBody, n, size)
	}
	return n, nil
}

// objectReader reads a resolved range of an object's file (store.ObjectReader).
// It does not hold the store's gate: an open reader, which a slow client
// may keep for long, never delays Close, and reads its file, not pebble.
type objectReader struct {
	f           vfs.File
	r           *io.SectionReader
	info        store.ObjectInfo
	first, last int64
	m           *metrics
	closed      bool
}

func (r *objectReader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, errors.New("store: read from a closed object reader")
	}
	pos, _ := r.r.Seek(0, io.SeekCurrent)
	if left := r.last + 1 - r.first - pos; int64(len(p)) > left {
		p = p[:left]
	}
	if n, done, err := readDirect(r.f, p, r.first+pos); done {
		if n == 0 && err == nil {
			err = io.ErrUnexpectedEOF // the file is shorter than its record says
		}
		r.r.Seek(pos+int64(n), io.SeekStart)
		r.m.objectRead(n)
		return n, err
	}
	n, err := r.r.Read(p)
	r.m.objectRead(n)
	return n, err
}

// WriteTo copies the rest of the range to w. When w takes a file (a TCP
// connection does, through http.ResponseWriter's ReadFrom) and the object
// is a file of the OS, the kernel sends it (sendfile) without it passing
// through this process; otherwise it is read and written as by io.Copy.
func (r *objectReader) WriteTo(w io.Writer) (int64, error) {
	if r.closed {
		return 0, errors.New("store: read from a closed object reader")
	}
	rf, ok := w.(io.ReaderFrom)
	fd := r.f.Fd()
	if !ok || fd == vfs.InvalidFd {
		return io.Copy(w, onlyReader{r})
	}
	// A file of its own (a duplicate descriptor) with its own offset:
	// the reader's reads are positioned (pread) and stay untouched.
	f, err := dupFile(fd)
	if err != nil {
		return io.Copy(w, onlyReader{r})
	}
	defer f.Close()
	pos, _ := r.r.Seek(0, io.SeekCurrent)
	start := r.first + pos
	if _, err := f.Seek(start, io.SeekStart); err != nil {
		return io.Copy(w, onlyReader{r})
	}
	n, err := rf.ReadFrom(io.LimitReader(f, r.last+1-start))
	r.r.Seek(pos+n, io.SeekStart)
	r.m.objectRead(int(n))
	return n, err
}

// onlyReader hides every method of a reader but Read, so io.Copy does not
// call WriteTo again.
type onlyReader struct{ io.Reader }

func (r *objectReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	return r.f.Close()
}

func (r *objectReader) Info() store.ObjectInfo { return r.info }

func (r *objectReader) Range() (first, last int64) { return r.first, r.last }

// resolveRange turns rng into inclusive bounds within an object of size
// bytes (nil: all of it; an empty object then reads as 0, -1).
// store.ErrInvalidRange when the range starts at or past the end, as S3
// answers 416; a range reaching past the end is cut there.
func resolveRange(rng *store.ByteRange, size int64) (first, last int64, err error) {
	if rng == nil {
		return 0, size - 1, nil
	}
	if rng.Suffix > 0 {
		if size == 0 {
			return 0, 0, fmt.Errorf("%w: bytes=-%d of an empty object", store.ErrInvalidRange, rng.Suffix)
		}
		return max(0, size-rng.Suffix), size - 1, nil
	}
	if rng.First < 0 || rng.First >= size || (rng.Last >= 0 && rng.Last < rng.First) || rng.Last < -1 {
		return 0, 0, fmt.Errorf("%w: bytes=%d-%d of %d bytes", store.ErrInvalidRange, rng.First, rng.Last, size)
	}
	last = rng.Last
	if last == -1 || last >= size {
		last = size - 1
	}
	return rng.First, last, nil
}
