package embedded

// Log compaction (store.Compaction, Kafka's cleanup.policy=compact).
//
// A cleaner runs in the store's background (compactionLoop, in Store.bg,
// stopped by Close) and takes one partition at a time, as Kafka's cleaner
// takes one log:
//
//   - The cleaner checkpoint ('c' id partition) holds the first dirty
//     offset (everything below it was cleaned), the bytes the clean part
//     held after that pass and the partition's start byte position then, so
//     the dirty ratio needs no scan: dirty = size - clean, where retention
//     trims since are taken from the clean part (they trim from the start).
//   - A partition is due when its dirty ratio is at least MinDirtyRatio, or
//     when its first dirty batch is older than MaxLag.
//   - The cleanable end is the first batch younger than MinLag, capped by
//     the newest batch (never cleaned, like Kafka's active segment: it also
//     keeps the partition's next offset recoverable from its last 'd' key)
//     and the last stable offset (stableEnd).
//   - The offset map (compactmap.go, a fixed budget) is filled with every
//     key of the dirty part in offset order; a full map ends the pass where
//     it got (the next pass goes on from there).
//   - Every batch from the log start to where the map got is then rewritten
//     keeping only the records whose key's latest offset is theirs, records
//     without a key, and tombstones until their horizon: the first pass that
//     keeps a tombstone writes the batch's delete horizon ('c' id partition
//     base: now + DeleteRetention, Kafka's rule of counting from the clean),
//     and a later pass past it drops them. A rewritten batch keeps its base
//     offset, LastOffsetDelta, codec, producer fields and marks, and is
//     sealed again on an encrypted stream; an emptied one is deleted with
//     its time index entry (the bridge keeps idempotent producers' state in
//     the state area, not in the log, so it needs no empty headers).
//     Transactions (compacttxn.go): aborted records stay out of the map and
//     are removed; committed transactional records are cleaned like any
//     other; a marker goes once a pass found its transaction empty and its
//     delete horizon passed.
//   - Rewrites commit in chunks (cleanChunkBytes), each under the stream's
//     changeMu and only while the log start is still where the pass found
//     it (a trim meanwhile abandons the pass); a chunk's commit replaces its
//     batch keys, adds the bytes saved to the partition's start byte
//     position (the 'l' record, so size stays end minus start), releases
//     the object references of removed offloaded records, and drops the
//     rewritten batches from the tail cache and the read-ahead. The last
//     one writes the checkpoint. Every commit is atomic, so a crash leaves
//     each batch old or new, with sizes to match; a crash before the last
//     leaves the old checkpoint, and the next pass cleans the same part
//     again.
//   - Readers take no lock: a read is one pebble iterator (a snapshot), or a
//     tail cache or read-ahead answer taken before the drop, so a reader
//     sees each batch old or new, and both are valid. Appends are never
//     held: the cleaner never takes a partition's append lock, and works
//     only below the newest batch.
//   - I/O is paced to Options.CompactionBytesPerSecond (bytes read and
//     written), sleeping between batches with no lock held.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// tagCleaner keys the cleaner's checkpoint ('c' id partition) and its
// tombstone horizons ('c' id partition base).
const tagCleaner = 'c'

const (
	defaultCompactionInterval = 15 * time.Second // Kafka's log.cleaner.backoff.ms
	defaultCompactionBuffer   = 32 << 20
	defaultCompactionRate     = 64 << 20
)

// cleanChunkBytes is about how many bytes of batches one commit replaces
// (a variable so the crash test can make passes commit many times).
var cleanChunkBytes = 4 << 20

func cleanerKey(id uint64, partition int32) []byte {
	return partitionPrefix(make([]byte, 0, 13), tagCleaner, id, partition)
}

func horizonKey(id uint64, partition int32, base int64) []byte {
	return binary.BigEndian.AppendUint64(partitionPrefix(make([]byte, 0, 21), tagCleaner, id, partition), uint64(base))
}

// checkpoint is where the cleaner got in a partition.
type checkpoint struct {
	firstDirty int64 // every offset below was cleaned
	cleanBytes int64 // bytes of the batches below firstDirty after that pass
	startPos   int64 // the partition's start byte position after that pass
}

func (c checkpoint) encode() []byte {
	v := binary.BigEndian.AppendUint64(nil, uint64(c.firstDirty))
	v = binary.BigEndian.AppendUint64(v, uint64(c.cleanBytes))
	return binary.BigEndian.AppendUint64(v, uint64(c.startPos))
}

// cleaner is the store's one cleaner: its map is reused from pass to pass.
type cleaner struct {
	mu     sync.Mutex // one pass at a time (the loop, or a test's Compact)
	m      *offsetMap
	budget int64
	rate   int64 // bytes per second; <= 0 unpaced
	// paced counts the bytes of the current pacing window, from since.
	paced int64
	since time.Time

	// Prometheus counters (nil without a Registerer).
	passes, removed, saved prometheus.Counter
}

// count records a finished pass.
func (c *cleaner) count(removed int, saved int64) {
	if c.passes != nil {
		c.passes.Inc()
		c.removed.Add(float64(removed))
		c.saved.Add(float64(saved))
	}
}

// startCleaner sets the cleaner up from opts and starts its loop.
func (s *Store) startCleaner(opts Options) {
	s.cleaner.budget = opts.CompactionBufferBytes
	if s.cleaner.budget <= 0 {
		s.cleaner.budget = defaultCompactionBuffer
	}
	s.cleaner.rate = opts.CompactionBytesPerSecond
	if s.cleaner.rate == 0 {
		s.cleaner.rate = defaultCompactionRate
	}
	if s.metrics != nil {
		c := &s.cleaner
		c.passes = prometheus.NewCounter(prometheus.CounterOpts{Name: "bridge_store_compaction_passes_total", Help: "Cleaner passes that compacted a partition."})
		c.removed = prometheus.NewCounter(prometheus.CounterOpts{Name: "bridge_store_compaction_removed_records_total", Help: "Records compaction removed."})
		c.saved = prometheus.NewCounter(prometheus.CounterOpts{Name: "bridge_store_compaction_saved_bytes_total", Help: "Bytes compaction freed."})
		for _, m := range []prometheus.Collector{c.passes, c.removed, c.saved} {
			if err := s.metrics.reg.Register(m); err != nil {
				s.log.Warn("store: metric not registered", "err", err)
				continue
			}
			s.metrics.collectors = append(s.metrics.collectors, m) // unregistered by Close
		}
	}
	every := opts.CompactionInterval
	if every <= 0 {
		every = defaultCompactionInterval
	}
	s.bg.Add(1)
	go s.compactionLoop(every)
}

func (s *Store) compactionLoop(every time.Duration) {
	defer s.bg.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			if err := s.Compact(context.Background()); err != nil && !errors.Is(err, store.ErrClosed) {
				s.log.Error("store: compaction", "err", err)
			}
		}
	}
}

// Compact runs one cleaner pass over every partition of every compacted
// stream that is due. The store runs it every Options.CompactionInterval;
// tests call it directly.
func (s *Store) Compact(ctx context.Context) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	s.cleaner.mu.Lock()
	defer s.cleaner.mu.Unlock()
	s.mu.RLock()
	streams := make([]*stream, 0, len(s.streams))
	for _, st := range s.streams {
		if st.layout.Load().Compaction.Enabled {
			streams = append(streams, st)
		}
	}
	s.mu.RUnlock()
	for _, st := range streams {
		for _, p := range *st.parts.Load() {
			if err := s.compactPartition(ctx, st, p); err != nil {
				if errors.Is(err, store.ErrClosed) {
					return err
				}
				// One partition's failure (a key that cannot open its
				// batches, say) does not stop the others.
				s.log.Error("store: compaction", "stream", st.layout.Load().Name, "partition", p.number, "err", err)
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	}
	return nil
}

// stableEnd is the offset the cleaner may not reach: the last stable
// offset (Kafka never cleans past it, so an open transaction's records are
// never judged), which is at most the high watermark.
func (s *Store) stableEnd(p *partition) int64 {
	_, lso := p.stable(0)
	return lso
}

func (s *Store) loadCheckpoint(p *partition) (checkpoint, bool, error) {
	v, err := s.getCopy(cleanerKey(p.id, p.number))
	if err != nil || v == nil {
		return checkpoint{}, false, err
	}
	if len(v) != 24 {
		return checkpoint{}, false, fmt.Errorf("store: corrupt cleaner checkpoint of partition %d", p.number)
	}
	be := binary.BigEndian
	return checkpoint{int64(be.Uint64(v)), int64(be.Uint64(v[8:])), int64(be.Uint64(v[16:]))}, true, nil
}

// compactPartition runs one pass over p if it is due.
func (s *Store) compactPartition(ctx context.Context, st *stream, p *partition) error {
	cfg := st.layout.Load().Compaction
	if !cfg.Enabled || st.deleted.Load() {
		return nil
	}
	now := s.now().UnixMilli()
	logStart, startPos, endPos := p.logStart.Load(), p.startPos.Load(), p.endPos.Load()
	cp, ok, err := s.loadCheckpoint(p)
	if err != nil {
		return err
	}
	clean := cp.cleanBytes - (startPos - cp.startPos) // trims since took from the clean part
	if !ok || cp.firstDirty <= logStart || clean < 0 {
		cp, clean = checkpoint{firstDirty: logStart, startPos: startPos}, 0
	}
	newest, found, err := s.newestBatch(p)
	if err != nil || !found {
		return err
	}
	limit := min(newest, s.stableEnd(p))
	if limit <= cp.firstDirty {
		return nil
	}
	total := endPos - startPos
	due := total > 0 && float64(total-clean)/float64(total) >= cfg.MinDirtyRatio
	if !due && cfg.MaxLag > 0 {
		if ts, err := s.batchTime(p, cp.firstDirty, limit); err != nil {
			return err
		} else if ts >= 0 && ts < now-cfg.MaxLag.Milliseconds() {
			due = true
		}
	}
	if !due {
		return nil
	}
	if s.cleaner.m == nil {
		s.cleaner.m = newOffsetMap(s.cleaner.budget)
	}
	m := s.cleaner.m
	m.reset()
	aborted, err := s.abortedEntries(p, limit)
	if err != nil {
		return err
	}
	cleanEnd, err := s.fillOffsetMap(ctx, st, p, m, newCleanTxns(aborted, cp.firstDirty), cp.firstDirty, limit, now, cfg)
	if err != nil || cleanEnd <= cp.firstDirty {
		return err
	}
	return s.rewrite(ctx, st, p, m, newCleanTxns(aborted, logStart), logStart, cleanEnd, now, cfg)
}

// newestBatch returns the base offset of p's newest stored batch below its
// high watermark.
func (s *Store) newestBatch(p *partition) (int64, bool, error) {
	prefix := partitionPrefix(make([]byte, 0, 13), tagData, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: dataKey(p.id, p.number, p.durable.Load())})
	if err != nil {
		return 0, false, err
	}
	defer it.Close()
	if !it.Last() {
		return 0, false, it.Error()
	}
	return dataKeyOffset(it.Key()), true, nil
}

// batchTime returns the timestamp of the first batch in [from, to) that
// counts for MaxLag (its first record's), or -1.
func (s *Store) batchTime(p *partition, from, to int64) (int64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: dataKey(p.id, p.number, from), UpperBound: dataKey(p.id, p.number, to)})
	if err != nil {
		return -1, err
	}
	defer it.Close()
	if !it.First() {
		return -1, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return -1, err
	}
	info, err := recordbatch.Parse(v)
	if err != nil {
		return -1, err
	}
	if info.LogAppendTime() {
		return info.MaxTimestamp, nil
	}
	return info.FirstTimestamp, nil
}

// fillOffsetMap maps every key of the batches from firstDirty up to limit,
// stopping at the first batch younger than cfg.MinLag or when the map is
// full, and returns the end of the last batch mapped whole.
func (s *Store) fillOffsetMap(ctx context.Context, st *stream, p *partition, m *offsetMap, tx *cleanTxns, firstDirty, limit, now int64, cfg store.Compaction) (int64, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: dataKey(p.id, p.number, firstDirty), UpperBound: dataKey(p.id, p.number, limit)})
	if err != nil {
		return firstDirty, err
	}
	defer it.Close()
	end := firstDirty
	var (
		plain []byte
		recs  []recordbatch.Record
	)
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return firstDirty, err
		}
		base := dataKeyOffset(it.Key())
		info, err := recordbatch.Parse(v)
		if err != nil {
			return firstDirty, fmt.Errorf("store: corrupt batch at offset %d: %w", base, err)
		}
		if cfg.MinLag > 0 && info.MaxTimestamp > now-cfg.MinLag.Milliseconds() {
			break
		}
		skip := info.Control()
		if info.Transactional() && info.ProducerID >= 0 {
			// Aborted records stay out of the map: they must not hide a
			// committed record of their key (compacttxn.go).
			tb, err := s.classify(ctx, st, p, tx, base, v, info)
			if err != nil {
				return firstDirty, err
			}
			skip = skip || tb.aborted
		}
		if !skip {
			if !m.room(int(info.NumRecords)) && m.used > 0 {
				break
			}
			if plain, err = s.open(ctx, st, p, base, v, plain[:0]); err != nil {
				return firstDirty, err
			}
			if _, recs, err = recordbatch.DecodeAppend(recs[:0], plain); err != nil {
				return firstDirty, fmt.Errorf("store: corrupt batch at offset %d: %w", base, err)
			}
			whole := true
			for i := range recs {
				if recs[i].Key != nil && !m.put(recs[i].Key, recs[i].Offset) {
					whole = false
					break
				}
			}
			if !whole {
				if end == firstDirty {
					s.log.Warn("store: a batch has more keys than the cleaner's buffer holds (Options.CompactionBufferBytes); the partition is not compacted past it",
						"stream", st.layout.Load().Name, "partition", p.number, "offset", base, "records", info.NumRecords)
				}
				break
			}
		}
		end = base + int64(info.LastOffsetDelta) + 1
		if err := s.pace(ctx, len(v)); err != nil {
			return firstDirty, err
		}
	}
	return end, it.Error()
}

// pace sleeps as long as the cleaner's I/O is ahead of its rate, and stops
// the pass once Close has begun (Close waits for it: it holds the gate).
func (s *Store) pace(ctx context.Context, n int) error {
	c := &s.cleaner
	for {
		if s.live.closingNow() {
			return store.ErrClosed
		}
		if err := ctx.Err(); err != nil || c.rate <= 0 {
			return err
		}
		now := time.Now()
		if c.since.IsZero() || now.Sub(c.since) > time.Second {
			c.since, c.paced = now, 0
		}
		c.paced += int64(n)
		n = 0
		ahead := time.Duration(float64(c.paced)/float64(c.rate)*float64(time.Second)) - now.Sub(c.since)
		if ahead <= 0 {
			return nil
		}
		time.Sleep(min(ahead, 50*time.Millisecond))
	}
}

// chunk is the rewrites of one commit.
type chunk struct {
	b        *pebble.Batch
	saved    int64 // bytes the rewrites free
	released []objectName
	end      int64 // the offset after the chunk's last batch
	size     int   // bytes of batches read into it
}

// rewrite cleans every batch below cleanEnd with m, commits the chunks and
// then the checkpoint.
func (s *Store) rewrite(ctx context.Context, st *stream, p *partition, m *offsetMap, tx *cleanTxns, logStart, cleanEnd, now int64, cfg store.Compaction) error {
	prefix := partitionPrefix(make([]byte, 0, 13), tagData, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: dataKey(p.id, p.number, cleanEnd)})
	if err != nil {
		return err
	}
	defer it.Close()
	tprefix := partitionPrefix(make([]byte, 0, 13), tagTime, p.id, p.number)
	tit, err := s.db.NewIter(&pebble.IterOptions{LowerBound: tprefix, UpperBound: prefixEnd(tprefix)})
	if err != nil {
		return err
	}
	defer tit.Close()
	tit.First()

	var (
		ch         = chunk{b: s.db.NewBatch()}
		cleanBytes int64
		saved      int64
		firstBase  = int64(-1)
		removed    int
	)
	defer func() { ch.b.Close() }()
	for it.First(); it.Valid(); it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		base := dataKeyOffset(it.Key())
		if firstBase < 0 {
			firstBase = base
		}
		n, gone, err := s.cleanBatch(ctx, st, p, m, tx, &ch, tit, base, v, now, cfg)
		if err != nil {
			return err
		}
		removed += gone
		cleanBytes += int64(n)
		ch.saved += int64(len(v) - n)
		saved += int64(len(v) - n)
		ch.size += len(v)
		if info, err := recordbatch.Parse(v); err == nil {
			ch.end = base + int64(info.LastOffsetDelta) + 1
		}
		if err := s.pace(ctx, len(v)+n); err != nil {
			return err
		}
		if ch.size >= cleanChunkBytes {
			if ok, err := s.commitChunk(st, p, &ch, logStart, nil); err != nil || !ok {
				return err
			}
			ch = chunk{b: s.db.NewBatch(), end: ch.end}
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	// Horizons of batches that retention took are stale.
	if firstBase > 0 {
		_ = ch.b.DeleteRange(horizonKey(p.id, p.number, 0), horizonKey(p.id, p.number, firstBase), nil)
	}
	ch.end = cleanEnd
	cp := &checkpoint{firstDirty: cleanEnd, cleanBytes: cleanBytes}
	if ok, err := s.commitChunk(st, p, &ch, logStart, cp); err != nil || !ok {
		return err
	}
	s.cleaner.count(removed, saved)
	s.log.Debug("store: compacted", "stream", st.layout.Load().Name, "partition", p.number, "clean_end", cleanEnd, "records_removed", removed, "clean_bytes", cleanBytes)
	return nil
}

// commitChunk commits ch under the stream's changeMu, with the partition's
// new start byte position (and cp, when given), unless the stream was
// deleted or trimmed since the pass began (ok false: the pass stops).
func (s *Store) commitChunk(st *stream, p *partition, ch *chunk, logStart int64, cp *checkpoint) (ok bool, err error) {
	st.changeMu.Lock()
	if st.deleted.Load() || p.logStart.Load() != logStart {
		st.changeMu.Unlock()
		return false, nil
	}
	startPos := p.startPos.Load() + ch.saved
	v := binary.BigEndian.AppendUint64(nil, uint64(logStart))
	v = binary.BigEndian.AppendUint64(v, uint64(startPos))
	_ = ch.b.Set(logStartKey(p.id, p.number), v, nil)
	if cp != nil {
		cp.startPos = startPos
		_ = ch.b.Set(cleanerKey(p.id, p.number), cp.encode(), nil)
	}
	// Synced, though losing it would lose nothing but work (each commit is
	// whole: the old batches or the new ones): pebble keeps unsynced log
	// records in memory for a while, so a kill -9 after an idle pass would
	// undo it. One fsync per chunk is cheap next to the chunk.
	if err := ch.b.Commit(s.syncOpts()); err != nil {
		st.changeMu.Unlock()
		return false, err
	}
	p.startPos.Store(startPos)
	st.changeMu.Unlock()
	p.tail.dropBelow(&s.tail, ch.end)
	p.dropReadAhead()
	s.deleteReleased(ch.released)
	return true, nil
}

// cleanBatch adds to ch what cleaning the stored batch v at base takes and
// returns its size after (0: removed) and how many records went.
func (s *Store) cleanBatch(ctx context.Context, st *stream, p *partition, m *offsetMap, tx *cleanTxns, ch *chunk, tit *pebble.Iterator, base int64, v []byte, now int64, cfg store.Compaction) (int, int, error) {
	info, err := recordbatch.Parse(v)
	if err != nil {
		return 0, 0, fmt.Errorf("store: corrupt batch at offset %d: %w", base, err)
	}
	if info.Control() || info.Transactional() {
		// Aborted batches and markers (compacttxn.go); a committed
		// transaction's data batch is cleaned below as any other.
		if n, gone, done, err := s.cleanTxnBatch(ctx, st, p, tx, ch, tit, base, v, info, now, cfg); done {
			return n, gone, err
		}
	}
	plain, err := s.open(ctx, st, p, base, v, nil)
	if err != nil {
		return 0, 0, err
	}
	_, recs, err := recordbatch.Decode(plain)
	if err != nil {
		return 0, 0, fmt.Errorf("store: corrupt batch at offset %d: %w", base, err)
	}
	hkey := horizonKey(p.id, p.number, base)
	horizon := int64(-1)
	if hv, err := s.getCopy(hkey); err != nil {
		return 0, 0, err
	} else if len(hv) == 8 {
		horizon = int64(binary.BigEndian.Uint64(hv))
	}
	keep := make([]recordbatch.Record, 0, len(recs))
	var dropped []int64
	tombstones := 0
	for _, r := range recs {
		if r.Key != nil {
			if latest, ok := m.latest(r.Key); ok && latest > r.Offset {
				dropped = append(dropped, r.Offset)
				continue
			}
			if r.Value == nil {
				if horizon >= 0 && now >= horizon {
					dropped = append(dropped, r.Offset)
					continue
				}
				tombstones++
			}
		}
		keep = append(keep, r)
	}
	setHorizon := func() {
		switch {
		case tombstones > 0 && horizon < 0:
			_ = ch.b.Set(hkey, binary.BigEndian.AppendUint64(nil, uint64(now+cfg.DeleteRetention.Milliseconds())), nil)
		case tombstones == 0 && horizon >= 0:
			_ = ch.b.Delete(hkey, nil)
		}
	}
	if len(dropped) == 0 {
		setHorizon()
		return len(v), 0, nil
	}
	if info.Offloaded() {
		names, err := s.releaseRecordRefs(ch.b, p, dropped)
		if err != nil {
			return 0, 0, err
		}
		ch.released = append(ch.released, names...)
	}
	if len(keep) == 0 {
		_ = ch.b.Delete(dataKey(p.id, p.number, base), nil)
		if k := timeKeyOf(tit, base); k != nil {
			_ = ch.b.Delete(k, nil)
		}
		tombstones = 0
		setHorizon()
		return 0, len(dropped), nil
	}
	raw, err := recordbatch.Encode(nil, keep, recordbatch.EncodeOptions{
		Codec:          info.Codec(),
		LogAppendTime:  info.LogAppendTime(),
		Idempotent:     info.ProducerID >= 0,
		Transactional:  info.Transactional(),
		ProducerID:     info.ProducerID,
		ProducerEpoch:  info.ProducerEpoch,
		BaseSequence:   info.BaseSequence,
		Offloaded:      info.Offloaded(),
		ClientPointers: info.ClientPointers(),
		KeepOffsets:    true, BaseOffset: base, LastOffsetDelta: info.LastOffsetDelta,
	})
	if err != nil {
		return 0, 0, fmt.Errorf("store: re-encoding the batch at offset %d: %w", base, err)
	}
	if info.LogAppendTime() {
		recordbatch.SetLogAppendTime(raw, info.MaxTimestamp)
	}
	recordbatch.SetPartitionLeaderEpoch(raw, info.PartitionLeaderEpoch)
	stored, _, err := s.seal(ctx, st, p, raw)
	if err != nil {
		return 0, 0, err
	}
	_ = ch.b.Set(dataKey(p.id, p.number, base), stored, nil)
	setHorizon()
	return len(stored), len(dropped), nil
}

// timeKeyOf moves tit (over p's time index) to the entry of the batch at
// base and returns a copy of its key, or nil. Entries are in base order
// too (the running maximum never decreases), so one forward walk serves a
// whole pass.
func timeKeyOf(tit *pebble.Iterator, base int64) []byte {
	for ; tit.Valid(); tit.Next() {
		_, b := timeKeyParts(tit.Key())
		if b < base {
			continue
		}
		if b == base {
			return append([]byte(nil), tit.Key()...)
		}
		return nil
	}
	return nil
}

// releaseRecordRefs adds to b the deletion of the object references of the
// records at offsets and returns the objects they named, to delete once b
// is committed.
func (s *Store) releaseRecordRefs(b *pebble.Batch, p *partition, offsets []int64) ([]objectName, error) {
	var names []objectName
	for _, off := range offsets {
		k := objectRefKey(p.id, p.number, off)
		v, err := s.getCopy(k)
		if err != nil {
			return nil, err
		}
		if v == nil {
			continue
		}
		n, err := decodeObjectName(v)
		if err != nil {
			return nil, err
		}
		names = append(names, n)
		_ = b.Delete(k, nil)
		_ = b.Delete(objectOwnerKey(n.bucket, n.key), nil)
	}
	return names, nil
}
