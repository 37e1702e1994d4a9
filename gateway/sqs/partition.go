package sqs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/streambridge/bridge/gateway/payloads"
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
// is written in the order its changes happened; the sync is waited for
// outside it (store.StartUpdate), so concurrent receives and deletes of a
// partition share syncs instead of queueing behind each other's. An
// operation on several partitions of a queue (queue.renew) takes their
// locks in partition order.
type partitionQueue struct {
	store     store.Store
	queue     string
	partition int32
	fifo      bool // a FIFO queue's: messages are served by group (fifo.go)

	mu     sync.Mutex
	closed bool            // its queue was deleted: no more writes (close)
	index  *partitionIndex // nil until load
	// changed is closed and replaced when a message becomes visible other
	// than by arriving or by its time passing (a visibility change, or on a
	// FIFO partition a delete that unblocks a group), to wake long polls;
	// arrivals wake them through store.Wait.
	changed chan struct{}
}

// readBatchBytes bounds one read of new messages.
const readBatchBytes = 1 << 20

// scanReadBytes bounds one read of a receive's scan. A receive returns at
// most 10 messages and a read decodes every record it returns, so the scan
// reads little at a time: the batch holding the scan position (a read
// returns at least that one) and perhaps the next, not a megabyte of
// records to return ten (which was a fifth of the server's CPU).
const scanReadBytes = 16 << 10

// receivedMessage is a message a receive returned: its record and the
// state its receipt handle carries.
type receivedMessage struct {
	partition int32
	record    recordbatch.Record
	state     messageState
	// offloaded: the record's batch carries the Offloaded mark, so the
	// record may be a pointer record (offload.go).
	offloaded bool
}

// storedRecord is a record as read from the log, with its batch's
// Offloaded mark: only a marked batch's records are looked at as pointer
// records, which keeps the check off every other message's path.
type storedRecord struct {
	recordbatch.Record
	offloaded bool
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
	if q.fifo {
		x = newFIFOIndex(cursor)
	}
	prefix := messagePrefix(q.queue, q.partition)
	var states []messageState
	var stale []store.KV // states a crash left below the cursor
	err = q.store.Scan(ctx, stateNamespace, prefix, func(key string, value []byte) error {
		st, err := decodeState(prefix, key, value)
		if err != nil {
			return fmt.Errorf("%s/%d: %w", q.queue, q.partition, err)
		}
		if st.offset < cursor {
			stale = append(stale, store.KV{Namespace: stateNamespace, Key: key})
			return nil
		}
		states = append(states, st)
		return nil
	})
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		if err := q.store.Update(ctx, stale...); err != nil {
			return err
		}
	}
	for _, st := range states {
		if q.fifo && !st.deleted && !st.grouped {
			// Kept before states carried their group: the record has it.
			r, _, err := q.record(ctx, st.offset)
			if err != nil {
				return err
			}
			// A record retention took has no group to give; trimmed below
			// forgets its state and deletes its key.
			st.group, st.grouped = string(r.Key), true
		}
		x.restore(st)
	}
	x.trimmed(logStart)
	q.index = x
	q.changed = make(chan struct{})
	return nil
}

// receive returns up to n messages visible at now (Unix ms), in flight
// until now+visibility: first those whose visibility ended (on a FIFO
// partition, those of the groups that may be served), then new ones.
func (q *partitionQueue) receive(ctx context.Context, now int64, n int, visibility int64) ([]receivedMessage, error) {
	out, pending, err := q.receiveLocked(ctx, now, n, visibility)
	if err == nil && pending != nil {
		err = pending.Wait()
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// receiveLocked is receive's work under mu; the caller waits for the
// returned write (nil when there is none) outside it.
func (q *partitionQueue) receiveLocked(ctx context.Context, now int64, n int, visibility int64) ([]receivedMessage, store.PendingUpdate, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, nil, errNoQueue
	}
	logStart, hw, err := q.bounds(ctx)
	if err != nil {
		return nil, nil, err
	}
	before := q.index.cursor
	q.index.trimmed(logStart)
	rr := &receiveRun{q: q, now: now, n: n, visibleAt: now + visibility}
	if q.fifo {
		err = rr.groups(ctx)
	} else {
		err = rr.due(ctx)
	}
	if err == nil {
		err = rr.scan(ctx, hw)
	}
	if err != nil {
		return nil, nil, err
	}
	writes := append(rr.writes, q.cursorWrites(before)...)
	if len(writes) == 0 {
		return rr.out, nil, nil
	}
	pending, err := q.store.StartUpdate(ctx, writes...)
	return rr.out, pending, err
}

// maxHeldPerReceive bounds the messages of blocked groups one receive
// passes over (and writes states for), so a receive's work stays bounded
// when a blocked group fills the log; the next receive (or the next round
// of a long poll) goes on from there.
const maxHeldPerReceive = 1000

// receiveRun is one receive of a partition, under its lock.
type receiveRun struct {
	q         *partitionQueue
	now       int64
	n         int
	visibleAt int64
	out       []receivedMessage
	writes    []store.KV
	// open holds the FIFO groups every message of which (in the index) this
	// receive took: it may take their next messages from the log too.
	open map[string]bool
	held int // messages of blocked groups passed over
}

func (rr *receiveRun) full() bool { return len(rr.out) == rr.n }

// take receives a message the index allows.
func (rr *receiveRun) take(r storedRecord) {
	st := rr.q.index.receive(r.Offset, rr.now, rr.visibleAt)
	rr.out = append(rr.out, receivedMessage{partition: rr.q.partition, record: r.Record, state: st, offloaded: r.offloaded})
	rr.writes = append(rr.writes, rr.q.stateKV(st))
}

// due takes the messages of a standard partition whose visibility ended.
func (rr *receiveRun) due(ctx context.Context) error {
	for _, off := range rr.q.index.due(rr.now, rr.n) {
		r, ok, err := rr.q.record(ctx, off)
		if err != nil {
			return err
		}
		if ok {
			rr.take(r)
		}
	}
	return nil
}

// groups takes, from each FIFO group that may be served, its first
// messages while they are visible: as many of one group as fit before the
// next group, as SQS does.
func (rr *receiveRun) groups(ctx context.Context) error {
	x := rr.q.index
	rr.open = map[string]bool{}
	for _, g := range x.readyGroups(rr.now, rr.n) {
		if rr.full() {
			break
		}
		offsets, all := x.takeable(g, rr.now, rr.n-len(rr.out))
		key := g.key // g may be gone once its messages are taken
		for _, off := range offsets {
			r, ok, err := rr.q.record(ctx, off)
			if err != nil {
				return err
			}
			if !ok {
				// Retention took it meanwhile; the group waits for the next
				// receive's trim rather than skip ahead of it.
				all = false
				break
			}
			rr.take(r)
		}
		if all {
			rr.open[key] = true
		}
	}
	return nil
}

// scan takes new messages from the scan position up to hw. On a FIFO
// partition a message whose group has messages left in the index, not all
// taken by this receive, is held behind them instead.
func (rr *receiveRun) scan(ctx context.Context, hw int64) error {
	q, x := rr.q, rr.q.index
	for !rr.full() && x.scan < hw && rr.held < maxHeldPerReceive {
		recs, next, err := q.records(ctx, x.scan, scanReadBytes)
		if err != nil {
			return err
		}
		stopped := false
		for _, r := range recs {
			if rr.full() || rr.held == maxHeldPerReceive {
				stopped = true
				break
			}
			rr.next(r)
		}
		// Everything read was taken or held: move past what was not a
		// message (transaction markers) too.
		if stopped || next <= x.scan {
			break
		}
		for _, st := range x.skipTo(next) {
			rr.writes = append(rr.writes, q.stateKV(st))
		}
	}
	return nil
}

// next decides about the message at the scan position.
func (rr *receiveRun) next(r storedRecord) {
	q, x := rr.q, rr.q.index
	until := delayUntil(r.Record)
	if !q.fifo {
		if until > rr.now {
			rr.writes = append(rr.writes, q.stateKV(x.deferUntil(r.Offset, until)))
		} else {
			rr.take(r)
		}
		return
	}
	group := string(r.Key)
	switch {
	case until > rr.now:
		// A delayed message blocks its group until its delay ends, so the
		// ones behind it keep their order.
		rr.writes = append(rr.writes, q.stateKV(*x.hold(r.Offset, group, until)))
		delete(rr.open, group)
	case x.free(group) || rr.open[group]:
		x.hold(r.Offset, group, 0)
		rr.take(r)
		rr.open[group] = true
	default:
		rr.writes = append(rr.writes, q.stateKV(*x.hold(r.Offset, group, 0)))
		rr.held++
	}
}

// remove deletes the messages receipt handles name, (offset, nonce) pairs,
// in one durable write; deleted[i] is false for a stale handle (SQS
// answers success and keeps the message).
func (q *partitionQueue) remove(ctx context.Context, handles []receipt) (deleted []bool, err error) {
	deleted, pending, err := q.removeLocked(ctx, handles)
	if err == nil && pending != nil {
		err = pending.Wait()
	}
	return deleted, err
}

// removeLocked is remove's work under mu; the caller waits for the
// returned write (nil when there is none) outside it.
func (q *partitionQueue) removeLocked(ctx context.Context, handles []receipt) ([]bool, store.PendingUpdate, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, nil, errNoQueue
	}
	x := q.index
	before := x.cursor
	deleted := make([]bool, len(handles))
	var writes []store.KV
	for i, r := range handles {
		st, ok := x.remove(r.offset, r.nonce)
		if ok {
			deleted[i] = true
			writes = append(writes, q.stateKV(st))
		}
	}
	if len(writes) == 0 {
		return deleted, nil, nil
	}
	writes = append(writes, q.cursorWrites(before)...)
	pending, err := q.store.StartUpdate(ctx, writes...)
	if err != nil {
		return deleted, nil, err
	}
	if q.fifo {
		// A delete may unblock a group whose next message waits. A receive
		// that then takes it writes after this delete, so no sync can make
		// that receive durable without it.
		q.wake()
	}
	return deleted, pending, nil
}

// wake ends the long polls waiting on the partition, for them to look
// again. Called under mu.
func (q *partitionQueue) wake() {
	close(q.changed)
	q.changed = make(chan struct{})
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
	pending, err := q.changeVisibilityLocked(ctx, offset, nonce, now, visibleAt)
	if err != nil {
		return err
	}
	return pending.Wait()
}

func (q *partitionQueue) changeVisibilityLocked(ctx context.Context, offset int64, nonce uint32, now, visibleAt int64) (store.PendingUpdate, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, errNoQueue
	}
	st, err := q.index.changeVisibility(offset, nonce, now, visibleAt)
	if err != nil {
		return nil, err
	}
	pending, err := q.store.StartUpdate(ctx, q.stateKV(st))
	if err != nil {
		return nil, err
	}
	if visibleAt <= now {
		q.wake()
	}
	return pending, nil
}

// wait blocks until a receive might find a message in the partition: a
// new record arrives, the earliest in-flight or delayed message's time
// comes, a visibility change makes one visible, or until (Unix ms) passes.
// It returns ctx's error when ctx ends first, nil otherwise; it never
// polls. now is the caller's clock, in Unix ms.
func (q *partitionQueue) wait(ctx context.Context, now, until int64) error {
	q.mu.Lock()
	_, hw, err := q.bounds(ctx)
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
	err = q.store.WaitStable(waitCtx, q.queue, q.partition, hw)
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
func (q *partitionQueue) record(ctx context.Context, offset int64) (storedRecord, bool, error) {
	recs, _, err := q.records(ctx, offset, 1)
	if err != nil || len(recs) == 0 || recs[0].Offset != offset {
		return storedRecord{}, false, err
	}
	return recs[0], true, nil
}

// records reads the messages from offset on, as far as one read of about
// maxBytes goes, and the offset after what it read. Control records
// (transaction markers) and records of aborted Kafka transactions are not
// messages; the read stops before an open transaction's records (txn.go).
func (q *partitionQueue) records(ctx context.Context, offset int64, maxBytes int) (recs []storedRecord, next int64, err error) {
	res, err := q.store.Read(ctx, q.queue, q.partition, offset, store.ReadLimits{MaxBytes: maxBytes, Committed: true})
	if errors.Is(err, store.ErrOffsetOutOfRange) {
		return nil, offset, nil
	}
	if err != nil {
		return nil, offset, err
	}
	next = offset
	txns := store.NewTxnFilter(res.Aborted)
	for _, b := range res.Batches {
		if b.BaseOffset > next {
			// A hole: a batch below this one is not readable yet (an
			// append still committing while a later one already is).
			// Stop before it. Moving past would have the scan count the
			// missing offsets as non-messages and skip them for good.
			break
		}
		next = max(next, b.LastOffset+1)
		info, decoded, err := recordbatch.Decode(b.Raw)
		if err != nil {
			return nil, offset, fmt.Errorf("%s/%d at %d: %w", q.queue, q.partition, b.BaseOffset, err)
		}
		if txns.Skip(info) {
			continue
		}
		for _, r := range decoded {
			if r.Offset >= offset {
				recs = append(recs, storedRecord{r, payloads.Marked(info)})
			}
		}
	}
	return recs, next, nil
}

// counts returns the partition's visible, in-flight and delayed messages.
func (q *partitionQueue) counts(ctx context.Context, now int64) (visible, inFlight, delayed int64, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, 0, 0, errNoQueue
	}
	logStart, hw, err := q.bounds(ctx)
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
	// Messages past the scan position were never looked at: the index
	// counts them visible. Those whose delay has not ended are delayed;
	// they are read to tell, as far as one read goes (the count is
	// approximate, as SQS's).
	if q.index.scan < hw {
		recs, _, err := q.records(ctx, q.index.scan, readBatchBytes)
		if err != nil {
			return 0, 0, 0, err
		}
		for _, r := range recs {
			if delayUntil(r.Record) > now {
				visible--
				delayed++
			}
		}
	}
	return max(visible, 0), inFlight, delayed, nil
}

// purge deletes every message of the partition (PurgeQueue): the records
// go, for Kafka readers too, and the consumption state with them.
func (q *partitionQueue) purge(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return errNoQueue
	}
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

// close stops the partition's writes for good: its queue is being deleted,
// and a write after the deletion of its state would outlive it. Writes
// started before are ordered before that deletion.
func (q *partitionQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	q.wake() // long polls look again, and find no queue
}
