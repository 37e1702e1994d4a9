package embedded

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/streambridge/bridge/store"
)

// putBytes puts data under key with opts' size set to len(data) unless the
// caller set one.
func putBytes(t testing.TB, s *Store, bucket, key string, data []byte, opts store.PutOptions) store.ObjectInfo {
	t.Helper()
	if opts.Size == 0 {
		opts.Size = int64(len(data))
	}
	info, err := s.PutObject(ctx, bucket, key, bytes.NewReader(data), opts)
	if err != nil {
		t.Fatalf("put %s/%s: %v", bucket, key, err)
	}
	return info
}

func getBytes(t testing.TB, s *Store, bucket, key string, rng *store.ByteRange) []byte {
	t.Helper()
	r, err := s.GetObject(ctx, bucket, key, rng)
	if err != nil {
		t.Fatalf("get %s/%s: %v", bucket, key, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustBucket(t testing.TB, s *Store, name string) {
	t.Helper()
	if _, err := s.CreateBucket(ctx, name, store.BucketOptions{}); err != nil {
		t.Fatal(err)
	}
}

func md5ETag(data ...[]byte) string {
	h := md5.New()
	for _, d := range data {
		h.Write(d)
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// crc64NVMEBitwise is CRC-64/NVME computed bit by bit from its definition
// (reflected, polynomial 0xad93d23594c93659, init and xorout all ones),
// independent of hash/crc64's tables.
func crc64NVMEBitwise(data []byte) uint64 {
	const reflected = 0x9a6c9329ac4bc9b5 // 0xad93d23594c93659 bit-reversed
	crc := ^uint64(0)
	for _, c := range data {
		crc ^= uint64(c)
		for range 8 {
			if crc&1 == 1 {
				crc = crc>>1 ^ reflected
			} else {
				crc >>= 1
			}
		}
	}
	return ^crc
}

// independentChecksums computes each algorithm's base64 checksum with
// the standard library directly (or bit by bit for CRC64NVME).
func independentChecksums(data []byte) map[string]string {
	sha1sum := sha1.Sum(data)
	sha256sum := sha256.Sum256(data)
	return map[string]string{
		"CRC32":     b64(binary.BigEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))),
		"CRC32C":    b64(binary.BigEndian.AppendUint32(nil, crc32.Checksum(data, crc32.MakeTable(crc32.Castagnoli)))),
		"CRC64NVME": b64(binary.BigEndian.AppendUint64(nil, crc64NVMEBitwise(data))),
		"SHA1":      b64(sha1sum[:]),
		"SHA256":    b64(sha256sum[:]),
	}
}

func TestCRC64NVMECheckValue(t *testing.T) {
	// The catalogue check value of CRC-64/NVME (reveng's "CRC-64/NVME").
	const check uint64 = 0xae8b14860a799888
	if got := crc64NVMEBitwise([]byte("123456789")); got != check {
		t.Fatalf("bitwise reference: %#x, want %#x", got, check)
	}
	d, _ := newDigester([]string{"CRC64NVME"}, nil, true)
	d.Write([]byte("123456789"))
	_, sums := d.result()
	if want := b64(binary.BigEndian.AppendUint64(nil, check)); sums["CRC64NVME"] != want {
		t.Fatalf("store: %s, want %s", sums["CRC64NVME"], want)
	}
}

func TestPutChecksums(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "b")
	data := bytes.Repeat([]byte("checksum me "), 100_000) // 1.2 MB: several buffers
	want := independentChecksums(data)
	for algo, sum := range want {
		t.Run(algo, func(t *testing.T) {
			info := putBytes(t, s, "b", algo, data, store.PutOptions{Checksums: []string{strings.ToLower(algo)}})
			if info.Checksums[algo] != sum || len(info.Checksums) != 1 {
				t.Fatalf("checksums %v, want %s=%s", info.Checksums, algo, sum)
			}
			if info.ETag != md5ETag(data) {
				t.Fatalf("ETag %s, want %s", info.ETag, md5ETag(data))
			}
			head, err := s.HeadObject(ctx, "b", algo)
			if err != nil || !reflect.DeepEqual(head, info) {
				t.Fatalf("head %+v, %v; put said %+v", head, err, info)
			}
		})
	}
}

// TestPutRefusesBadBodies: a body that does not match what the caller
// declared stores nothing: the old object stays, and no file is left.
func TestPutRefusesBadBodies(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "b")
	data := []byte("the body")
	sums := independentChecksums(data)
	md5sum := md5.Sum(data)
	badMD5 := md5.Sum([]byte("other"))
	old := putBytes(t, s, "b", "k", []byte("old"), store.PutOptions{})
	tests := []struct {
		name string
		opts store.PutOptions
		want error
	}{
		{"good md5", store.PutOptions{Size: -1, ExpectMD5: b64(md5sum[:])}, nil},
		{"bad md5", store.PutOptions{Size: -1, ExpectMD5: b64(badMD5[:])}, store.ErrBadDigest},
		{"good sha256", store.PutOptions{Size: -1, ExpectChecksums: map[string]string{"SHA256": sums["SHA256"]}}, nil},
		{"bad crc32", store.PutOptions{Size: -1, ExpectChecksums: map[string]string{"CRC32": sums["CRC32C"]}}, store.ErrBadDigest},
		{"bad crc64nvme", store.PutOptions{Size: -1, ExpectChecksums: map[string]string{"CRC64NVME": "AAAAAAAAAAA="}}, store.ErrBadDigest},
		{"short", store.PutOptions{Size: int64(len(data)) + 1}, store.ErrIncompleteBody},
		{"long", store.PutOptions{Size: int64(len(data)) - 1}, store.ErrIncompleteBody},
		{"exact", store.PutOptions{Size: int64(len(data))}, nil},
		{"unknown algorithm", store.PutOptions{Size: -1, Checksums: []string{"MD4"}}, store.ErrInvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := s.PutObject(ctx, "b", "k", bytes.NewReader(data), tc.opts)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err %v, want %v", err, tc.want)
			}
			got := getBytes(t, s, "b", "k", nil)
			if tc.want == nil {
				if string(got) != string(data) || info.ETag != md5ETag(data) {
					t.Fatalf("stored %q %s", got, info.ETag)
				}
				// Back to the old object for the next case.
				old = putBytes(t, s, "b", "k", []byte("old"), store.PutOptions{})
				return
			}
			if string(got) != "old" {
				t.Fatalf("a refused put replaced the object: %q", got)
			}
			if files := diskFiles(t, s); len(files) != 1 {
				t.Fatalf("files after a refused put: %v", files)
			}
		})
	}
	if head, _ := s.HeadObject(ctx, "b", "k"); head.ETag != old.ETag {
		t.Fatalf("head %+v", head)
	}
}

// diskFiles lists the object files of every bucket, "<bucket>/<file>".
func diskFiles(t testing.TB, s *Store) []string {
	t.Helper()
	fs, dir := s.obj.files.fs, s.obj.files.dir
	buckets, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range buckets {
		files, err := fs.List(fs.PathJoin(dir, b))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			out = append(out, b+"/"+f)
		}
	}
	sort.Strings(out)
	return out
}

// referencedFiles lists the files object and part records name,
// "<bucket>/<file>".
func referencedFiles(t testing.TB, s *Store) []string {
	t.Helper()
	var out []string
	for _, tag := range []byte{tagObject, tagPart} {
		err := s.scan([]byte{tag}, []byte{tag + 1}, func(k, v []byte) error {
			var ref fileRef
			if err := json.Unmarshal(v, &ref); err != nil {
				return err
			}
			out = append(out, fmt.Sprintf("%d/%d", binary.BigEndian.Uint64(k[1:9]), ref.File))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(out)
	return out
}

func TestObjectLifecycle(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	if _, err := s.PutObject(ctx, "nope", "k", strings.NewReader(""), store.PutOptions{}); !errors.Is(err, store.ErrBucketNotFound) {
		t.Fatalf("put into a missing bucket: %v", err)
	}
	mustBucket(t, s, "b")
	opts := store.PutOptions{
		ContentType: "text/plain",
		Headers:     map[string]string{"Cache-Control": "no-cache"},
		Metadata:    map[string]string{"color": "blue"},
		Tags:        map[string]string{"t": "1"},
	}
	info := putBytes(t, s, "b", "k", []byte("hello"), opts)
	want := store.ObjectInfo{Bucket: "b", Key: "k", Size: 5, ETag: md5ETag([]byte("hello")), LastModified: info.LastModified,
		ContentType: "text/plain", Headers: opts.Headers, Metadata: opts.Metadata, Tags: opts.Tags}
	if !reflect.DeepEqual(info, want) {
		t.Fatalf("put: %+v\nwant %+v", info, want)
	}
	if head, err := s.HeadObject(ctx, "b", "k"); err != nil || !reflect.DeepEqual(head, want) {
		t.Fatalf("head: %+v %v", head, err)
	}
	r, err := s.GetObject(ctx, "b", "k", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := io.ReadAll(r); string(got) != "hello" || !reflect.DeepEqual(r.Info(), want) {
		t.Fatalf("get %q %+v", got, r.Info())
	}
	if f, l := r.Range(); f != 0 || l != 4 {
		t.Fatalf("range %d-%d", f, l)
	}
	r.Close()

	putBytes(t, s, "b", "k", []byte("replaced"), store.PutOptions{})
	if got := getBytes(t, s, "b", "k", nil); string(got) != "replaced" {
		t.Fatalf("after replace: %q", got)
	}
	empty := putBytes(t, s, "b", "empty", nil, store.PutOptions{})
	if empty.Size != 0 || empty.ETag != md5ETag(nil) || len(getBytes(t, s, "b", "empty", nil)) != 0 {
		t.Fatalf("empty object %+v", empty)
	}
	if files := diskFiles(t, s); len(files) != 2 {
		t.Fatalf("files %v: the replaced one should be gone", files)
	}
	for _, key := range []string{"k", "k", "never"} { // deleting an absent object succeeds
		if err := s.DeleteObject(ctx, "b", key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.HeadObject(ctx, "b", "k"); !errors.Is(err, store.ErrObjectNotFound) {
		t.Fatalf("head after delete: %v", err)
	}
	if _, err := s.GetObject(ctx, "b", "k", nil); !errors.Is(err, store.ErrObjectNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if err := s.DeleteObject(ctx, "nope", "k"); !errors.Is(err, store.ErrBucketNotFound) {
		t.Fatalf("delete in a missing bucket: %v", err)
	}
	if files := diskFiles(t, s); len(files) != 1 {
		t.Fatalf("files %v after delete", files)
	}
}

func TestGetObjectRanges(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "b")
	data := []byte("0123456789")
	putBytes(t, s, "b", "k", data, store.PutOptions{})
	putBytes(t, s, "b", "empty", nil, store.PutOptions{})
	tests := []struct {
		name        string
		key         string
		rng         store.ByteRange
		first, last int64
		err         error
	}{
		{"bytes=2-5", "k", store.ByteRange{First: 2, Last: 5}, 2, 5, nil},
		{"bytes=0-0", "k", store.ByteRange{First: 0, Last: 0}, 0, 0, nil},
		{"bytes=3-", "k", store.ByteRange{First: 3, Last: -1}, 3, 9, nil},
		{"bytes=9-", "k", store.ByteRange{First: 9, Last: -1}, 9, 9, nil},
		{"bytes=5-100 cut", "k", store.ByteRange{First: 5, Last: 100}, 5, 9, nil},
		{"bytes=-3", "k", store.ByteRange{Suffix: 3}, 7, 9, nil},
		{"bytes=-30 whole", "k", store.ByteRange{Suffix: 30}, 0, 9, nil},
		{"bytes=10- past end", "k", store.ByteRange{First: 10, Last: -1}, 0, 0, store.ErrInvalidRange},
		{"bytes=10-20 past end", "k", store.ByteRange{First: 10, Last: 20}, 0, 0, store.ErrInvalidRange},
		{"bytes=5-2 backwards", "k", store.ByteRange{First: 5, Last: 2}, 0, 0, store.ErrInvalidRange},
		{"bytes=0- of empty", "empty", store.ByteRange{First: 0, Last: -1}, 0, 0, store.ErrInvalidRange},
		{"bytes=-1 of empty", "empty", store.ByteRange{Suffix: 1}, 0, 0, store.ErrInvalidRange},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rng := tc.rng
			r, err := s.GetObject(ctx, "b", tc.key, &rng)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			defer r.Close()
			got, _ := io.ReadAll(r)
			if first, last := r.Range(); first != tc.first || last != tc.last || string(got) != string(data[tc.first:tc.last+1]) {
				t.Fatalf("range %d-%d %q, want %d-%d", first, last, got, tc.first, tc.last)
			}
			if r.Info().Size != int64(len(data)) {
				t.Fatalf("info describes the range, not the object: %+v", r.Info())
			}
		})
	}
}

func TestListObjects(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "b")
	mustBucket(t, s, "other")
	keys := []string{"a", "a/1", "a/2", "a/3", "b", "b/1", "c"}
	for _, k := range keys {
		putBytes(t, s, "b", k, []byte(k), store.PutOptions{})
	}
	putBytes(t, s, "other", "a/0", []byte("x"), store.PutOptions{}) // another bucket's keys stay out
	tests := []struct {
		opts      store.ListOptions
		want      []string
		truncated bool
	}{
		{store.ListOptions{}, keys, false},
		{store.ListOptions{Prefix: "a/"}, []string{"a/1", "a/2", "a/3"}, false},
		{store.ListOptions{Prefix: "a/", Max: 2}, []string{"a/1", "a/2"}, true},
		{store.ListOptions{Prefix: "a/", After: "a/2"}, []string{"a/3"}, false},
		{store.ListOptions{Prefix: "a/", After: "a/3"}, nil, false},
		{store.ListOptions{Prefix: "a/", After: "a"}, []string{"a/1", "a/2", "a/3"}, false},
		{store.ListOptions{Prefix: "a/", After: "z"}, nil, false},
		{store.ListOptions{After: "a/3", Max: 2}, []string{"b", "b/1"}, true},
		{store.ListOptions{After: "b/1", Max: 1}, []string{"c"}, false},
		{store.ListOptions{Max: len(keys)}, keys, false},
		{store.ListOptions{Prefix: "d"}, nil, false},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%+v", tc.opts), func(t *testing.T) {
			objs, truncated, err := s.ListObjects(ctx, "b", tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, o.Key)
				if o.Bucket != "b" || o.Size != int64(len(o.Key)) || o.ETag != md5ETag([]byte(o.Key)) {
					t.Fatalf("listed %+v", o)
				}
			}
			if !reflect.DeepEqual(got, tc.want) || truncated != tc.truncated {
				t.Fatalf("got %v truncated=%v, want %v %v", got, truncated, tc.want, tc.truncated)
			}
		})
	}
	if _, _, err := s.ListObjects(ctx, "nope", store.ListOptions{}); !errors.Is(err, store.ErrBucketNotFound) {
		t.Fatalf("list of a missing bucket: %v", err)
	}
}

func TestCopyObject(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "src")
	mustBucket(t, s, "dst")
	data := bytes.Repeat([]byte("copy"), 100_000)
	src := putBytes(t, s, "src", "k", data, store.PutOptions{
		ContentType: "a/b", Metadata: map[string]string{"m": "1"}, Tags: map[string]string{"t": "1"},
		Checksums: []string{"SHA256"},
	})
	tests := []struct {
		name     string
		opts     store.CopyOptions
		ctype    string
		metadata map[string]string
		tags     map[string]string
	}{
		{"copy metadata", store.CopyOptions{}, "a/b", src.Metadata, src.Tags},
		{"replace metadata", store.CopyOptions{Replace: true, ContentType: "c/d", Metadata: map[string]string{"m": "2"}}, "c/d", map[string]string{"m": "2"}, src.Tags},
		{"replace tags", store.CopyOptions{Tags: map[string]string{}}, "a/b", src.Metadata, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			info, err := s.CopyObject(ctx, "src", "k", "dst", tc.name, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if info.ETag != src.ETag || info.Size != src.Size || info.Checksums["SHA256"] != src.Checksums["SHA256"] ||
				info.ContentType != tc.ctype || !reflect.DeepEqual(info.Metadata, tc.metadata) || !reflect.DeepEqual(info.Tags, tc.tags) {
				t.Fatalf("copy %+v", info)
			}
			if got := getBytes(t, s, "dst", tc.name, nil); !bytes.Equal(got, data) {
				t.Fatal("copied bytes differ")
			}
		})
	}
	// Onto itself: a new file, the old one removed, same bytes.
	if _, err := s.CopyObject(ctx, "src", "k", "src", "k", store.CopyOptions{Replace: true, ContentType: "x/y"}); err != nil {
		t.Fatal(err)
	}
	if got := getBytes(t, s, "src", "k", nil); !bytes.Equal(got, data) {
		t.Fatal("self-copy changed the bytes")
	}
	if files, refs := diskFiles(t, s), referencedFiles(t, s); !reflect.DeepEqual(files, refs) {
		t.Fatalf("files %v, records name %v", files, refs)
	}
	if _, err := s.CopyObject(ctx, "src", "none", "dst", "x", store.CopyOptions{}); !errors.Is(err, store.ErrObjectNotFound) {
		t.Fatalf("copy of a missing object: %v", err)
	}
	if _, err := s.CopyObject(ctx, "src", "k", "nope", "x", store.CopyOptions{}); !errors.Is(err, store.ErrBucketNotFound) {
		t.Fatalf("copy into a missing bucket: %v", err)
	}
}

func TestUpdateObject(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "b")
	putBytes(t, s, "b", "k", []byte("x"), store.PutOptions{Tags: map[string]string{"a": "1"}})
	tests := []struct {
		name   string
		change func(*store.ObjectInfo)
		err    error
	}{
		{"set tags", func(o *store.ObjectInfo) { o.Tags = map[string]string{"b": "2"} }, nil},
		{"edit a tag", func(o *store.ObjectInfo) { o.Tags["c"] = "3" }, nil},
		{"content type", func(o *store.ObjectInfo) { o.ContentType = "x" }, store.ErrInvalidArgument},
		{"metadata", func(o *store.ObjectInfo) { o.Metadata = map[string]string{"m": "1"} }, store.ErrInvalidArgument},
		{"size", func(o *store.ObjectInfo) { o.Size = 7 }, store.ErrInvalidArgument},
		{"clear tags", func(o *store.ObjectInfo) { o.Tags = nil }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := s.HeadObject(ctx, "b", "k")
			got, err := s.UpdateObject(ctx, "b", "k", func(o *store.ObjectInfo) error { tc.change(o); return nil })
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			after, _ := s.HeadObject(ctx, "b", "k")
			if err != nil {
				if !reflect.DeepEqual(after, before) {
					t.Fatalf("a refused update changed %+v to %+v", before, after)
				}
				return
			}
			want := cloneInfo(before)
			tc.change(&want)
			if !reflect.DeepEqual(got, want) || !reflect.DeepEqual(after, want) {
				t.Fatalf("updated %+v, head %+v, want %+v", got, after, want)
			}
		})
	}
	if _, err := s.UpdateObject(ctx, "b", "none", func(*store.ObjectInfo) error { return nil }); !errors.Is(err, store.ErrObjectNotFound) {
		t.Fatalf("update of a missing object: %v", err)
	}
}

func TestBucketLifecycle(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	for _, name := range []string{"zeta", "alpha", "mid"} {
		if _, err := s.CreateBucket(ctx, name, store.BucketOptions{Region: "eu-west-1"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.CreateBucket(ctx, "mid", store.BucketOptions{}); !errors.Is(err, store.ErrBucketExists) {
		t.Fatalf("second create: %v", err)
	}
	list, _ := s.ListBuckets(ctx)
	if len(list) != 3 || list[0].Name != "alpha" || list[2].Name != "zeta" || list[1].Region != "eu-west-1" {
		t.Fatalf("list %+v", list)
	}
	b, err := s.UpdateBucket(ctx, "mid", func(b *store.Bucket) error {
		b.Tags = map[string]string{"t": "1"}
		b.Config = map[string]string{"versioning": "off"}
		return nil
	})
	if err != nil || b.Tags["t"] != "1" || b.Config["versioning"] != "off" {
		t.Fatalf("update %+v %v", b, err)
	}
	if _, err := s.UpdateBucket(ctx, "mid", func(b *store.Bucket) error { b.Name = "x"; return nil }); !errors.Is(err, store.ErrInvalidArgument) {
		t.Fatalf("rename: %v", err)
	}
	if h, err := s.HeadBucket(ctx, "mid"); err != nil || !reflect.DeepEqual(h, b) {
		t.Fatalf("head %+v %v", h, err)
	}
	idBefore := s.obj.buckets["mid"].id

	putBytes(t, s, "mid", "k", []byte("x"), store.PutOptions{})
	if err := s.DeleteBucket(ctx, "mid"); !errors.Is(err, store.ErrBucketNotEmpty) {
		t.Fatalf("delete with an object: %v", err)
	}
	s.DeleteObject(ctx, "mid", "k")
	id, err := s.CreateMultipartUpload(ctx, "mid", "up", store.PutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "mid"); !errors.Is(err, store.ErrBucketNotEmpty) {
		t.Fatalf("delete with an upload: %v", err)
	}
	if err := s.AbortMultipartUpload(ctx, "mid", "up", id); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteBucket(ctx, "mid"); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{
		s.DeleteBucket(ctx, "mid"),
		func() error { _, err := s.HeadBucket(ctx, "mid"); return err }(),
		func() error {
			_, err := s.UpdateBucket(ctx, "mid", func(*store.Bucket) error { return nil })
			return err
		}(),
		func() error { _, err := s.CreateMultipartUpload(ctx, "mid", "k", store.PutOptions{}); return err }(),
		func() error { _, err := s.ListMultipartUploads(ctx, "mid"); return err }(),
	} {
		if !errors.Is(err, store.ErrBucketNotFound) {
			t.Fatalf("after delete: %v", err)
		}
	}
	// Created again: a new id, empty.
	mustBucket(t, s, "mid")
	if s.obj.buckets["mid"].id <= idBefore {
		t.Fatalf("bucket id %d reused (was %d)", s.obj.buckets["mid"].id, idBefore)
	}
	if h, _ := s.HeadBucket(ctx, "mid"); h.Tags != nil || h.Config != nil {
		t.Fatalf("re-created bucket kept settings: %+v", h)
	}
	if objs, _, _ := s.ListObjects(ctx, "mid", store.ListOptions{}); len(objs) != 0 {
		t.Fatalf("re-created bucket holds %v", objs)
	}
}
