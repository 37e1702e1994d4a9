package sqs

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestVisibilityLifecycle(t *testing.T) {
	x := newPartitionIndex(0)
	// Three new messages are received at t=0 for 30 s.
	var got []messageState
	for off := int64(0); off < 3; off++ {
		got = append(got, x.receive(off, 1, 30_000))
	}
	if x.scan != 3 || len(x.due(0, 10)) != 0 {
		t.Fatalf("after receiving 0-2: scan %d, due %v", x.scan, x.due(0, 10))
	}
	if at, ok := x.nextVisible(); !ok || at != 30_000 {
		t.Fatalf("nextVisible %d %v, want 30000", at, ok)
	}

	// Deleting 1 out of order keeps the cursor; deleting 0 moves it past 1.
	if _, ok := x.remove(1, got[1].nonce); !ok || x.cursor != 0 {
		t.Fatalf("remove 1: ok %v cursor %d", ok, x.cursor)
	}
	if _, ok := x.remove(0, got[0].nonce); !ok || x.cursor != 2 {
		t.Fatalf("remove 0: ok %v cursor %d, want 2", ok, x.cursor)
	}
	if _, ok := x.remove(0, got[0].nonce); ok {
		t.Fatal("a second delete of 0 deleted again")
	}

	// 2 becomes visible at 30 s and is received again: the old handle is
	// stale for deletes and visibility changes.
	if d := x.due(30_000, 10); !slices.Equal(d, []int64{2}) {
		t.Fatalf("due at 30s: %v, want [2]", d)
	}
	again := x.receive(2, 1, 60_000)
	if again.receives != 2 || again.nonce == got[2].nonce {
		t.Fatalf("second receive: %+v", again)
	}
	if _, ok := x.remove(2, got[2].nonce); ok {
		t.Fatal("a stale receipt deleted the message")
	}
	if _, err := x.changeVisibility(2, got[2].nonce, 30_000, 40_000); !errors.Is(err, errStaleReceipt) {
		t.Fatalf("stale visibility change: %v", err)
	}
	if _, err := x.changeVisibility(2, again.nonce, 30_000, 30_000); err != nil {
		t.Fatal(err)
	}
	if _, err := x.changeVisibility(2, again.nonce, 30_000, 40_000); !errors.Is(err, errNotInFlight) {
		t.Fatalf("visible message's visibility change: %v, want errNotInFlight", err)
	}
	if _, ok := x.remove(2, again.nonce); !ok || x.cursor != 3 || len(x.states) != 0 {
		t.Fatalf("remove 2: ok %v cursor %d states %v", ok, x.cursor, x.states)
	}
	if _, ok := x.nextVisible(); ok {
		t.Fatal("nothing pending, yet a next visibility")
	}
}

func TestVisibilityDelayAndCounts(t *testing.T) {
	x := newPartitionIndex(10)
	x.deferUntil(10, 5_000)  // delayed 5 s
	x.receive(11, 1, 30_000) // in flight
	// 12 and 13 are in the log, never looked at: visible.
	visible, inFlight, delayed := x.counts(0, 14)
	if visible != 2 || inFlight != 1 || delayed != 1 {
		t.Fatalf("counts at 0: %d visible, %d in flight, %d delayed; want 2 1 1", visible, inFlight, delayed)
	}
	if _, ok := x.remove(10, 0); ok {
		t.Fatal("a delayed, never received message was deleted")
	}
	if d := x.due(5_000, 10); !slices.Equal(d, []int64{10}) {
		t.Fatalf("due when the delay ends: %v", d)
	}
	if st := x.receive(10, 1, 35_000); st.receives != 1 {
		t.Fatalf("first receive of a delayed message counts %d", st.receives)
	}
	visible, inFlight, delayed = x.counts(5_000, 14)
	if visible != 2 || inFlight != 2 || delayed != 0 {
		t.Fatalf("counts at 5s: %d %d %d, want 2 2 0", visible, inFlight, delayed)
	}
}

func TestVisibilityTrimmedAndRestored(t *testing.T) {
	x := newPartitionIndex(0)
	a := x.receive(0, 1, 100)
	x.receive(1, 1, 100)
	x.remove(0, a.nonce)
	x.trimmed(5) // retention removed 0-4
	if x.cursor != 5 || x.scan != 5 || len(x.states) != 0 || x.pending.Len() != 0 {
		t.Fatalf("after trim: cursor %d scan %d states %d pending %d", x.cursor, x.scan, len(x.states), x.pending.Len())
	}

	// A restart rebuilds the same index from the persisted states; a state
	// the cursor passed before the crash is dropped.
	y := newPartitionIndex(3)
	for _, st := range []messageState{
		{offset: 2, receives: 1, visibleAt: 50, nonce: 1},
		{offset: 3, deleted: true, receives: 1, nonce: 4},
		{offset: 5, receives: 2, visibleAt: 70, nonce: 2},
	} {
		y.restore(st)
	}
	if y.cursor != 4 || y.scan != 6 || len(y.states) != 1 {
		t.Fatalf("restored: cursor %d scan %d states %v", y.cursor, y.scan, y.states)
	}
	if at, _ := y.nextVisible(); at != 70 {
		t.Fatalf("restored next visibility %d, want 70", at)
	}
}

// A random walk against a plain model: what the index says is due, its
// cursor and its counts match a map of every message's fate.
func TestVisibilityModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	type fate struct {
		received  bool
		deleted   bool
		visibleAt int64
		nonce     uint32
	}
	for round := 0; round < 50; round++ {
		x := newPartitionIndex(0)
		model := map[int64]*fate{}
		var hw, now int64
		for step := 0; step < 400; step++ {
			now += int64(rng.IntN(20))
			switch rng.IntN(5) {
			case 0: // a send
				hw++
			case 1: // a receive of up to 3: due ones first, then new ones
				for _, off := range x.due(now, 3) {
					st := x.receive(off, now, now+int64(rng.IntN(100)))
					model[off].visibleAt, model[off].nonce, model[off].received = st.visibleAt, st.nonce, true
				}
				for x.scan < hw && rng.IntN(2) == 0 {
					off := x.scan
					st := x.receive(off, now, now+int64(rng.IntN(100)))
					model[off] = &fate{received: true, visibleAt: st.visibleAt, nonce: st.nonce}
				}
			case 2, 3: // a delete, sometimes with a stale nonce
				if len(model) == 0 {
					continue
				}
				off := int64(rng.IntN(int(x.scan)))
				f := model[off]
				if f == nil {
					continue
				}
				nonce := f.nonce
				if rng.IntN(4) == 0 {
					nonce--
				}
				_, ok := x.remove(off, nonce)
				want := f.received && !f.deleted && nonce == f.nonce
				if ok != want {
					t.Fatalf("round %d step %d: remove(%d) = %v, want %v", round, step, off, ok, want)
				}
				if ok {
					f.deleted = true
				}
			case 4: // a visibility change to now
				for off, f := range model {
					if _, err := x.changeVisibility(off, f.nonce, now, now); err == nil {
						f.visibleAt = now
					}
					break
				}
			}
			var wantDue []int64
			cursor := int64(0)
			for cursor < x.scan && model[cursor] != nil && model[cursor].deleted {
				cursor++
			}
			for off, f := range model {
				if !f.deleted && f.visibleAt <= now {
					wantDue = append(wantDue, off)
				}
			}
			// Earliest visibility first, then lowest offset.
			slices.SortFunc(wantDue, func(a, b int64) int {
				if va, vb := model[a].visibleAt, model[b].visibleAt; va != vb {
					return int(va - vb)
				}
				return int(a - b)
			})
			gotDue := x.due(now, len(model)+1)
			if !slices.Equal(gotDue, wantDue) || x.cursor != cursor {
				t.Fatalf("round %d step %d: due %v cursor %d, want %v %d", round, step, gotDue, x.cursor, wantDue, cursor)
			}
			if limited := x.due(now, 2); !slices.Equal(limited, wantDue[:min(2, len(wantDue))]) {
				t.Fatalf("due limited to 2: %v, want the first two of %v", limited, wantDue)
			}
		}
	}
}
