//go:build !linux

package embedded

import "github.com/cockroachdb/pebble/v2/vfs"

// openDirect returns f: direct writes are used on Linux only
// (direct_linux.go).
func openDirect(f vfs.File) vfs.File { return f }

// readDirect never reads: see direct_linux.go.
func readDirect(vfs.File, []byte, int64) (int, bool, error) { return 0, false, nil }
