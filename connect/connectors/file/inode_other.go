//go:build !unix

package file

import "io/fs"

// inodeOf returns 0 where the platform has no inode numbers: rotation is then
// recognized by path and size only.
func inodeOf(fs.FileInfo) uint64 { return 0 }
