package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// AppendBatch appends one Kafka v2 record batch to a partition, atomically
// and durably: it returns once the batch is synced, and then the batch is
// readable. The batch is stored as given (compression kept) except for its
// base offset, which AppendBatch rewrites in place; the CRC does not cover
// it. Checking the CRC is the caller's job: the Kafka front end does it once
// per request, before the store sees anything.
func (s *Store) AppendBatch(ctx context.Context, name string, partitionID int32, batch []byte, opts store.AppendOptions) (store.AppendResult, error) {
	pd, err := s.StartAppendBatch(ctx, name, partitionID, batch, opts)
	if err != nil {
		return store.AppendResult{}, err
	}
	return pd.Wait()
}

// StartAppendBatch is AppendBatch in two steps: it assigns the batch its
// offsets and queues it for the log, in call order, and returns; Wait on the
// result returns once the batch is durable. A connection handling pipelined
// produce requests starts each in order and waits for all of them together,
// so their syncs are shared instead of taken one after another.
//
// Every Pending must be waited on, exactly once: until then it holds the
// store open.
func (s *Store) StartAppendBatch(ctx context.Context, name string, partitionID int32, batch []byte, opts store.AppendOptions) (store.Pending, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	pd, err := s.startAppendBatch(ctx, name, partitionID, batch, opts)
	if err != nil {
		s.exit()
		return nil, err
	}
	return pd, nil
}

func (s *Store) startAppendBatch(ctx context.Context, name string, partitionID int32, batch []byte, opts store.AppendOptions) (*pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	info, err := recordbatch.Parse(batch)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrInvalidArgument, err)
	}
	if info.Size() != len(batch) {
		return nil, fmt.Errorf("%w: batch length field says %d bytes, got %d", store.ErrInvalidArgument, info.Size(), len(batch))
	}
	if info.LastOffsetDelta < 0 || info.NumRecords <= 0 {
		return nil, fmt.Errorf("%w: batch holds no records", store.ErrInvalidArgument)
	}
	st, err := s.stream(name)
	if err != nil {
		return nil, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return nil, err
	}
	// The store keeps the batch (the tail cache hands it to readers), and
	// the caller's buffer is its own: a Kafka request buffer is reused.
	return s.start(ctx, st, p, -1, bytes.Clone(batch), info, opts)
}

// AppendToShard appends records to an open shard as one uncompressed batch,
// the Kinesis way: each record's Timestamp is set to the arrival time, stored
// as a log-append timestamp, and its Offset to the offset it got. It fails
// with store.ErrShardClosed when the shard has been split or merged
// meanwhile; the caller routes again by hash key.
func (s *Store) AppendToShard(ctx context.Context, name string, shardIndex int, records []recordbatch.Record, opts store.AppendOptions) (store.AppendResult, error) {
	if err := s.enter(); err != nil {
		return store.AppendResult{}, err
	}
	pd, err := s.startAppendToShard(ctx, name, shardIndex, records, opts)
	if err != nil {
		s.exit()
		return store.AppendResult{}, err
	}
	res, err := pd.Wait()
	if err == nil {
		for i := range records {
			records[i].Offset = res.BaseOffset + int64(i)
		}
	}
	return res, err
}

func (s *Store) startAppendToShard(ctx context.Context, name string, shardIndex int, records []recordbatch.Record, opts store.AppendOptions) (*pending, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(records) == 0 {
		return nil, fmt.Errorf("%w: no records", store.ErrInvalidArgument)
	}
	st, err := s.stream(name)
	if err != nil {
		return nil, err
	}
	sh, ok := st.layout.Load().Shard(shardIndex)
	if !ok {
		return nil, fmt.Errorf("%w: %d", store.ErrShardNotFound, shardIndex)
	}
	p, err := st.partition(sh.Partition)
	if err != nil {
		return nil, err
	}
	arrival := s.now().Truncate(time.Millisecond)
	for i := range records {
		records[i].Timestamp = arrival
		records[i].Offset = int64(i)
	}
	raw, err := recordbatch.Encode(nil, records, recordbatch.EncodeOptions{LogAppendTime: true, Offloaded: len(opts.Objects) > 0, ClientPointers: opts.ClientPointers})
	if err != nil {
		return nil, fmt.Errorf("%w: %v", store.ErrInvalidArgument, err)
	}
	info, err := recordbatch.Parse(raw)
	if err != nil {
		return nil, err
	}
	return s.start(ctx, st, p, shardIndex, raw, info, opts)
}

// pending is an append whose offsets are assigned and whose batch is on its
// way to the log. It holds the store open (its enter) until Wait.
type pending struct {
	s       *Store
	b       *pebble.Batch
	p       *partition
	res     store.AppendResult
	bytes   int
	records int
	started time.Time
}

// Wait returns once the append is durable (and readable), with its position.
func (pd *pending) Wait() (store.AppendResult, error) {
	s := pd.s
	defer s.exit()
	var err error
	if !s.noWAL {
		err = pd.b.SyncWait()
	}
	pd.b.Close()
	if err != nil {
		s.log.Error("store: WAL sync failed", "err", err)
		return store.AppendResult{}, err
	}
	pd.p.advance(pd.res.LastOffset + 1)
	s.metrics.appended(pd.bytes, pd.records, time.Since(pd.started))
	return pd.res, nil
}

// start is the one write path. See the package invariants for why the batch
// enters pebble under the partition lock and is waited on outside it. shard,
// when not -1, must be the partition's open shard. raw becomes the store's:
// its base offset is set in place and the tail cache keeps it. An encrypted
// stream's batch is sealed first (encrypt.go), outside the lock.
func (s *Store) start(ctx context.Context, st *stream, p *partition, shard int, raw []byte, info recordbatch.Info, opts store.AppendOptions) (*pending, error) {
	started := time.Now()
	stored, key, err := s.seal(ctx, st, p, raw)
	if err != nil {
		return nil, err
	}
	b := s.db.NewBatchWithSize(len(stored) + 64)
	// A batch without timestamps (-1) is indexed, and so kept by retention,
	// by its arrival time, as Kafka falls back to a segment's mtime.
	batchTs := info.MaxTimestamp
	if batchTs < 0 {
		batchTs = s.now().UnixMilli()
	}

	p.mu.Lock()
	cur, err := s.appendable(st, p, shard, info.Control())
	if err != nil {
		p.mu.Unlock()
		b.Close()
		return nil, err
	}
	base := p.next
	last := base + int64(info.LastOffsetDelta)
	maxTs := max(p.maxTimestamp, batchTs)
	recordbatch.SetBaseOffset(raw, base)
	if key == noKey {
		stored = raw // the base offset is in it now
	}
	_ = b.Set(dataKey(p.id, p.number, base), stored, nil)
	_ = b.Set(timeKey(p.id, p.number, maxTs, base), nil, nil)
	endPos := p.endPos.Load() + int64(len(stored))
	_ = b.Set(endPosKey(p.id, p.number), binary.BigEndian.AppendUint64(nil, uint64(endPos)), nil)
	addObjectRefs(b, p, base, opts.Objects)
	txn := p.planTxn(b, raw, info, base, last)
	for _, w := range opts.State {
		if w.Value == nil {
			_ = b.Delete(stateKey(w.Namespace, w.Key), nil)
		} else {
			_ = b.Set(stateKey(w.Namespace, w.Key), w.Value, nil)
		}
	}
	apply := func() error { return s.db.ApplyNoSyncWait(b, pebble.Sync) }
	if s.noWAL {
		apply = func() error { return s.db.Apply(b, pebble.NoSync) }
	}
	if err := apply(); err != nil {
		p.mu.Unlock()
		b.Close()
		return nil, err
	}
	p.next = last + 1
	p.applyTxn(txn)
	p.maxTimestamp = maxTs
	p.endPos.Store(endPos)
	p.tail.add(&s.tail, base, last, raw, key)
	p.mu.Unlock()
	s.trimTails() // cheap unless idle partitions hold more than the share
	return &pending{
		s: s, b: b, p: p,
		res:   store.AppendResult{Shard: cur, BaseOffset: base, LastOffset: last},
		bytes: len(raw), records: int(info.NumRecords), started: started,
	}, nil
}

// appendable checks, under p.mu, that p takes writes and returns the shard
// that takes them. A retired partition takes control batches still
// (retired.go).
func (s *Store) appendable(st *stream, p *partition, shard int, control bool) (store.Shard, error) {
	if st.deleted.Load() {
		return store.Shard{}, store.ErrStreamNotFound
	}
	layout := st.layout.Load()
	cur, _ := layout.CurrentShard(p.number)
	if shard >= 0 && cur.Index != shard {
		return store.Shard{}, fmt.Errorf("%w: %s", store.ErrShardClosed, store.Shard{Index: shard}.ID())
	}
	if p.retired && !retiredTakes(shard, control) {
		return store.Shard{}, fmt.Errorf("%w: partition %d", store.ErrPartitionRetired, p.number)
	}
	return cur, nil
}
