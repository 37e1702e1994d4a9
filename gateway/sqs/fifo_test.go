package sqs

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// fifoMessage is a message to send in the FIFO tests: its group, and the
// end of its delay (Unix ms; 0 for none).
type fifoMessage struct {
	group string
	delay int64
}

// sendGroups appends messages to partition 0 of queue as one batch, each
// with its group as the key.
func sendGroups(t testing.TB, s store.Store, queue string, msgs ...fifoMessage) {
	t.Helper()
	recs := make([]recordbatch.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = recordbatch.Record{Offset: int64(i), Key: []byte(m.group), Value: []byte("m" + strconv.Itoa(i))}
		if m.delay > 0 {
			recs[i].Headers = []recordbatch.Header{{Key: headerDelayUntil, Value: []byte(strconv.FormatInt(m.delay, 10))}}
		}
	}
	batch, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendBatch(context.Background(), queue, 0, batch, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

// groupsOf turns "AAB" into three messages of groups A, A and B.
func groupsOf(letters string) []fifoMessage {
	var out []fifoMessage
	for _, c := range letters {
		out = append(out, fifoMessage{group: string(c)})
	}
	return out
}

// openFIFO loads partition 0 of a FIFO queue, as a start (or a restart)
// does.
func openFIFO(t testing.TB, s store.Store, queue string) *partitionQueue {
	t.Helper()
	q := &partitionQueue{store: s, queue: queue, fifo: true}
	if err := q.load(context.Background()); err != nil {
		t.Fatal(err)
	}
	return q
}

func newFIFOStore(t testing.TB, dir string) *embedded.Store {
	t.Helper()
	s, err := embedded.Open(embedded.Options{Dir: dir, InMemory: dir == ""})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestFIFOReceive drives one FIFO partition through steps and checks what
// each receive returns. A delete or a visibility change names a message by
// its offset and uses the nonce of its latest receive.
func TestFIFOReceive(t *testing.T) {
	type step struct {
		at   int64  // now, Unix ms
		op   string // send GROUPS | delayed GROUP UNTIL | recv N VISIBILITY | del OFF | stale OFF | vis OFF MS | restart
		want string // recv: the offsets returned, in order
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a group in order, blocked while in flight", []step{
			{0, "send AAA", ""},
			{0, "recv 1 30000", "0"},
			{0, "recv 10 30000", ""},
			{0, "del 0", ""},
			{0, "recv 1 30000", "1"},
			{0, "del 1", ""},
			{0, "recv 10 30000", "2"},
		}},
		{"several of one group in one receive, then the next group", []step{
			{0, "send AAABBC", ""},
			{0, "recv 4 30000", "0 1 2 3"},
			{0, "recv 10 30000", "5"},
		}},
		{"other groups pass a blocked one", []step{
			{0, "send ABACA", ""},
			{0, "recv 1 30000", "0"},
			{0, "recv 10 30000", "1 3"},
			{0, "del 0", ""},
			{0, "recv 10 30000", "2 4"},
		}},
		{"a message visible again comes before the rest of its group", []step{
			{0, "send AA", ""},
			{0, "recv 1 10000", "0"},
			{9999, "recv 10 10000", ""},
			{10000, "recv 10 10000", "0 1"},
		}},
		{"a visibility change to 0 gives it back first", []step{
			{0, "send AAB", ""},
			{0, "recv 1 30000", "0"},
			{0, "vis 0 0", ""},
			{0, "recv 10 30000", "0 1 2"},
		}},
		{"a group stays blocked while any of its messages is in flight", []step{
			{0, "send AAA", ""},
			{0, "recv 2 30000", "0 1"},
			{0, "vis 0 0", ""},
			{0, "recv 10 30000", ""},
			{0, "vis 1 0", ""},
			{0, "recv 10 30000", "0 1 2"},
		}},
		{"a message deleted out of order is not returned again", []step{
			{0, "send AAA", ""},
			{0, "recv 2 1000", "0 1"},
			{0, "del 1", ""},
			{1000, "recv 10 1000", "0 2"},
		}},
		{"a stale receipt deletes nothing and unblocks nothing", []step{
			{0, "send AA", ""},
			{0, "recv 1 1000", "0"},
			{1000, "recv 1 30000", "0"},
			{1000, "stale 0", ""},
			{1000, "recv 10 30000", ""},
			{1000, "del 0", ""},
			{1000, "recv 10 30000", "1"},
		}},
		{"a delayed message blocks its group until its delay ends", []step{
			{0, "delayed A 5000", ""},
			{0, "send AB", ""},
			{0, "recv 10 30000", "2"},
			{5000, "recv 10 30000", "0 1"},
		}},
		{"a receive with visibility 0 returns a message once", []step{
			{0, "send AB", ""},
			{0, "recv 10 0", "0 1"},
			{0, "recv 10 0", "0 1"},
		}},
		{"a restart keeps blocked groups blocked and held messages in order", []step{
			{0, "send ABAB", ""},
			{0, "recv 1 30000", "0"},
			{0, "recv 1 30000", "1"},
			{0, "restart", ""},
			{0, "recv 10 30000", ""},
			{0, "send AC", ""},
			{0, "recv 10 30000", "5"},
			{0, "restart", ""},
			{0, "del 1", ""},
			{0, "recv 10 30000", "3"},
			{29999, "restart", ""},
			{29999, "recv 10 30000", ""},
			{30000, "recv 10 30000", "0 2 4 3 5"},
		}},
		{"a restart keeps a delayed group's order", []step{
			{0, "delayed A 5000", ""},
			{0, "send AB", ""},
			{0, "recv 10 30000", "2"},
			{0, "restart", ""},
			{4999, "recv 10 30000", ""},
			{5000, "recv 10 30000", "0 1"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s := newFIFOStore(t, dir)
			defer func() { s.Close() }()
			if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "q.fifo", ShardCount: 1}); err != nil {
				t.Fatal(err)
			}
			q := openFIFO(t, s, "q.fifo")
			nonces := map[int64]uint32{}
			for i, st := range tc.steps {
				f := strings.Fields(st.op)
				num := func(j int) int64 {
					n, err := strconv.ParseInt(f[j], 10, 64)
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					return n
				}
				switch f[0] {
				case "send":
					sendGroups(t, s, "q.fifo", groupsOf(f[1])...)
				case "delayed":
					sendGroups(t, s, "q.fifo", fifoMessage{group: f[1], delay: num(2)})
				case "recv":
					got, err := q.receive(ctx, st.at, int(num(1)), num(2))
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					var offs []string
					for _, m := range got {
						offs = append(offs, strconv.FormatInt(m.record.Offset, 10))
						nonces[m.record.Offset] = m.state.nonce
					}
					if strings.Join(offs, " ") != st.want {
						t.Fatalf("step %d (%s at %d): got [%s], want [%s]", i, st.op, st.at, strings.Join(offs, " "), st.want)
					}
				case "del", "stale":
					nonce := nonces[num(1)]
					if f[0] == "stale" {
						nonce--
					}
					ok, err := removeOne(ctx, q, num(1), nonce)
					if err != nil || ok != (f[0] == "del") {
						t.Fatalf("step %d (%s): deleted %v, %v", i, st.op, ok, err)
					}
				case "vis":
					if err := q.changeVisibility(ctx, num(1), nonces[num(1)], st.at, st.at+num(2)); err != nil {
						t.Fatalf("step %d (%s): %v", i, st.op, err)
					}
				case "restart":
					if err := s.Close(); err != nil {
						t.Fatal(err)
					}
					s = newFIFOStore(t, dir)
					q = openFIFO(t, s, "q.fifo")
				default:
					t.Fatalf("step %d: unknown op %q", i, st.op)
				}
			}
		})
	}
}

// TestFIFOHeldBound: a receive passes over at most maxHeldPerReceive
// messages of blocked groups; the next one goes on from there, and the
// messages behind are not lost.
func TestFIFOHeldBound(t *testing.T) {
	ctx := context.Background()
	s := newFIFOStore(t, "")
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "q.fifo", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	sendGroups(t, s, "q.fifo", groupsOf(strings.Repeat("A", maxHeldPerReceive+2)+"B")...)
	q := openFIFO(t, s, "q.fifo")
	if got, _ := q.receive(ctx, 0, 1, 30_000); !slices.Equal(offsetsOf(got), []int64{0}) {
		t.Fatalf("first receive: %v", offsetsOf(got))
	}
	if got, _ := q.receive(ctx, 0, 10, 30_000); len(got) != 0 || q.index.scan != maxHeldPerReceive+1 {
		t.Fatalf("second receive: %v, scan %d; want nothing, %d held", offsetsOf(got), q.index.scan, maxHeldPerReceive)
	}
	if got, _ := q.receive(ctx, 0, 10, 30_000); !slices.Equal(offsetsOf(got), []int64{maxHeldPerReceive + 2}) {
		t.Fatalf("third receive: %v, want B's message", offsetsOf(got))
	}
}

// States kept without their group (before FIFO partitions kept it) are
// given it from their records at load, so the groups come back right.
func TestFIFOLoadStatesWithoutGroups(t *testing.T) {
	ctx := context.Background()
	s := newFIFOStore(t, "")
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "q.fifo", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	sendGroups(t, s, "q.fifo", groupsOf("ABA")...)
	// 0 (A) in flight until 30 s, and 1 (B) too, kept the old way.
	err := s.Update(ctx,
		store.KV{Namespace: stateNamespace, Key: messageKey("q.fifo", 0, 0), Value: encodeState(messageState{offset: 0, receives: 1, visibleAt: 30_000, nonce: 1})},
		store.KV{Namespace: stateNamespace, Key: messageKey("q.fifo", 0, 1), Value: encodeState(messageState{offset: 1, receives: 1, visibleAt: 30_000, nonce: 1})})
	if err != nil {
		t.Fatal(err)
	}
	q := openFIFO(t, s, "q.fifo")
	if g := q.index.groups["A"]; g == nil || !slices.Equal(g.offsets, []int64{0}) || q.index.groups["B"] == nil {
		t.Fatalf("groups after load: %v", q.index.groups)
	}
	// A is blocked, so 2 waits; B is blocked too.
	if got, _ := q.receive(ctx, 0, 10, 30_000); len(got) != 0 {
		t.Fatalf("receive while A and B are in flight: %v", offsetsOf(got))
	}
	if ok, err := removeOne(ctx, q, 0, 1); !ok || err != nil {
		t.Fatalf("delete 0: %v %v", ok, err)
	}
	if got, _ := q.receive(ctx, 0, 10, 30_000); !slices.Equal(offsetsOf(got), []int64{2}) {
		t.Fatalf("receive after deleting 0: %v, want 2", offsetsOf(got))
	}
}

// A long poll on a FIFO partition whose only messages wait behind a
// blocked group is woken by the delete that unblocks it, and its timer is
// the group's visibility timeout, not the waiting message's time.
func TestFIFODeleteWakesLongPoll(t *testing.T) {
	ctx := context.Background()
	s := newFIFOStore(t, "")
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "q.fifo", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	sendGroups(t, s, "q.fifo", groupsOf("AA")...)
	q := openFIFO(t, s, "q.fifo")
	const hour = int64(3_600_000)
	now := time.Now().UnixMilli()
	got, err := q.receive(ctx, now, 1, hour)
	if err != nil || len(got) != 1 {
		t.Fatalf("receive: %v %v", offsetsOf(got), err)
	}
	if got, _ := q.receive(ctx, now, 1, hour); len(got) != 0 { // holds message 1
		t.Fatalf("receive while A is in flight: %v", offsetsOf(got))
	}
	if at, ok := q.index.nextVisible(); !ok || at != now+hour {
		t.Fatalf("next visible %d %v, want the in-flight message's %d", at, ok, now+hour)
	}
	done := make(chan error, 1)
	go func() { done <- q.wait(ctx, now, now+hour) }()
	time.Sleep(10 * time.Millisecond) // let the wait start; it wakes either way
	if ok, err := removeOne(ctx, q, 0, got[0].state.nonce); !ok || err != nil {
		t.Fatalf("delete: %v %v", ok, err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(time.Minute): // a hang guard, not a measurement
		t.Fatal("the delete did not end the wait")
	}
	if got, _ := q.receive(ctx, now, 1, hour); !slices.Equal(offsetsOf(got), []int64{1}) {
		t.Fatalf("after the delete: %v", offsetsOf(got))
	}
}
