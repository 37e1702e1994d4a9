//go:build unix

package file

import (
	"io/fs"
	"syscall"
)

// inodeOf returns a file's inode number: what stays the same when a log file
// is renamed away and differs for the new file created in its place.
func inodeOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}
