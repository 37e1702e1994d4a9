package sqs

import (
	"container/heap"
	"errors"
)

// The visibility index of one queue partition: which of its messages
// ReceiveMessage may return now, and when the next one becomes visible
// (ARCHITECTURE.md, "Queues"). It is memory only, rebuilt from the state
// area's entries on start (restore); callers persist what each change
// returns before answering, and serialize calls per partition.
//
// A partition's messages are its records. Below the cursor every message
// is deleted. From the cursor to the scan position every message has a
// state: received (in flight until visibleAt, or visible again after it),
// delayed (never received, invisible until visibleAt) or deleted out of
// order. From the scan position on, messages were never looked at: each is
// visible unless its record says it is delayed, which the caller learns by
// reading it and then records with defer.
//
// A FIFO partition's index (newFIFOIndex) also keeps its message groups
// (fifo.go): there a message that is neither received nor delayed can have
// a state too, waiting behind its group, and what may be received comes
// from the groups, not from the pending heap.

// Errors of the index; the API words them as SQS does.
var (
	// errStaleReceipt: the receipt handle is from an earlier receive of a
	// message received again since, or of one already deleted.
	errStaleReceipt = errors.New("receipt handle is not the latest")
	// errNotInFlight: the message is not in flight (never received, or
	// visible again), so its visibility cannot change.
	errNotInFlight = errors.New("message is not in flight")
)

// messageState is what a partition knows of one message above its cursor.
type messageState struct {
	offset    int64
	receives  int32  // times received; 0 for a delayed message
	visibleAt int64  // Unix ms; invisible before it unless deleted
	nonce     uint32 // changes with every receive; receipt handles carry it
	deleted   bool
	slot      int // index in the pending heap; -1 when deleted
	// firstReceived is when the message was first received (Unix ms;
	// ApproximateFirstReceiveTimestamp), 0 before that.
	firstReceived int64
	// group is the message's MessageGroupId (its record's key) on a FIFO
	// partition, where grouped is true; persisted with the state, so a
	// restart rebuilds the groups without reading the records.
	group   string
	grouped bool
}

// partitionIndex is the visibility index of one queue partition.
type partitionIndex struct {
	cursor  int64 // every message below is deleted
	scan    int64 // first message never received nor deferred; >= cursor
	states  map[int64]*messageState
	pending pendingHeap // states not deleted, by visibleAt
	// dropped lists the offsets whose states the index forgot (the cursor
	// passed them) since the caller last took them to delete their keys.
	dropped []int64
	// groups and ready are a FIFO partition's message groups (fifo.go);
	// groups is nil on a standard queue's partition.
	groups map[string]*groupState
	ready  groupHeap
}

func newPartitionIndex(cursor int64) *partitionIndex {
	return &partitionIndex{cursor: cursor, scan: cursor, states: map[int64]*messageState{}}
}

// restore adds a persisted state at start. States at or below the cursor
// are dropped: a crash can leave entries the cursor already passed. On a
// FIFO partition a state that is not deleted must carry its group (load
// reads the record of one persisted without it).
func (x *partitionIndex) restore(s messageState) {
	if s.offset < x.cursor {
		return
	}
	st := s
	x.states[s.offset] = &st
	if st.deleted {
		st.slot = -1
	} else {
		heap.Push(&x.pending, &st)
		if x.groups != nil {
			x.join(&st)
		}
	}
	x.scan = max(x.scan, s.offset+1)
	x.advanceCursor()
}

// due returns up to n messages visible again at now (their visibility
// timeout or delay ended), earliest first. They stay where they are until
// received. It visits O(n log n) of the heap however many are due: a
// best-first walk from the root, since a child is never due before its
// parent.
func (x *partitionIndex) due(now int64, n int) []int64 {
	var out []int64
	h := x.pending.states
	frontier := &slotHeap{states: h}
	if len(h) > 0 {
		frontier.slots = append(frontier.slots, 0)
	}
	for len(out) < n && frontier.Len() > 0 {
		i := heap.Pop(frontier).(int)
		if h[i].visibleAt > now {
			break
		}
		out = append(out, h[i].offset)
		for _, c := range []int{2*i + 1, 2*i + 2} {
			if c < len(h) {
				heap.Push(frontier, c)
			}
		}
	}
	return out
}

// receive records a receive of the message at offset, visible again at
// visibleAt, and returns its new state to persist and to put in the
// receipt handle. The message must be visible: the caller took it from due
// (or, FIFO, from takeable) or from the scan position. On a FIFO partition
// a message from the scan position is held first, so its group is known.
func (x *partitionIndex) receive(offset, now, visibleAt int64) messageState {
	st := x.states[offset]
	if st == nil {
		st = x.hold(offset, "", 0)
	}
	st.receives++
	st.nonce++
	if st.firstReceived == 0 {
		st.firstReceived = now
	}
	st.visibleAt = visibleAt
	heap.Fix(&x.pending, st.slot)
	x.settleGroupOf(st)
	return *st
}

// deferUntil records a message at the scan position that is delayed until
// visibleAt (DelaySeconds), so the scan can move past it.
func (x *partitionIndex) deferUntil(offset, visibleAt int64) messageState {
	return *x.hold(offset, "", visibleAt)
}

// hold gives the message at the scan position a state without receiving
// it, so the scan can move past it: never received, visible from visibleAt
// (the end of its delay, or 0). On a FIFO partition it joins group, behind
// whose earlier messages it waits.
func (x *partitionIndex) hold(offset int64, group string, visibleAt int64) *messageState {
	st := &messageState{offset: offset, visibleAt: visibleAt}
	x.states[offset] = st
	heap.Push(&x.pending, st)
	x.scan = max(x.scan, offset+1)
	if x.groups != nil {
		st.group, st.grouped = group, true
		x.join(st)
	}
	return st
}

// skipTo moves the scan position to offset: every message before it was
// taken, and the offsets without a state hold no message (transaction
// markers). Those count as deleted, so the cursor can pass them; their
// states are returned to persist.
func (x *partitionIndex) skipTo(offset int64) []messageState {
	var gaps []messageState
	for off := x.scan; off < offset; off++ {
		if x.states[off] == nil {
			st := &messageState{offset: off, deleted: true, slot: -1}
			x.states[off] = st
			gaps = append(gaps, *st)
		}
	}
	x.scan = max(x.scan, offset)
	x.advanceCursor()
	return gaps
}

// remove deletes the message a receipt handle names. deleted is false when
// the handle is stale or the message is gone already: SQS answers those
// deletes with success and leaves the message as it is. The caller
// persists the returned state and the new cursor when deleted is true.
func (x *partitionIndex) remove(offset int64, nonce uint32) (st messageState, deleted bool) {
	cur := x.states[offset]
	if cur == nil || cur.deleted || cur.nonce != nonce || cur.receives == 0 {
		return messageState{}, false
	}
	cur.deleted = true
	heap.Remove(&x.pending, cur.slot)
	cur.slot = -1
	out := *cur
	x.settleGroupOf(cur)
	x.advanceCursor()
	return out, true
}

// changeVisibility makes a message in flight visible at visibleAt (now for
// 0): ChangeMessageVisibility.
func (x *partitionIndex) changeVisibility(offset int64, nonce uint32, now, visibleAt int64) (messageState, error) {
	st := x.states[offset]
	switch {
	case st == nil || st.deleted || st.receives == 0 || st.nonce != nonce:
		return messageState{}, errStaleReceipt
	case st.visibleAt <= now:
		return messageState{}, errNotInFlight
	}
	return x.extend(st, visibleAt), nil
}

// extend makes a message visible at visibleAt, whatever it was: a change
// of visibility, or the renewal of a receive retried with its attempt id.
func (x *partitionIndex) extend(st *messageState, visibleAt int64) messageState {
	st.visibleAt = visibleAt
	heap.Fix(&x.pending, st.slot)
	x.settleGroupOf(st)
	return *st
}

// nextVisible returns when a receive may next find a message that is not
// new: the earliest pending message's visibility (on a FIFO partition, the
// earliest group's availability), for a long poll's timer; ok is false
// when none is pending.
func (x *partitionIndex) nextVisible() (at int64, ok bool) {
	if x.groups != nil {
		if len(x.ready.groups) == 0 {
			return 0, false
		}
		return x.ready.groups[0].availableAt, true
	}
	if len(x.pending.states) == 0 {
		return 0, false
	}
	return x.pending.states[0].visibleAt, true
}

// trimmed drops what retention removed: messages below logStart are gone.
func (x *partitionIndex) trimmed(logStart int64) {
	if logStart <= x.cursor {
		return
	}
	var touched []*messageState
	for off := x.cursor; off < logStart && off < x.scan; off++ {
		if st := x.states[off]; st != nil {
			if !st.deleted {
				heap.Remove(&x.pending, st.slot)
				touched = append(touched, st)
			}
			x.forget(off)
		}
	}
	// The groups drop what is gone once it is out of states.
	for _, st := range touched {
		x.settleGroupOf(st)
	}
	x.cursor = logStart
	x.scan = max(x.scan, logStart)
	x.advanceCursor()
}

// advanceCursor moves the cursor over deleted messages and forgets them.
func (x *partitionIndex) advanceCursor() {
	for x.cursor < x.scan {
		st := x.states[x.cursor]
		if st == nil || !st.deleted {
			return
		}
		x.forget(x.cursor)
		x.cursor++
	}
}

func (x *partitionIndex) forget(offset int64) {
	delete(x.states, offset)
	x.dropped = append(x.dropped, offset)
}

// takeDropped returns the offsets forgotten since the last call.
func (x *partitionIndex) takeDropped() []int64 {
	d := x.dropped
	x.dropped = nil
	return d
}

// counts returns the Approximate* numbers of GetQueueAttributes for this
// partition, whose high watermark is hw: visible, in flight (received and
// not visible yet) and delayed messages.
func (x *partitionIndex) counts(now, hw int64) (visible, inFlight, delayed int64) {
	deleted := int64(0)
	for _, st := range x.states {
		switch {
		case st.deleted:
			deleted++
		case st.visibleAt <= now:
		case st.receives == 0:
			delayed++
		default:
			inFlight++
		}
	}
	visible = max(hw-x.cursor-deleted-inFlight-delayed, 0)
	return visible, inFlight, delayed
}

// pendingHeap orders the states that are not deleted by visibleAt, then
// offset, keeping each state's slot current.
type pendingHeap struct{ states []*messageState }

func (h *pendingHeap) Len() int { return len(h.states) }

func (h *pendingHeap) Less(i, j int) bool {
	a, b := h.states[i], h.states[j]
	return a.visibleAt < b.visibleAt || a.visibleAt == b.visibleAt && a.offset < b.offset
}

func (h *pendingHeap) Swap(i, j int) {
	h.states[i], h.states[j] = h.states[j], h.states[i]
	h.states[i].slot, h.states[j].slot = i, j
}

func (h *pendingHeap) Push(v any) {
	st := v.(*messageState)
	st.slot = len(h.states)
	h.states = append(h.states, st)
}

func (h *pendingHeap) Pop() any {
	last := h.states[len(h.states)-1]
	h.states[len(h.states)-1] = nil
	h.states = h.states[:len(h.states)-1]
	return last
}

// slotHeap is a heap of slots of a pendingHeap's array, in the same order,
// for walking it best-first without changing it.
type slotHeap struct {
	states []*messageState
	slots  []int
}

func (h *slotHeap) Len() int { return len(h.slots) }

func (h *slotHeap) Less(i, j int) bool {
	p := pendingHeap{states: h.states}
	return p.Less(h.slots[i], h.slots[j])
}

func (h *slotHeap) Swap(i, j int) { h.slots[i], h.slots[j] = h.slots[j], h.slots[i] }
func (h *slotHeap) Push(v any)    { h.slots = append(h.slots, v.(int)) }

func (h *slotHeap) Pop() any {
	last := h.slots[len(h.slots)-1]
	h.slots = h.slots[:len(h.slots)-1]
	return last
}
