package embedded

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// Fsync says when an acknowledged write reaches the disk (Options.Fsync).
type Fsync int

const (
	// FsyncAlways: a write is fsynced before it is acknowledged; a power
	// cut loses nothing acknowledged. The default.
	FsyncAlways Fsync = iota
	// FsyncOS: a write is handed to the kernel (write(2)) before it is
	// acknowledged and fsynced in the background every Options.FsyncInterval.
	// Killing the process (kill -9) loses nothing acknowledged; a power cut
	// or kernel crash may lose the last interval. This is what Apache Kafka
	// does by default (flush.messages unset: the OS flushes) on one node.
	FsyncOS
)

// DefaultFsyncInterval is how often FsyncOS syncs when Options.FsyncInterval
// is zero.
const DefaultFsyncInterval = 100 * time.Millisecond

func (m Fsync) String() string {
	switch m {
	case FsyncAlways:
		return "always"
	case FsyncOS:
		return "os"
	}
	return fmt.Sprintf("Fsync(%d)", int(m))
}

// ParseFsync parses "always" or "os".
func ParseFsync(s string) (Fsync, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "always":
		return FsyncAlways, nil
	case "os":
		return FsyncOS, nil
	}
	return 0, fmt.Errorf("fsync mode %q: want always or os", s)
}

// lazySync implements FsyncOS. Everything still goes through the normal
// paths (pebble commits with pebble.Sync, object files are finished the
// same way); what changes is what a sync on the acknowledgement path does:
//
//   - The WAL: lazySync wraps pebble's vfs.FS, and the files it creates or
//     reuses for the write-ahead log (*.log) get a Sync, SyncData and SyncTo
//     that only mark the file dirty. pebble's LogWriter writes a synced
//     commit's records to the file (write(2)) before it calls Sync and only
//     then releases the committers, so an acknowledged record is in the
//     kernel, which a kill -9 does not lose. The loop fsyncs dirty WAL files
//     every interval, and a WAL file is fsynced for real when pebble closes
//     it (on rotation and at Close). sstables, blob files, the MANIFEST and
//     directories keep their real syncs: they are not on the ack path.
//   - Object bodies and their directories (objfiles.go): finish and syncDir
//     queue the file or directory here instead of fsyncing; the loop opens
//     and fsyncs each before it syncs the WAL, so a record committed after
//     its object was queued is usually synced after it. Usually: a record
//     whose object was queued after the loop took its list can be synced
//     with the WAL in the same round, so a power cut at that moment can
//     leave a record whose body is incomplete. kill -9 cannot (the body was
//     written before the record was applied).
type lazySync struct {
	vfs.FS
	interval time.Duration

	mu      sync.Mutex
	wals    map[*walFile]struct{}
	pending map[string]bool // object paths to fsync; true for directories

	syncs atomic.Int64 // real WAL fsyncs done by the loop (tests)
	err   atomic.Pointer[error]
}

func newLazySync(base vfs.FS, interval time.Duration) *lazySync {
	if interval <= 0 {
		interval = DefaultFsyncInterval
	}
	return &lazySync{FS: base, interval: interval, wals: map[*walFile]struct{}{}, pending: map[string]bool{}}
}

func isWAL(name string) bool { return strings.HasSuffix(name, ".log") }

// Create implements vfs.FS.
func (l *lazySync) Create(name string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := l.FS.Create(name, category)
	if err != nil || !isWAL(name) {
		return f, err
	}
	return l.track(f), nil
}

// ReuseForWrite implements vfs.FS: pebble recycles old WAL files.
func (l *lazySync) ReuseForWrite(oldname, newname string, category vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := l.FS.ReuseForWrite(oldname, newname, category)
	if err != nil || !isWAL(newname) {
		return f, err
	}
	return l.track(f), nil
}

func (l *lazySync) track(f vfs.File) *walFile {
	w := &walFile{File: f, l: l}
	l.mu.Lock()
	l.wals[w] = struct{}{}
	l.mu.Unlock()
	return w
}

// later queues an object file (dir false) or directory for the next round.
func (l *lazySync) later(path string, dir bool) {
	l.mu.Lock()
	l.pending[path] = l.pending[path] || dir
	l.mu.Unlock()
}

// failed is the first background fsync error, if any: from then on the
// WAL's syncs fail, so writes are refused rather than acknowledged into a
// file the disk does not take.
func (l *lazySync) failed() error {
	if p := l.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (l *lazySync) fail(err error) {
	l.err.CompareAndSwap(nil, &err)
}

// round fsyncs the queued object files and directories, then the dirty WAL
// files.
func (l *lazySync) round() error {
	l.mu.Lock()
	pending := l.pending
	l.pending = map[string]bool{}
	wals := make([]*walFile, 0, len(l.wals))
	for w := range l.wals {
		wals = append(wals, w)
	}
	l.mu.Unlock()
	var errs []error
	// Files before directories: a directory's entry for a file is only
	// worth syncing once the file's data is.
	for _, dirs := range []bool{false, true} {
		for path, dir := range pending {
			if dir != dirs {
				continue
			}
			if err := l.syncPath(path, dir); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, w := range wals {
		if err := w.flush(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// syncPath fsyncs a file or directory by name. One removed meanwhile needs
// nothing.
func (l *lazySync) syncPath(path string, dir bool) error {
	var f vfs.File
	var err error
	if dir {
		f, err = l.FS.OpenDir(path)
	} else {
		f, err = l.FS.Open(path)
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// loop runs rounds every interval until stop is closed, then a last one.
func (l *lazySync) loop(stop <-chan struct{}, onErr func(error)) {
	t := time.NewTicker(l.interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			if err := l.round(); err != nil {
				onErr(err)
			}
			return
		case <-t.C:
			if err := l.round(); err != nil {
				l.fail(err)
				onErr(err)
			}
		}
	}
}

// walFile is a WAL file under FsyncOS: syncs on the commit path only mark
// it dirty; flush (the loop) and Close sync it for real.
type walFile struct {
	vfs.File
	l     *lazySync
	dirty atomic.Bool

	mu     sync.Mutex // serializes flush and Close
	closed bool
}

// Sync implements vfs.File: the data is already written (pebble's
// LogWriter writes before it syncs); the loop fsyncs it.
func (w *walFile) Sync() error {
	w.dirty.Store(true)
	return w.l.failed()
}

// SyncData implements vfs.File, as Sync.
func (w *walFile) SyncData() error { return w.Sync() }

// SyncTo implements vfs.File, as Sync. fullSync true tells pebble's
// syncingFile that the whole file counts as synced (the loop will sync it).
func (w *walFile) SyncTo(int64) (bool, error) { return true, w.Sync() }

// flush fsyncs the file if a sync was asked for since the last flush.
func (w *walFile) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || !w.dirty.Swap(false) {
		return nil
	}
	w.l.syncs.Add(1)
	if err := w.File.SyncData(); err != nil {
		w.dirty.Store(true)
		return err
	}
	return nil
}

// Close fsyncs what is unsynced and closes the file: a WAL pebble is done
// writing (rotation, Close) is as durable as under FsyncAlways.
func (w *walFile) Close() error {
	w.mu.Lock()
	w.closed = true
	var err error
	if w.dirty.Swap(false) {
		err = w.File.SyncData()
	}
	if cerr := w.File.Close(); err == nil {
		err = cerr
	}
	w.mu.Unlock()
	w.l.mu.Lock()
	delete(w.l.wals, w)
	w.l.mu.Unlock()
	return err
}
