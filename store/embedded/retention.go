package embedded

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// Records leave a partition from its start only: by retention (records older
// than the stream's retention, by timestamp, or the oldest while a partition
// is over the stream's byte cap) or by TrimBefore (Kafka DeleteRecords). Either way the log start offset moves up and is persisted
// in the same commit that deletes the data below it. A batch straddling the
// new start stays stored but is never returned below the start.

func (s *Store) retentionLoop(every time.Duration) {
	defer s.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			if err := s.EnforceRetention(context.Background()); err != nil {
				s.log.Error("store: retention", "err", err)
			}
			if _, err := s.sweepOffloaded(context.Background(), s.now().Add(-offloadGrace)); err != nil && !errors.Is(err, store.ErrClosed) {
				s.log.Error("store: offloaded payload sweep", "err", err)
			}
		}
	}
}

// EnforceRetention trims every stream's records older than its retention.
// The store runs it periodically; tests call it directly.
func (s *Store) EnforceRetention(ctx context.Context) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	s.mu.RLock()
	streams := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		streams = append(streams, st)
	}
	s.mu.RUnlock()
	now := s.now()
	for _, st := range streams {
		layout := st.layout.Load()
		if layout.Retention <= 0 && layout.RetentionBytes <= 0 || layout.Compaction.Enabled && !layout.Compaction.Delete {
			continue
		}
		cutoff := now.Add(-layout.Retention).UnixMilli()
		for _, p := range *st.parts.Load() {
			if layout.Retention > 0 {
				if err := s.trimOlderThan(st, p, cutoff); err != nil {
					return fmt.Errorf("%s/%d: %w", layout.Name, p.number, err)
				}
			}
			if layout.RetentionBytes > 0 {
				if err := s.trimToSize(st, p, layout.RetentionBytes); err != nil {
					return fmt.Errorf("%s/%d: %w", layout.Name, p.number, err)
				}
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// trimToSize drops the oldest batches of p while it holds more than limit
// bytes. Only acknowledged batches go.
func (s *Store) trimToSize(st *stream, p *partition, limit int64) error {
	st.changeMu.Lock()
	defer st.changeMu.Unlock()
	excess := p.endPos.Load() - p.startPos.Load() - limit
	if st.deleted.Load() || excess <= 0 {
		return nil
	}
	prefix := partitionPrefix(nil, tagData, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: dataKey(p.id, p.number, p.durable.Load())})
	if err != nil {
		return err
	}
	defer it.Close()
	newStart := p.logStart.Load()
	for it.First(); it.Valid() && excess > 0; it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		info, err := recordbatch.Parse(v)
		if err != nil {
			return err
		}
		excess -= int64(len(v))
		newStart = max(newStart, dataKeyOffset(it.Key())+int64(info.LastOffsetDelta)+1)
	}
	if err := it.Error(); err != nil {
		return err
	}
	if newStart <= p.logStart.Load() {
		return nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	return s.commitTrim(b, p, newStart)
}

// trimOlderThan drops the batches of p whose records are all older than
// cutoff (Unix ms): those before the first time index entry at or above it.
func (s *Store) trimOlderThan(st *stream, p *partition, cutoff int64) error {
	st.changeMu.Lock()
	defer st.changeMu.Unlock()
	if st.deleted.Load() {
		return nil
	}
	prefix := partitionPrefix(nil, tagTime, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	hw := p.durable.Load()
	newStart := hw
	if it.SeekGE(timeKey(p.id, p.number, cutoff, 0)) {
		if _, base := timeKeyParts(it.Key()); base < newStart {
			newStart = base
		}
	}
	if newStart <= p.logStart.Load() {
		return it.Error()
	}
	b := s.db.NewBatch()
	defer b.Close()
	// Index entries below the cutoff belong to the dropped batches, except
	// those of batches still being synced (at or above the high watermark).
	for it.First(); it.Valid(); it.Next() {
		ts, base := timeKeyParts(it.Key())
		if ts >= cutoff {
			break
		}
		if base < newStart {
			_ = b.Delete(it.Key(), nil)
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	if err := s.commitTrim(b, p, newStart); err != nil {
		return err
	}
	s.log.Debug("store: retention trimmed", "stream", st.layout.Load().Name, "partition", p.number, "log_start", newStart)
	return nil
}

// TrimBefore makes offset the partition's first readable offset and deletes
// the records below it (Kafka DeleteRecords). offset -1 means the high
// watermark. It returns the new log start offset.
func (s *Store) TrimBefore(ctx context.Context, name string, partitionID int32, offset int64) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.exit()
	st, err := s.stream(name)
	if err != nil {
		return 0, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return 0, err
	}
	st.changeMu.Lock()
	defer st.changeMu.Unlock()
	start, hw := p.logStart.Load(), p.durable.Load()
	if offset == -1 {
		offset = hw
	}
	if offset < 0 || offset > hw {
		return start, fmt.Errorf("%w: %d is outside [0, %d]", store.ErrOffsetOutOfRange, offset, hw)
	}
	if offset <= start {
		return start, nil
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.commitTrim(b, p, offset); err != nil {
		return start, err
	}
	return offset, nil
}

// commitTrim adds to b the deletion of every batch lying wholly below
// newStart and the new log start, commits, then publishes the new start.
// Callers hold the stream's changeMu.
func (s *Store) commitTrim(b *pebble.Batch, p *partition, newStart int64) error {
	// Sum what goes, so the partition's size stays exact; the batch holding
	// newStart-1 may straddle newStart and then stays.
	prefix := partitionPrefix(nil, tagData, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: dataKey(p.id, p.number, newStart)})
	if err != nil {
		return err
	}
	keepFrom, dropped := newStart, int64(0)
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			it.Close()
			return err
		}
		base := dataKeyOffset(it.Key())
		if info, err := recordbatch.Parse(v); err == nil && base+int64(info.LastOffsetDelta) >= newStart {
			keepFrom = base
			break
		}
		dropped += int64(len(v))
	}
	if err := it.Close(); err != nil {
		return err
	}
	_ = b.DeleteRange(prefix, dataKey(p.id, p.number, keepFrom), nil)
	// Aborted transactions whose markers go (txn.go).
	_ = b.DeleteRange(partitionPrefix(nil, tagAborted, p.id, p.number), abortedKey(p.id, p.number, newStart), nil)
	released, err := s.releaseObjectRefs(b, partitionPrefix(nil, tagObjectRef, p.id, p.number), objectRefKey(p.id, p.number, newStart))
	if err != nil {
		return err
	}
	startPos := p.startPos.Load() + dropped
	v := binary.BigEndian.AppendUint64(nil, uint64(newStart))
	v = binary.BigEndian.AppendUint64(v, uint64(startPos))
	_ = b.Set(logStartKey(p.id, p.number), v, nil)
	if err := b.Commit(s.syncOpts()); err != nil {
		return err
	}
	p.startPos.Store(startPos)
	p.logStart.Store(newStart)
	p.tail.dropBelow(&s.tail, newStart)
	s.deleteReleased(released)
	return nil
}
