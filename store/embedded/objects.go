package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"reflect"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/streambridge/bridge/store"
)

// objectRecord is an object's persisted metadata: its file and what
// HeadObject returns (Info.Bucket is filled in when read).
type objectRecord struct {
	File uint64           `json:"file"`
	Info store.ObjectInfo `json:"info"`
}

// written is a body in its file, durable and not yet referenced by a record.
type written struct {
	file uint64
	size int64
	md5  []byte
	sums map[string]string
}

// writeBody streams body into a new file of bucket b while computing the
// MD5 and the checksums of algos and opts.ExpectChecksums, checks them and
// the size against opts, and makes the file durable. On failure the file
// is removed and nothing refers to it.
func (s *Store) writeBody(ctx context.Context, b *bucket, body io.Reader, opts store.PutOptions, algos []string) (*written, error) {
	dig, err := newDigester(algos, opts.ExpectChecksums, opts.ETag == "" || opts.ExpectMD5 != "")
	if err != nil {
		return nil, err
	}
	id, err := s.allocFileID()
	if err != nil {
		return nil, err
	}
	f, err := s.obj.files.create(b.id, id, opts.Uncached)
	if err != nil {
		return nil, err
	}
	n, err := copyBody(ctx, io.MultiWriter(dig, f), body, opts.Size)
	if err == nil {
		err = dig.verify(opts)
	}
	if err != nil {
		f.Close()
		s.obj.files.remove(b.id, id)
		return nil, err
	}
	if err := s.obj.files.finish(b.id, f); err != nil {
		s.obj.files.remove(b.id, id)
		return nil, err
	}
	s.metrics.objectWritten(n)
	md5sum, sums := dig.result()
	return &written{file: id, size: n, md5: md5sum, sums: sums}, nil
}

// getRecord decodes the record under key into v; found is false when
// there is none.
func (s *Store) getRecord(key []byte, v any) (found bool, err error) {
	raw, err := s.getCopy(key)
	if err != nil || raw == nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("store: corrupt record %q: %w", key, err)
	}
	return true, nil
}

// objectRecord reads key's record in b (store.ErrObjectNotFound).
func (s *Store) objectRecord(b *bucket, key string) (objectRecord, error) {
	if err := s.enter(); err != nil {
		return objectRecord{}, err
	}
	defer s.exit()
	var rec objectRecord
	found, err := s.getRecord(objectKey(b.id, key), &rec)
	if err != nil {
		return rec, err
	}
	if !found {
		return rec, fmt.Errorf("%w: %s/%s", store.ErrObjectNotFound, b.name, key)
	}
	rec.Info.Bucket = b.name
	return rec, nil
}

// commitObject makes rec key's object in b, replacing any, and removes the
// replaced file after the commit. extra adds writes to the same commit
// (CompleteMultipartUpload deletes its upload); it runs under the locks.
// When the commit fails, rec's file is removed.
func (s *Store) commitObject(b *bucket, key string, rec objectRecord, stripes []int, extra func(*pebble.Batch) error) error {
	var old objectRecord
	err := s.commitIn(b, append(stripes, stripeOf(b.id, tagObject, key)), func() error {
		k := objectKey(b.id, key)
		if _, err := s.getRecord(k, &old); err != nil {
			return err
		}
		rec.Info.Bucket = "" // known from the key
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		batch := s.db.NewBatch()
		defer batch.Close()
		_ = batch.Set(k, v, nil)
		if extra != nil {
			if err := extra(batch); err != nil {
				return err
			}
		}
		return batch.Commit(s.syncOpts())
	})
	if err != nil {
		s.obj.files.remove(b.id, rec.File)
		return err
	}
	s.obj.files.remove(b.id, old.File)
	return nil
}

// cloneInfo copies info's maps, so changing the copy changes nothing else.
func cloneInfo(info store.ObjectInfo) store.ObjectInfo {
	info.Headers = cloneMap(info.Headers)
	info.Metadata = cloneMap(info.Metadata)
	info.Tags = cloneMap(info.Tags)
	info.Checksums = cloneMap(info.Checksums)
	return info
}

func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty object key", store.ErrInvalidArgument)
	}
	return nil
}

// PutObject streams body to a new file, makes it durable, then commits the
// object's record (synced): only then is the object visible, and the file
// of the object it replaced is removed.
func (s *Store) PutObject(ctx context.Context, bucketName, key string, body io.Reader, opts store.PutOptions) (store.ObjectInfo, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if err := checkKey(key); err != nil {
		return store.ObjectInfo{}, err
	}
	w, err := s.writeBody(ctx, b, body, opts, opts.Checksums)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	etag := `"` + opts.ETag + `"`
	if w.md5 != nil {
		etag = quotedETag(w.md5)
	}
	info := store.ObjectInfo{
		Bucket:       bucketName,
		Key:          key,
		Size:         w.size,
		ETag:         etag,
		LastModified: s.now().UTC().Truncate(time.Millisecond),
		ContentType:  opts.ContentType,
		Headers:      cloneMap(opts.Headers),
		Metadata:     cloneMap(opts.Metadata),
		Tags:         cloneMap(opts.Tags),
		Checksums:    w.sums,
	}
	if err := s.commitObject(b, key, objectRecord{File: w.file, Info: info}, nil, nil); err != nil {
		return store.ObjectInfo{}, err
	}
	return info, nil
}

// openObject opens key's file. A replace or delete may remove the file
// between reading the record and opening it; the record is then read
// again, so a reader gets the old object or the new one, never an error.
func (s *Store) openObject(b *bucket, key string) (objectRecord, vfs.File, error) {
	rec, err := s.objectRecord(b, key)
	if err != nil {
		return rec, nil, err
	}
	for {
		f, err := s.obj.files.open(b.id, rec.File)
		if err == nil {
			return rec, f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return rec, nil, err
		}
		prev := rec.File
		if rec, err = s.objectRecord(b, key); err != nil {
			return rec, nil, err
		}
		if rec.File == prev {
			return rec, nil, fmt.Errorf("store: object %s/%s: file %d missing", b.name, key, prev)
		}
	}
}

// GetObject opens an object, or the range rng of it, for reading. The
// reader holds the file open: an object replaced or deleted meanwhile is
// still read whole (its file is unlinked, not gone, until the reader
// closes), on disk as in memory. An empty object read whole has the range
// 0, -1.
func (s *Store) GetObject(ctx context.Context, bucketName, key string, rng *store.ByteRange) (store.ObjectReader, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return nil, err
	}
	rec, f, err := s.openObject(b, key)
	if err != nil {
		return nil, err
	}
	first, last, err := resolveRange(rng, rec.Info.Size)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &objectReader{
		f: f, r: io.NewSectionReader(f, first, last-first+1),
		info: rec.Info, first: first, last: last, m: s.metrics,
	}, nil
}

// HeadObject describes an object.
func (s *Store) HeadObject(ctx context.Context, bucketName, key string) (store.ObjectInfo, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	rec, err := s.objectRecord(b, key)
	return rec.Info, err
}

// DeleteObject deletes an object's record (synced), then its file.
// Deleting an absent object succeeds.
func (s *Store) DeleteObject(ctx context.Context, bucketName, key string) error {
	return s.deleteObject(bucketName, key, s.syncOpts())
}

// deleteObject deletes an object, committing with opts: NoSync when a lost
// delete only leaves an orphan for a sweeper to find again.
func (s *Store) deleteObject(bucketName, key string, opts *pebble.WriteOptions) error {
	b, err := s.bucket(bucketName)
	if err != nil {
		return err
	}
	var old objectRecord
	err = s.commitIn(b, []int{stripeOf(b.id, tagObject, key)}, func() error {
		k := objectKey(b.id, key)
		found, err := s.getRecord(k, &old)
		if err != nil || !found {
			return err
		}
		return s.db.Delete(k, opts)
	})
	if err != nil {
		return err
	}
	s.obj.files.remove(b.id, old.File)
	return nil
}

// CopyObject copies the source's bytes into a new file (no sharing of
// files between objects, so no reference counts), durably like a put, and
// commits the copy's record. The ETag is the copy's MD5 and the checksums
// the source's algorithms computed over the copy (S3 makes a copy of a
// multipart object a single-part object too).
func (s *Store) CopyObject(ctx context.Context, srcBucket, srcKey, dstBucket, dstKey string, opts store.CopyOptions) (store.ObjectInfo, error) {
	sb, err := s.bucket(srcBucket)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	db, err := s.bucket(dstBucket)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	if err := checkKey(dstKey); err != nil {
		return store.ObjectInfo{}, err
	}
	rec, f, err := s.openObject(sb, srcKey)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	defer f.Close()
	src := rec.Info
	var algos []string
	for a := range src.Checksums {
		algos = append(algos, a)
	}
	body := io.NewSectionReader(f, 0, src.Size)
	w, err := s.writeBody(ctx, db, body, store.PutOptions{Size: src.Size}, algos)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	s.metrics.objectRead(int(src.Size))
	info := store.ObjectInfo{
		Bucket:       dstBucket,
		Key:          dstKey,
		Size:         w.size,
		ETag:         quotedETag(w.md5),
		LastModified: s.now().UTC().Truncate(time.Millisecond),
		ContentType:  src.ContentType,
		Headers:      src.Headers,
		Metadata:     src.Metadata,
		Tags:         src.Tags,
		Checksums:    w.sums,
	}
	if opts.Replace {
		info.ContentType, info.Headers, info.Metadata = opts.ContentType, cloneMap(opts.Headers), cloneMap(opts.Metadata)
	}
	if opts.Tags != nil {
		info.Tags = cloneMap(opts.Tags)
	}
	if err := s.commitObject(db, dstKey, objectRecord{File: w.file, Info: info}, nil, nil); err != nil {
		return store.ObjectInfo{}, err
	}
	return info, nil
}

// UpdateObject applies change to a copy of an object's metadata and stores
// it; only Tags may change (store.ErrInvalidArgument otherwise).
func (s *Store) UpdateObject(ctx context.Context, bucketName, key string, change func(*store.ObjectInfo) error) (store.ObjectInfo, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return store.ObjectInfo{}, err
	}
	var out store.ObjectInfo
	err = s.commitIn(b, []int{stripeOf(b.id, tagObject, key)}, func() error {
		k := objectKey(b.id, key)
		var rec objectRecord
		found, err := s.getRecord(k, &rec)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%w: %s/%s", store.ErrObjectNotFound, bucketName, key)
		}
		rec.Info.Bucket = bucketName
		next := cloneInfo(rec.Info)
		if err := change(&next); err != nil {
			return err
		}
		cmp := next
		cmp.Tags = rec.Info.Tags
		if !reflect.DeepEqual(cmp, rec.Info) {
			return fmt.Errorf("%w: UpdateObject changes tags only", store.ErrInvalidArgument)
		}
		rec.Info.Tags = cloneMap(next.Tags)
		out = rec.Info
		rec.Info.Bucket = ""
		v, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return s.db.Set(k, v, s.syncOpts())
	})
	return out, err
}

// ListObjects returns up to opts.Max objects (1000 when 0) of keys with
// opts.Prefix after opts.After, in key order: one pebble iteration from
// the larger of the prefix and the key just after After, stopping at Max
// or where keys leave the prefix.
func (s *Store) ListObjects(ctx context.Context, bucketName string, opts store.ListOptions) ([]store.ObjectInfo, bool, error) {
	b, err := s.bucket(bucketName)
	if err != nil {
		return nil, false, err
	}
	if err := s.enter(); err != nil {
		return nil, false, err
	}
	defer s.exit()
	limit := opts.Max
	if limit <= 0 {
		limit = 1000
	}
	prefix := objectKey(b.id, opts.Prefix)
	from := prefix
	if opts.After != "" && opts.After >= opts.Prefix {
		from = append(objectKey(b.id, opts.After), 0)
	}
	var out []store.ObjectInfo
	truncated := false
	skip := len(bucketPrefix(tagObject, b.id))
	to := prefixEnd(prefix)
	if bytes.Compare(from, to) >= 0 {
		return nil, false, nil // After is past every key with the prefix
	}
	err = s.scan(from, to, func(k, v []byte) error {
		if len(out) == limit {
			truncated = true
			return errStop
		}
		var rec objectRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("store: corrupt record %q: %w", k, err)
		}
		rec.Info.Bucket = bucketName
		rec.Info.Key = string(k[skip:])
		out = append(out, rec.Info)
		return nil
	})
	if err != nil && err != errStop {
		return nil, false, err
	}
	return out, truncated, nil
}
