package embedded

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// countingFS counts the real fsyncs of WAL files and of other files (object
// bodies, directories, sstables, the MANIFEST) reaching the base FS.
type countingFS struct {
	vfs.FS
	mu          sync.Mutex
	wal, others int
}

func (c *countingFS) counts() (wal, others int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.wal, c.others
}

func (c *countingFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return f, err
	}
	return &countingFile{File: f, fs: c, wal: isWAL(name)}, nil
}

func (c *countingFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := c.FS.Create(name, cat)
	return c.wrap(name, f, err)
}

func (c *countingFS) ReuseForWrite(old, name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := c.FS.ReuseForWrite(old, name, cat)
	return c.wrap(name, f, err)
}

func (c *countingFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	f, err := c.FS.Open(name, opts...)
	return c.wrap(name, f, err)
}

func (c *countingFS) OpenDir(name string) (vfs.File, error) {
	f, err := c.FS.OpenDir(name)
	return c.wrap(name, f, err)
}

type countingFile struct {
	vfs.File
	fs  *countingFS
	wal bool
}

func (f *countingFile) count() {
	f.fs.mu.Lock()
	if f.wal {
		f.fs.wal++
	} else {
		f.fs.others++
	}
	f.fs.mu.Unlock()
}

func (f *countingFile) Sync() error     { f.count(); return f.File.Sync() }
func (f *countingFile) SyncData() error { f.count(); return f.File.SyncData() }

// SyncTo is sync_file_range (no durability): not counted.
func (f *countingFile) SyncTo(n int64) (bool, error) { return f.File.SyncTo(n) }

// TestLazySyncRounds drives lazySync by hand: a sync on the commit path
// only marks the WAL dirty, a round fsyncs dirty files once, Close fsyncs
// what is left, and queued object paths are fsynced by the next round.
func TestLazySyncRounds(t *testing.T) {
	dir := t.TempDir()
	base := &countingFS{FS: vfs.Default}
	l := newLazySync(base, time.Hour)
	f, err := l.Create(base.PathJoin(dir, "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	other, err := l.Create(base.PathJoin(dir, "MANIFEST-000001"), "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := other.(*walFile); ok {
		t.Fatal("a MANIFEST is wrapped: its syncs would be deferred")
	}
	other.Close()

	steps := []struct {
		name       string
		do         func() error
		wal, other int // real fsyncs so far
	}{
		{"write and sync", func() error {
			if _, err := f.Write([]byte("record")); err != nil {
				return err
			}
			return f.Sync()
		}, 0, 0},
		{"round syncs the dirty WAL", l.round, 1, 0},
		{"a clean WAL is not synced again", l.round, 1, 0},
		{"SyncData and SyncTo defer too", func() error {
			f.Write([]byte("more"))
			if err := f.SyncData(); err != nil {
				return err
			}
			_, err := f.SyncTo(10)
			return err
		}, 1, 0},
		{"round", l.round, 2, 0},
		{"queued object file and directory", func() error {
			obj := base.PathJoin(dir, "obj")
			o, err := base.FS.Create(obj, "test")
			if err != nil {
				return err
			}
			o.Write([]byte("body"))
			o.Close()
			l.later(obj, false)
			l.later(dir, true)
			l.later(base.PathJoin(dir, "removed-meanwhile"), false)
			return nil
		}, 2, 0},
		{"round syncs them", l.round, 2, 2},
		{"write, sync, close syncs for real", func() error {
			f.Write([]byte("last"))
			f.Sync()
			return f.Close()
		}, 3, 2},
		{"a closed WAL is forgotten", l.round, 3, 2},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if wal, other := base.counts(); wal != st.wal || other != st.other {
			t.Fatalf("%s: %d WAL and %d other fsyncs, want %d and %d", st.name, wal, other, st.wal, st.other)
		}
	}
	if n := len(l.wals); n != 0 {
		t.Fatalf("%d WAL files still tracked after Close", n)
	}
}

// TestFsyncModes runs a store on a counting FS: under FsyncAlways appends,
// state updates and object puts fsync before they return; under FsyncOS
// (with an hour between rounds) none of them does, and Close syncs it all.
func TestFsyncModes(t *testing.T) {
	for _, mode := range fsyncModes {
		t.Run(mode.String(), func(t *testing.T) {
			base := &countingFS{FS: vfs.Default}
			dir := t.TempDir()
			s, err := Open(Options{Dir: dir, Fsync: mode, FsyncInterval: time.Hour,
				tune: func(o *pebble.Options) { o.FS = base }})
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "s", ShardCount: 2}); err != nil {
				t.Fatal(err)
			}
			walBefore, _ := base.counts()
			for i := range 10 {
				raw, _ := recordbatch.Encode(nil, []recordbatch.Record{{Value: []byte(strings.Repeat("v", 100))}}, recordbatch.EncodeOptions{})
				if _, err := s.AppendBatch(ctx, "s", int32(i%2), raw, store.AppendOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s.CreateBucket(ctx, "b", store.BucketOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := s.PutObject(ctx, "b", "k", bytes.NewReader(make([]byte, 1000)), store.PutOptions{Size: 1000}); err != nil {
				t.Fatal(err)
			}
			walAfter, _ := base.counts()
			switch {
			case mode == FsyncAlways && walAfter == walBefore:
				t.Fatal("FsyncAlways: appends returned without a WAL fsync")
			case mode == FsyncOS && walAfter != 0:
				t.Fatalf("FsyncOS: %d WAL fsyncs on the ack path", walAfter)
			}
			if mode == FsyncOS {
				s.lazy.mu.Lock()
				queued := len(s.lazy.pending)
				s.lazy.mu.Unlock()
				if queued == 0 {
					t.Fatal("FsyncOS: the object put queued nothing for the background fsync")
				}
			}
			_, othersBefore := base.counts()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			walClosed, othersClosed := base.counts()
			if mode == FsyncOS && (walClosed == 0 || othersClosed == othersBefore) {
				t.Fatalf("FsyncOS: Close did not sync (WAL %d, others %d -> %d)", walClosed, othersBefore, othersClosed)
			}
			// Everything is there after reopening.
			s, err = Open(Options{Dir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			for p := range int32(2) {
				if recs := readAll(t, s, "s", p, 0); len(recs) != 5 {
					t.Fatalf("partition %d: %d records after reopening, want 5", p, len(recs))
				}
			}
		})
	}
}

// TestLazySyncLoop checks that the loop syncs on its own, between Opens
// and Closes: a dirty WAL gets fsynced without anyone asking.
func TestLazySyncLoop(t *testing.T) {
	base := &countingFS{FS: vfs.Default}
	l := newLazySync(base, time.Millisecond)
	f, err := l.Create(base.PathJoin(t.TempDir(), "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); l.loop(stop, func(err error) { t.Error(err) }) }()
	defer func() { close(stop); <-done }()
	f.Write([]byte("record"))
	f.Sync()
	// No deadline of our own: the test's -timeout catches a loop that
	// never syncs.
	for {
		if wal, _ := base.counts(); wal > 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// failingSyncFS fails every real fsync of a WAL file.
type failingSyncFS struct{ vfs.FS }

func (f failingSyncFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	file, err := f.FS.Create(name, cat)
	if err != nil {
		return nil, err
	}
	return failingSyncFile{file}, nil
}

type failingSyncFile struct{ vfs.File }

var errDiskGone = errors.New("disk gone")

func (failingSyncFile) Sync() error     { return errDiskGone }
func (failingSyncFile) SyncData() error { return errDiskGone }

// TestLazySyncFailureIsSticky: once a background fsync failed, the WAL's
// syncs fail, so pebble refuses writes rather than acknowledging them.
func TestLazySyncFailureIsSticky(t *testing.T) {
	l := newLazySync(failingSyncFS{vfs.Default}, time.Millisecond)
	f, err := l.Create(vfs.Default.PathJoin(t.TempDir(), "000001.log"), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("record"))
	if err := f.Sync(); err != nil {
		t.Fatalf("sync before any failure: %v", err)
	}
	var logged []error
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { defer close(done); l.loop(stop, func(err error) { logged = append(logged, err) }) }()
	// No deadline of our own: the test's -timeout catches a loop that
	// never fails.
	for l.failed() == nil {
		time.Sleep(time.Millisecond)
	}
	close(stop)
	<-done
	if err := f.Sync(); !errors.Is(err, errDiskGone) {
		t.Fatalf("sync after a failed background fsync: %v, want %v", err, errDiskGone)
	}
	if len(logged) == 0 {
		t.Fatal("the failure was not reported")
	}
}
