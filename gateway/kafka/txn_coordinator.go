// The transaction coordinator (KIP-98), with Apache Kafka's
// TransactionCoordinator as the specification: transactional ids get a
// durable producer id and an epoch that each InitProducerId bumps (fencing
// older producers of the same id), and a transaction moves Empty ->
// Ongoing (AddPartitionsToTxn, AddOffsetsToTxn) -> PrepareCommit or
// PrepareAbort (EndTxn, a timeout, a fencing InitProducerId) ->
// CompleteCommit or CompleteAbort once a marker (a control batch) is in
// every partition it wrote to and, on commit, its offsets are the groups'.
//
// # Files
//
//   - txn_coordinator.go: the coordinator, locking, timeouts, markers,
//     completion, restart resume, and the Produce check of transactional
//     batches.
//   - txn_state.go: the state of one transactional id and its stored form.
//   - one file per API: initproducerid.go, addpartitionstotxn.go,
//     addoffsetstotxn.go, endtxn.go, txnoffsetcommit.go,
//     describetransactions.go, listtransactions.go.
//   - txn_expiry.go: transactional id expiry (and the settings);
//     producer_expiry.go: idempotent producer state expiry.
//   - txn_v2.go: KIP-890 part 2 (transaction.version 2).
//
// # Concurrency
//
// Each transactional id has its own mutex; the coordinator's guards only
// the map. State changes are made on the connection's reader goroutine,
// in request order, so a Produce pipelined behind an AddPartitionsToTxn is
// checked against the partitions it added. A transactional batch is
// checked and its append started under its id's mutex, and a transaction's
// markers are started under the same mutex, so a batch that passed the
// check is always before its transaction's marker in the log. Markers of a
// transaction's partitions are started together (StartAppendBatch) and
// waited on outside every lock, by a goroutine per completion; EndTxn
// answers once they are durable and the Complete state is written (not
// waited for: a restart that finds PrepareX completes again). Kafka
// answers once PrepareCommit is durable and completes asynchronously; a
// client here gets its answer a marker fsync later, and a committed
// transaction is readable when EndTxn returns. Timeouts are timers, one
// per ongoing transaction. Lock order: a transactional id's mutex, then a
// partition's producer mutex (producers.go) or a group's mutex.
//
// # Restarts
//
// Every state change is stored (namespace kafka.txn) before it takes
// effect, and the coordinator loads them all when the server is built: a
// transaction found in PrepareCommit or PrepareAbort writes its markers
// again (a second marker for a producer without an open transaction is
// ignored by readers, as on Kafka after a coordinator failover) and
// completes; an Ongoing one gets its timeout timer back, counted from its
// stored start, and is aborted (with an epoch bump) when it ends.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// txnMaxTimeout is Kafka's transaction.max.timeout.ms default: an
// InitProducerId asking for more gets INVALID_TRANSACTION_TIMEOUT.
const txnMaxTimeout = 15 * time.Minute

// txnRetryBackoff spaces attempts to complete a transaction whose markers
// or Complete state could not be written.
const txnRetryBackoff = time.Second

// txnCoordinators holds each server's transaction coordinator (*Server ->
// *txnCoordinator), as coordinators does for groups: Server has no field
// for it.
var txnCoordinators sync.Map

// errTxnCoordinatorClosed answers transactional requests while the server
// shuts down.
var errTxnCoordinatorClosed = errors.New("transaction coordinator is shut down")

// startTxnCoordinator loads every transactional id of s's store, resumes
// the transactions a previous run left completing or open, and stops the
// coordinator's timers when s starts draining.
func startTxnCoordinator(s *Server) error {
	c := &txnCoordinator{s: s, maxTimeout: txnMaxTimeout, txns: map[string]*txnEntry{}}
	var metas []*txnMeta
	err := s.store.Scan(context.Background(), txnNamespace, "", func(key string, v []byte) error {
		m, err := decodeTxnMeta(v)
		if err != nil || m.ID != key {
			s.log.Warn("kafka: corrupt transaction state ignored", "transactional_id", key, "err", err)
			return nil
		}
		metas = append(metas, m)
		return nil
	})
	if err != nil {
		return fmt.Errorf("loading transactions: %w", err)
	}
	for _, m := range metas {
		e := &txnEntry{meta: m}
		c.txns[m.ID] = e
		e.mu.Lock()
		switch {
		case m.State.preparing():
			s.log.Info("kafka: completing a transaction found in "+m.State.String(), "transactional_id", m.ID, "producer_id", m.PID, "epoch", m.Epoch)
			c.startCompletion(e, m, nil)
		case m.State == txnOngoing:
			c.scheduleTimeout(e)
		case m.State == txnPrepareEpochFence:
			// Only ever stored on its way to PrepareAbort: abort now.
			c.fenceAndAbort(e)
		}
		e.mu.Unlock()
	}
	txnCoordinators.Store(s, c)
	c.startExpiry()
	go func() {
		<-s.draining
		c.close()
		txnCoordinators.Delete(s)
	}()
	return nil
}

// txnCoord returns s's transaction coordinator.
func (s *Server) txnCoord() (*txnCoordinator, error) {
	if v, ok := txnCoordinators.Load(s); ok {
		return v.(*txnCoordinator), nil
	}
	return nil, errTxnCoordinatorClosed
}

// txnCoordinator holds every transactional id of one server.
type txnCoordinator struct {
	s          *Server
	maxTimeout time.Duration

	mu     sync.Mutex
	txns   map[string]*txnEntry
	closed bool
	// stopExpiry ends the expiry loop (txn_expiry.go) at close.
	stopExpiry chan struct{}
}

// txnEntry is one transactional id. Every field is guarded by mu.
type txnEntry struct {
	mu   sync.Mutex
	meta *txnMeta
	// timer aborts the ongoing transaction when its timeout ends, or
	// retries a completion that failed.
	timer *time.Timer
	// done is closed when the running completion (PrepareX -> CompleteX)
	// has finished; nil when none runs. code is its outcome for EndTxn.
	done chan struct{}
	code int16
	// gone is set when the id expired and left the map (txn_expiry.go):
	// a request that found e before then looks the id up again.
	gone bool
}

// lock returns the entry of id locked, creating an empty one (meta nil)
// when create is set; nil when it does not exist. The caller unlocks it.
func (c *txnCoordinator) lock(id string, create bool) (*txnEntry, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errTxnCoordinatorClosed
	}
	e := c.txns[id]
	if e == nil {
		if !create {
			c.mu.Unlock()
			return nil, nil
		}
		e = &txnEntry{}
		c.txns[id] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	if e.gone {
		e.mu.Unlock()
		return c.lock(id, create)
	}
	return e, nil
}

// all returns a snapshot of every transactional id's state.
func (c *txnCoordinator) all() []*txnMeta {
	c.mu.Lock()
	es := make([]*txnEntry, 0, len(c.txns))
	for _, e := range c.txns {
		es = append(es, e)
	}
	c.mu.Unlock()
	var ms []*txnMeta
	for _, e := range es {
		e.mu.Lock()
		if e.meta != nil {
			ms = append(ms, e.meta.clone())
		}
		e.mu.Unlock()
	}
	return ms
}

// close stops every timer. Completions under way finish or fail with the
// store; what they did not finish is stored as PrepareX and finished by
// the next run.
func (c *txnCoordinator) close() {
	c.mu.Lock()
	if !c.closed && c.stopExpiry != nil {
		close(c.stopExpiry)
	}
	c.closed = true
	es := make([]*txnEntry, 0, len(c.txns))
	for _, e := range c.txns {
		es = append(es, e)
	}
	c.mu.Unlock()
	for _, e := range es {
		e.mu.Lock()
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
		e.mu.Unlock()
	}
}

func (c *txnCoordinator) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// store writes m durably; call with e.mu held, and install m only once it
// returns nil.
func (c *txnCoordinator) store(ctx context.Context, m *txnMeta, extra ...store.KV) error {
	m.UpdateMs = time.Now().UnixMilli()
	kvs := append([]store.KV{{Namespace: txnNamespace, Key: m.ID, Value: m.encode()}}, extra...)
	return c.s.store.Update(ctx, kvs...)
}

// storeOrdered writes m without waiting for the sync, for the changes
// that open or widen a transaction (AddPartitionsToTxn, AddOffsetsToTxn):
// their answer promises nothing durable by itself. Call with e.mu held and
// install m once it returns nil. The write is ordered (StartUpdate) before
// everything started after it returns: the transaction's batches, which
// are checked against the installed m, its TxnOffsetCommit and its
// PrepareX state. Those are awaited before their own answers (Produce,
// TxnOffsetCommit, EndTxn), and the store makes a write durable only with
// every write ordered before it, so a crash keeps the partition in the
// stored transaction whenever it keeps the transaction's first batch
// there, and loses both or neither otherwise: the log never holds a
// transactional batch its stored transaction does not name (which would
// hold the partition's last stable offset for good). A client whose
// answer was lost with the crash gets INVALID_TXN_STATE or
// INVALID_PRODUCER_ID_MAPPING on its next request and aborts, as after a
// coordinator failover on Kafka. This saves a transaction one fsync wait
// on the client's critical path (the producer waits for
// AddPartitionsToTxn before its first batch).
func (c *txnCoordinator) storeOrdered(ctx context.Context, m *txnMeta) error {
	m.UpdateMs = time.Now().UnixMilli()
	pu, err := c.s.store.StartUpdate(ctx, store.KV{Namespace: txnNamespace, Key: m.ID, Value: m.encode()})
	if err != nil {
		return err
	}
	go func() {
		// Waited on exactly once (the pending contract); a failed sync
		// fails the awaited writes ordered after it too.
		if err := pu.Wait(); err != nil {
			c.s.log.Warn("kafka: storing a transaction's partitions or groups failed", "transactional_id", m.ID, "err", err)
		}
	}()
	return nil
}

// scheduleTimeout (re)starts e's timer for its ongoing transaction's
// timeout, counted from its start. Call with e.mu held.
func (c *txnCoordinator) scheduleTimeout(e *txnEntry) {
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	m := e.meta
	if m == nil || m.State != txnOngoing {
		return
	}
	start, epoch := m.StartMs, m.Epoch
	d := time.Until(time.UnixMilli(m.StartMs).Add(time.Duration(m.TimeoutMs) * time.Millisecond))
	e.timer = time.AfterFunc(max(d, 0), func() {
		if c.isClosed() {
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.meta == nil || e.meta.State != txnOngoing || e.meta.StartMs != start || e.meta.Epoch != epoch {
			return // ended or restarted meanwhile
		}
		c.s.log.Info("kafka: aborting a transaction past its timeout", "transactional_id", e.meta.ID, "producer_id", e.meta.PID, "epoch", e.meta.Epoch, "timeout_ms", e.meta.TimeoutMs)
		c.fenceAndAbort(e)
	})
}

// bumpEpoch returns m's producer id and epoch after one bump: the epoch
// plus one, or a new producer id at epoch 0 when the epoch is exhausted,
// as Kafka does. The previous pair is kept for retries.
func (c *txnCoordinator) bumpEpoch(ctx context.Context, m *txnMeta) error {
	m.LastPID, m.LastEpoch = m.PID, m.Epoch
	if m.Epoch < math.MaxInt16-1 {
		m.Epoch++
		return nil
	}
	id, err := c.s.pids.next(ctx)
	if err != nil {
		return err
	}
	m.PID, m.Epoch = id, 0
	return nil
}

// fenceAndAbort aborts e's ongoing transaction with the epoch bumped, so
// the producer that opened it is fenced: what a timeout and an
// InitProducerId of a newer producer do (PrepareEpochFence, then
// PrepareAbort). Call with e.mu held; a failure to store is retried.
func (c *txnCoordinator) fenceAndAbort(e *txnEntry) {
	n := e.meta.clone()
	if n.Epoch < math.MaxInt16-1 {
		// Markers are written with the bumped epoch (never a new id: the
		// markers must name the producer id of the batches they end). The
		// fenced epoch is not kept as the previous one, as Kafka does not
		// keep it: its producer's KIP-360 InitProducerId is fenced too.
		n.LastPID, n.LastEpoch = n.PID, -1
		n.Epoch++
	}
	n.State = txnPrepareAbort
	if _, err := c.prepare(e, n); err != nil {
		c.s.log.Warn("kafka: storing a transaction abort failed; retrying", "transactional_id", n.ID, "err", err)
		c.retryLater(e, func() { c.fenceAndAbort(e) })
	}
}

// retryLater runs f with e.mu held after txnRetryBackoff, unless the
// coordinator closed meanwhile.
func (c *txnCoordinator) retryLater(e *txnEntry, f func()) {
	if e.timer != nil {
		e.timer.Stop()
	}
	e.timer = time.AfterFunc(txnRetryBackoff, func() {
		if c.isClosed() {
			return
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		f()
	})
}

// prepare stores n (PrepareCommit or PrepareAbort), installs it and
// starts the completion: markers into every partition, then CompleteX.
// It returns the channel closed when the completion is done. Call with
// e.mu held.
func (c *txnCoordinator) prepare(e *txnEntry, n *txnMeta) (chan struct{}, error) {
	pu, err := c.s.store.StartUpdate(context.Background(), store.KV{Namespace: txnNamespace, Key: n.ID, Value: func() []byte {
		n.UpdateMs = time.Now().UnixMilli()
		return n.encode()
	}()})
	if err != nil {
		return nil, err
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	e.meta = n
	return c.startCompletion(e, n, pu), nil
}

// startCompletion starts the markers of n's partitions (under e.mu, so
// they follow every batch already checked) and a goroutine that waits for
// them and for pu, the PrepareX state's write (nil when it is already
// durable), then stores CompleteX. Call with e.mu held.
func (c *txnCoordinator) startCompletion(e *txnEntry, n *txnMeta, pu store.PendingUpdate) chan struct{} {
	done := make(chan struct{})
	e.done, e.code = done, 0
	commit := n.State == txnPrepareCommit
	marker := recordbatch.Control{Type: recordbatch.ControlAbort}
	if commit {
		marker.Type = recordbatch.ControlCommit
	}
	type started struct {
		part txnPart
		pd   store.Pending
	}
	var pds []started
	var failed error
	now := time.Now()
	for _, p := range n.Parts {
		batch, err := recordbatch.EncodeControl(n.PID, n.Epoch, marker, now)
		if err != nil {
			failed = err
			break
		}
		pd, err := c.s.store.StartAppendBatch(context.Background(), p.Topic, p.Partition, batch, store.AppendOptions{})
		switch {
		case errors.Is(err, store.ErrStreamNotFound), errors.Is(err, store.ErrPartitionNotFound):
			// Deleted since: nothing left to end there.
			continue
		case err != nil:
			failed = err
		default:
			pds = append(pds, started{p, pd})
		}
		if failed != nil {
			break
		}
	}
	go func() {
		err := failed
		if pu != nil {
			if perr := pu.Wait(); perr != nil && err == nil {
				err = perr
			}
		}
		for _, s := range pds {
			if _, werr := s.pd.Wait(); werr != nil && err == nil && !errors.Is(werr, store.ErrStreamNotFound) {
				err = fmt.Errorf("marker for %s/%d: %w", s.part.Topic, s.part.Partition, werr)
			}
		}
		c.finish(e, n, err)
	}()
	return done
}

// finish stores CompleteX for n once its markers are durable (err nil),
// commits its offsets to their groups on commit, and closes the
// completion's channel. On error the completion is retried later, markers
// and all; EndTxn is answered with a retriable code meanwhile.
func (c *txnCoordinator) finish(e *txnEntry, n *txnMeta, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.meta != n {
		return // replaced (cannot happen while done is open; defensive)
	}
	commit := n.State == txnPrepareCommit
	var writes []store.KV
	type applied struct {
		group string
		topic string
		p     int32
		o     committedOffset
	}
	var apply []applied
	if err == nil && commit {
		nowMs := time.Now().UnixMilli()
		for group, os := range n.Offsets {
			for _, o := range os {
				st, derr := c.s.store.DescribeStream(context.Background(), o.Topic)
				if derr != nil {
					continue // deleted since
				}
				co := committedOffset{offset: o.Offset, leaderEpoch: o.LeaderEpoch, commitMs: nowMs, topicID: topicID(st)}
				if o.Metadata != nil {
					co.metadata = *o.Metadata
				}
				writes = append(writes, store.KV{Namespace: groupNamespace, Key: offsetKey(group, o.Topic, o.Partition), Value: co.encode()})
				apply = append(apply, applied{group, o.Topic, o.Partition, co})
			}
		}
	}
	if err == nil {
		m := n.clone()
		m.State = txnCompleteAbort
		if commit {
			m.State = txnCompleteCommit
		}
		// StartMs stays: Kafka describes a completed transaction with
		// its start.
		m.Parts, m.Groups, m.Offsets = nil, nil, nil
		if m.NextPID > 0 {
			// EndTxn v5+ exhausted the epoch: the producer goes on
			// with a new id (txn_v2.go).
			m.PID, m.Epoch, m.NextPID = m.NextPID, 0, 0
		}
		// Not waited for: should it be lost, the PrepareX state
		// (with the offsets) is what a restart finds, and it completes
		// again. Later writes of this id are ordered after it.
		m.UpdateMs = time.Now().UnixMilli()
		kvs := append([]store.KV{{Namespace: txnNamespace, Key: m.ID, Value: m.encode()}}, writes...)
		var pu store.PendingUpdate
		if pu, err = c.s.store.StartUpdate(context.Background(), kvs...); err == nil {
			e.meta = m
			go func() {
				if err := pu.Wait(); err != nil {
					c.s.log.Warn("kafka: storing a completed transaction failed; the next start completes it again", "transactional_id", m.ID, "err", err)
				}
			}()
		}
	}
	if err != nil {
		if !c.isClosed() && !errors.Is(err, store.ErrClosed) {
			c.s.log.Warn("kafka: completing a transaction failed; retrying", "transactional_id", n.ID, "state", n.State.String(), "err", err)
			c.retryLater(e, func() {
				if e.meta == n && e.done == nil {
					c.startCompletion(e, n, nil)
				}
			})
		}
		e.code = kerr.CoordinatorNotAvailable.Code
		close(e.done)
		e.done = nil
		return
	}
	if len(apply) > 0 {
		if gc, gerr := c.s.groupCoordinator(); gerr == nil {
			for _, a := range apply {
				g, gerr := gc.group(a.group, true)
				if gerr != nil || g == nil {
					continue
				}
				if g.offsets[a.topic] == nil {
					g.offsets[a.topic] = map[int32]committedOffset{}
				}
				g.offsets[a.topic][a.p] = a.o
				g.cleanupTimer.stop()
				g.mu.Unlock()
			}
		}
	}
	e.code = 0
	close(e.done)
	e.done = nil
}

// checkTxnBatch is the Produce check of a transactional batch (KIP-890
// part 1's verification, done here in process): the request names the
// transactional id, whose producer id and epoch the batch carries, and
// the partition was added to its ongoing transaction. Call with e.mu held
// (e nil when the id is unknown).
func checkTxnBatch(e *txnEntry, txnID string, topic string, partition int32, info recordbatch.Info) error {
	if e == nil || e.meta == nil {
		return refuse(kerr.InvalidTxnState, "transactional id %q has no producer (InitProducerId first)", txnID)
	}
	m := e.meta
	switch {
	case m.PID != info.ProducerID:
		return refuse(kerr.InvalidTxnState, "producer id %d is not transactional id %q's (%d)", info.ProducerID, txnID, m.PID)
	case m.Epoch != info.ProducerEpoch:
		return refuse(kerr.InvalidProducerEpoch, "producer %d epoch %d is not the current %d of transactional id %q", info.ProducerID, info.ProducerEpoch, m.Epoch, txnID)
	case m.State != txnOngoing || !m.hasPart(topic, partition):
		return refuse(kerr.InvalidTxnState, "partition %s/%d is not in an ongoing transaction of %q (AddPartitionsToTxn first)", topic, partition, txnID)
	}
	return nil
}

// startTransactional checks a transactional batch against its
// transaction and starts its append, under the transactional id's mutex
// so no marker of the transaction can come before it.
func (s *Server) startTransactional(ctx context.Context, j *produceJob) (produceWait, error) {
	w := j.w
	if j.txnID == nil {
		return w, refuse(kerr.TransactionalIDAuthorizationFailed, "a transactional batch in a produce request without a transactional id")
	}
	c, err := s.txnCoord()
	if err != nil {
		return w, refuse(kerr.NotLeaderForPartition, "%v", err)
	}
	e, err := c.lock(*j.txnID, false)
	if err != nil {
		return w, refuse(kerr.NotLeaderForPartition, "%v", err)
	}
	if e != nil {
		defer e.mu.Unlock()
	}
	if e != nil && j.addsPartition {
		if err := c.addOnProduce(ctx, e, j.st.Name, j.rp.Partition, j.info.ProducerID, j.info.ProducerEpoch); err != nil {
			return w, err
		}
	}
	if err := checkTxnBatch(e, *j.txnID, j.st.Name, j.rp.Partition, j.info); err != nil {
		return w, err
	}
	return s.startIdempotent(ctx, j.st, j.rp.Partition, j.records, j.info, j.refs)
}

// fencedCode is PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH for versions
// before KIP-588's (clients that do not know PRODUCER_FENCED).
func fencedCode(version, since int16) int16 {
	if version < since {
		return kerr.InvalidProducerEpoch.Code
	}
	return kerr.ProducerFenced.Code
}

// txnErrorCode is the code for a failure to reach the coordinator's state.
func txnErrorCode(s *Server, err error) int16 {
	switch {
	case errors.Is(err, errTxnCoordinatorClosed), errors.Is(err, store.ErrClosed), errors.Is(err, context.Canceled):
		return kerr.NotCoordinator.Code
	default:
		s.log.Warn("kafka: transaction coordinator error", "err", err)
		return kerr.CoordinatorNotAvailable.Code
	}
}
