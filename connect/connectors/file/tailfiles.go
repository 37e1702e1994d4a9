package file

import (
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// candidate is a file the pattern matches (or, after a rename, one found in
// the old file's directory).
type candidate struct {
	path  string
	inode uint64
	size  int64
	mtime time.Time
}

// matches returns the regular files pattern matches now.
func matches(pattern string) []candidate {
	paths, _ := filepath.Glob(pattern) // the pattern was validated
	out := make([]candidate, 0, len(paths))
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			continue // gone between Glob and Stat, or not a file
		}
		out = append(out, candidate{path: p, inode: inodeOf(fi), size: fi.Size(), mtime: fi.ModTime()})
	}
	return out
}

// newer reports whether a comes after b in a log's sequence: later
// modification time, then path for equal times.
func newer(a, b candidate) bool {
	if !a.mtime.Equal(b.mtime) {
		return a.mtime.After(b.mtime)
	}
	return a.path > b.path
}

// newest returns the newest of cs.
func newest(cs []candidate) (candidate, bool) {
	var best candidate
	found := false
	for _, c := range cs {
		if !found || newer(c, best) {
			best, found = c, true
		}
	}
	return best, found
}

// nextAfter returns the oldest file of cs that is newer than cur and is not
// cur itself: the file a rotation left for us to read next.
func nextAfter(cs []candidate, cur candidate) (candidate, bool) {
	var best candidate
	found := false
	for _, c := range cs {
		if c.inode == cur.inode && (c.inode != 0 || c.path == cur.path) {
			continue
		}
		if !newer(c, cur) {
			continue
		}
		if !found || newer(best, c) {
			best, found = c, true
		}
	}
	return best, found
}

// replacedBy returns the file now at path if it is not the file with inode:
// the file a rename rotation created in the place of the one we read.
func replacedBy(cs []candidate, path string, inode uint64) (candidate, bool) {
	for _, c := range cs {
		if c.path == path && c.inode != inode && inode != 0 {
			return c, true
		}
	}
	return candidate{}, false
}

// findInode looks for the file with inode among cs, then in dir: a
// checkpointed file renamed away under a name the pattern does not match is
// still in its directory.
func findInode(cs []candidate, dir string, inode uint64) (candidate, bool) {
	if inode == 0 {
		return candidate{}, false
	}
	for _, c := range cs {
		if c.inode == inode {
			return c, true
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return candidate{}, false
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || inodeOf(fi) != inode {
			continue
		}
		return candidate{path: filepath.Join(dir, e.Name()), inode: inode, size: fi.Size(), mtime: fi.ModTime()}, true
	}
	return candidate{}, false
}

// parseInode reads a checkpoint's inode: a decimal string (JSON numbers lose
// precision above 2^53), or a number from an older or hand-written offset.
func parseInode(v any) (uint64, bool) {
	switch x := v.(type) {
	case string:
		n, err := strconv.ParseUint(x, 10, 64)
		return n, err == nil
	default:
		n, ok := offsetNumber(v)
		return uint64(n), ok && n >= 0
	}
}
