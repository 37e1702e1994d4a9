package embedded

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"sync"
	"testing"

	"github.com/streambridge/bridge/store"
)

func TestObjectsReopenKeepsEverything(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	s := openStore(t, dir)
	mustBucket(t, s, "b")
	b, _ := s.UpdateBucket(ctx, "b", func(b *store.Bucket) error { b.Tags = map[string]string{"t": "1"}; return nil })
	objs := map[string][]byte{}
	infos := map[string]store.ObjectInfo{}
	for i := range 20 {
		key := fmt.Sprintf("k%02d", i)
		objs[key] = bytes.Repeat([]byte(key), 1000*i)
		infos[key] = putBytes(t, s, "b", key, objs[key], store.PutOptions{Checksums: []string{"CRC32C"}})
	}
	id, _ := s.CreateMultipartUpload(ctx, "b", "mp", store.PutOptions{})
	part := uploadPart(t, s, "b", "mp", id, 1, []byte("part one"))
	lease := s.obj.nextFile
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir + "-objects"); err != nil {
		t.Fatalf("default objects directory: %v", err)
	}

	s = openStore(t, dir)
	defer s.Close()
	if got, _ := s.HeadBucket(ctx, "b"); !reflect.DeepEqual(got, b) {
		t.Fatalf("bucket %+v, was %+v", got, b)
	}
	for key, data := range objs {
		if got := getBytes(t, s, "b", key, nil); !bytes.Equal(got, data) {
			t.Fatalf("%s differs after reopen", key)
		}
		if head, _ := s.HeadObject(ctx, "b", key); !reflect.DeepEqual(head, infos[key]) {
			t.Fatalf("%s: %+v, was %+v", key, head, infos[key])
		}
	}
	parts, err := s.ListParts(ctx, "b", "mp", id)
	if err != nil || len(parts) != 1 || !reflect.DeepEqual(parts[0], part) {
		t.Fatalf("parts %+v %v", parts, err)
	}
	info, err := s.CompleteMultipartUpload(ctx, "b", "mp", id, []store.CompletedPart{{Number: 1, ETag: part.ETag}})
	if err != nil || string(getBytes(t, s, "b", "mp", nil)) != "part one" {
		t.Fatalf("complete after reopen: %+v %v", info, err)
	}
	if s.obj.nextFile < lease {
		t.Fatalf("file ids went back from %d to %d", lease, s.obj.nextFile)
	}
	if files, refs := diskFiles(t, s), referencedFiles(t, s); !reflect.DeepEqual(files, refs) {
		t.Fatalf("files %v, records name %v", files, refs)
	}
}

// TestSweeperRemovesOrphans: files no record names (a crash between a
// body's write and its commit, or between a commit and the old file's
// removal) and directories of unknown buckets are gone after a reopen;
// real objects are intact.
func TestSweeperRemovesOrphans(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "store")
	objDir := filepath.Join(t.TempDir(), "objects")
	s, err := Open(Options{Dir: dir, ObjectsDir: objDir})
	if err != nil {
		t.Fatal(err)
	}
	mustBucket(t, s, "b")
	putBytes(t, s, "b", "keep", []byte("kept"), store.PutOptions{})
	id, _ := s.CreateMultipartUpload(ctx, "b", "mp", store.PutOptions{})
	uploadPart(t, s, "b", "mp", id, 1, []byte("kept part"))
	bid := s.obj.buckets["b"].id
	nextFile := s.obj.nextFile
	s.Close()

	bdir := filepath.Join(objDir, fmt.Sprint(bid))
	orphans := []string{
		filepath.Join(bdir, fmt.Sprint(nextFile+5)), // a body whose record never committed
		filepath.Join(bdir, "17.tmp"),               // a stray temporary
		filepath.Join(objDir, "999", "3"),           // a bucket that does not exist
	}
	for _, p := range orphans {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte("orphan"), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	s, err = Open(Options{Dir: dir, ObjectsDir: objDir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range append(orphans, filepath.Join(objDir, "999")) {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s survived the sweep: %v", p, err)
		}
	}
	if got := getBytes(t, s, "b", "keep", nil); string(got) != "kept" {
		t.Fatalf("object after sweep: %q", got)
	}
	if parts, err := s.ListParts(ctx, "b", "mp", id); err != nil || len(parts) != 1 {
		t.Fatalf("parts after sweep: %+v %v", parts, err)
	}
	if files, refs := diskFiles(t, s), referencedFiles(t, s); !reflect.DeepEqual(files, refs) || len(files) != 2 {
		t.Fatalf("files %v, records name %v", files, refs)
	}
	if s.obj.swept != len(orphans) {
		t.Errorf("swept %d, want %d", s.obj.swept, len(orphans))
	}
	if s.obj.nextFile <= nextFile+5 {
		t.Fatalf("next file id %d: could reuse the orphan's %d", s.obj.nextFile, nextFile+5)
	}
}

// TestReaderSurvivesReplace: a reader opened before a replace and a delete
// reads the old bytes to the end, on disk and in memory.
func TestReaderSurvivesReplace(t *testing.T) {
	for _, disk := range []bool{false, true} {
		t.Run(fmt.Sprintf("disk=%v", disk), func(t *testing.T) {
			dir := ""
			if disk {
				dir = filepath.Join(t.TempDir(), "store")
			}
			s := openStore(t, dir)
			defer s.Close()
			mustBucket(t, s, "b")
			old := bytes.Repeat([]byte("old "), 300_000)
			putBytes(t, s, "b", "k", old, store.PutOptions{})
			r, err := s.GetObject(ctx, "b", "k", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			head := make([]byte, 1000)
			if _, err := io.ReadFull(r, head); err != nil {
				t.Fatal(err)
			}
			putBytes(t, s, "b", "k", []byte("new"), store.PutOptions{})
			rest, err := io.ReadAll(r)
			if err != nil || !bytes.Equal(append(head, rest...), old) {
				t.Fatalf("reader after replace: %d bytes, %v", len(head)+len(rest), err)
			}
			r2, _ := s.GetObject(ctx, "b", "k", nil)
			if err := s.DeleteObject(ctx, "b", "k"); err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(r2); err != nil || string(got) != "new" {
				t.Fatalf("reader after delete: %q %v", got, err)
			}
			r2.Close()
			if files := diskFiles(t, s); len(files) != 0 {
				t.Fatalf("files %v", files)
			}
		})
	}
}

// TestConcurrentPutsOneKey: puts racing on one key end with one of them
// whole and every other file removed.
func TestConcurrentPutsOneKey(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store"))
	defer s.Close()
	mustBucket(t, s, "b")
	var wg sync.WaitGroup
	etags := map[string]bool{}
	var mu sync.Mutex
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				data := bytes.Repeat([]byte(fmt.Sprintf("g%d-i%d ", g, i)), 10_000)
				info, err := s.PutObject(ctx, "b", "k", bytes.NewReader(data), store.PutOptions{Size: -1})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				etags[info.ETag] = true
				mu.Unlock()
				if _, err := s.GetObject(ctx, "b", "k", nil); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	got := getBytes(t, s, "b", "k", nil)
	head, _ := s.HeadObject(ctx, "b", "k")
	if md5ETag(got) != head.ETag || !etags[head.ETag] {
		t.Fatalf("final object does not match its record")
	}
	if files := diskFiles(t, s); len(files) != 1 {
		t.Fatalf("files %v: replaced files were not all removed", files)
	}
}

// genReader generates n bytes of a pattern without holding them.
type genReader struct{ n, off int64 }

func (g *genReader) Read(p []byte) (int, error) {
	if g.off >= g.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.n-g.off)]
	for i := range p {
		p[i] = byte((g.off + int64(i)) * 7 % 251)
	}
	g.off += int64(len(p))
	return len(p), nil
}

// TestLargeObjectStreams puts and reads 64 MiB on disk without the heap
// growing by anything like that.
func TestLargeObjectStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB")
	}
	const size = 64 << 20
	s := openStore(t, filepath.Join(t.TempDir(), "store"))
	defer s.Close()
	mustBucket(t, s, "b")
	h := md5.New()
	io.Copy(h, &genReader{n: size})
	want := `"` + hex.EncodeToString(h.Sum(nil)) + `"`

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	info, err := s.PutObject(ctx, "b", "big", &genReader{n: size}, store.PutOptions{Size: size, Checksums: []string{"CRC64NVME"}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.GetObject(ctx, "b", "big", nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Reset()
	n, err := io.CopyBuffer(h, r, make([]byte, 64<<10))
	r.Close()
	runtime.ReadMemStats(&after)
	if err != nil || n != size || info.ETag != want || `"`+hex.EncodeToString(h.Sum(nil))+`"` != want {
		t.Fatalf("read %d bytes, %v; ETag %s, want %s", n, err, info.ETag, want)
	}
	// Peak heap is what matters; HeapInuse after the fact plus the total
	// allocated bound it well enough: a body held whole would allocate it.
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 16<<20 {
		t.Fatalf("heap in use grew by %d MiB", grew>>20)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Fatalf("allocated %d MiB for a 64 MiB object", alloc>>20)
	}
}

// TestObjectsConcurrentMix runs puts, copies, deletes, tag updates, lists,
// multipart uploads and refused bucket deletions at once (run it with
// -race), then checks the files on disk are exactly those records name.
func TestObjectsConcurrentMix(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store"))
	defer s.Close()
	mustBucket(t, s, "b")
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				key := fmt.Sprintf("k%d", (g+i)%7)
				var err error
				switch i % 6 {
				case 0, 1:
					_, err = s.PutObject(ctx, "b", key, bytes.NewReader(objectBody(key, 1000*i)), store.PutOptions{Size: -1})
				case 2:
					_, err = s.CopyObject(ctx, "b", key, "b", key+"-copy", store.CopyOptions{})
				case 3:
					err = s.DeleteObject(ctx, "b", key)
				case 4:
					_, err = s.UpdateObject(ctx, "b", key, func(o *store.ObjectInfo) error { o.Tags = map[string]string{"g": fmt.Sprint(g)}; return nil })
					if err == nil {
						_, _, err = s.ListObjects(ctx, "b", store.ListOptions{Prefix: "k"})
					}
				case 5:
					var id string
					if id, err = s.CreateMultipartUpload(ctx, "b", key, store.PutOptions{}); err == nil {
						var p store.PartInfo
						if p, err = s.UploadPart(ctx, "b", key, id, 1, bytes.NewReader([]byte(key)), store.PutOptions{Size: -1}); err == nil {
							_, err = s.CompleteMultipartUpload(ctx, "b", key, id, []store.CompletedPart{{Number: 1, ETag: p.ETag}})
						}
					}
					if derr := s.DeleteBucket(ctx, "b"); !errors.Is(derr, store.ErrBucketNotEmpty) {
						t.Errorf("delete of a busy bucket: %v", derr)
					}
				}
				if err != nil && !errors.Is(err, store.ErrObjectNotFound) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	if files, refs := diskFiles(t, s), referencedFiles(t, s); !reflect.DeepEqual(files, refs) {
		t.Fatalf("files %v, records name %v", files, refs)
	}
	objs, _, _ := s.ListObjects(ctx, "b", store.ListOptions{})
	for _, o := range objs {
		if got := getBytes(t, s, "b", o.Key, nil); int64(len(got)) != o.Size {
			t.Fatalf("%s: %d bytes, record says %d", o.Key, len(got), o.Size)
		}
	}
}

// TestPutStopsEarly: a put whose context ends, or whose store closes,
// while the body streams stores nothing and leaves no file.
func TestPutStopsEarly(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store"))
	mustBucket(t, s, "b")
	cctx, cancel := context.WithCancel(ctx)
	body := io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), readerFunc(func([]byte) (int, error) {
		cancel()
		return 0, io.EOF
	}), bytes.NewReader(make([]byte, 1<<20)))
	if _, err := s.PutObject(cctx, "b", "k", body, store.PutOptions{Size: -1}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled put: %v", err)
	}
	closed := make(chan struct{})
	body = io.MultiReader(bytes.NewReader(make([]byte, 1<<20)), readerFunc(func([]byte) (int, error) {
		go func() { s.Close(); close(closed) }()
		for !s.live.closingNow() {
			runtime.Gosched()
		}
		return 0, io.EOF
	}))
	if _, err := s.PutObject(ctx, "b", "k", body, store.PutOptions{Size: -1}); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("put across Close: %v", err)
	}
	<-closed
	if files := diskFiles(t, s); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// WriteTo sends what is left of a reader's range, whether the writer takes
// a file (a bytes.Buffer and an *os.File do: the object's file goes to
// them as a file) or not, after reads or none.
func TestObjectReaderWriteTo(t *testing.T) {
	s := openStore(t, filepath.Join(t.TempDir(), "store"))
	defer s.Close()
	mustBucket(t, s, "b")
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	putBytes(t, s, "b", "k", data, store.PutOptions{})
	out, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for _, c := range []struct {
		name      string
		rng       *store.ByteRange
		readFirst int
		w         func() (io.Writer, func() []byte)
	}{
		{"buffer whole", nil, 0, func() (io.Writer, func() []byte) { var b bytes.Buffer; return &b, b.Bytes }},
		{"buffer range after a read", &store.ByteRange{First: 1000, Last: 2 << 20}, 10, func() (io.Writer, func() []byte) { var b bytes.Buffer; return &b, b.Bytes }},
		{"file range", &store.ByteRange{First: 5, Last: -1}, 0, func() (io.Writer, func() []byte) {
			out.Truncate(0)
			out.Seek(0, io.SeekStart)
			return out, func() []byte { b, _ := os.ReadFile(out.Name()); return b }
		}},
		{"plain writer", &store.ByteRange{Suffix: 100}, 1, func() (io.Writer, func() []byte) {
			var b bytes.Buffer
			return struct{ io.Writer }{&b}, b.Bytes
		}},
	} {
		r, err := s.GetObject(ctx, "b", "k", c.rng)
		if err != nil {
			t.Fatal(err)
		}
		first, last := r.Range()
		head := make([]byte, c.readFirst)
		io.ReadFull(r, head)
		w, got := c.w()
		n, err := r.(io.WriterTo).WriteTo(w)
		r.Close()
		want := data[first+int64(c.readFirst) : last+1]
		if err != nil || n != int64(len(want)) || !bytes.Equal(got(), want) {
			t.Errorf("%s: wrote %d bytes (%v), want %d, equal %v", c.name, n, err, len(want), bytes.Equal(got(), want))
		}
	}
}
