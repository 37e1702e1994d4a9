package sqs

import (
	"container/heap"
	"math"
	"slices"
)

// The message groups of a FIFO partition's index (ARCHITECTURE.md,
// "Queues"). SQS delivers a group's messages in order and one batch at a
// time: while any message of a group is in flight (received, not deleted,
// its visibility timeout not over), no other message of the group is
// returned; once none is, the earliest one left comes first, followed in
// the same receive by as many of the next ones as fit. Other groups go on
// meanwhile, so a blocked group must not hold up the messages behind it in
// the log.
//
// The index keeps, for each group with a message in its states, the
// offsets of those messages (groupState). Invariants, for every group:
//
//   - its offsets ascend, and every message of the group between the cursor
//     and the scan position that is not deleted is among them (deleted or
//     forgotten ones leave lazily, from the front);
//   - its received messages come before its never-received ones: a receive
//     takes a group's messages from its first on, consecutively, so what was
//     received is always a prefix of what is left;
//   - availableAt is the maximum visibleAt of its received messages, or,
//     when it has none, the visibleAt of its first message (waiting,
//     visibleAt 0, or delayed until visibleAt): the group may be served at
//     availableAt and not before, and then its first message is visible.
//
// ready orders the groups by (availableAt, first offset), so a receive
// finds the groups it may serve without looking at the blocked ones, and a
// long poll's timer is the first group's availableAt.
//
// A message the scan reaches whose group is blocked gets a state anyway
// (hold: waiting, never received), persisted like any other, so the scan
// moves on to other groups' messages and a restart finds it where it was:
// from the cursor to the scan position every message has a state on FIFO
// partitions as on standard ones, and the groups are rebuilt from those
// states (restore), which carry their group.

// groupState is one message group of a FIFO partition.
type groupState struct {
	key         string
	offsets     []int64 // see the invariants above
	availableAt int64   // Unix ms
	slot        int     // index in ready
}

// newFIFOIndex returns the index of a FIFO queue's partition.
func newFIFOIndex(cursor int64) *partitionIndex {
	x := newPartitionIndex(cursor)
	x.groups = map[string]*groupState{}
	return x
}

// gone reports whether the message at offset left its group: deleted, or
// forgotten (the cursor or retention passed it).
func (x *partitionIndex) gone(offset int64) bool {
	st := x.states[offset]
	return st == nil || st.deleted
}

// join adds a message's state to its group, making the group if needed.
func (x *partitionIndex) join(st *messageState) {
	g := x.groups[st.group]
	if g == nil {
		// In the heap a group always has an offset: its order needs one.
		g = &groupState{key: st.group, offsets: []int64{st.offset}, availableAt: st.visibleAt}
		x.groups[st.group] = g
		heap.Push(&x.ready, g)
		return
	}
	// Messages join in offset order (the scan, and restore in key order);
	// the insertion keeps the order should one not.
	if n := len(g.offsets); g.offsets[n-1] < st.offset {
		g.offsets = append(g.offsets, st.offset)
	} else if i, found := slices.BinarySearch(g.offsets, st.offset); !found {
		g.offsets = slices.Insert(g.offsets, i, st.offset)
	}
	x.settle(g)
}

// settleGroupOf recomputes the group of a state that changed.
func (x *partitionIndex) settleGroupOf(st *messageState) {
	if x.groups == nil || !st.grouped {
		return
	}
	if g := x.groups[st.group]; g != nil {
		x.settle(g)
	}
}

// settle drops what left the front of a group, forgets the group when
// nothing is left, and recomputes its availableAt. It walks the received
// prefix and one more message: receives of at most 10 messages, each from
// the group's first on, keep that short.
func (x *partitionIndex) settle(g *groupState) {
	i := 0
	for i < len(g.offsets) && x.gone(g.offsets[i]) {
		i++
	}
	g.offsets = g.offsets[i:]
	if len(g.offsets) == 0 {
		heap.Remove(&x.ready, g.slot)
		delete(x.groups, g.key)
		return
	}
	at := int64(math.MinInt64)
	for _, off := range g.offsets {
		st := x.states[off]
		if st == nil || st.deleted {
			continue
		}
		if st.receives == 0 {
			if at == math.MinInt64 {
				at = st.visibleAt // nothing received: the first one's time
			}
			break
		}
		at = max(at, st.visibleAt)
	}
	g.availableAt = at
	heap.Fix(&x.ready, g.slot)
}

// readyGroups returns up to n groups that may be served at now, earliest
// available first. Each has at least one visible message to give.
func (x *partitionIndex) readyGroups(now int64, n int) []*groupState {
	var out []*groupState
	for len(out) < n && len(x.ready.groups) > 0 && x.ready.groups[0].availableAt <= now {
		out = append(out, heap.Pop(&x.ready).(*groupState))
	}
	for _, g := range out {
		heap.Push(&x.ready, g)
	}
	return out
}

// takeable returns the offsets a receive at now may take from a ready
// group, at most n: its messages from the first on, while they are
// visible. all is true when they are every message the group has left, so
// that the receive may go on with the group's next messages in the log.
func (x *partitionIndex) takeable(g *groupState, now int64, n int) (offsets []int64, all bool) {
	for _, off := range g.offsets {
		st := x.states[off]
		switch {
		case st == nil || st.deleted:
			continue
		case len(offsets) == n || st.visibleAt > now:
			return offsets, false
		}
		offsets = append(offsets, off)
	}
	return offsets, true
}

// free reports whether a receive may take a group's next message from the
// log: the group has no message left in the index.
func (x *partitionIndex) free(group string) bool { return x.groups[group] == nil }

// groupHeap orders groups by availableAt, then first offset, keeping each
// group's slot current.
type groupHeap struct{ groups []*groupState }

func (h *groupHeap) Len() int { return len(h.groups) }

func (h *groupHeap) Less(i, j int) bool {
	a, b := h.groups[i], h.groups[j]
	return a.availableAt < b.availableAt || a.availableAt == b.availableAt && a.offsets[0] < b.offsets[0]
}

func (h *groupHeap) Swap(i, j int) {
	h.groups[i], h.groups[j] = h.groups[j], h.groups[i]
	h.groups[i].slot, h.groups[j].slot = i, j
}

func (h *groupHeap) Push(v any) {
	g := v.(*groupState)
	g.slot = len(h.groups)
	h.groups = append(h.groups, g)
}

func (h *groupHeap) Pop() any {
	last := h.groups[len(h.groups)-1]
	h.groups[len(h.groups)-1] = nil
	h.groups = h.groups[:len(h.groups)-1]
	last.slot = -1
	return last
}
