// Package embedded is the default stream store: streams, their shards and
// Kafka partitions in a local pebble database, durable on acknowledgement;
// and the object store (buckets.go has its invariants), whose bodies are
// files beside the database.
//
// Invariants:
//   - An append returns only after its records are synced to the write-ahead
//     log; readers see a partition only up to its high watermark, the end of
//     what is synced, so nothing a reader saw can be lost by a crash.
//   - Offsets of a partition are assigned under the partition's lock, and the
//     batch enters pebble's commit pipeline under the same lock, so the WAL
//     holds a partition's batches in offset order. A synced WAL is a prefix,
//     so a crash can drop only a suffix of unacknowledged batches: no holes.
//   - Syncs are shared: concurrent appenders, to any partitions, wait on the
//     same fsync (pebble's commit pipeline groups them).
//   - Under FsyncOS "synced" means written to the kernel: the WAL's fsyncs
//     are done in the background (fsync.go), the rest holds as is.
//   - A stream's layout (shards, partitions) changes only with every one of
//     its partitions locked, so no append straddles a split or merge.
//
// Lock order (ARCHITECTURE.md, "Lock order"). A goroutine holding one of
// these takes only those below it:
//
//  1. tailBudget.trimming, taken with nothing else held (trimTails);
//  2. Store.mu, the stream map (create and delete hold it throughout);
//  3. stream.changeMu, one stream's layout, config and retention;
//  4. partition.mu of that stream's partitions, in partition order
//     (stream.lockAll), or of one partition for an append;
//  5. leaves, which are held for a few instructions and take nothing:
//     partitionTail.mu, partitionReadAhead.mu, partition.notifyMu, gate.mu,
//     partitionTxns.mu.
//
// The object store's locks (buckets.go) are a separate chain, never held
// with these: objectState.mu, bucket.mu, the key stripes, objectState.idMu.
//
// The gate (Store.live) is not a lock: entering never waits, so an append
// started and not yet waited on (store.Pending) blocks nothing but Close.
package embedded

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/streambridge/bridge/internal/bufpool"
	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// Store is an open embedded store. It is safe for concurrent use.
type Store struct {
	db      *pebble.DB
	noWAL   bool          // InMemory: appends are done when applied
	lazy    *lazySync     // FsyncOS: background fsyncs (fsync.go); nil otherwise
	keyring store.Keyring // nil: no encryption at rest

	tail tailBudget
	// readBuffers keeps the buffers of released reads (readbuffers.go).
	readBuffers *bufpool.Pool
	plan        MemoryPlan // the sizes of the caches and memtables (memory.go)

	readAheadHits atomic.Int64 // reads answered by a read-ahead (tests)
	tailHits      atomic.Int64 // reads answered by the tail cache (tests)
	log           *slog.Logger
	now           func() time.Time
	metrics       *metrics

	// live admits operations until Close and lets Close wait for those in
	// flight, pending appends included.
	live    gate
	closing chan struct{} // closed by Close, waking blocked readers
	bg      sync.WaitGroup

	mu      sync.RWMutex // guards streams and nextID
	streams map[string]*stream
	nextID  uint64

	obj objectState // buckets and objects (buckets.go)

	cleaner cleaner // log compaction (compact.go)
}

// Store is the front ends' store.Store.
var _ store.Store = (*Store)(nil)

// stream is the in-memory state of one stream.
type stream struct {
	id uint64

	// changeMu serializes changes of layout, config and retention. Appends
	// and reads do not take it: they load layout and parts atomically.
	changeMu sync.Mutex
	layout   atomic.Pointer[store.Stream]
	routes   atomic.Pointer[routing]
	parts    atomic.Pointer[[]*partition]
	deleted  atomic.Bool

	keys streamKeys // data keys, when encrypted (encrypt.go)
}

// routing is the open shards of a layout in hash order, computed once per
// layout change so routing a record by hash key is one binary search.
type routing struct {
	ranges []mapping.HashRange
	shards []store.Shard
}

// publish makes layout the stream's current one. Callers hold changeMu (or
// own st exclusively, before it is shared).
func (st *stream) publish(layout *store.Stream) {
	r := &routing{shards: layout.OpenShards()}
	r.ranges = make([]mapping.HashRange, len(r.shards))
	for i, sh := range r.shards {
		r.ranges[i] = sh.HashRange
	}
	st.routes.Store(r)
	st.layout.Store(layout)
}

// streamRecord is a stream's persisted metadata.
type streamRecord struct {
	ID     uint64       `json:"id"`
	Stream store.Stream `json:"stream"`
}

// Open opens (creating if needed) the store described by opts.
func Open(opts Options) (*Store, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	plan := PlanMemory(opts.MemoryLimit)
	if opts.CacheSize > 0 {
		plan.BlockCache = opts.CacheSize
	}
	if opts.TailCacheBytes != 0 {
		plan.TailCache = opts.TailCacheBytes
	}
	if opts.MemTableSize > 0 {
		plan.MemTable = opts.MemTableSize
	}
	popts := pebbleOptions(log, plan.BlockCache, plan.MemTable)
	if opts.tune != nil {
		opts.tune(popts)
	}
	dir := opts.Dir
	var lazy *lazySync
	if opts.FS != nil {
		popts.FS = opts.FS
	}
	if opts.InMemory {
		popts.FS = vfs.NewMem()
		// Nothing outlives the process, so a write-ahead log buys nothing;
		// an in-memory one is a file grown by copying, which is slow.
		popts.DisableWAL = true
		dir = ""
	} else if dir == "" {
		return nil, errors.New("store: Options.Dir is required unless InMemory is set")
	} else if opts.Fsync == FsyncOS {
		base := popts.FS
		if base == nil {
			base = vfs.Default
		}
		lazy = newLazySync(base, opts.FsyncInterval)
		popts.FS = lazy
	}
	db, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	s := &Store{
		readBuffers: newReadBuffers(),
		db:          db,
		noWAL:       opts.InMemory,
		keyring:     opts.Keyring,
		log:         log,
		now:         now,
		closing:     make(chan struct{}),
		streams:     map[string]*stream{},
		nextID:      1,
	}
	s.plan = plan
	s.tail.bytes = plan.TailCache
	if err := s.recover(); err != nil {
		db.Close()
		return nil, err
	}
	s.lazy = lazy
	if err := s.openObjects(opts); err != nil {
		db.Close()
		return nil, err
	}
	// No append is in flight yet: every unreferenced offloaded payload is
	// an orphan of the last run.
	if _, err := s.sweepOffloaded(context.Background(), now().Add(time.Second)); err != nil {
		db.Close()
		return nil, err
	}
	s.metrics = newMetrics(opts.Registerer, s)
	interval := opts.RetentionInterval
	if interval <= 0 {
		interval = time.Minute
	}
	s.bg.Add(1)
	go s.retentionLoop(interval)
	if lazy != nil {
		s.bg.Add(1)
		go func() {
			defer s.bg.Done()
			lazy.loop(s.closing, func(err error) {
				s.log.Error("store: background fsync failed; writes are refused from now on", "err", err)
			})
		}()
	}
	s.startCleaner(opts)
	log.Info("store opened", "dir", dir, "in_memory", opts.InMemory, "fsync", opts.Fsync, "streams", len(s.streams),
		"objects_dir", s.obj.files.dir, "buckets", len(s.obj.buckets),
		"block_cache_bytes", plan.BlockCache, "tail_cache_bytes", plan.TailCache, "memtable_bytes", plan.MemTable)
	return s, nil
}

// pebbleOptions holds the settings the README's figures were measured with.
// Values (whole record batches, ~100 KiB typically) are already compressed
// by producers or random enough not to pay for block compression. Values
// are separated into blob files: a read then learns a batch's length from
// its key's blob handle and stops before fetching a batch that would not
// fit, which took pebble reads from 0.4-0.6 to 0.9-1.6 GB/s (bench_test.go).
func pebbleOptions(log *slog.Logger, cacheSize, memTableSize int64) *pebble.Options {
	o := &pebble.Options{
		FormatMajorVersion:          pebble.FormatNewest,
		MemTableSize:                uint64(memTableSize),
		MemTableStopWritesThreshold: memTableStopWrites,
		BytesPerSync:                1 << 20,
		CacheSize:                   cacheSize,
		Logger:                      pebbleLogger{log},
		CompactionConcurrencyRange:  func() (int, int) { return 1, 2 },
	}
	o.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	o.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           1024,
			MaxBlobReferenceDepth: 10,
			RewriteMinimumAge:     10 * time.Minute,
			TargetGarbageRatio:    0.2,
		}
	}
	return o
}

// recover loads stream metadata and each partition's offsets.
func (s *Store) recover() error {
	if v, closer, err := s.db.Get(keyNextID); err == nil {
		if err := json.Unmarshal(v, &s.nextID); err != nil {
			closer.Close()
			return fmt.Errorf("store: corrupt next stream id: %w", err)
		}
		closer.Close()
	} else if !errors.Is(err, pebble.ErrNotFound) {
		return err
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: keyStreamsFrom, UpperBound: keyStreamsTo})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var rec streamRecord
		if err := json.Unmarshal(it.Value(), &rec); err != nil {
			return fmt.Errorf("store: corrupt metadata under %q: %w", it.Key(), err)
		}
		st := &stream{id: rec.ID}
		parts := make([]*partition, len(rec.Stream.Partitions))
		for i, p := range rec.Stream.Partitions {
			part, err := s.recoverPartition(rec.ID, int32(i), p.Retired)
			if err != nil {
				return fmt.Errorf("store: stream %q partition %d: %w", rec.Stream.Name, i, err)
			}
			parts[i] = part
		}
		layout := rec.Stream
		st.publish(&layout)
		st.parts.Store(&parts)
		s.streams[rec.Stream.Name] = st
		s.tail.partitions.Add(int64(len(parts)))
	}
	return it.Error()
}

// recoverPartition rebuilds a partition's offsets from its last batch, its
// last time index entry and its persisted log start.
func (s *Store) recoverPartition(id uint64, p int32, retired bool) (*partition, error) {
	part := newPartition(id, p)
	part.retired = retired
	if v, err := s.getCopy(logStartKey(id, p)); err != nil {
		return nil, err
	} else if v != nil {
		if len(v) != 16 {
			return nil, fmt.Errorf("corrupt log start record (%d bytes)", len(v))
		}
		part.logStart.Store(int64(binary.BigEndian.Uint64(v)))
		part.startPos.Store(int64(binary.BigEndian.Uint64(v[8:])))
		part.next = part.logStart.Load()
	}
	if v, err := s.getCopy(endPosKey(id, p)); err != nil {
		return nil, err
	} else if v != nil {
		if len(v) != 8 {
			return nil, fmt.Errorf("corrupt end position record (%d bytes)", len(v))
		}
		part.endPos.Store(int64(binary.BigEndian.Uint64(v)))
	}
	last, err := s.lastKey(partitionPrefix(nil, tagData, id, p))
	if err != nil {
		return nil, err
	}
	if last != nil {
		info, err := recordbatch.Parse(last.value)
		if err != nil {
			return nil, fmt.Errorf("corrupt batch at offset %d: %w", dataKeyOffset(last.key), err)
		}
		part.next = max(part.next, dataKeyOffset(last.key)+int64(info.LastOffsetDelta)+1)
	}
	part.durable.Store(part.next)
	if err := s.recoverTxns(part); err != nil {
		return nil, err
	}
	tlast, err := s.lastKey(partitionPrefix(nil, tagTime, id, p))
	if err != nil {
		return nil, err
	}
	part.maxTimestamp = -1
	if tlast != nil {
		part.maxTimestamp, _ = timeKeyParts(tlast.key)
	}
	return part, nil
}

// getCopy returns a copy of the value under key, or nil when there is none.
func (s *Store) getCopy(key []byte) ([]byte, error) {
	v, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer closer.Close()
	return append([]byte{}, v...), nil
}

type kv struct{ key, value []byte }

// lastKey returns a copy of the last key (and value) under prefix, or nil.
func (s *Store) lastKey(prefix []byte) (*kv, error) {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	if !it.Last() {
		return nil, it.Error()
	}
	v, err := it.ValueAndErr()
	if err != nil {
		return nil, err
	}
	return &kv{key: append([]byte(nil), it.Key()...), value: append([]byte(nil), v...)}, nil
}

// Close stops background work, wakes blocked readers (they get
// store.ErrClosed) and closes the database. Callers finish their requests
// first; operations after Close return store.ErrClosed.
func (s *Store) Close() error {
	if !s.live.close() {
		return nil
	}
	close(s.closing)
	s.bg.Wait()
	s.metrics.unregister()
	err := s.db.Close()
	s.log.Info("store closed")
	return err
}

// enter marks the start of an operation; it fails once the store is closed.
// Every successful enter is paired with exit.
func (s *Store) enter() error {
	if !s.live.enter() {
		return store.ErrClosed
	}
	return nil
}

func (s *Store) exit() { s.live.leave() }

// stream returns the live stream called name.
func (s *Store) stream(name string) (*stream, error) {
	s.mu.RLock()
	st := s.streams[name]
	s.mu.RUnlock()
	if st == nil {
		return nil, fmt.Errorf("%w: %s", store.ErrStreamNotFound, name)
	}
	return st, nil
}

// partition returns partition p of st.
func (st *stream) partition(p int32) (*partition, error) {
	parts := *st.parts.Load()
	if p < 0 || int(p) >= len(parts) {
		return nil, fmt.Errorf("%w: %d of %d", store.ErrPartitionNotFound, p, len(parts))
	}
	return parts[p], nil
}

// lockAll locks every partition of st in order, freezing its offsets.
func (st *stream) lockAll() func() {
	parts := *st.parts.Load()
	for _, p := range parts {
		p.mu.Lock()
	}
	return func() {
		for i := len(parts) - 1; i >= 0; i-- {
			parts[i].mu.Unlock()
		}
	}
}

// persist writes st's metadata durably, with extra writes in the same commit.
func (s *Store) persist(st *stream, layout *store.Stream, extra func(b *pebble.Batch) error) error {
	v, err := json.Marshal(streamRecord{ID: st.id, Stream: *layout})
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Set(streamKey(layout.Name), v, nil); err != nil {
		return err
	}
	if extra != nil {
		if err := extra(b); err != nil {
			return err
		}
	}
	return b.Commit(s.syncOpts())
}

// CreateStream creates a stream with cfg.ShardCount shards splitting the
// hash space evenly; partition i is carried by shard i.
func (s *Store) CreateStream(ctx context.Context, cfg store.StreamConfig) (store.Stream, error) {
	if err := s.enter(); err != nil {
		return store.Stream{}, err
	}
	defer s.exit()
	if cfg.Name == "" {
		return store.Stream{}, fmt.Errorf("%w: empty stream name", store.ErrInvalidArgument)
	}
	if cfg.Retention < 0 || cfg.RetentionBytes < 0 {
		return store.Stream{}, fmt.Errorf("%w: negative retention", store.ErrInvalidArgument)
	}
	layout, err := store.NewStream(cfg.Name, cfg.ShardCount, s.now().Truncate(time.Millisecond))
	if err != nil {
		return store.Stream{}, err
	}
	layout.Retention = cfg.Retention
	layout.RetentionBytes = cfg.RetentionBytes
	layout.Encryption = cfg.Encryption
	layout.Compaction = cfg.Compaction
	if len(cfg.Config) > 0 {
		layout.Config = make(map[string]string, len(cfg.Config))
		for k, v := range cfg.Config {
			layout.Config[k] = v
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.streams[cfg.Name]; ok {
		return store.Stream{}, fmt.Errorf("%w: %s", store.ErrStreamExists, cfg.Name)
	}
	st := &stream{id: s.nextID}
	st.publish(&layout) // private until added to s.streams
	writeKey, installKey, err := s.prepareEncryption(ctx, st, layout.Encryption)
	if err != nil {
		return store.Stream{}, err
	}
	nextID, _ := json.Marshal(s.nextID + 1)
	err = s.persist(st, &layout, func(b *pebble.Batch) error {
		if writeKey != nil {
			if err := writeKey(b); err != nil {
				return err
			}
		}
		return b.Set(keyNextID, nextID, nil)
	})
	if err != nil {
		return store.Stream{}, err
	}
	installKey()
	s.nextID++
	parts := make([]*partition, len(layout.Partitions))
	for i := range parts {
		parts[i] = newPartition(st.id, int32(i))
		parts[i].maxTimestamp = -1
	}
	st.publish(&layout)
	st.parts.Store(&parts)
	s.streams[cfg.Name] = st
	s.tail.partitions.Add(int64(len(parts)))
	s.metrics.streamCreated()
	s.log.Info("stream created", "stream", cfg.Name, "shards", cfg.ShardCount)
	return layout.Clone(), nil
}

// DeleteStream deletes a stream and all its records. Blocked readers of it
// return store.ErrStreamNotFound.
func (s *Store) DeleteStream(ctx context.Context, name string) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.exit()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.streams[name]
	if st == nil {
		return fmt.Errorf("%w: %s", store.ErrStreamNotFound, name)
	}
	st.changeMu.Lock()
	defer st.changeMu.Unlock()
	unlock := st.lockAll()
	defer unlock()

	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(streamKey(name), nil)
	for _, tag := range []byte{tagData, tagTime, tagLogStart, tagEndPos, tagDataKey, tagCleaner, tagTxnOpen, tagAborted} {
		prefix := streamPrefix(tag, st.id)
		_ = b.DeleteRange(prefix, prefixEnd(prefix), nil)
	}
	refs := streamPrefix(tagObjectRef, st.id)
	released, err := s.releaseObjectRefs(b, refs, prefixEnd(refs))
	if err != nil {
		return err
	}
	if err := b.Commit(s.syncOpts()); err != nil {
		return err
	}
	defer s.deleteReleased(released)
	st.deleted.Store(true)
	for _, p := range *st.parts.Load() {
		p.wake()
		p.tail.reset(&s.tail)
	}
	delete(s.streams, name)
	s.tail.partitions.Add(-int64(len(*st.parts.Load())))
	s.metrics.streamDeleted()
	s.log.Info("stream deleted", "stream", name)
	return nil
}

// DescribeStream returns a snapshot of a stream's layout.
func (s *Store) DescribeStream(ctx context.Context, name string) (store.Stream, error) {
	st, err := s.stream(name)
	if err != nil {
		return store.Stream{}, err
	}
	return st.layout.Load().Clone(), nil
}

// ShardForHashKey returns the open shard of a stream whose hash range holds
// h: where Kinesis puts a record. The answer may be stale by the time the
// caller appends; AppendToShard then fails with store.ErrShardClosed and the
// caller asks again.
func (s *Store) ShardForHashKey(ctx context.Context, name string, h mapping.HashKey) (store.Shard, error) {
	st, err := s.stream(name)
	if err != nil {
		return store.Shard{}, err
	}
	r := st.routes.Load()
	return r.shards[mapping.ShardForHashKey(r.ranges, h)], nil
}

// ListStreams returns the names of all streams, sorted.
func (s *Store) ListStreams(ctx context.Context) ([]string, error) {
	s.mu.RLock()
	names := make([]string, 0, len(s.streams))
	for name := range s.streams {
		names = append(names, name)
	}
	s.mu.RUnlock()
	sort.Strings(names)
	return names, nil
}

// UpdateStream applies change to a copy of a stream's retention and config
// and persists the result. change must not touch shards or partitions.
func (s *Store) UpdateStream(ctx context.Context, name string, change func(*store.Stream) error) (store.Stream, error) {
	if err := s.enter(); err != nil {
		return store.Stream{}, err
	}
	defer s.exit()
	st, err := s.stream(name)
	if err != nil {
		return store.Stream{}, err
	}
	st.changeMu.Lock()
	defer st.changeMu.Unlock()
	if st.deleted.Load() {
		return store.Stream{}, fmt.Errorf("%w: %s", store.ErrStreamNotFound, name)
	}
	cur := st.layout.Load()
	next := cur.Clone()
	if err := change(&next); err != nil {
		return store.Stream{}, err
	}
	if next.Name != cur.Name || len(next.Shards) != len(cur.Shards) || len(next.Partitions) != len(cur.Partitions) {
		return store.Stream{}, fmt.Errorf("%w: UpdateStream cannot rename or reshard", store.ErrInvalidArgument)
	}
	if next.Retention < 0 || next.RetentionBytes < 0 {
		return store.Stream{}, fmt.Errorf("%w: negative retention", store.ErrInvalidArgument)
	}
	if next.Encryption == cur.Encryption {
		if err := s.persist(st, &next, nil); err != nil {
			return store.Stream{}, err
		}
		st.publish(&next)
		return next.Clone(), nil
	}
	// A new key gets its first data key now, so a key that cannot be used
	// fails the change, not the next append.
	st.keys.mu.Lock()
	defer st.keys.mu.Unlock()
	writeKey, installKey, err := s.prepareEncryption(ctx, st, next.Encryption)
	if err != nil {
		return store.Stream{}, err
	}
	if err := s.persist(st, &next, writeKey); err != nil {
		return store.Stream{}, err
	}
	installKey()
	st.publish(&next)
	s.log.Info("stream encryption changed", "stream", name, "key", next.Encryption.KeyID)
	return next.Clone(), nil
}

// syncOpts is how commits other than appends wait: synced, unless there is
// no log to sync (InMemory).
func (s *Store) syncOpts() *pebble.WriteOptions {
	if s.noWAL {
		return pebble.NoSync
	}
	return pebble.Sync
}
