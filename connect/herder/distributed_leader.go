package herder

// Which worker may serve a change, as Kafka's DistributedHerder decides it:
// configuration writes (create, update, delete, stop, restarts, offset
// changes) are made by the group's leader only, so that two requests on two
// workers never both pass a check against the config topic and both write
// (the leader serializes them); a worker that is not the leader answers
// with a ForwardError naming the leader, and the REST layer forwards the
// request there (connect/rest, Kafka's HerderRequestHandler). No worker
// serves a change while it knows its view is stale:
//
//   - a config change that needs a rebalance (a new or removed connector, a
//     new task count) has been read but the rebalance has not completed:
//     Kafka's checkRebalanceNeeded, 409 "stale configuration";
//   - the member is between two rounds of a rebalance (the leader refused
//     its config offset, or it must confirm revocations), or it has left
//     the group: no leader is known;
//   - after reading the config topic to its end, this worker is still
//     behind the offset its assignment was computed at.
//
// Pause and resume are not gated: Kafka writes their target state from any
// worker (AbstractHerder), and so does this herder.

import (
	"context"
	"net/url"
	"sync"

	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

// ForwardError is Kafka's RequestTargetException (NotLeaderException,
// NotAssignedException): the request must be served by the worker whose
// REST URL is URL; empty when this worker knows of none at the moment
// (a rebalance under way). The REST layer forwards the request, or
// answers 409 when it may not.
type ForwardError struct {
	URL     string
	Message string
}

func (e *ForwardError) Error() string {
	if e.URL == "" {
		return e.Message + " (no leader known)"
	}
	return e.Message + " (the request belongs to " + e.URL + ")"
}

// StaleConfigMessage is Kafka's answer to a request that arrives while a
// rebalance is needed (RebalanceNeededException), with status 409.
const StaleConfigMessage = "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"

func staleConfig() error { return &Error{409, StaleConfigMessage} }

// leaderState is what this worker knows of its group's leader and of
// rebalances under way. It has its own lock: the member's and the config
// store's callbacks update it without waiting for requests in flight.
type leaderState struct {
	mu          sync.Mutex
	joined      chan struct{} // closed at the first successful assignment
	known       bool          // the last round succeeded: url and self are the leader's
	url         string
	self        bool
	rebalanceAt int64 // -1, or the config offset of a change whose rebalance is not done
	midRound    bool  // a failed round, or revocations to confirm: another round follows

	// writes serializes the changes this worker makes as the leader:
	// check against the config topic, then write.
	writes sync.Mutex
}

func (l *leaderState) init() {
	l.joined = make(chan struct{})
	l.rebalanceAt = -1
}

// noteRebalanceNeeded records that the config topic, at offset, holds a
// change the group must rebalance for (DistributedHerder's
// needsReconfigRebalance).
func (l *leaderState) noteRebalanceNeeded(offset int64) {
	l.mu.Lock()
	l.rebalanceAt = max(l.rebalanceAt, offset)
	l.mu.Unlock()
}

// noteAssignment follows the member's rounds.
func (l *leaderState) noteAssignment(ch distributed.Change) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case ch.Error != distributed.NoError:
		// The leader is ahead in the config topic: this worker catches
		// up and rejoins.
		l.midRound = true
	case ch.Leader == "":
		// Everything revoked before a rejoin (eager), or the member was
		// cut off from the group: no leader until the next round.
		l.known, l.url, l.self, l.midRound = false, "", false, true
	default:
		l.known, l.url, l.self = true, ch.LeaderURL, ch.Leader == ch.MemberID
		// Revocations are confirmed by rejoining at once.
		l.midRound = len(ch.Revoked) > 0 || len(ch.RevokedTasks) > 0
		if l.rebalanceAt >= 0 && ch.ConfigOffset >= l.rebalanceAt {
			l.rebalanceAt = -1
		}
		select {
		case <-l.joined:
		default:
			close(l.joined)
		}
	}
}

// route says who serves a change now: nil for this worker, a 409 while a
// rebalance is needed or under way, a ForwardError naming the leader.
func (l *leaderState) route(notLeader string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.rebalanceAt >= 0 || l.midRound:
		return staleConfig()
	case !l.known:
		return &ForwardError{Message: notLeader}
	case !l.self:
		return &ForwardError{URL: l.url, Message: notLeader}
	}
	return nil
}

// rebalancePending is Kafka's checkRebalanceNeeded for requests any
// worker serves.
func (l *leaderState) rebalancePending() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rebalanceAt >= 0 || l.midRound {
		return staleConfig()
	}
	return nil
}

// asLeader starts a change only the leader makes. It waits for this
// worker's first assignment (bounded by ctx: Kafka's herder holds requests
// until it has joined), routes the request (route), and on the leader
// reads the config topic to its end and checks that this worker is not
// behind its assignment. It returns the snapshot to check the request
// against, with the leader's write lock held until release is called.
func (d *Distributed) asLeader(ctx context.Context, notLeader string) (_ distributed.Snapshot, release func(), err error) {
	select {
	case <-d.lead.joined:
	case <-ctx.Done():
	case <-d.stop:
	}
	if err := d.lead.route(notLeader); err != nil {
		return distributed.Snapshot{}, nil, err
	}
	d.lead.writes.Lock()
	defer func() {
		if err != nil {
			d.lead.writes.Unlock()
		}
	}()
	snap, err := d.fresh(ctx)
	if err != nil {
		return snap, nil, err
	}
	// Reading may have brought a change that needs a rebalance, or a new
	// round may have made another worker the leader.
	if err := d.lead.route(notLeader); err != nil {
		return snap, nil, err
	}
	d.mu.Lock()
	behind := snap.Offset < d.assigned.configOffset
	d.mu.Unlock()
	if behind {
		return snap, nil, staleConfig()
	}
	return snap, d.lead.writes.Unlock, nil
}

// taskOwnerURL is the REST URL of the worker the status topic says runs a
// task, "" when none or this one. A worker id is the owner's advertised
// host:port without a scheme (Kafka's form), so the owner is reached with
// this worker's own advertised scheme: the workers of a group advertise
// one (all http or all https).
func (d *Distributed) taskOwnerURL(st distributed.Status, ok bool) string {
	if !ok || st.WorkerID == "" || st.WorkerID == d.cfg.WorkerID || st.State == runtime.Unassigned {
		return ""
	}
	scheme := "http"
	if u, err := url.Parse(d.cfg.URL); err == nil && u.Scheme != "" {
		scheme = u.Scheme
	}
	return scheme + "://" + st.WorkerID + "/"
}
