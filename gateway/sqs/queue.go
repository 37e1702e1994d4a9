package sqs

import (
	"context"
	"sync/atomic"

	"github.com/streambridge/bridge/store"
)

// queue is one SQS queue: the partitions of its stream, served in turn.
type queue struct {
	name  string
	parts []*partitionQueue
	next  atomic.Uint32 // the partition the next receive starts at
}

// openQueue loads the state of every partition of the stream name.
func openQueue(ctx context.Context, s store.Store, name string) (*queue, error) {
	st, err := s.DescribeStream(ctx, name)
	if err != nil {
		return nil, err
	}
	q := &queue{name: name}
	for _, p := range st.Partitions {
		pq := &partitionQueue{store: s, queue: name, partition: p.ID}
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
