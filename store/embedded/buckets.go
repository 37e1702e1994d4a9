package embedded

// The object store (store.Objects): buckets and objects, object bodies in
// files (objfiles.go), metadata in pebble (keys.go: 'b', 'o', 'u', 'p').
//
// Invariants:
//   - Every record ('o' object, 'p' part) names a file that exists and is
//     complete: a body is written, fsynced and its directory fsynced before
//     the record naming it commits (synced). So an object is visible only
//     once durable, and a put that fails or never returns leaves nothing
//     but an unreferenced file.
//   - A file is removed only after the commit that stopped referring to it
//     (replace, delete, complete, abort), so a crash in between leaves an
//     unreferenced file, never a record without its file.
//   - Unreferenced files (orphans of either crash window, or of a failed
//     removal) are deleted by the sweeper at Open, before the store admits
//     any operation: after Open, every file under ObjectsDir belongs to a
//     record, and nothing else survives a restart.
//   - File ids and bucket ids are never reused (file ids are leased from a
//     persisted high-water mark, bucket ids come from a persisted counter),
//     so a name never refers to two bodies and a re-created bucket shares
//     nothing with its predecessor.
//   - A key's record changes only under the key's stripe lock, which is
//     held from reading the old record to the synced commit of the new: the
//     old file to remove is exactly the one the commit replaced, so
//     concurrent puts to one key end with the last commit's object and
//     every other file removed.
//   - A commit into a bucket holds the bucket's mu shared and checks the
//     bucket is not deleted; DeleteBucket holds it exclusively while it
//     checks emptiness and commits, so no record lands in a deleted bucket.
//
// Locks (ARCHITECTURE.md, "Lock order"): objectState.mu (the bucket map) is
// held alone, for lookups or across CreateBucket's and DeleteBucket's
// commits, then bucket.mu, then the key stripes, taken in index order; the
// file id lease mutex is taken with nothing held. Reading takes none of
// them: a reader reads the record, opens the file and, if a concurrent
// replace removed the file in between, reads the record again.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/streambridge/bridge/store"
)

// Store is the front ends' store.Objects too.
var _ store.Objects = (*Store)(nil)

// fileIDLease is how many file ids one persisted lease covers.
const fileIDLease = 1024

// numStripes is the number of key commit locks: enough that unrelated keys
// rarely wait for each other's fsync.
const numStripes = 256

// objectState is the object store's part of Store.
type objectState struct {
	files objFiles

	mu         sync.RWMutex // guards buckets and nextBucket
	buckets    map[string]*bucket
	nextBucket uint64

	idMu      sync.Mutex // guards nextFile and fileLimit
	nextFile  uint64
	fileLimit uint64 // ids below it are covered by the persisted lease

	stripes [numStripes]sync.Mutex // per-key commit locks, by stripeOf

	swept int // files and directories the sweep at Open removed (tests)
}

// bucket is a bucket's in-memory state.
type bucket struct {
	id   uint64
	name string // info.Name, readable without mu
	// mu is held shared by every commit into the bucket, exclusively by
	// DeleteBucket and UpdateBucket; it guards info and deleted.
	mu      sync.RWMutex
	info    store.Bucket
	deleted bool
}

// bucketRecord is a bucket's persisted metadata.
type bucketRecord struct {
	ID     uint64       `json:"id"`
	Bucket store.Bucket `json:"bucket"`
}

// openObjects sets up the object store at Open: the file system, the
// buckets and counters, then the sweep.
func (s *Store) openObjects(opts Options) error {
	o := &s.obj
	o.buckets = map[string]*bucket{}
	o.nextBucket = 1
	o.files = objFiles{fs: vfs.Default, dir: opts.ObjectsDir, sync: true, log: s.log, lazy: s.lazy}
	if opts.InMemory {
		o.files = objFiles{fs: vfs.NewMem(), dir: "objects", log: s.log}
	} else if o.files.dir == "" {
		o.files.dir = filepath.Clean(opts.Dir) + "-objects"
	}
	if err := o.files.fs.MkdirAll(o.files.dir, 0o755); err != nil {
		return fmt.Errorf("store: objects directory: %w", err)
	}
	// The directory's own entry must be durable before files in it count.
	if err := o.files.syncDir(filepath.Dir(filepath.Clean(o.files.dir))); err != nil {
		return fmt.Errorf("store: objects directory: %w", err)
	}
	if err := getJSON(s, keyNextBucket, &o.nextBucket); err != nil {
		return err
	}
	var lease uint64
	if err := getJSON(s, keyFileLease, &lease); err != nil {
		return err
	}
	err := s.scan(keyBucketsFrom, prefixEnd(keyBucketsFrom), func(k, v []byte) error {
		var rec bucketRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("store: corrupt bucket record %q: %w", k, err)
		}
		o.buckets[rec.Bucket.Name] = &bucket{id: rec.ID, name: rec.Bucket.Name, info: rec.Bucket}
		return nil
	})
	if err != nil {
		return err
	}
	maxID, err := s.sweepObjects()
	if err != nil {
		return err
	}
	o.nextFile = max(lease, maxID+1, 1)
	o.fileLimit = o.nextFile // the first allocation persists a new lease
	return nil
}

// getJSON decodes the value under key into v, leaving v as it is when
// there is none.
func getJSON(s *Store, key []byte, v any) error {
	raw, err := s.getCopy(key)
	if err != nil || raw == nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: corrupt record %q: %w", key, err)
	}
	return nil
}

// scan calls fn for each key in [from, to).
func (s *Store) scan(from, to []byte, fn func(k, v []byte) error) error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: from, UpperBound: to})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(it.Key(), v); err != nil {
			return err
		}
	}
	return it.Error()
}

// fileRef is the part of object and part records the sweeper reads.
type fileRef struct {
	File uint64 `json:"file"`
}

// sweepObjects deletes every file and bucket directory no record refers
// to, and returns the largest file id seen, referenced or not. It runs in
// Open, before any operation, so nothing is being written meanwhile.
func (s *Store) sweepObjects() (maxID uint64, err error) {
	o := &s.obj
	refs := map[uint64]map[uint64]bool{} // bucket id -> file ids
	live := map[uint64]bool{}
	for _, b := range o.buckets {
		live[b.id] = true
		refs[b.id] = map[uint64]bool{}
	}
	for _, tag := range []byte{tagObject, tagPart} {
		err := s.scan([]byte{tag}, []byte{tag + 1}, func(k, v []byte) error {
			var ref fileRef
			if len(k) < 9 {
				return fmt.Errorf("store: corrupt key %q", k)
			}
			if err := json.Unmarshal(v, &ref); err != nil {
				return fmt.Errorf("store: corrupt record %q: %w", k, err)
			}
			b := binary.BigEndian.Uint64(k[1:9])
			if refs[b] == nil {
				refs[b] = map[uint64]bool{}
			}
			refs[b][ref.File] = true
			maxID = max(maxID, ref.File)
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	names, err := o.files.fs.List(o.files.dir)
	if err != nil {
		return 0, fmt.Errorf("store: objects directory: %w", err)
	}
	removed := 0
	for _, name := range names {
		bid, perr := strconv.ParseUint(name, 10, 64)
		if perr != nil {
			s.log.Warn("store: unknown entry in the objects directory left alone", "name", name)
			continue
		}
		dir := o.files.bucketDir(bid)
		if !live[bid] {
			if err := o.files.fs.RemoveAll(dir); err != nil {
				return 0, fmt.Errorf("store: sweep %s: %w", dir, err)
			}
			removed++
			continue
		}
		files, err := o.files.fs.List(dir)
		if err != nil {
			return 0, fmt.Errorf("store: sweep %s: %w", dir, err)
		}
		for _, f := range files {
			id, perr := strconv.ParseUint(f, 10, 64)
			if perr == nil {
				maxID = max(maxID, id)
				if refs[bid][id] {
					delete(refs[bid], id)
					continue
				}
			}
			if err := o.files.fs.Remove(o.files.fs.PathJoin(dir, f)); err != nil {
				return 0, fmt.Errorf("store: sweep %s/%s: %w", dir, f, err)
			}
			removed++
		}
	}
	for _, b := range o.buckets {
		if _, err := o.files.fs.Stat(o.files.bucketDir(b.id)); errors.Is(err, fs.ErrNotExist) {
			if err := o.files.makeBucketDir(b.id); err != nil {
				return 0, err
			}
		}
	}
	missing := 0
	for _, ids := range refs {
		missing += len(ids)
	}
	if missing > 0 {
		// The invariant says this cannot happen; say so loudly if it does.
		s.log.Error("store: object records name missing files", "count", missing)
	}
	if removed > 0 {
		s.log.Info("store: swept unreferenced object files", "removed", removed)
	}
	o.swept = removed
	return maxID, nil
}

// allocFileID returns a file id never handed out before, persisting a new
// lease of fileIDLease ids when the current one is used up.
func (s *Store) allocFileID() (uint64, error) {
	o := &s.obj
	o.idMu.Lock()
	defer o.idMu.Unlock()
	if o.nextFile >= o.fileLimit {
		if err := s.enter(); err != nil {
			return 0, err
		}
		limit := o.nextFile + fileIDLease
		v, _ := json.Marshal(limit)
		err := s.db.Set(keyFileLease, v, s.syncOpts())
		s.exit()
		if err != nil {
			return 0, err
		}
		o.fileLimit = limit
	}
	id := o.nextFile
	o.nextFile++
	return id, nil
}

// stripeOf picks the commit lock of a name (an object key or an upload
// id, kind telling them apart) within a bucket.
func stripeOf(bucket uint64, kind byte, name string) int {
	h := fnv.New32a()
	var b [9]byte
	binary.BigEndian.PutUint64(b[:], bucket)
	b[8] = kind
	h.Write(b[:])
	h.Write([]byte(name))
	return int(h.Sum32() % numStripes)
}

// commitIn runs fn, which reads records and commits, inside the gate, with
// b's mu shared (failing with store.ErrBucketNotFound once b is deleted)
// and the given stripes locked in index order.
func (s *Store) commitIn(b *bucket, stripes []int, fn func() error) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.deleted {
		return fmt.Errorf("%w: %s", store.ErrBucketNotFound, b.name)
	}
	sort.Ints(stripes)
	for i, st := range stripes {
		if i == 0 || st != stripes[i-1] {
			s.obj.stripes[st].Lock()
			defer s.obj.stripes[st].Unlock()
		}
	}
	return fn()
}

// bucket returns the live bucket called name.
func (s *Store) bucket(name string) (*bucket, error) {
	s.obj.mu.RLock()
	b := s.obj.buckets[name]
	s.obj.mu.RUnlock()
	if b == nil {
		return nil, fmt.Errorf("%w: %s", store.ErrBucketNotFound, name)
	}
	return b, nil
}

func cloneBucket(b store.Bucket) store.Bucket {
	b.Tags = cloneMap(b.Tags)
	b.Config = cloneMap(b.Config)
	return b
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// CreateBucket makes an empty bucket with a new id: its directory first,
// then its record (synced).
func (s *Store) CreateBucket(ctx context.Context, name string, opts store.BucketOptions) (store.Bucket, error) {
	if err := s.enter(); err != nil {
		return store.Bucket{}, err
	}
	defer s.exit()
	if name == "" {
		return store.Bucket{}, fmt.Errorf("%w: empty bucket name", store.ErrInvalidArgument)
	}
	o := &s.obj
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.buckets[name] != nil {
		return store.Bucket{}, fmt.Errorf("%w: %s", store.ErrBucketExists, name)
	}
	rec := bucketRecord{ID: o.nextBucket, Bucket: store.Bucket{
		Name: name, Created: s.now().UTC().Truncate(time.Millisecond), Region: opts.Region,
	}}
	if err := o.files.makeBucketDir(rec.ID); err != nil {
		return store.Bucket{}, err
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return store.Bucket{}, err
	}
	next, _ := json.Marshal(rec.ID + 1)
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Set(bucketKey(name), v, nil)
	_ = b.Set(keyNextBucket, next, nil)
	if err := b.Commit(s.syncOpts()); err != nil {
		return store.Bucket{}, err
	}
	o.nextBucket++
	o.buckets[name] = &bucket{id: rec.ID, name: name, info: rec.Bucket}
	s.log.Info("bucket created", "bucket", name, "id", rec.ID)
	return cloneBucket(rec.Bucket), nil
}

// DeleteBucket deletes an empty bucket: its record, then its directory.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	o := &s.obj
	o.mu.Lock()
	defer o.mu.Unlock()
	b := o.buckets[name]
	if b == nil {
		return fmt.Errorf("%w: %s", store.ErrBucketNotFound, name)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, tag := range []byte{tagObject, tagUpload} {
		prefix := bucketPrefix(tag, b.id)
		empty := true
		err := s.scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
			empty = false
			return errStop
		})
		if err != nil && err != errStop {
			return err
		}
		if !empty {
			return fmt.Errorf("%w: %s", store.ErrBucketNotEmpty, name)
		}
	}
	batch := s.db.NewBatch()
	defer batch.Close()
	_ = batch.Delete(bucketKey(name), nil)
	for _, tag := range []byte{tagObject, tagUpload, tagPart} {
		prefix := bucketPrefix(tag, b.id)
		_ = batch.DeleteRange(prefix, prefixEnd(prefix), nil)
	}
	if err := batch.Commit(s.syncOpts()); err != nil {
		return err
	}
	b.deleted = true
	delete(o.buckets, name)
	// A put still writing its body here fails at its commit; its file goes
	// with the directory now, or at the next sweep.
	if err := o.files.fs.RemoveAll(o.files.bucketDir(b.id)); err != nil {
		s.log.Warn("store: bucket directory not removed; the next open sweeps it", "bucket", name, "err", err)
	}
	s.log.Info("bucket deleted", "bucket", name, "id", b.id)
	return nil
}

// errStop ends a scan early.
var errStop = errors.New("stop")

// HeadBucket describes a bucket.
func (s *Store) HeadBucket(ctx context.Context, name string) (store.Bucket, error) {
	b, err := s.bucket(name)
	if err != nil {
		return store.Bucket{}, err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	return cloneBucket(b.info), nil
}

// ListBuckets returns every bucket, sorted by name.
func (s *Store) ListBuckets(ctx context.Context) ([]store.Bucket, error) {
	s.obj.mu.RLock()
	bs := make([]*bucket, 0, len(s.obj.buckets))
	for _, b := range s.obj.buckets {
		bs = append(bs, b)
	}
	s.obj.mu.RUnlock()
	out := make([]store.Bucket, len(bs))
	for i, b := range bs {
		b.mu.RLock()
		out[i] = cloneBucket(b.info)
		b.mu.RUnlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// UpdateBucket applies change to a copy of a bucket's settings (Tags,
// Config) and stores the result (synced). The name, creation time and
// region are the bucket's identity: a change to them is refused with
// store.ErrInvalidArgument rather than silently dropped.
func (s *Store) UpdateBucket(ctx context.Context, name string, change func(*store.Bucket) error) (store.Bucket, error) {
	if err := s.enter(); err != nil {
		return store.Bucket{}, err
	}
	defer s.exit()
	b, err := s.bucket(name)
	if err != nil {
		return store.Bucket{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.deleted {
		return store.Bucket{}, fmt.Errorf("%w: %s", store.ErrBucketNotFound, name)
	}
	next := cloneBucket(b.info)
	if err := change(&next); err != nil {
		return store.Bucket{}, err
	}
	if next.Name != b.info.Name || !next.Created.Equal(b.info.Created) || next.Region != b.info.Region {
		return store.Bucket{}, fmt.Errorf("%w: UpdateBucket cannot change the name, creation time or region", store.ErrInvalidArgument)
	}
	v, err := json.Marshal(bucketRecord{ID: b.id, Bucket: next})
	if err != nil {
		return store.Bucket{}, err
	}
	if err := s.db.Set(bucketKey(name), v, s.syncOpts()); err != nil {
		return store.Bucket{}, err
	}
	b.info = next
	return cloneBucket(next), nil
}
