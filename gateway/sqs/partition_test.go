package sqs

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// sendRecords appends messages to partition 0 of queue as one batch; a
// delay > 0 is the message's delay-until header.
func sendRecords(t *testing.T, s store.Store, queue string, delays ...int64) {
	t.Helper()
	sendTo(t, s, queue, 0, delays...)
}

// sendTo is sendRecords to a given partition.
func sendTo(t *testing.T, s store.Store, queue string, partition int32, delays ...int64) {
	t.Helper()
	recs := make([]recordbatch.Record, len(delays))
	for i, d := range delays {
		recs[i] = recordbatch.Record{Offset: int64(i), Value: []byte("m" + strconv.Itoa(i))}
		if d > 0 {
			recs[i].Headers = []recordbatch.Header{{Key: headerDelayUntil, Value: []byte(strconv.FormatInt(d, 10))}}
		}
	}
	batch, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendBatch(context.Background(), queue, partition, batch, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

func offsetsOf(ms []receivedMessage) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.record.Offset
	}
	return out
}

func TestPartitionQueueSurvivesRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := embedded.Open(embedded.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "q", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	sendRecords(t, s, "q", 0, 5_000, 0, 0, 0) // message 1 is delayed until 5 s

	open := func(s store.Store) *partitionQueue {
		q := &partitionQueue{store: s, queue: "q"}
		if err := q.load(ctx); err != nil {
			t.Fatal(err)
		}
		return q
	}
	q := open(s)
	got, err := q.receive(ctx, 1_000, 3, 30_000)
	if err != nil || !slices.Equal(offsetsOf(got), []int64{0, 2, 3}) {
		t.Fatalf("first receive: %v %v, want 0 2 3 (1 is delayed)", offsetsOf(got), err)
	}
	if string(got[1].record.Value) != "m2" || got[1].state.receives != 1 {
		t.Fatalf("message 2 as received: %q %+v", got[1].record.Value, got[1].state)
	}
	if ok, err := removeOne(ctx, q, 0, got[0].state.nonce); !ok || err != nil {
		t.Fatalf("delete 0: %v %v", ok, err)
	}
	if ok, _ := removeOne(ctx, q, 2, got[1].state.nonce+1); ok {
		t.Fatal("a receipt with the wrong nonce deleted message 2")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart: 0 stays deleted, 2 and 3 stay in flight until 31 s,
	// 1 stays delayed until 5 s.
	s, err = embedded.Open(embedded.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q = open(s)
	if q.index.cursor != 1 {
		t.Fatalf("cursor after restart %d, want 1", q.index.cursor)
	}
	got, err = q.receive(ctx, 6_000, 10, 30_000)
	if err != nil || !slices.Equal(offsetsOf(got), []int64{1, 4}) {
		t.Fatalf("receive at 6 s: %v %v, want 1 4", offsetsOf(got), err)
	}
	got, err = q.receive(ctx, 31_000, 10, 30_000)
	if err != nil || !slices.Equal(offsetsOf(got), []int64{2, 3}) || got[0].state.receives != 2 {
		t.Fatalf("receive at 31 s: %v %v, want 2 3 received twice", offsetsOf(got), err)
	}
	for _, m := range got {
		if ok, err := removeOne(ctx, q, m.record.Offset, m.state.nonce); !ok || err != nil {
			t.Fatalf("delete %d: %v %v", m.record.Offset, ok, err)
		}
	}
	visible, inFlight, delayed := q.index.counts(31_000, 5)
	if visible != 0 || inFlight != 2 || delayed != 0 {
		t.Fatalf("counts: %d %d %d, want 0 visible, 2 in flight (1 and 4)", visible, inFlight, delayed)
	}
	if err := q.changeVisibility(ctx, 4, 1, 31_000, 31_000); err != nil {
		t.Fatal(err)
	}
	if got, _ := q.receive(ctx, 31_000, 10, 30_000); !slices.Equal(offsetsOf(got), []int64{4}) {
		t.Fatalf("after making 4 visible: %v", offsetsOf(got))
	}
}

// A long poll ends when a message arrives, when a visibility change makes
// one visible, when an in-flight message's time comes, or when its caller
// gives up; it never polls.
func TestPartitionQueueWait(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "q", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	q := &partitionQueue{store: s, queue: "q"}
	if err := q.load(ctx); err != nil {
		t.Fatal(err)
	}
	const hour = int64(3_600_000)
	now := time.Now().UnixMilli()
	waited := func(what string, wake func()) {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- q.wait(ctx, now, now+hour) }()
		wake()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		case <-time.After(time.Minute): // a hang guard, not a measurement
			t.Fatalf("%s did not end the wait", what)
		}
	}

	waited("a new message", func() {
		time.Sleep(10 * time.Millisecond) // let the wait start; it wakes either way
		sendRecords(t, s, "q", 0)
	})
	got, err := q.receive(ctx, now, 1, hour)
	if err != nil || len(got) != 1 {
		t.Fatalf("receive: %v %v", got, err)
	}
	waited("a visibility change to 0", func() {
		time.Sleep(10 * time.Millisecond) // let the wait start; it wakes either way
		if err := q.changeVisibility(ctx, 0, got[0].state.nonce, now, now); err != nil {
			t.Error(err)
		}
	})
	got, err = q.receive(ctx, now, 1, 20) // in flight for 20 ms
	if err != nil || len(got) != 1 {
		t.Fatalf("receive again: %v %v", got, err)
	}
	waited("the visibility timeout's end", func() {})

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	q.index.receive(0, now, now+hour) // nothing due for an hour
	if err := q.wait(cctx, now, now+hour); err != context.Canceled {
		t.Fatalf("wait with a canceled context: %v", err)
	}
}

// removeOne deletes one message by its offset and receipt nonce.
func removeOne(ctx context.Context, q *partitionQueue, offset int64, nonce uint32) (bool, error) {
	deleted, err := q.remove(ctx, []receipt{{offset: offset, nonce: nonce}})
	return deleted[0], err
}

// A crash between a cursor's move and the deletion of the states it passed
// leaves states below the cursor; load skips them and deletes their keys.
func TestPartitionQueueLoadDeletesStatesBelowCursor(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "q", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	sendTo(t, s, "q", 0, 0, 0, 0, 0)
	if err := s.Update(ctx,
		store.KV{Namespace: stateNamespace, Key: cursorKey("q", 0), Value: encodeCursor(3)},
		store.KV{Namespace: stateNamespace, Key: messageKey("q", 0, 1), Value: encodeState(messageState{offset: 1, deleted: true})},
		store.KV{Namespace: stateNamespace, Key: messageKey("q", 0, 3), Value: encodeState(messageState{offset: 3, receives: 1, nonce: 1, visibleAt: 1})},
	); err != nil {
		t.Fatal(err)
	}
	q := &partitionQueue{store: s, queue: "q"}
	if err := q.load(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, stateNamespace, messageKey("q", 0, 1)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the state below the cursor is still there: %v", err)
	}
	if _, err := s.Get(ctx, stateNamespace, messageKey("q", 0, 3)); err != nil {
		t.Errorf("the state at the cursor: %v", err)
	}
	if st := q.index.states[3]; st == nil || st.receives != 1 {
		t.Errorf("state at the cursor not restored: %+v", st)
	}
}
