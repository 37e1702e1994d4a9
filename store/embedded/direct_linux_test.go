//go:build linux

package embedded

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"golang.org/x/sys/unix"

	"github.com/streambridge/bridge/store"
)

// directSupported reports whether dir's file system takes O_DIRECT, so the
// tests below can insist that object files use it there.
func directSupported(t *testing.T, dir string) bool {
	fd, err := unix.Open(filepath.Join(dir, "probe"), unix.O_CREAT|unix.O_WRONLY|unix.O_DIRECT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Logf("%s: no O_DIRECT (%v): the page-cache fallback is what is tested", dir, err)
		return false
	}
	unix.Close(fd)
	os.Remove(filepath.Join(dir, "probe"))
	return true
}

// TestDirectFileWrites writes files of sizes around the block and chunk
// boundaries in pieces of several shapes (aligned runs that bypass the
// gathering buffer, odd pieces that fill it) and checks every byte, synced
// or only closed as under FsyncOS.
func TestDirectFileWrites(t *testing.T) {
	dir := t.TempDir()
	direct := directSupported(t, dir)
	o := objFiles{fs: vfs.Default, dir: dir, sync: true, log: slog.Default()}
	if err := o.makeBucketDir(1); err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, directAlign - 1, directAlign, directAlign + 1, directChunk - 1, directChunk, directChunk + 1, 3*directChunk + directChunk/2 + 17}
	pieces := map[string]func(p []byte) [][]byte{
		"whole":       func(p []byte) [][]byte { return [][]byte{p} },
		"copyBody":    nil, // through copyBody's aligned 256 KiB buffers
		"odd 1000":    func(p []byte) [][]byte { return split(p, 1000) },
		"blocks+tail": func(p []byte) [][]byte { return split(p, 3*directAlign+5) },
	}
	cached, err := o.create(1, 1000, false)
	if err == nil {
		if _, isDirect := cached.(*directFile); isDirect {
			t.Error("a file created without uncached writes past the page cache")
		}
		cached.Close()
	}
	id := uint64(0)
	for _, size := range sizes {
		data := patternData(size)
		for name, cut := range pieces {
			for _, sync := range []bool{true, false} {
				id++
				t.Run(fmt.Sprintf("%d/%s/sync=%v", size, name, sync), func(t *testing.T) {
					f, err := o.create(1, id, true)
					if err != nil {
						t.Fatal(err)
					}
					d, isDirect := f.(*directFile)
					if direct && !isDirect {
						t.Fatalf("file is a %T, want a *directFile on a file system that takes O_DIRECT", f)
					}
					if cut == nil {
						if _, err := copyBody(ctx, f, bytes.NewReader(data), int64(size)); err != nil {
							t.Fatal(err)
						}
					} else {
						for _, p := range cut(data) {
							if n, err := f.Write(p); n != len(p) || err != nil {
								t.Fatalf("write %d bytes: %d, %v", len(p), n, err)
							}
						}
					}
					if direct && size >= directChunk && !d.direct {
						t.Fatal("fell back to the page cache before the tail")
					}
					if sync {
						if err := o.finish(1, f); err != nil {
							t.Fatal(err)
						}
					} else if err := f.Close(); err != nil {
						t.Fatal(err)
					}
					got, err := os.ReadFile(o.path(1, id))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, data) {
						t.Fatalf("file holds %d bytes, want the %d written", len(got), len(data))
					}
				})
			}
		}
	}
}

// TestObjectReadsDirect reads objects, written uncached or not, through
// GetObject with buffers and ranges that take the direct path (aligned,
// large) and that do not.
func TestObjectReadsDirect(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store"))
	defer s.Close()
	mustBucket(t, s, "b")
	for i, size := range []int{directReadMin, 3*directChunk + 4097, 10 << 20} {
		data := patternData(size)
		key := fmt.Sprint(size)
		// Direct reads see what went through the page cache too.
		putBytes(t, s, "b", key, data, store.PutOptions{Uncached: i%2 == 0})
		ranges := []*store.ByteRange{
			nil,
			{First: directAlign, Last: -1},    // aligned start
			{First: 1, Last: int64(size) - 2}, // unaligned start: the page cache
			{First: 2 * directAlign, Last: directChunk}, // aligned start, odd end
			{Suffix: int64(directReadMin) + 3},
		}
		for _, rng := range ranges {
			first, last, _ := resolveRange(rng, int64(size))
			want := data[first : last+1]
			for _, shift := range []int{0, 1} { // an aligned buffer, then an unaligned one
				r, err := s.GetObject(ctx, "b", key, rng)
				if err != nil {
					t.Fatal(err)
				}
				buf := make([]byte, len(want)+shift)[shift:]
				n, err := io.ReadFull(r, buf)
				r.Close()
				if err != nil || !bytes.Equal(buf[:n], want) {
					t.Fatalf("size %d, range %+v, buffer shift %d: read %d bytes (%v), differ: %v", size, rng, shift, n, err, !bytes.Equal(buf[:n], want))
				}
			}
			r, _ := s.GetObject(ctx, "b", key, rng)
			got, err := io.ReadAll(io.MultiReader(r)) // small reads, then EOF
			r.Close()
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("size %d, range %+v: ReadAll %d bytes, %v", size, rng, len(got), err)
			}
		}
	}
}

func split(p []byte, n int) [][]byte {
	var out [][]byte
	for len(p) > n {
		out = append(out, p[:n])
		p = p[n:]
	}
	return append(out, p)
}

func patternData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>12)
	}
	return b
}

// refusingFile fails its first write with EINVAL, as a device whose block
// is larger than directAlign refuses a direct write.
type refusingFile struct {
	vfs.File
	refused bool
}

func (f *refusingFile) Write(p []byte) (int, error) {
	if !f.refused {
		f.refused = true
		return 0, unix.EINVAL
	}
	return f.File.Write(p)
}

// TestDirectFileFallsBack writes through the page cache what a direct
// write was refused, and everything after it.
func TestDirectFileFallsBack(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	f, err := vfs.Default.Create(path, writeCategory)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := openDirect(&refusingFile{File: f}).(*directFile)
	if !ok {
		if directSupported(t, filepath.Dir(path)) {
			t.Fatal("openDirect refused a file on a file system that takes O_DIRECT")
		}
		t.Skip("no O_DIRECT on this file system: nothing to fall back from")
	}
	data := patternData(2*directChunk + 123)
	for _, p := range split(data, 70000) {
		if _, err := d.Write(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if d.direct {
		t.Error("still direct after the device refused a direct write")
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatalf("file holds %d bytes, want the %d written", len(got), len(data))
	}
}
