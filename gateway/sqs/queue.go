package sqs

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streambridge/bridge/store"
)

// queue is one SQS queue: the partitions of its stream, served in turn.
type queue struct {
	name    string
	created time.Time // the stream's: a queue made again is another queue
	parts   []*partitionQueue
	next    atomic.Uint32 // the partition the next receive starts at
	sends   atomic.Uint32 // the partition the next send of no group goes to
	sendMu  sync.Mutex    // FIFO sends take turns (send.go)
	// attempts are the FIFO receives by ReceiveRequestAttemptId
	// (attempts.go).
	attempts receiveAttempts
	// inFlight is the last count against SQS's in-flight quota
	// (inflight.go).
	inFlight inFlightCheck
}

// openQueue loads the state of every partition of a queue's stream.
func openQueue(ctx context.Context, s store.Store, st store.Stream) (*queue, error) {
	q := &queue{name: st.Name, created: st.Created}
	for _, p := range st.Partitions {
		pq := &partitionQueue{store: s, queue: st.Name, partition: p.ID, fifo: isFIFOName(st.Name)}
		if err := pq.load(ctx); err != nil {
			return nil, err
		}
		q.parts = append(q.parts, pq)
	}
	return q, nil
}

// receive returns up to n visible messages, in flight for visibility ms,
// taking partitions in turn. When none is visible it waits for one until
// waitUntil (Unix ms; now or earlier for no wait), as a long poll does.
// clock returns the current Unix ms.
func (q *queue) receive(ctx context.Context, clock func() int64, n int, visibility, waitUntil int64) ([]receivedMessage, error) {
	for {
		now := clock()
		var out []receivedMessage
		start := int(q.next.Add(1))
		for i := range q.parts {
			p := q.parts[(start+i)%len(q.parts)]
			got, err := p.receive(ctx, now, n-len(out), visibility)
			if err != nil {
				return out, err
			}
			out = append(out, got...)
			if len(out) == n {
				break
			}
		}
		if len(out) > 0 || now >= waitUntil {
			return out, nil
		}
		if err := q.wait(ctx, now, waitUntil); err != nil {
			return nil, err
		}
	}
}

// wait blocks until any partition might have a message, or until passes.
func (q *queue) wait(ctx context.Context, now, until int64) error {
	if len(q.parts) == 1 {
		return q.parts[0].wait(ctx, now, until)
	}
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	woke := make(chan error, len(q.parts))
	for _, p := range q.parts {
		go func() { woke <- p.wait(waitCtx, now, until) }()
	}
	// The first to return decides; cancel makes the others return at once
	// into the buffered channel.
	return <-woke
}

// counts sums the partitions' visible, in-flight and delayed messages.
func (q *queue) counts(ctx context.Context, now int64) (visible, inFlight, delayed int64, err error) {
	for _, p := range q.parts {
		v, f, d, err := p.counts(ctx, now)
		if err != nil {
			return 0, 0, 0, err
		}
		visible, inFlight, delayed = visible+v, inFlight+f, delayed+d
	}
	return visible, inFlight, delayed, nil
}

// purge deletes every message of the queue.
func (q *queue) purge(ctx context.Context) error {
	for _, p := range q.parts {
		if err := p.purge(ctx); err != nil {
			return err
		}
	}
	return nil
}
