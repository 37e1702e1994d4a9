package s3

// TEMPORARY: an in-memory store.Objects for the tests until the embedded
// store implements it (branch objstore); then the tests open
// embedded.Open(embedded.Options{InMemory: true}) and this file goes. It
// keeps the interface's contract: a put commits only a body read to EOF
// without error (the body's error is returned wrapped), checksums and the
// MD5 are checked before anything is stored.

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/streambridge/bridge/store"
)

type memObject struct {
	info store.ObjectInfo
	data []byte
}

type memUpload struct {
	store.Upload
	bucket string
	opts   store.PutOptions
	parts  map[int]*memObject
}

type memObjects struct {
	mu      sync.Mutex
	buckets map[string]*store.Bucket
	objects map[string]map[string]*memObject
	uploads map[string]*memUpload
	seq     int
}

func newMemObjects() *memObjects {
	return &memObjects{buckets: map[string]*store.Bucket{}, objects: map[string]map[string]*memObject{}, uploads: map[string]*memUpload{}}
}

var _ store.Objects = (*memObjects)(nil)

func (m *memObjects) CreateBucket(_ context.Context, name string, opts store.BucketOptions) (store.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets[name] != nil {
		return store.Bucket{}, store.ErrBucketExists
	}
	b := &store.Bucket{Name: name, Created: time.Now(), Region: opts.Region}
	m.buckets[name], m.objects[name] = b, map[string]*memObject{}
	return *b, nil
}

func (m *memObjects) DeleteBucket(_ context.Context, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets[name] == nil {
		return store.ErrBucketNotFound
	}
	if len(m.objects[name]) > 0 {
		return store.ErrBucketNotEmpty
	}
	for _, u := range m.uploads {
		if u.bucket == name {
			return store.ErrBucketNotEmpty
		}
	}
	delete(m.buckets, name)
	delete(m.objects, name)
	return nil
}

func (m *memObjects) HeadBucket(_ context.Context, name string) (store.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.buckets[name]; b != nil {
		return *b, nil
	}
	return store.Bucket{}, store.ErrBucketNotFound
}

func (m *memObjects) ListBuckets(context.Context) ([]store.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Bucket
	for _, n := range slices.Sorted(maps.Keys(m.buckets)) {
		out = append(out, *m.buckets[n])
	}
	return out, nil
}

func (m *memObjects) UpdateBucket(_ context.Context, name string, change func(*store.Bucket) error) (store.Bucket, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b := m.buckets[name]
	if b == nil {
		return store.Bucket{}, store.ErrBucketNotFound
	}
	c := *b
	if err := change(&c); err != nil {
		return store.Bucket{}, err
	}
	c.Name, c.Created = b.Name, b.Created
	m.buckets[name] = &c
	return c, nil
}

// read reads body whole, computing the MD5 and the asked checksums, and
// checks them; nothing is stored on error.
func read(body io.Reader, opts store.PutOptions) ([]byte, map[string]string, string, error) {
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(body); err != nil {
		return nil, nil, "", fmt.Errorf("memstore: reading the body: %w", err)
	}
	data := buf.Bytes()
	if opts.Size >= 0 && int64(len(data)) != opts.Size {
		return nil, nil, "", store.ErrIncompleteBody
	}
	sum := md5.Sum(data)
	if opts.ExpectMD5 != "" && opts.ExpectMD5 != base64.StdEncoding.EncodeToString(sum[:]) {
		return nil, nil, "", store.ErrBadDigest
	}
	sums := map[string]string{}
	algs := slices.Clone(opts.Checksums)
	for a := range opts.ExpectChecksums {
		algs = append(algs, a)
	}
	for _, a := range algs {
		h := newChecksum(a)
		h.Write(data)
		sums[a] = checksumValue(h)
		if want, ok := opts.ExpectChecksums[a]; ok && want != sums[a] {
			return nil, nil, "", store.ErrBadDigest
		}
	}
	return data, sums, `"` + hex.EncodeToString(sum[:]) + `"`, nil
}

func (m *memObjects) PutObject(_ context.Context, bucket, key string, body io.Reader, opts store.PutOptions) (store.ObjectInfo, error) {
	if _, err := m.HeadBucket(context.Background(), bucket); err != nil {
		return store.ObjectInfo{}, err
	}
	data, sums, etag, err := read(body, opts)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	info := store.ObjectInfo{Bucket: bucket, Key: key, Size: int64(len(data)), ETag: etag, LastModified: time.Now(), ContentType: opts.ContentType,
		Headers: opts.Headers, Metadata: opts.Metadata, Tags: opts.Tags, Checksums: sums}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects[bucket] == nil {
		return store.ObjectInfo{}, store.ErrBucketNotFound
	}
	m.objects[bucket][key] = &memObject{info: info, data: data}
	return info, nil
}

func (m *memObjects) get(bucket, key string) (*memObject, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	objs := m.objects[bucket]
	if objs == nil {
		return nil, store.ErrBucketNotFound
	}
	o := objs[key]
	if o == nil {
		return nil, store.ErrObjectNotFound
	}
	return o, nil
}

type memReader struct {
	*bytes.Reader
	info        store.ObjectInfo
	first, last int64
}

func (r *memReader) Close() error               { return nil }
func (r *memReader) Info() store.ObjectInfo     { return r.info }
func (r *memReader) Range() (first, last int64) { return r.first, r.last }

func (m *memObjects) GetObject(_ context.Context, bucket, key string, rng *store.ByteRange) (store.ObjectReader, error) {
	o, err := m.get(bucket, key)
	if err != nil {
		return nil, err
	}
	size := int64(len(o.data))
	first, last := int64(0), size-1
	if rng != nil {
		var ok bool
		if first, last, ok = resolveRange(rng, size); !ok {
			return nil, store.ErrInvalidRange
		}
	}
	var data []byte
	if last >= first {
		data = o.data[first : last+1]
	}
	return &memReader{Reader: bytes.NewReader(data), info: o.info, first: first, last: last}, nil
}

func (m *memObjects) HeadObject(_ context.Context, bucket, key string) (store.ObjectInfo, error) {
	o, err := m.get(bucket, key)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	return o.info, nil
}

func (m *memObjects) DeleteObject(_ context.Context, bucket, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects[bucket] == nil {
		return store.ErrBucketNotFound
	}
	delete(m.objects[bucket], key)
	return nil
}

func (m *memObjects) CopyObject(_ context.Context, sb, sk, db, dk string, opts store.CopyOptions) (store.ObjectInfo, error) {
	o, err := m.get(sb, sk)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	info := o.info
	info.Bucket, info.Key, info.LastModified = db, dk, time.Now()
	if opts.Replace {
		info.ContentType, info.Headers, info.Metadata = opts.ContentType, opts.Headers, opts.Metadata
	}
	if opts.Tags != nil {
		info.Tags = opts.Tags
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.objects[db] == nil {
		return store.ObjectInfo{}, store.ErrBucketNotFound
	}
	m.objects[db][dk] = &memObject{info: info, data: o.data}
	return info, nil
}

func (m *memObjects) UpdateObject(_ context.Context, bucket, key string, change func(*store.ObjectInfo) error) (store.ObjectInfo, error) {
	o, err := m.get(bucket, key)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	info := o.info
	if err := change(&info); err != nil {
		return store.ObjectInfo{}, err
	}
	o2 := o.info
	o2.Tags = info.Tags
	m.mu.Lock()
	defer m.mu.Unlock()
	m.objects[bucket][key] = &memObject{info: o2, data: o.data}
	return o2, nil
}

func (m *memObjects) ListObjects(_ context.Context, bucket string, opts store.ListOptions) ([]store.ObjectInfo, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	objs := m.objects[bucket]
	if objs == nil {
		return nil, false, store.ErrBucketNotFound
	}
	max := opts.Max
	if max == 0 {
		max = 1000
	}
	var out []store.ObjectInfo
	for _, k := range slices.Sorted(maps.Keys(objs)) {
		if !strings.HasPrefix(k, opts.Prefix) || k <= opts.After {
			continue
		}
		if len(out) == max {
			return out, true, nil
		}
		out = append(out, objs[k].info)
	}
	return out, false, nil
}

func (m *memObjects) CreateMultipartUpload(ctx context.Context, bucket, key string, opts store.PutOptions) (string, error) {
	if _, err := m.HeadBucket(ctx, bucket); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	id := fmt.Sprintf("upload-%d", m.seq)
	m.uploads[id] = &memUpload{Upload: store.Upload{Key: key, UploadID: id, Initiated: time.Now()}, bucket: bucket, opts: opts, parts: map[int]*memObject{}}
	return id, nil
}

func (m *memObjects) upload(bucket, key, id string) (*memUpload, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buckets[bucket] == nil {
		return nil, store.ErrBucketNotFound
	}
	u := m.uploads[id]
	if u == nil || u.bucket != bucket || u.Key != key {
		return nil, store.ErrNoSuchUpload
	}
	return u, nil
}

func (m *memObjects) UploadPart(_ context.Context, bucket, key, id string, n int, body io.Reader, opts store.PutOptions) (store.PartInfo, error) {
	u, err := m.upload(bucket, key, id)
	if err != nil {
		return store.PartInfo{}, err
	}
	opts.Checksums = append(opts.Checksums, u.opts.Checksums...)
	data, sums, etag, err := read(body, opts)
	if err != nil {
		return store.PartInfo{}, err
	}
	p := &memObject{info: store.ObjectInfo{Size: int64(len(data)), ETag: etag, LastModified: time.Now(), Checksums: sums}, data: data}
	m.mu.Lock()
	defer m.mu.Unlock()
	u.parts[n] = p
	return store.PartInfo{Number: n, Size: p.info.Size, ETag: etag, LastModified: p.info.LastModified, Checksums: sums}, nil
}

func (m *memObjects) ListParts(_ context.Context, bucket, key, id string) ([]store.PartInfo, error) {
	u, err := m.upload(bucket, key, id)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.PartInfo
	for _, n := range slices.Sorted(maps.Keys(u.parts)) {
		p := u.parts[n]
		out = append(out, store.PartInfo{Number: n, Size: p.info.Size, ETag: p.info.ETag, LastModified: p.info.LastModified, Checksums: p.info.Checksums})
	}
	return out, nil
}

func (m *memObjects) CompleteMultipartUpload(_ context.Context, bucket, key, id string, parts []store.CompletedPart) (store.ObjectInfo, error) {
	u, err := m.upload(bucket, key, id)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var data []byte
	md5s := md5.New()
	sums := map[string]hash.Hash{}
	for _, a := range u.opts.Checksums {
		sums[a] = newChecksum(a)
	}
	for i, cp := range parts {
		if i > 0 && cp.Number <= parts[i-1].Number {
			return store.ObjectInfo{}, store.ErrInvalidPartOrder
		}
		p := u.parts[cp.Number]
		if p == nil || strings.Trim(p.info.ETag, `"`) != strings.Trim(cp.ETag, `"`) {
			return store.ObjectInfo{}, store.ErrInvalidPart
		}
		if i < len(parts)-1 && p.info.Size < store.MinPartSize {
			return store.ObjectInfo{}, store.ErrEntityTooSmall
		}
		raw, _ := hex.DecodeString(strings.Trim(p.info.ETag, `"`))
		md5s.Write(raw)
		for a, h := range sums {
			raw, _ := base64.StdEncoding.DecodeString(p.info.Checksums[a])
			h.Write(raw)
		}
		data = append(data, p.data...)
	}
	n := len(parts)
	info := store.ObjectInfo{Bucket: bucket, Key: key, Size: int64(len(data)), ETag: fmt.Sprintf(`"%x-%d"`, md5s.Sum(nil), n), LastModified: time.Now(),
		ContentType: u.opts.ContentType, Headers: u.opts.Headers, Metadata: u.opts.Metadata, Tags: u.opts.Tags, Parts: n, Checksums: map[string]string{}}
	for a, h := range sums {
		info.Checksums[a] = fmt.Sprintf("%s-%d", checksumValue(h), n)
	}
	m.objects[bucket][key] = &memObject{info: info, data: data}
	delete(m.uploads, id)
	return info, nil
}

func (m *memObjects) AbortMultipartUpload(_ context.Context, bucket, key, id string) error {
	if _, err := m.upload(bucket, key, id); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.uploads, id)
	return nil
}

func (m *memObjects) ListMultipartUploads(ctx context.Context, bucket string) ([]store.Upload, error) {
	if _, err := m.HeadBucket(ctx, bucket); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Upload
	for _, u := range m.uploads {
		if u.bucket == bucket {
			out = append(out, u.Upload)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Initiated.Before(out[j].Initiated)
	})
	return out, nil
}
