package sqsfloor

import (
	"errors"
	"os"
	"sync"
)

// SyncLog is the least a durable server writes: each call's changes are
// appended to one file and the call waits until a fdatasync covers them.
// Calls that arrive while a sync runs share the next one (group commit).
// The file is written through once with zeros when opened and then
// overwritten in a ring, so that a sync flushes data and never the file's
// size or extents (pebble recycles its WAL files for the same reason). The
// log is never read back: it stands for the writes, not for recovery.
type SyncLog struct {
	f    *os.File
	size int64
	kick chan struct{} // a write is waiting
	done chan struct{} // closed when the sync loop has ended

	mu      sync.Mutex
	pending []byte
	waiters []chan error
	closed  bool
}

// OpenSyncLog creates (or truncates) the file at path, writes size bytes
// of zeros to it and syncs them, and starts the sync loop.
func OpenSyncLog(path string, size int64) (*SyncLog, error) {
	if size < 1<<20 {
		return nil, errors.New("sqsfloor: a sync log needs at least 1 MiB")
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, err
	}
	zeros := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(zeros)) {
		if _, err := f.WriteAt(zeros[:min(int64(len(zeros)), size-off)], off); err != nil {
			return nil, errors.Join(err, f.Close())
		}
	}
	if err := f.Sync(); err != nil {
		return nil, errors.Join(err, f.Close())
	}
	l := &SyncLog{f: f, size: size, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go l.loop()
	return l, nil
}

// Write appends rec to the log and returns once it is synced.
func (l *SyncLog) Write(rec []byte) error {
	ch := make(chan error, 1)
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return os.ErrClosed
	}
	l.pending = append(l.pending, rec...)
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default: // the loop is kicked already and will take rec too
	}
	return <-ch
}

// loop writes and syncs what is pending, one group at a time.
func (l *SyncLog) loop() {
	defer close(l.done)
	var buf []byte
	var waiters []chan error
	var off int64
	for range l.kick {
		l.mu.Lock()
		buf, l.pending = l.pending, buf[:0]
		waiters, l.waiters = l.waiters, waiters[:0]
		closed := l.closed
		l.mu.Unlock()
		var err error
		for rest := buf; len(rest) > 0 && err == nil; {
			if off == l.size {
				off = 0
			}
			n := min(int64(len(rest)), l.size-off)
			_, err = l.f.WriteAt(rest[:n], off)
			off, rest = off+n, rest[n:]
		}
		if err == nil && len(waiters) > 0 {
			err = fdatasync(l.f)
		}
		for _, ch := range waiters {
			ch <- err
		}
		if closed {
			return
		}
	}
}

// Close stops the log (writes after it fail) and closes its file; it
// leaves the file where it is.
func (l *SyncLog) Close() error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
	<-l.done
	return l.f.Close()
}
