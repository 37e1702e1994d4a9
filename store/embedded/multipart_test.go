package embedded

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/streambridge/bridge/store"
)

func uploadPart(t testing.TB, s *Store, bucket, key, id string, n int, data []byte) store.PartInfo {
	t.Helper()
	p, err := s.UploadPart(ctx, bucket, key, id, n, bytes.NewReader(data), store.PutOptions{Size: int64(len(data))})
	if err != nil {
		t.Fatalf("part %d: %v", n, err)
	}
	return p
}

// partData is part n's bytes: size bytes of a pattern naming the part.
func partData(n, size int, tag string) []byte {
	pat := []byte(fmt.Sprintf("[%s part %d]", tag, n))
	return bytes.Repeat(pat, size/len(pat)+1)[:size]
}

func TestMultipartUpload(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "b")
	putBytes(t, s, "b", "obj", []byte("to be replaced"), store.PutOptions{})
	id, err := s.CreateMultipartUpload(ctx, "b", "obj", store.PutOptions{
		ContentType: "video/mp4", Metadata: map[string]string{"m": "1"}, Checksums: []string{"SHA256"},
	})
	if err != nil {
		t.Fatal(err)
	}
	data := [][]byte{
		partData(1, store.MinPartSize, "a"),
		partData(2, store.MinPartSize+7, "a"),
		partData(3, 1000, "a"),
	}
	uploadPart(t, s, "b", "obj", id, 2, partData(2, 100, "first try")) // replaced below
	uploadPart(t, s, "b", "obj", id, 9, []byte("never listed"))        // deleted on completion
	var completed []store.CompletedPart
	for i, d := range data {
		p := uploadPart(t, s, "b", "obj", id, i+1, d)
		if p.ETag != md5ETag(d) || p.Size != int64(len(d)) {
			t.Fatalf("part %d: %+v", i+1, p)
		}
		completed = append(completed, store.CompletedPart{Number: i + 1, ETag: p.ETag})
	}
	parts, err := s.ListParts(ctx, "b", "obj", id)
	if err != nil || len(parts) != 4 || parts[1].Size != int64(len(data[1])) || parts[3].Number != 9 {
		t.Fatalf("parts %+v %v", parts, err)
	}
	ups, _ := s.ListMultipartUploads(ctx, "b")
	if len(ups) != 1 || ups[0].UploadID != id || ups[0].Key != "obj" {
		t.Fatalf("uploads %+v", ups)
	}

	unquoted := append([]store.CompletedPart(nil), completed...)
	unquoted[0].ETag = unquoted[0].ETag[1 : len(unquoted[0].ETag)-1]
	refused := []struct {
		name  string
		parts []store.CompletedPart
		err   error
	}{
		{"none", nil, store.ErrInvalidPart},
		{"wrong etag", []store.CompletedPart{completed[0], {Number: 2, ETag: md5ETag([]byte("x"))}, completed[2]}, store.ErrInvalidPart},
		{"missing part", []store.CompletedPart{completed[0], {Number: 5, ETag: completed[1].ETag}}, store.ErrInvalidPart},
		{"descending", []store.CompletedPart{completed[1], completed[0]}, store.ErrInvalidPartOrder},
		{"repeated", []store.CompletedPart{completed[0], completed[0]}, store.ErrInvalidPartOrder},
		{"small part not last", []store.CompletedPart{completed[0], completed[2], {Number: 9, ETag: md5ETag([]byte("never listed"))}}, store.ErrEntityTooSmall},
	}
	for _, tc := range refused {
		if _, err := s.CompleteMultipartUpload(ctx, "b", "obj", id, tc.parts); !errors.Is(err, tc.err) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	if _, err := s.CompleteMultipartUpload(ctx, "b", "other-key", id, completed); !errors.Is(err, store.ErrNoSuchUpload) {
		t.Fatalf("complete under another key: %v", err)
	}
	if got := getBytes(t, s, "b", "obj", nil); string(got) != "to be replaced" {
		t.Fatal("a refused completion touched the object")
	}

	info, err := s.CompleteMultipartUpload(ctx, "b", "obj", id, unquoted)
	if err != nil {
		t.Fatal(err)
	}
	// S3's ETag, computed independently: MD5 of the binary part MD5s.
	h := md5.New()
	sh := sha256.New()
	for _, d := range data {
		sum := md5.Sum(d)
		h.Write(sum[:])
		psha := sha256.Sum256(d)
		sh.Write(psha[:])
	}
	whole := bytes.Join(data, nil)
	wantETag := fmt.Sprintf(`"%x-3"`, h.Sum(nil))
	wantSHA := base64.StdEncoding.EncodeToString(sh.Sum(nil)) + "-3"
	if info.ETag != wantETag || info.Parts != 3 || info.Size != int64(len(whole)) || info.Checksums["SHA256"] != wantSHA ||
		info.ContentType != "video/mp4" || info.Metadata["m"] != "1" {
		t.Fatalf("completed %+v\nwant ETag %s SHA256 %s", info, wantETag, wantSHA)
	}
	if head, _ := s.HeadObject(ctx, "b", "obj"); !reflect.DeepEqual(head, info) {
		t.Fatalf("head %+v", head)
	}
	if got := getBytes(t, s, "b", "obj", nil); !bytes.Equal(got, whole) {
		t.Fatal("completed object differs from the concatenated parts")
	}
	// A range across the part boundary.
	rng := &store.ByteRange{First: store.MinPartSize - 5, Last: store.MinPartSize + 5}
	if got := getBytes(t, s, "b", "obj", rng); !bytes.Equal(got, whole[rng.First:rng.Last+1]) {
		t.Fatal("range across parts differs")
	}
	if files := diskFiles(t, s); len(files) != 1 {
		t.Fatalf("files after completion: %v (parts and the replaced object should be gone)", files)
	}
	if _, err := s.ListParts(ctx, "b", "obj", id); !errors.Is(err, store.ErrNoSuchUpload) {
		t.Fatalf("parts of a completed upload: %v", err)
	}
	if _, err := s.UploadPart(ctx, "b", "obj", id, 1, bytes.NewReader(nil), store.PutOptions{}); !errors.Is(err, store.ErrNoSuchUpload) {
		t.Fatalf("part of a completed upload: %v", err)
	}
	if ups, _ := s.ListMultipartUploads(ctx, "b"); len(ups) != 0 {
		t.Fatalf("uploads %+v", ups)
	}
}

func TestMultipartAbortAndErrors(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustBucket(t, s, "b")
	id1, _ := s.CreateMultipartUpload(ctx, "b", "k2", store.PutOptions{})
	id2, _ := s.CreateMultipartUpload(ctx, "b", "k1", store.PutOptions{})
	id3, _ := s.CreateMultipartUpload(ctx, "b", "k2", store.PutOptions{})
	ups, _ := s.ListMultipartUploads(ctx, "b")
	if len(ups) != 3 || ups[0].UploadID != id2 || ups[1].Key != "k2" || ups[2].Key != "k2" {
		t.Fatalf("uploads not by key: %+v", ups)
	}
	uploadPart(t, s, "b", "k2", id1, 1, []byte("one"))
	uploadPart(t, s, "b", "k2", id1, 2, []byte("two"))
	uploadPart(t, s, "b", "k2", id3, 1, []byte("three"))
	if err := s.AbortMultipartUpload(ctx, "b", "k2", id1); err != nil {
		t.Fatal(err)
	}
	if files := diskFiles(t, s); len(files) != 1 {
		t.Fatalf("files after abort: %v (only id3's part should stay)", files)
	}
	if parts, _ := s.ListParts(ctx, "b", "k2", id3); len(parts) != 1 {
		t.Fatalf("the other upload's parts: %+v", parts)
	}
	errs := []struct {
		name string
		err  error
		want error
	}{
		{"abort again", s.AbortMultipartUpload(ctx, "b", "k2", id1), store.ErrNoSuchUpload},
		{"abort under another key", s.AbortMultipartUpload(ctx, "b", "k1", id3), store.ErrNoSuchUpload},
		{"bogus id", s.AbortMultipartUpload(ctx, "b", "k2", "short"), store.ErrNoSuchUpload},
		{"part 0", func() error {
			_, err := s.UploadPart(ctx, "b", "k2", id3, 0, bytes.NewReader(nil), store.PutOptions{})
			return err
		}(), store.ErrInvalidArgument},
		{"part 10001", func() error {
			_, err := s.UploadPart(ctx, "b", "k2", id3, 10001, bytes.NewReader(nil), store.PutOptions{})
			return err
		}(), store.ErrInvalidArgument},
		{"bad part digest", func() error {
			_, err := s.UploadPart(ctx, "b", "k2", id3, 2, bytes.NewReader([]byte("x")), store.PutOptions{Size: 1, ExpectMD5: "AAAAAAAAAAAAAAAAAAAAAA=="})
			return err
		}(), store.ErrBadDigest},
		{"part of an aborted upload", func() error {
			_, err := s.UploadPart(ctx, "b", "k2", id1, 1, bytes.NewReader(nil), store.PutOptions{})
			return err
		}(), store.ErrNoSuchUpload},
		{"parts of a missing bucket", func() error { _, err := s.ListParts(ctx, "nope", "k2", id3); return err }(), store.ErrBucketNotFound},
	}
	for _, e := range errs {
		if !errors.Is(e.err, e.want) {
			t.Errorf("%s: %v, want %v", e.name, e.err, e.want)
		}
	}
	if files := diskFiles(t, s); len(files) != 1 {
		t.Fatalf("files after refused parts: %v", files)
	}
	// A single small part completes (the last part may be small).
	p := uploadPart(t, s, "b", "k1", id2, 1, []byte("tiny"))
	info, err := s.CompleteMultipartUpload(ctx, "b", "k1", id2, []store.CompletedPart{{Number: 1, ETag: p.ETag}})
	if err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte("tiny"))
	if want := fmt.Sprintf(`"%x-1"`, md5.Sum(sum[:])); info.ETag != want {
		t.Fatalf("ETag %s, want %s", info.ETag, want)
	}
}
