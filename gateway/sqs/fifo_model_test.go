package sqs

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/streambridge/bridge/store"
)

// fifoModel is the reference for FIFO receives: every message's fate in a
// plain slice, and SQS's rules checked against it directly.
type fifoModel struct {
	msgs []*modelMessage
}

type modelMessage struct {
	group     string
	delay     int64 // Unix ms its delay ends; 0 for none
	received  bool
	deleted   bool
	receives  int32
	visibleAt int64
	nonce     uint32
}

func (m *modelMessage) inFlight(now int64) bool {
	return m.received && !m.deleted && m.visibleAt > now
}

func (m *modelMessage) visible(now int64) bool {
	if m.deleted {
		return false
	}
	if m.received {
		return m.visibleAt <= now
	}
	return m.delay <= now
}

// groupLeft returns the offsets of a group's messages not deleted, in
// order.
func (f *fifoModel) groupLeft(group string) []int64 {
	var out []int64
	for off, m := range f.msgs {
		if m.group == group && !m.deleted {
			out = append(out, int64(off))
		}
	}
	return out
}

func (f *fifoModel) blocked(group string, now int64) bool {
	for _, m := range f.msgs {
		if m.group == group && m.inFlight(now) {
			return true
		}
	}
	return false
}

// check verifies a receive of at most n at now that returned got, against
// the state before it, then records it.
func (f *fifoModel) check(t *testing.T, where string, now int64, n int, visibility int64, got []receivedMessage) {
	t.Helper()
	if len(got) > n {
		t.Fatalf("%s: %d messages, asked for %d", where, len(got), n)
	}
	byGroup := map[string][]int64{}
	seen := map[int64]bool{}
	for _, r := range got {
		off := r.record.Offset
		m := f.msgs[off]
		switch {
		case seen[off]:
			t.Fatalf("%s: %d returned twice", where, off)
		case !m.visible(now):
			t.Fatalf("%s: %d returned but not visible (%+v)", where, off, *m)
		case string(r.record.Key) != m.group:
			t.Fatalf("%s: %d has key %q, want %q", where, off, r.record.Key, m.group)
		case f.blocked(m.group, now):
			t.Fatalf("%s: %d returned while its group %s has a message in flight", where, off, m.group)
		}
		seen[off] = true
		byGroup[m.group] = append(byGroup[m.group], off)
	}
	// What a receive returns of a group is its first messages left, in
	// order; and, when the receive was not full, every one of them that is
	// visible in a row from the first (nothing is held up by another group).
	groups := map[string]bool{}
	for _, m := range f.msgs {
		groups[m.group] = true
	}
	for g := range groups {
		left := f.groupLeft(g)
		taken := byGroup[g]
		if !slices.Equal(taken, left[:len(taken)]) {
			t.Fatalf("%s: group %s returned %v, its messages left are %v", where, g, taken, left)
		}
		if len(got) == n || f.blocked(g, now) {
			continue
		}
		run := 0
		for run < len(left) && f.msgs[left[run]].visible(now) {
			run++
		}
		if len(taken) != run {
			t.Fatalf("%s: group %s returned %v of %v, %d of which are visible in a row; the receive was not full (%d of %d)",
				where, g, taken, left, run, len(got), n)
		}
	}
	for _, r := range got {
		m := f.msgs[r.record.Offset]
		m.received, m.receives, m.visibleAt = true, m.receives+1, now+visibility
		if r.state.receives != m.receives || r.state.nonce == m.nonce || r.state.visibleAt != m.visibleAt {
			t.Fatalf("%s: %d's state %+v, model %+v", where, r.record.Offset, r.state, *m)
		}
		m.nonce = r.state.nonce
	}
}

// A random walk of sends, receives, deletes (some stale), visibility
// changes, time and restarts on one FIFO partition, every receive checked
// against the model; at the end every message is received and deleted.
func TestFIFOModel(t *testing.T) {
	rounds, steps := 40, 300
	if testing.Short() {
		rounds = 5
	}
	for round := range rounds {
		rng := rand.New(rand.NewPCG(uint64(round), 11))
		ctx := context.Background()
		s := newFIFOStore(t, "")
		if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "m.fifo", ShardCount: 1}); err != nil {
			t.Fatal(err)
		}
		q := openFIFO(t, s, "m.fifo")
		f := &fifoModel{}
		groups := []string{"A", "B", "C", "D", ""}
		var now int64
		for step := range steps {
			where := fmt.Sprintf("round %d step %d", round, step)
			now += int64(rng.IntN(40))
			switch op := rng.IntN(12); {
			case op < 3: // a send of 1 to 4 messages
				var batch []fifoMessage
				for range 1 + rng.IntN(4) {
					m := fifoMessage{group: groups[rng.IntN(len(groups))]}
					if rng.IntN(8) == 0 {
						m.delay = now + int64(rng.IntN(200))
					}
					batch = append(batch, m)
					f.msgs = append(f.msgs, &modelMessage{group: m.group, delay: m.delay})
				}
				sendGroups(t, s, "m.fifo", batch...)
			case op < 7: // a receive
				n := 1 + rng.IntN(10)
				vis := int64(rng.IntN(150))
				got, err := q.receive(ctx, now, n, vis)
				if err != nil {
					t.Fatal(err)
				}
				f.check(t, where, now, n, vis, got)
			case op < 10: // a delete of a received message, sometimes stale
				var cands []int64
				for off, m := range f.msgs {
					if m.received && !m.deleted {
						cands = append(cands, int64(off))
					}
				}
				if len(cands) == 0 {
					continue
				}
				off := cands[rng.IntN(len(cands))]
				m := f.msgs[off]
				nonce := m.nonce
				if rng.IntN(5) == 0 {
					nonce--
				}
				ok, err := removeOne(ctx, q, off, nonce)
				if err != nil || ok != (nonce == m.nonce) {
					t.Fatalf("%s: delete %d: %v %v (model %+v)", where, off, ok, err, *m)
				}
				m.deleted = ok
			case op == 10: // a visibility change of a message in flight
				for off, m := range f.msgs {
					if m.inFlight(now) {
						at := now + int64(rng.IntN(3))*int64(rng.IntN(100))
						if err := q.changeVisibility(ctx, int64(off), m.nonce, now, at); err != nil {
							t.Fatalf("%s: visibility of %d: %v", where, off, err)
						}
						m.visibleAt = at
						break
					}
				}
			default: // a restart
				q = openFIFO(t, s, "m.fifo")
			}
			inFlight := 0
			for _, m := range f.msgs {
				if m.inFlight(now) {
					inFlight++
				}
			}
			if _, got, _ := q.index.counts(now, int64(len(f.msgs))); got != int64(inFlight) {
				t.Fatalf("%s: %d in flight, model %d", where, got, inFlight)
			}
		}
		// Drain: once every visibility is over, everything left comes out in
		// group order and is deleted.
		for range len(f.msgs) + 1 {
			now += 1_000
			got, err := q.receive(ctx, now, 10, 1)
			if err != nil {
				t.Fatal(err)
			}
			f.check(t, "drain", now, 10, 1, got)
			for _, r := range got {
				if ok, err := removeOne(ctx, q, r.record.Offset, r.state.nonce); !ok || err != nil {
					t.Fatalf("drain: delete %d: %v %v", r.record.Offset, ok, err)
				}
				f.msgs[r.record.Offset].deleted = true
			}
			if len(got) == 0 {
				break
			}
		}
		for off, m := range f.msgs {
			if !m.deleted {
				t.Fatalf("round %d: message %d never came out (%+v)", round, off, *m)
			}
		}
		if len(q.index.groups) != 0 || q.index.cursor != int64(len(f.msgs)) || len(q.index.states) != 0 {
			t.Fatalf("round %d: after the drain: %d groups, cursor %d of %d, %d states", round, len(q.index.groups), q.index.cursor, len(f.msgs), len(q.index.states))
		}
		s.Close()
	}
}
