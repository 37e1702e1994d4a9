package embedded

// Offloaded payloads: the objects appended records point to
// (store.AppendOptions.Objects), and their lifecycle.
//
// Invariants:
//   - A front end writes an offloaded payload's object (durably) before it
//     appends the record pointing to it, and the append's commit holds the
//     reference: 'x' by record position and 'r' by object. So every
//     referenced object existed when its record became readable, and a
//     crash between the two leaves an object without a reference, never a
//     record without its object.
//   - References go in the same commit that takes their records out of the
//     log (commitTrim, DeleteStream); their objects are deleted after it.
//     A crash in between leaves unreferenced objects, again.
//   - An object under store.OffloadPrefix without an 'r' reference is an
//     orphan: sweepOffloaded deletes it. At Open every such object is one
//     (no append is in flight); while running, only those older than
//     offloadGrace are certainly orphans rather than objects whose append
//     has not committed yet.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/store"
)

const (
	tagObjectRef   = 'x' // 'x' id partition offset -> bucket 0x00 key
	tagObjectOwner = 'r' // 'r' bucket 0x00 key -> id partition offset
)

// offloadGrace is how long a running store leaves an unreferenced
// offloaded object alone: far longer than a front end takes between writing
// an object and appending its record.
const offloadGrace = 15 * time.Minute

func objectRefKey(id uint64, partition int32, offset int64) []byte {
	k := partitionPrefix(make([]byte, 0, 21), tagObjectRef, id, partition)
	return binary.BigEndian.AppendUint64(k, uint64(offset))
}

func objectOwnerKey(bucket, key string) []byte {
	k := make([]byte, 0, 2+len(bucket)+len(key))
	k = append(k, tagObjectOwner)
	k = append(k, bucket...)
	k = append(k, 0)
	return append(k, key...)
}

// objectName is a bucket and key, as a reference's value holds them.
type objectName struct{ bucket, key string }

func (n objectName) encode() []byte {
	return append(append(append([]byte(nil), n.bucket...), 0), n.key...)
}

func decodeObjectName(v []byte) (objectName, error) {
	b, k, ok := bytes.Cut(v, []byte{0})
	if !ok {
		return objectName{}, fmt.Errorf("store: corrupt object reference %q", v)
	}
	return objectName{string(b), string(k)}, nil
}

// addObjectRefs adds to an append's batch the references of its records,
// whose first offset is base.
func addObjectRefs(b *pebble.Batch, p *partition, base int64, refs []store.ObjectRef) {
	for _, r := range refs {
		offset := base + int64(r.OffsetDelta)
		pos := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint64(nil, p.id), uint32(p.number))
		pos = binary.BigEndian.AppendUint64(pos, uint64(offset))
		_ = b.Set(objectRefKey(p.id, p.number, offset), objectName{r.Bucket, r.Key}.encode(), nil)
		_ = b.Set(objectOwnerKey(r.Bucket, r.Key), pos, nil)
	}
}

// releaseObjectRefs adds to b the deletion of the references in [from, to)
// and returns the objects they named, to delete once b is committed.
func (s *Store) releaseObjectRefs(b *pebble.Batch, from, to []byte) ([]objectName, error) {
	var names []objectName
	err := s.scan(from, to, func(k, v []byte) error {
		n, err := decodeObjectName(v)
		if err != nil {
			return err
		}
		names = append(names, n)
		return b.Delete(objectOwnerKey(n.bucket, n.key), nil)
	})
	if err != nil {
		return nil, err
	}
	if len(names) > 0 {
		_ = b.DeleteRange(from, to, nil)
	}
	return names, nil
}

// deleteReleased deletes the objects of released references. A failure
// leaves an orphan for the sweeper, so it is logged, not returned.
func (s *Store) deleteReleased(names []objectName) {
	for _, n := range names {
		if err := s.deleteObject(n.bucket, n.key, pebble.NoSync); err != nil && !errors.Is(err, store.ErrBucketNotFound) {
			s.log.Warn("store: deleting an offloaded payload failed; the sweeper will retry", "bucket", n.bucket, "key", n.key, "err", err)
		}
	}
	if len(names) > 0 {
		s.log.Debug("store: offloaded payloads deleted with their records", "count", len(names))
	}
}

// sweepOffloaded deletes the objects under store.OffloadPrefix, in every
// bucket, that were last modified before cutoff and that no record names.
// It returns how many it deleted.
func (s *Store) sweepOffloaded(ctx context.Context, cutoff time.Time) (int, error) {
	buckets, err := s.ListBuckets(ctx)
	if err != nil {
		return 0, err
	}
	deleted := 0
	for _, b := range buckets {
		after := ""
		for {
			objs, more, err := s.ListObjects(ctx, b.Name, store.ListOptions{Prefix: store.OffloadPrefix, After: after})
			if errors.Is(err, store.ErrBucketNotFound) {
				break
			}
			if err != nil {
				return deleted, err
			}
			for _, o := range objs {
				after = o.Key
				if !o.LastModified.Before(cutoff) {
					continue
				}
				_, closer, err := s.db.Get(objectOwnerKey(b.Name, o.Key))
				if err == nil {
					closer.Close()
					continue
				}
				if !errors.Is(err, pebble.ErrNotFound) {
					return deleted, err
				}
				if err := s.deleteObject(b.Name, o.Key, pebble.NoSync); err != nil {
					return deleted, err
				}
				deleted++
			}
			if !more {
				break
			}
		}
	}
	if deleted > 0 {
		s.log.Info("store: swept offloaded payloads no record names", "deleted", deleted)
	}
	return deleted, nil
}
