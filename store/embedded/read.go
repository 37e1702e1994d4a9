package embedded

import (
	"context"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

const defaultReadBytes = 1 << 20

// Read returns the stored batches of a partition from the one holding offset
// onwards, up to the high watermark and within lim. The first batch may
// start before offset: batches are returned whole, as Kafka fetches do.
// Reading at the high watermark returns no batches; outside
// [log start, high watermark] it fails with store.ErrOffsetOutOfRange.
//
// The returned bytes may be shared with other readers (the tail cache hands
// out its own memory): callers must not modify them.
func (s *Store) Read(ctx context.Context, name string, partitionID int32, offset int64, lim store.ReadLimits) (store.ReadResult, error) {
	if err := s.enter(); err != nil {
		return store.ReadResult{}, err
	}
	defer s.exit()
	st, err := s.stream(name)
	if err != nil {
		return store.ReadResult{}, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return store.ReadResult{}, err
	}
	res := store.ReadResult{LogStartOffset: p.logStart.Load()}
	res.HighWatermark, res.LastStableOffset = p.stable(res.LogStartOffset)
	if offset < res.LogStartOffset || offset > res.HighWatermark {
		return res, fmt.Errorf("%w: %d is outside [%d, %d]", store.ErrOffsetOutOfRange, offset, res.LogStartOffset, res.HighWatermark)
	}
	end := res.HighWatermark
	if lim.Committed {
		end = res.LastStableOffset
	}
	if lim.EndOffset > 0 && lim.EndOffset < end {
		end = lim.EndOffset
	}
	if offset >= end {
		return res, nil
	}
	maxBytes := lim.MaxBytes
	if maxBytes <= 0 {
		maxBytes = defaultReadBytes
	}
	key := readKey{offset: offset, end: end, maxBytes: maxBytes, maxRecords: lim.MaxRecords}
	if cached, keys, ok := p.tail.read(key, res); ok {
		if keys != nil {
			if err := s.checkKeys(ctx, st, p, keys, cached); err != nil {
				return res, err
			}
		}
		s.tailHits.Add(1)
		for _, b := range cached.Batches {
			s.metrics.read(len(b.Raw))
		}
		return s.finishRead(p, offset, lim, cached)
	}
	if ahead, ok := p.takeReadAhead(key); ok {
		s.readAheadHits.Add(1)
		ahead.LogStartOffset, ahead.HighWatermark, ahead.LastStableOffset = res.LogStartOffset, res.HighWatermark, res.LastStableOffset
		s.readAhead(st, p, key, ahead)
		s.metrics.read(len(ahead.Bytes))
		return s.finishRead(p, offset, lim, ahead)
	}
	res, err = s.read(ctx, st, p, key, res)
	if err == nil {
		s.readAhead(st, p, key, res)
		s.metrics.read(len(res.Bytes))
		return s.finishRead(p, offset, lim, res)
	}
	return res, err
}

// read reads from pebble what key asks for, into res.
func (s *Store) read(ctx context.Context, st *stream, p *partition, key readKey, res store.ReadResult) (store.ReadResult, error) {
	offset, end, maxBytes := key.offset, key.end, key.maxBytes
	lim := store.ReadLimits{MaxRecords: key.maxRecords}
	prefix := partitionPrefix(make([]byte, 0, 13), tagData, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: dataKey(p.id, p.number, end)})
	if err != nil {
		return res, err
	}
	defer it.Close()
	seek := func() {
		if !it.SeekLT(dataKey(p.id, p.number, offset+1)) {
			it.First()
		}
	}
	seek()
	// Batches are copied back to back into one buffer, so the whole read is
	// also one contiguous byte slice (ReadResult.Bytes): a Kafka fetch sends
	// it as is. The buffer is sized by a pass over the keys first; Raw
	// slices are cut at the end.
	arena := s.readBuffers.Get(readSize(it, key))
	seek()
	var (
		sizes   []int
		records int
	)
	for ; it.Valid(); it.Next() {
		// A batch that would not fit ends the read before its value is
		// fetched: with values in blob files, the length is known from
		// the key's handle alone.
		lv := it.LazyValue()
		if len(res.Batches) > 0 && len(arena)+lv.Len() > maxBytes {
			break
		}
		v, _, err := lv.Value(nil)
		if err != nil {
			return res, err
		}
		info, err := recordbatch.Parse(v)
		if err != nil {
			return res, fmt.Errorf("store: corrupt batch at partition %d offset %d: %w", p.number, dataKeyOffset(it.Key()), err)
		}
		base := dataKeyOffset(it.Key())
		last := base + int64(info.LastOffsetDelta)
		if last < offset {
			continue
		}
		n := len(arena)
		if arena, err = s.open(ctx, st, p, base, v, arena); err != nil {
			return res, err
		}
		res.Batches = append(res.Batches, store.Batch{BaseOffset: base, LastOffset: last, Encrypted: sealedKeyIndex(v) != noKey})
		sizes = append(sizes, len(arena)-n)
		records += int(info.NumRecords)
		if lim.MaxRecords > 0 && records >= lim.MaxRecords {
			break
		}
		if err := ctx.Err(); err != nil {
			return res, err
		}
	}
	if err := it.Error(); err != nil {
		return res, err
	}
	if len(res.Batches) == 0 {
		s.readBuffers.Put(arena)
		return res, nil
	}
	res.Release = releaser(s.readBuffers, arena)
	res.Bytes = arena[:len(arena):len(arena)]
	for i := range res.Batches {
		n := sizes[i]
		res.Batches[i].Raw = arena[:n:n]
		arena = arena[n:]
	}
	return res, nil
}

// readSize returns the buffer size read needs for key, judged from the keys
// and the values' lengths alone (no value is fetched): a read that grew its
// buffer by append would copy a 10 MiB answer several times over, into
// fresh memory the kernel must fault in. Record counts are taken from the
// base offsets, which are contiguous in a partition, so the size is at
// most a batch too large; where offsets have gaps it can be short, and the
// buffer then grows after all.
func readSize(it *pebble.Iterator, key readKey) int {
	size, first := 0, int64(-1)
	for ; it.Valid(); it.Next() {
		lv := it.LazyValue()
		n := lv.Len()
		if size > 0 && size+n > key.maxBytes {
			break
		}
		base := dataKeyOffset(it.Key())
		if first < 0 {
			first = base
		}
		size += n
		if key.maxRecords > 0 && base-first >= int64(key.maxRecords) {
			break // read may stop before this batch; one batch too many is cheap
		}
	}
	return size
}

// OffsetForTimestamp returns the first record of a partition, at or after its
// log start and below its high watermark, whose timestamp is at least ts
// (Unix milliseconds), with that timestamp. found is false when there is
// none. Records of a log-append-time batch all carry the batch's time.
func (s *Store) OffsetForTimestamp(ctx context.Context, name string, partitionID int32, ts int64) (offset, recordTs int64, found bool, err error) {
	if err := s.enter(); err != nil {
		return 0, 0, false, err
	}
	defer s.exit()
	st, err := s.stream(name)
	if err != nil {
		return 0, 0, false, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return 0, 0, false, err
	}
	logStart, hw := p.logStart.Load(), p.durable.Load()
	prefix := partitionPrefix(make([]byte, 0, 13), tagTime, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return 0, 0, false, err
	}
	defer it.Close()
	// Entries are ordered by running maximum timestamp; the first at or
	// above ts is the first batch that can hold a match. Entries of trimmed
	// batches are skipped.
	for it.SeekGE(timeKey(p.id, p.number, ts, 0)); it.Valid(); it.Next() {
		_, base := timeKeyParts(it.Key())
		if base >= hw {
			break
		}
		off, rts, ok, err := s.searchBatch(ctx, st, p, base, ts, logStart)
		if err != nil || ok {
			return off, rts, ok, err
		}
		if err := ctx.Err(); err != nil {
			return 0, 0, false, err
		}
	}
	return 0, 0, false, it.Error()
}

// MaxTimestamp returns the offset and timestamp of the record with the
// largest timestamp in a partition (the first such record), as Kafka's
// ListOffsets with timestamp -3 wants. found is false for an empty partition.
func (s *Store) MaxTimestamp(ctx context.Context, name string, partitionID int32) (offset, recordTs int64, found bool, err error) {
	st, err := s.stream(name)
	if err != nil {
		return 0, 0, false, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return 0, 0, false, err
	}
	p.mu.Lock()
	maxTs := p.maxTimestamp
	p.mu.Unlock()
	if maxTs < 0 {
		return 0, 0, false, nil
	}
	return s.OffsetForTimestamp(ctx, name, partitionID, maxTs)
}

// searchBatch looks in the batch at base for the first record at or after
// from with a timestamp of at least ts.
func (s *Store) searchBatch(ctx context.Context, st *stream, p *partition, base, ts, from int64) (int64, int64, bool, error) {
	stored, closer, err := s.db.Get(dataKey(p.id, p.number, base))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, 0, false, nil // trimmed
	}
	if err != nil {
		return 0, 0, false, err
	}
	defer closer.Close()
	v, err := s.open(ctx, st, p, base, stored, nil)
	if err != nil {
		return 0, 0, false, err
	}
	info, records, err := recordbatch.Decode(v)
	if err != nil {
		return 0, 0, false, fmt.Errorf("store: corrupt batch at offset %d: %w", base, err)
	}
	for _, r := range records {
		rts := r.Timestamp.UnixMilli()
		if info.LogAppendTime() {
			rts = info.MaxTimestamp
		}
		if r.Offset >= from && rts >= ts {
			return r.Offset, rts, true, nil
		}
	}
	return 0, 0, false, nil
}
