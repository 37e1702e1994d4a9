package embedded

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/store"
)

// Multipart uploads. An upload is a record ('u'); each part is its own file
// with a record ('p') under the upload, replaced whole by a new upload of
// its number. CompleteMultipartUpload streams the listed parts, in order,
// into one new file (so a ranged read of the object is a read of one file),
// then commits, in one synced batch, the object's record and the deletion
// of the upload and all its part records; the part files are removed after.
// Upload and part changes hold the upload's stripe lock, so a part cannot
// land in an upload that is completing or aborted.

// uploadIDLen is the length of every upload id (crypto/rand.Text), which
// keeps one upload's part keys from prefixing another's.
const uploadIDLen = 26

// uploadRecord is a multipart upload's persisted state.
type uploadRecord struct {
	Key       string           `json:"key"`
	Initiated time.Time        `json:"initiated"`
	Opts      store.PutOptions `json:"opts"` // the object's metadata and checksum algorithms
}

// partRecord is an uploaded part's persisted state.
type partRecord struct {
	File uint64         `json:"file"`
	Info store.PartInfo `json:"info"`
}

// readUpload reads an upload's record, which must be for key
// (store.ErrNoSuchUpload otherwise). Callers are inside the gate.
func (s *Store) readUpload(b *bucket, key, uploadID string) (uploadRecord, error) {
	var up uploadRecord
	if len(uploadID) != uploadIDLen {
		return up, fmt.Errorf("%w: %s", store.ErrNoSuchUpload, uploadID)
	}
	found, err := s.getRecord(uploadKey(b.id, uploadID), &up)
	if err != nil {
		return up, err
	}
	if !found || up.Key != key {
		return up, fmt.Errorf("%w: %s", store.ErrNoSuchUpload, uploadID)
	}
	return up, nil
}

// upload looks a bucket and an upload up, inside the gate.
func (s *Store) upload(bucketName, key, uploadID string) (*bucket, uploadRecord, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return nil, uploadRecord{}, err
	}
	if err := s.enter(); err != nil {
		return nil, uploadRecord{}, err
	}
	defer s.exit()
	up, err := s.readUpload(b, key, uploadID)
	return b, up, err
}

// parts returns an upload's part records by number. Callers are inside
// the gate.
func (s *Store) parts(b *bucket, uploadID string) (map[int]partRecord, error) {
	prefix := partsPrefix(b.id, uploadID)
	out := map[int]partRecord{}
	err := s.scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
		var p partRecord
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("store: corrupt part record %q: %w", k, err)
		}
		out[p.Info.Number] = p
		return nil
	})
	return out, err
}

// CreateMultipartUpload records a new upload to key, with the object's
// metadata and checksum algorithms from opts.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucketName, key string, opts store.PutOptions) (string, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return "", err
	}
	if err := checkKey(key); err != nil {
		return "", err
	}
	if _, err := newDigester(opts.Checksums, nil, true); err != nil {
		return "", err
	}
	id := rand.Text()
	up := uploadRecord{Key: key, Initiated: s.now().UTC().Truncate(time.Millisecond), Opts: store.PutOptions{
		ContentType: opts.ContentType,
		Headers:     opts.Headers,
		Metadata:    opts.Metadata,
		Tags:        opts.Tags,
		Checksums:   opts.Checksums,
	}}
	v, err := json.Marshal(up)
	if err != nil {
		return "", err
	}
	err = s.commitIn(b, []int{stripeOf(b.id, tagUpload, id)}, func() error {
		return s.db.Set(uploadKey(b.id, id), v, s.syncOpts())
	})
	return id, err
}

// UploadPart stores a part as PutObject stores an object: its own file,
// durable, then its record (synced), replacing the part of that number,
// whose file is then removed.
func (s *Store) UploadPart(ctx context.Context, bucketName, key, uploadID string, number int, body io.Reader, opts store.PutOptions) (store.PartInfo, error) {
	if number < 1 || number > 10000 {
		return store.PartInfo{}, fmt.Errorf("%w: part number %d not in 1-10000", store.ErrInvalidArgument, number)
	}
	b, up, err := s.upload(bucketName, key, uploadID)
	if err != nil {
		return store.PartInfo{}, err
	}
	algos := append(append([]string(nil), up.Opts.Checksums...), opts.Checksums...)
	opts.ETag = "" // a part's MD5 makes the multipart ETag
	w, err := s.writeBody(ctx, b, body, opts, algos)
	if err != nil {
		return store.PartInfo{}, err
	}
	rec := partRecord{File: w.file, Info: store.PartInfo{
		Number:       number,
		Size:         w.size,
		ETag:         quotedETag(w.md5),
		LastModified: s.now().UTC().Truncate(time.Millisecond),
		Checksums:    w.sums,
	}}
	v, err := json.Marshal(rec)
	if err != nil {
		return store.PartInfo{}, err
	}
	var old partRecord
	err = s.commitIn(b, []int{stripeOf(b.id, tagUpload, uploadID)}, func() error {
		if _, err := s.readUpload(b, key, uploadID); err != nil {
			return err // completed or aborted meanwhile
		}
		k := partKey(b.id, uploadID, number)
		if _, err := s.getRecord(k, &old); err != nil {
			return err
		}
		return s.db.Set(k, v, s.syncOpts())
	})
	if err != nil {
		s.obj.files.remove(b.id, w.file)
		return store.PartInfo{}, err
	}
	s.obj.files.remove(b.id, old.File)
	return rec.Info, nil
}

// ListParts lists an upload's parts by number.
func (s *Store) ListParts(ctx context.Context, bucketName, key, uploadID string) ([]store.PartInfo, error) {
	b, _, err := s.upload(bucketName, key, uploadID)
	if err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	parts, err := s.parts(b, uploadID)
	if err != nil {
		return nil, err
	}
	out := make([]store.PartInfo, 0, len(parts))
	for _, p := range parts {
		out = append(out, p.Info)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Number < out[j].Number })
	return out, nil
}

// checkParts validates a CompleteMultipartUpload list against the stored
// parts and returns the listed parts' records, in order.
func checkParts(list []store.CompletedPart, stored map[int]partRecord) ([]partRecord, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no parts listed", store.ErrInvalidPart)
	}
	out := make([]partRecord, len(list))
	for i, cp := range list {
		if i > 0 && cp.Number <= list[i-1].Number {
			return nil, fmt.Errorf("%w: part %d after part %d", store.ErrInvalidPartOrder, cp.Number, list[i-1].Number)
		}
		p, ok := stored[cp.Number]
		if !ok {
			return nil, fmt.Errorf("%w: part %d was not uploaded", store.ErrInvalidPart, cp.Number)
		}
		if strings.Trim(cp.ETag, `"`) != strings.Trim(p.Info.ETag, `"`) {
			return nil, fmt.Errorf("%w: part %d has ETag %s, not %s", store.ErrInvalidPart, cp.Number, p.Info.ETag, cp.ETag)
		}
		out[i] = p
	}
	for _, p := range out[:len(out)-1] {
		if p.Info.Size < store.MinPartSize {
			return nil, fmt.Errorf("%w: part %d has %d bytes", store.ErrEntityTooSmall, p.Info.Number, p.Info.Size)
		}
	}
	return out, nil
}

// CompleteMultipartUpload concatenates the listed parts, in order, into the
// object's new file by streaming copy, makes it durable, then commits the
// object and the end of the upload in one synced batch, and removes the
// part files. A part replaced while the parts were being copied fails the
// completion with store.ErrInvalidPart (the copy no longer matches it).
func (s *Store) CompleteMultipartUpload(ctx context.Context, bucketName, key, uploadID string, list []store.CompletedPart) (store.ObjectInfo, error) {
	b, up, err := s.upload(bucketName, key, uploadID)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if err := s.enter(); err != nil {
		return store.ObjectInfo{}, err
	}
	stored, err := s.parts(b, uploadID)
	s.exit()
	if err != nil {
		return store.ObjectInfo{}, err
	}
	parts, err := checkParts(list, stored)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	etags := make([]string, len(parts))
	sums := make([]map[string]string, len(parts))
	for i, p := range parts {
		etags[i], sums[i] = p.Info.ETag, p.Info.Checksums
	}
	etag, err := multipartETag(etags)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	file, size, err := s.concatParts(ctx, b, parts)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	info := store.ObjectInfo{
		Bucket:       bucketName,
		Key:          key,
		Size:         size,
		ETag:         etag,
		LastModified: s.now().UTC().Truncate(time.Millisecond),
		ContentType:  up.Opts.ContentType,
		Headers:      up.Opts.Headers,
		Metadata:     up.Opts.Metadata,
		Tags:         up.Opts.Tags,
		Checksums:    compositeChecksums(sums),
		Parts:        len(parts),
	}
	var partFiles []uint64
	err = s.commitObject(b, key, objectRecord{File: file, Info: info}, []int{stripeOf(b.id, tagUpload, uploadID)}, func(batch *pebble.Batch) error {
		if _, err := s.readUpload(b, key, uploadID); err != nil {
			return err
		}
		now, err := s.parts(b, uploadID)
		if err != nil {
			return err
		}
		for _, p := range parts {
			if now[p.Info.Number].File != p.File {
				return fmt.Errorf("%w: part %d was replaced during completion", store.ErrInvalidPart, p.Info.Number)
			}
		}
		for _, p := range now {
			partFiles = append(partFiles, p.File)
		}
		prefix := partsPrefix(b.id, uploadID)
		_ = batch.Delete(uploadKey(b.id, uploadID), nil)
		return batch.DeleteRange(prefix, prefixEnd(prefix), nil)
	})
	if err != nil {
		return store.ObjectInfo{}, err
	}
	for _, f := range partFiles {
		s.obj.files.remove(b.id, f)
	}
	return info, nil
}

// concatParts streams parts, in order, into a new durable file.
func (s *Store) concatParts(ctx context.Context, b *bucket, parts []partRecord) (file uint64, size int64, err error) {
	file, err = s.allocFileID()
	if err != nil {
		return 0, 0, err
	}
	f, err := s.obj.files.create(b.id, file, false)
	if err != nil {
		return 0, 0, err
	}
	for _, p := range parts {
		src, err := s.obj.files.open(b.id, p.File)
		if err == nil {
			var n int64
			n, err = copyBody(ctx, f, io.NewSectionReader(src, 0, p.Info.Size), p.Info.Size)
			size += n
			src.Close()
		}
		if err != nil {
			f.Close()
			s.obj.files.remove(b.id, file)
			return 0, 0, fmt.Errorf("store: part %d: %w", p.Info.Number, err)
		}
	}
	if err := s.obj.files.finish(b.id, f); err != nil {
		s.obj.files.remove(b.id, file)
		return 0, 0, err
	}
	s.metrics.objectWritten(size)
	return file, size, nil
}

// AbortMultipartUpload deletes an upload and its part records (synced),
// then the part files.
func (s *Store) AbortMultipartUpload(ctx context.Context, bucketName, key, uploadID string) error {
	b, _, err := s.upload(bucketName, key, uploadID)
	if err != nil {
		return err
	}
	var files []uint64
	err = s.commitIn(b, []int{stripeOf(b.id, tagUpload, uploadID)}, func() error {
		if _, err := s.readUpload(b, key, uploadID); err != nil {
			return err
		}
		parts, err := s.parts(b, uploadID)
		if err != nil {
			return err
		}
		for _, p := range parts {
			files = append(files, p.File)
		}
		batch := s.db.NewBatch()
		defer batch.Close()
		prefix := partsPrefix(b.id, uploadID)
		_ = batch.Delete(uploadKey(b.id, uploadID), nil)
		_ = batch.DeleteRange(prefix, prefixEnd(prefix), nil)
		return batch.Commit(s.syncOpts())
	})
	if err != nil {
		return err
	}
	for _, f := range files {
		s.obj.files.remove(b.id, f)
	}
	return nil
}

// ListMultipartUploads lists a bucket's uploads in progress, by key then
// start time.
func (s *Store) ListMultipartUploads(ctx context.Context, bucketName string) ([]store.Upload, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return nil, err
	}
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.exit()
	prefix := bucketPrefix(tagUpload, b.id)
	var out []store.Upload
	err = s.scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
		var up uploadRecord
		if err := json.Unmarshal(v, &up); err != nil {
			return fmt.Errorf("store: corrupt upload record %q: %w", k, err)
		}
		out = append(out, store.Upload{Key: up.Key, UploadID: string(k[len(prefix):]), Initiated: up.Initiated})
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Initiated.Before(out[j].Initiated)
	})
	return out, err
}
