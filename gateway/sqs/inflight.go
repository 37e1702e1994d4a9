package sqs

// SQS's in-flight quota: a queue holds at most about 120,000 messages in
// flight (received, neither deleted nor visible again). At the quota a
// short-poll ReceiveMessage on a standard queue is refused with OverLimit;
// a long poll, and any receive on a FIFO queue, answers with no messages
// and no error (the SQS developer guide's quotas pages; aws-sdk-go#1972
// saw the long poll's empty answer). The message is the one SQS answered
// with, newline included.
//
// Counting the messages in flight visits every state of a partition, so it
// happens only when the partitions hold that many states at all (a message
// in flight always has one; most have none), and its answer is kept for a
// second, which the quota's "about" allows.

import (
	"context"
	"sync"
	"time"
)

// defaultInFlightLimit is SQS's quota, for standard and FIFO queues alike.
const defaultInFlightLimit = 120_000

// inFlightRecount is how long a counted answer is kept.
const inFlightRecount = int64(time.Second / time.Millisecond)

var errOverLimit = &Error{Type: "OverLimit", QueryCode: "OverLimit",
	Message: "Too many messages have been received without being deleted.\nPlease delete your received messages or let them timeout before receiving more."}

// inFlightCheck is a queue's last count against the quota.
type inFlightCheck struct {
	mu        sync.Mutex
	countedAt int64 // Unix ms; 0 for never
	full      bool
}

// inFlightFull reports whether the queue has limit messages in flight or
// more at now.
func (q *queue) inFlightFull(ctx context.Context, now, limit int64) (bool, error) {
	var states int64
	for _, p := range q.parts {
		n, err := p.stateCount()
		if err != nil {
			return false, err
		}
		states += n
	}
	if states < limit {
		return false, nil
	}
	c := &q.inFlight
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.countedAt != 0 && now >= c.countedAt && now-c.countedAt < inFlightRecount {
		return c.full, nil
	}
	_, inFlight, _, err := q.counts(ctx, now)
	if err != nil {
		return false, err
	}
	c.countedAt, c.full = now, inFlight >= limit
	return c.full, nil
}

// stateCount is how many messages of the partition have a state: an upper
// bound of those in flight.
func (q *partitionQueue) stateCount() (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return 0, errNoQueue
	}
	return int64(len(q.index.states)), nil
}

// atInFlightLimit answers a receive on a queue at the quota: OverLimit for
// a short poll of a standard queue; otherwise no messages once the poll's
// wait (ms) has passed, or the request or the handler ended.
func atInFlightLimit(ctx context.Context, fifo bool, wait int64) error {
	if !fifo && wait == 0 {
		return errOverLimit
	}
	if wait > 0 {
		t := time.NewTimer(time.Duration(wait) * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return nil
}
