package sqs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// partitionQueue serves one partition of a queue: its visibility index, the
// records it reads from the store and the state it keeps there. Every
// change is durable before the call returns: a received message stays
// invisible across a restart until its timeout ends, and a deleted one
// never comes back (ARCHITECTURE.md, "Queues").
//
// mu is held across the store calls of a change, so the state of a message
// is written in the order its changes happened. That serializes a
// partition's receives and deletes behind their syncs, which concurrent
// partitions share; a queue that needs more takes more partitions.
type partitionQueue struct {
	store     store.Store
	queue     string
	partition int32

	mu    sync.Mutex
	index *partitionIndex // nil until load
	// changed is closed and replaced when a message becomes visible other
	// than by arriving or by its time passing (a visibility change), to
	// wake long polls; arrivals wake them through store.Wait.
	changed chan struct{}
}

// readBatchBytes bounds one read of new messages.
const readBatchBytes = 1 << 20

// receivedMessage is a message a receive returned: its record and the
// state its receipt handle carries.
type receivedMessage struct {
	partition int32
	record    recordbatch.Record
	state     messageState
}

// load rebuilds the index from the state area: the cursor (the log start
// for a partition that has none yet), then every state above it.
func (q *partitionQueue) load(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	logStart, _, err := q.store.Offsets(ctx, q.queue, q.partition)
	if err != nil {
		return err
	}
	cursor := logStart
	switch v, err := q.store.Get(ctx, stateNamespace, cursorKey(q.queue, q.partition)); {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		if cursor, err = decodeCursor(v); err != nil {
			return err
		}
	}
	x := newPartitionIndex(cursor)
	prefix := messagePrefix(q.queue, q.partition)
	err = q.store.Scan(ctx, stateNamespace, prefix, func(key string, value []byte) error {
		st, err := decodeState(prefix, key, value)
		if err != nil {
			return fmt.Errorf("%s/%d: %w", q.queue, q.partition, err)
		}
		x.restore(st)
		return nil
	})
	if err != nil {
		return err
	}
	x.trimmed(logStart)
	q.index = x
	q.changed = make(chan struct{})
	return nil
}

// receive returns up to n messages visible at now (Unix ms), in flight
// until now+visibility: first those whose visibility ended, then new ones.
func (q *partitionQueue) receive(ctx context.Context, now int64, n int, visibility int64) ([]receivedMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	logStart, hw, err := q.store.Offsets(ctx, q.queue, q.partition)
	if err != nil {
		return nil, err
	}
	x := q.index
	before := x.cursor
	x.trimmed(logStart)
	var out []receivedMessage
	var writes []store.KV
	take := func(r recordbatch.Record) {
		st := x.receive(r.Offset, now, now+visibility)
		out = append(out, receivedMessage{partition: q.partition, record: r, state: st})
		writes = append(writes, q.stateKV(st))
	}
	for _, off := range x.due(now, n) {
		r, ok, err := q.record(ctx, off)
		if err != nil {
			return nil, err
		}
		if ok {
			take(r)
		}
	}
	for len(out) < n && x.scan < hw {
		recs, next, err := q.records(ctx, x.scan, readBatchBytes)
		if err != nil {
			return nil, err
		}
		for _, r := range recs {
			if len(out) == n {
				break
			}
			if until := delayUntil(r); until > now {
				writes = append(writes, q.stateKV(x.deferUntil(r.Offset, until)))
				continue
			}
			take(r)
		}
		if len(out) == n {
			break
		}
		// Everything read was taken or deferred: move past what was not a
		// message (transaction markers) too.
		if next <= x.scan {
			break
		}
		for _, st := range x.skipTo(next) {
			writes = append(writes, q.stateKV(st))
		}
	}
	writes = append(writes, q.cursorWrites(before)...)
	if len(writes) > 0 {
		if err := q.store.Update(ctx, writes...); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// remove deletes the messages receipt handles name, (offset, nonce) pairs,
// in one durable write; deleted[i] is false for a stale handle (SQS
// answers success and keeps the message).
func (q *partitionQueue) remove(ctx context.Context, handles []receipt) (deleted []bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	x := q.index
	before := x.cursor
	deleted = make([]bool, len(handles))
	var writes []store.KV
	for i, r := range handles {
		st, ok := x.remove(r.offset, r.nonce)
		if ok {
			deleted[i] = true
			writes = append(writes, q.stateKV(st))
		}
	}
	if len(writes) == 0 {
		return deleted, nil
	}
	writes = append(writes, q.cursorWrites(before)...)
	return deleted, q.store.Update(ctx, writes...)
}

// cursorWrites persists a cursor that moved from before: its new value,
// and the deletion of the states it passed. Later in a batch than the
// states' own writes, they win.
func (q *partitionQueue) cursorWrites(before int64) []store.KV {
	x := q.index
	dropped := x.takeDropped()
	if x.cursor <= before {
		return nil
	}
	writes := make([]store.KV, 0, len(dropped)+1)
	for _, off := range dropped {
		writes = append(writes, store.KV{Namespace: stateNamespace, Key: messageKey(q.queue, q.partition, off)})
	}
	return append(writes, store.KV{Namespace: stateNamespace, Key: cursorKey(q.queue, q.partition), Value: encodeCursor(x.cursor)})
}

// changeVisibility makes an in-flight message visible at visibleAt.
func (q *partitionQueue) changeVisibility(ctx context.Context, offset int64, nonce uint32, now, visibleAt int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	st, err := q.index.changeVisibility(offset, nonce, now, visibleAt)
	if err != nil {
		return err
	}
	if err := q.store.Update(ctx, q.stateKV(st)); err != nil {
		return err
	}
	if visibleAt <= now {
		close(q.changed)
		q.changed = make(chan struct{})
	}
	return nil
}

// wait blocks until a receive might find a message in the partition: a
// new record arrives, the earliest in-flight or delayed message's time
// comes, a visibility change makes one visible, or until (Unix ms) passes.
// It returns ctx's error when ctx ends first, nil otherwise; it never
// polls. now is the caller's clock, in Unix ms.
func (q *partitionQueue) wait(ctx context.Context, now, until int64) error {
	q.mu.Lock()
	_, hw, err := q.store.Offsets(ctx, q.queue, q.partition)
	if at, ok := q.index.nextVisible(); ok {
		until = min(until, at)
	}
	unread := q.index.scan < hw // arrived before the wait began
	changed := q.changed
	q.mu.Unlock()
	if err != nil {
		return err
	}
	if unread || until <= now {
		return nil
	}
	waitCtx, cancel := context.WithTimeout(ctx, time.Duration(until-now)*time.Millisecond)
	defer cancel()
	go func() {
		select {
		case <-changed:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	err = q.store.Wait(waitCtx, q.queue, q.partition, hw)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func (q *partitionQueue) stateKV(st messageState) store.KV {
	return store.KV{Namespace: stateNamespace, Key: messageKey(q.queue, q.partition, st.offset), Value: encodeState(st)}
}

// record reads the message at offset; ok is false when retention took it.
func (q *partitionQueue) record(ctx context.Context, offset int64) (recordbatch.Record, bool, error) {
	recs, _, err := q.records(ctx, offset, 1)
	if err != nil || len(recs) == 0 || recs[0].Offset != offset {
		return recordbatch.Record{}, false, err
	}
	return recs[0], true, nil
}

// records reads the messages from offset on, as far as one read of about
// maxBytes goes, and the offset after what it read. Control records
// (transaction markers) are not messages.
func (q *partitionQueue) records(ctx context.Context, offset int64, maxBytes int) (recs []recordbatch.Record, next int64, err error) {
	res, err := q.store.Read(ctx, q.queue, q.partition, offset, store.ReadLimits{MaxBytes: maxBytes})
	if errors.Is(err, store.ErrOffsetOutOfRange) {
		return nil, offset, nil
	}
	if err != nil {
		return nil, offset, err
	}
	next = offset
	for _, b := range res.Batches {
		next = max(next, b.LastOffset+1)
		info, decoded, err := recordbatch.Decode(b.Raw)
		if err != nil {
			return nil, offset, fmt.Errorf("%s/%d at %d: %w", q.queue, q.partition, b.BaseOffset, err)
		}
		if info.Control() {
			continue
		}
		for _, r := range decoded {
			if r.Offset >= offset {
				recs = append(recs, r)
			}
		}
	}
	return recs, next, nil
}

// counts returns the partition's visible, in-flight and delayed messages.
func (q *partitionQueue) counts(ctx context.Context, now int64) (visible, inFlight, delayed int64, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	logStart, hw, err := q.store.Offsets(ctx, q.queue, q.partition)
	if err != nil {
		return 0, 0, 0, err
	}
	before := q.index.cursor
	q.index.trimmed(logStart)
	if writes := q.cursorWrites(before); len(writes) > 0 {
		if err := q.store.Update(ctx, writes...); err != nil {
			return 0, 0, 0, err
		}
	}
	visible, inFlight, delayed = q.index.counts(now, hw)
	return visible, inFlight, delayed, nil
}

// purge deletes every message of the partition (PurgeQueue): the records
// go, for Kafka readers too, and the consumption state with them.
func (q *partitionQueue) purge(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	logStart, err := q.store.TrimBefore(ctx, q.queue, q.partition, -1)
	if err != nil {
		return err
	}
	before := q.index.cursor
	q.index.trimmed(logStart)
	if writes := q.cursorWrites(before); len(writes) > 0 {
		return q.store.Update(ctx, writes...)
	}
	return nil
}
