package server

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Layout of --data-dir. The store gets a folder of its own so later state
// (connector offsets, offloaded payloads) can sit beside it.
const (
	storeSubdir   = "store"
	objectsSubdir = "objects" // object bodies (store/embedded's Options.ObjectsDir)
	lockFileName  = "bridge.lock"
)

// errDirLocked is returned by lockFile when another process holds the lock.
var errDirLocked = errors.New("locked")

// dataDirLock keeps a second bridge off a data dir this one uses. Without it
// the second one would fail inside the store with an error that does not say
// "another bridge has this directory"; with it, the message says so and
// names the other process.
type dataDirLock struct {
	f *os.File
}

// lockDataDir creates dir if needed and takes the bridge lock in it.
func lockDataDir(dir string) (*dataDirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		holder := "another process"
		if b, rerr := os.ReadFile(path); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = fmt.Sprintf("another bridge (pid %d)", pid)
			}
		}
		_ = f.Close()
		if errors.Is(err, errDirLocked) {
			return nil, fmt.Errorf("data dir %s is in use by %s; stop it or choose another --data-dir", dir, holder)
		}
		return nil, fmt.Errorf("lock data dir %s: %w", dir, err)
	}
	// The pid is for the error message above and for operators; the lock
	// itself is the flock, which the kernel drops if this process dies.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &dataDirLock{f: f}, nil
}

// release drops the lock. The file stays: removing it would race with a
// process that has just opened it and is about to lock it.
func (l *dataDirLock) release() error {
	if l == nil {
		return nil
	}
	_ = unlockFile(l.f)
	return l.f.Close()
}
