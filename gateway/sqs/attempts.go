package sqs

// ReceiveRequestAttemptId on FIFO queues: a ReceiveMessage retried with
// the attempt id of an earlier one (within 5 minutes) returns the same
// messages with the same receipt handles, and starts their visibility
// timeout again, as long as none of them was deleted, received again or
// had its visibility changed since; otherwise the retry is a receive of its
// own. This is how SQS lets a consumer that lost an answer (a network
// failure) get it back instead of leaving its messages, and their groups,
// blocked until the visibility timeout ends.
//
// The attempts are kept in memory only, per queue engine: they do not
// survive a restart (nor a queue growing partitions). A retry after a
// restart is a receive of its own; the messages of the lost answer stay in
// flight (their states are durable) and come back when their visibility
// timeout ends, so nothing is lost, only delayed.

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/streambridge/bridge/store"
)

// attemptWindow is how long SQS honours a ReceiveRequestAttemptId.
const attemptWindow = 5 * time.Minute

// receiveAttempts are the attempts of one queue.
type receiveAttempts struct {
	mu    sync.Mutex
	byID  map[string]*receiveAttempt
	order []*receiveAttempt // by start, which is expiry order
}

// receiveAttempt is one attempt id's receive.
type receiveAttempt struct {
	id      string
	expires int64         // Unix ms
	done    chan struct{} // closed when the receive that made it ended
	// mu serializes the retries that repeat it; msgs is written once
	// before done is closed, then only under mu.
	mu   sync.Mutex
	msgs []receivedMessage
}

// begin returns the attempt of id at now: a finished one to repeat, or,
// when there is none, a new one the caller owns (owner true) and must
// finish. A retry that comes while the first receive still runs waits for
// it.
func (a *receiveAttempts) begin(ctx context.Context, id string, now int64) (at *receiveAttempt, owner bool, err error) {
	for {
		a.mu.Lock()
		a.expire(now)
		at = a.byID[id]
		if at == nil {
			if a.byID == nil {
				a.byID = map[string]*receiveAttempt{}
			}
			at = &receiveAttempt{id: id, expires: now + attemptWindow.Milliseconds(), done: make(chan struct{})}
			a.byID[id] = at
			a.order = append(a.order, at)
			a.mu.Unlock()
			return at, true, nil
		}
		a.mu.Unlock()
		select {
		case <-at.done:
		case <-ctx.Done():
			return nil, false, ctx.Err()
		}
		if len(at.msgs) > 0 {
			return at, false, nil
		}
		// Its receive got nothing and forgot it: this one starts anew.
	}
}

// finish records what the owner's receive returned (nil after an error).
// An attempt that returned nothing is forgotten: there is nothing to
// repeat, and a retry receives anew.
func (a *receiveAttempts) finish(at *receiveAttempt, msgs []receivedMessage) {
	at.msgs = msgs
	if len(msgs) == 0 {
		a.forget(at)
	}
	close(at.done)
}

// forget drops an attempt, if it is still the one of its id.
func (a *receiveAttempts) forget(at *receiveAttempt) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.byID[at.id] == at {
		delete(a.byID, at.id)
	}
}

// expire drops the attempts whose window ended. Called under mu.
func (a *receiveAttempts) expire(now int64) {
	i := 0
	for i < len(a.order) && a.order[i].expires <= now {
		if at := a.order[i]; a.byID[at.id] == at {
			delete(a.byID, at.id)
		}
		i++
	}
	a.order = slices.Delete(a.order, 0, i)
}

// repeat answers a retry of a finished attempt: its messages in flight
// until visibleAt again, with the same receipt handles; ok is false when
// one of them changed since, and the retry must receive anew.
func (q *queue) repeat(ctx context.Context, at *receiveAttempt, now, visibleAt int64) (msgs []receivedMessage, ok bool, err error) {
	at.mu.Lock()
	defer at.mu.Unlock()
	msgs, ok, err = q.renew(ctx, at.msgs, now, visibleAt)
	if ok {
		at.msgs = msgs
	}
	return msgs, ok, err
}

// renew makes messages a receive returned invisible until visibleAt again,
// keeping their receipt handles, if every one is still as that receive
// left it (same nonce and visibility, not deleted); ok is false, and
// nothing changes, otherwise. It holds the locks of the partitions
// concerned, taken in partition order, so the check and the change are
// one, and persists the change in one write.
func (q *queue) renew(ctx context.Context, msgs []receivedMessage, now, visibleAt int64) (out []receivedMessage, ok bool, err error) {
	if len(msgs) == 0 {
		return nil, false, nil
	}
	var parts []int32
	for _, m := range msgs {
		if !slices.Contains(parts, m.partition) {
			parts = append(parts, m.partition)
		}
	}
	slices.Sort(parts)
	for _, p := range parts {
		q.parts[p].mu.Lock()
		defer q.parts[p].mu.Unlock()
		if q.parts[p].closed {
			return nil, false, errNoQueue
		}
	}
	for _, m := range msgs {
		st := q.parts[m.partition].index.states[m.record.Offset]
		if st == nil || st.deleted || st.nonce != m.state.nonce || st.visibleAt != m.state.visibleAt {
			return nil, false, nil
		}
	}
	out = make([]receivedMessage, len(msgs))
	writes := make([]store.KV, len(msgs))
	for i, m := range msgs {
		p := q.parts[m.partition]
		st := p.index.extend(p.index.states[m.record.Offset], visibleAt)
		out[i], writes[i] = m, p.stateKV(st)
		out[i].state = st
	}
	if err := q.parts[parts[0]].store.Update(ctx, writes...); err != nil {
		return nil, false, err
	}
	if visibleAt <= now {
		for _, p := range parts {
			q.parts[p].wake()
		}
	}
	return out, true, nil
}
