package sqs

import (
	"context"
	"testing"
	"time"

	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

func TestQueueAcrossPartitions(t *testing.T) {
	ctx := context.Background()
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st, err := s.CreateStream(ctx, store.StreamConfig{Name: "q", ShardCount: 3})
	if err != nil {
		t.Fatal(err)
	}
	sendTo(t, s, "q", 0, 0, 0)
	sendTo(t, s, "q", 2, 0, 0, 0)
	q, err := openQueue(ctx, s, st)
	if err != nil {
		t.Fatal(err)
	}
	clock := func() int64 { return time.Now().UnixMilli() }
	seen := map[int32]int{}
	for {
		got, err := q.receive(ctx, clock, 2, 60_000, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			break
		}
		for _, m := range got {
			seen[m.partition]++
		}
	}
	if seen[0] != 2 || seen[2] != 3 || len(seen) != 2 {
		t.Fatalf("received per partition: %v, want 2 from 0 and 3 from 2", seen)
	}

	// A long poll over every partition wakes for a message in any of them.
	done := make(chan []receivedMessage, 1)
	go func() {
		got, err := q.receive(ctx, clock, 10, 60_000, clock()+3_600_000)
		if err != nil {
			t.Error(err)
		}
		done <- got
	}()
	time.Sleep(10 * time.Millisecond) // let the poll start; it wakes either way
	sendTo(t, s, "q", 1, 0)
	select {
	case got := <-done:
		if len(got) != 1 || got[0].partition != 1 {
			t.Fatalf("long poll got %+v, want the message of partition 1", got)
		}
	case <-time.After(time.Minute): // a hang guard, not a measurement
		t.Fatal("a send to partition 1 did not end the long poll")
	}
}
