package runtime

// Exactly-once source tasks (KIP-618, Kafka's ExactlyOnceWorkerSourceTask).
//
// A task's records and the source offsets they reach are written by one
// transactional producer (transactional.id ${group.id}-${connector}-${task})
// in one transaction: a read_committed consumer sees a record once its
// offset is stored, and never a record whose offset was not. A task that
// dies mid-transaction leaves it open; the next instance's producer
// initialization (or the connector owner's fencing round) aborts it, and the
// new instance resumes from the last committed offsets, so it writes again
// exactly what the aborted transaction held.
//
// Invariants:
//   - Every record of a transaction is acknowledged before its offsets are
//     produced and before the commit; a send that failed fails the commit,
//     which is then aborted, and fails the task (Kafka does not tolerate
//     producer errors with exactly-once).
//   - CommitRecord and Commit are called only after the transaction that
//     held the records committed.
//   - An aborted transaction's offsets are forgotten: the next transaction
//     stores only offsets of records it holds.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// ExactlyOnceConfig is what a Worker needs from distributed mode to run
// source tasks exactly once.
type ExactlyOnceConfig struct {
	// GroupID is the worker's group.id, the first part of each task's
	// transactional.id.
	GroupID string
	// Offsets returns the store a connector's tasks read their positions
	// from (read_committed) and whose records they write inside their
	// transactions: the connector's offsets.storage.topic, else the
	// worker's.
	Offsets func(ctx context.Context, connector string, connCfg connect.Config) (TransactionalOffsetStore, error)
	// Ready, when set, is called before the task's producer is initialized
	// with the task's configuration; it returns once the connector's earlier
	// generation of tasks has been fenced and taskCfg is still the task's
	// current configuration (Kafka's pre-producer check), or an error that
	// fails the task.
	Ready func(ctx context.Context, id TaskID, taskCfg connect.Config) error
}

// TransactionalOffsetStore reads source offsets and encodes them as the
// records of its offsets topic, for a transactional producer to write.
type TransactionalOffsetStore interface {
	Get(ctx context.Context, connector string, partition map[string]any) (map[string]any, error)
	// OffsetRecords returns the records (topic, key, value) that store
	// offsets; a nil Offset is a tombstone.
	OffsetRecords(connector string, offsets []SourceOffset) ([]*kgo.Record, error)
}

// TransactionalID is the transactional.id of a task's producer (Kafka's
// Worker.taskTransactionalId).
func TransactionalID(groupID string, id TaskID) string {
	return groupID + "-" + id.Connector + "-" + strconv.Itoa(id.Task)
}

// The transaction.boundary values.
const (
	boundaryPoll      = "poll"
	boundaryInterval  = "interval"
	boundaryConnector = "connector"
)

// transactionTimeout is the producer's transaction.timeout.ms (Kafka's
// producer default): a transaction left open by a dead task is aborted by
// the coordinator after it, if no new instance fenced it first.
const transactionTimeout = 60 * time.Second

// exactlyOnceSourceRunner is a sourceRunner whose sends go into
// transactions; it reuses the runner's conversion and bookkeeping and
// replaces its loop and its commit.
type exactlyOnceSourceRunner struct {
	*sourceRunner
	connCfg  connect.Config
	eos      *ExactlyOnceConfig
	boundary string
	interval time.Duration
	offsets  TransactionalOffsetStore
	requests *transactionRequests // transaction.boundary=connector, else nil
	open     bool                 // a transaction is open
	// published holds the offsets topics written to, and any topic the
	// producer's metadata is known to list, as true (see
	// awaitProducerMetadata).
	published map[string]bool
}

func newExactlyOnceSourceRunner(t *taskRun, task connect.SourceTask, connCfg, taskCfg connect.Config) (*exactlyOnceSourceRunner, error) {
	eos := t.w.cfg.ExactlyOnce
	s, err := newSourceRunner(t, task, connCfg, taskCfg,
		kgo.TransactionalID(TransactionalID(eos.GroupID, t.id)),
		kgo.TransactionTimeout(transactionTimeout))
	if err != nil {
		return nil, err
	}
	r := &exactlyOnceSourceRunner{sourceRunner: s, connCfg: connCfg, eos: eos,
		boundary: strings.ToLower(strings.TrimSpace(connCfg[connect.TransactionBoundary])),
		interval: t.w.cfg.OffsetFlushInterval, published: make(map[string]bool)}
	switch r.boundary {
	case "":
		r.boundary = boundaryPoll
	case boundaryPoll, boundaryInterval:
	case boundaryConnector:
		r.requests = &transactionRequests{after: map[any]transactionAction{}}
	default:
		s.cl.Close()
		return nil, fmt.Errorf("Invalid value %s for configuration %s: String must be one of (case insensitive): INTERVAL, POLL, CONNECTOR", connCfg[connect.TransactionBoundary], connect.TransactionBoundary)
	}
	if v := strings.TrimSpace(connCfg[connect.TransactionBoundaryInterval]); v != "" {
		ms, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.cl.Close()
			return nil, fmt.Errorf("Invalid value %s for configuration %s: Not a number of type LONG", v, connect.TransactionBoundaryInterval)
		}
		if ms >= 0 { // -1 stands for Kafka's null: offset.flush.interval.ms
			r.interval = time.Duration(ms) * time.Millisecond
		}
	}
	return r, nil
}

func (r *exactlyOnceSourceRunner) run(ctx context.Context) error {
	defer r.cl.Close()
	var cancel context.CancelFunc
	r.produceCtx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if r.eos.Ready != nil {
		if err := r.eos.Ready(ctx, r.t.id, r.taskCfg); err != nil {
			return fmt.Errorf("exactly-once source task preflight: %w", err)
		}
	}
	var err error
	if r.offsets, err = r.eos.Offsets(ctx, r.t.id.Connector, r.connCfg); err != nil {
		return fmt.Errorf("opening the connector's offsets: %w", err)
	}
	// Initialize the producer now, not at the first record (Kafka's
	// initTransactions): its InitProducerId fences the previous instance of
	// this task, which stops writing before this one reads offsets.
	if _, _, err := r.cl.ProducerID(ctx); err != nil {
		return fmt.Errorf("initializing the task's transactional producer: %w", err)
	}
	if err := r.task.Start(ctx, exactlyOnceSourceContext{r}, r.taskCfg); err != nil {
		return fmt.Errorf("source task start: %w", err)
	}
	defer func() {
		if err := r.task.Stop(); err != nil {
			r.t.log.Warn("source task stop", "err", err)
		}
	}()
	if err := r.loop(ctx); err != nil {
		if r.open {
			r.abort(context.Background())
		}
		return err
	}
	if !r.open {
		return nil
	}
	// Stopping gracefully: commit what was sent (Kafka's final commit).
	final, cancelFinal := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelFinal()
	if err := r.commitTransaction(final); err != nil {
		r.t.log.Warn("source task stopping: its last transaction was aborted", "err", err)
	}
	return nil
}

// loop polls and sends until ctx is done (nil) or the task fails.
func (r *exactlyOnceSourceRunner) loop(ctx context.Context) error {
	nextCommit := time.Now().Add(r.interval)
	delay := firstRetryDelay
	for {
		if r.open && r.pausing() {
			// A paused task keeps no transaction open past its timeout.
			if err := r.commitTransaction(ctx); err != nil {
				return err
			}
		}
		if !r.t.waitWhilePaused(ctx) {
			return nil
		}
		recs, err := r.task.Poll(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, connect.ErrRetriable):
			r.t.log.Warn("source task poll failed; polling again", "err", err, "after", delay)
			sleep(ctx, delay)
			delay = min(2*delay, time.Minute)
			continue
		case err != nil:
			return fmt.Errorf("source task poll: %w", err)
		}
		delay = firstRetryDelay
		r.t.progress.polled(len(recs))
		for i := range recs {
			if !r.open {
				if err := r.cl.BeginTransaction(); err != nil {
					return fmt.Errorf("beginning a transaction: %w", err)
				}
				r.open = true
			}
			if err := r.send(ctx, &recs[i]); err != nil {
				return err
			}
			if err := r.act(ctx, r.requests.takeAfter(recs[i].SourceOffset)); err != nil {
				return err
			}
		}
		switch r.boundary {
		case boundaryPoll:
			if err := r.act(ctx, actionCommit); err != nil {
				return err
			}
		case boundaryInterval:
			if time.Now().After(nextCommit) {
				if err := r.act(ctx, actionCommit); err != nil {
					return err
				}
				nextCommit = time.Now().Add(r.interval)
			}
		case boundaryConnector:
			if err := r.act(ctx, r.requests.takeBatch()); err != nil {
				return err
			}
		}
	}
}

func (r *exactlyOnceSourceRunner) pausing() bool {
	r.t.mu.Lock()
	defer r.t.mu.Unlock()
	return r.t.paused
}

// act commits or aborts the open transaction; nothing without one.
func (r *exactlyOnceSourceRunner) act(ctx context.Context, a transactionAction) error {
	if !r.open {
		return nil
	}
	switch a {
	case actionCommit:
		return r.commitTransaction(ctx)
	case actionAbort:
		r.t.log.Info("source task aborts its transaction, as it asked")
		if !r.abort(ctx) {
			return errors.New("could not abort the transaction the task asked to abort")
		}
	}
	return nil
}

// commitTransaction waits for every record sent, adds the offsets they
// reach and commits; on any failure it aborts and returns the error, which
// fails the task.
func (r *exactlyOnceSourceRunner) commitTransaction(ctx context.Context) error {
	fail := func(err error) error {
		r.abort(ctx)
		return fmt.Errorf("exactly-once source transaction aborted: %w", err)
	}
	if err := r.cl.Flush(ctx); err != nil {
		return fail(err)
	}
	r.mu.Lock()
	produceErr := r.produceErr
	r.mu.Unlock()
	if produceErr != nil {
		return fail(produceErr)
	}
	offsets := r.submitted.committable()
	if r.submitted.pending() {
		// A tolerated send failure: its offset cannot be stored, nor can
		// the ones after it. With exactly-once no send failure is
		// tolerated.
		return fail(errors.New("a record of the transaction was not written"))
	}
	recs, err := r.offsets.OffsetRecords(r.t.id.Connector, offsets)
	if err != nil {
		return fail(err)
	}
	var offsetErr error
	var mu sync.Mutex
	for _, rec := range recs {
		r.writingOffsetsTo(rec.Topic)
		r.cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				offsetErr = errors.Join(offsetErr, err)
				mu.Unlock()
			}
		})
	}
	if err := r.cl.Flush(ctx); err != nil {
		return fail(err)
	}
	if offsetErr != nil {
		return fail(fmt.Errorf("writing the source offsets: %w", offsetErr))
	}
	r.awaitProducerMetadata(ctx)
	if err := r.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fail(fmt.Errorf("committing: %w", err))
	}
	r.open = false
	r.t.progress.committed(time.Now())
	if err := r.commitRecords(ctx); err != nil {
		return err
	}
	r.mu.Lock()
	since := r.ackedSince
	r.ackedSince = 0
	r.mu.Unlock()
	if since > 0 {
		if err := r.task.Commit(ctx); err != nil {
			r.t.log.Warn("source task commit", "err", err)
		}
	}
	return nil
}

// abort ends the open transaction without its records and forgets their
// offsets; it reports whether the abort went through.
func (r *exactlyOnceSourceRunner) abort(ctx context.Context) bool {
	r.open = false
	// Bounded: a worker cut off from Kafka must still stop; the
	// coordinator aborts what it cannot (fencing, the timeout).
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownGrace)
	defer cancel()
	ok := true
	if err := r.cl.AbortBufferedRecords(ctx); err != nil {
		r.t.log.Warn("aborting the transaction's buffered records", "err", err)
		ok = false
	}
	r.awaitProducerMetadata(ctx)
	if err := r.cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		r.t.log.Warn("aborting the transaction", "err", err)
		ok = false
	}
	r.submitted.forget()
	r.mu.Lock()
	clear(r.acked)
	r.acked, r.ackedSince, r.produceErr = r.acked[:0], 0, nil
	r.mu.Unlock()
	return ok
}

// pending reports whether a polled record is still waiting for its ack.
func (s *submitted) pending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, q := range s.partitions {
		if len(q.offsets) > 0 {
			return true
		}
	}
	return false
}

// forget drops every record and offset not yet stored (an aborted
// transaction's).
func (s *submitted) forget() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.partitions = nil
}

// exactlyOnceSourceContext is the SourceTaskContext of an exactly-once task:
// offsets come from the connector's offsets store, read_committed.
type exactlyOnceSourceContext struct{ r *exactlyOnceSourceRunner }

func (c exactlyOnceSourceContext) Offset(partition map[string]any) (map[string]any, error) {
	return c.r.offsets.Get(c.r.t.ctx, c.r.t.id.Connector, partition)
}

// TransactionContext implements connect.TransactionContextProvider: nil
// unless transaction.boundary=connector.
func (c exactlyOnceSourceContext) TransactionContext() connect.TransactionContext {
	if c.r.requests == nil {
		return nil
	}
	return c.r.requests
}

// transactionAction is what a transaction boundary asks.
type transactionAction int

const (
	actionNone transactionAction = iota
	actionCommit
	actionAbort
)

// transactionRequests is the connect.TransactionContext of a task with
// transaction.boundary=connector: what the task asked, for the loop to do.
// Records are recognized by their SourceOffset map's identity.
type transactionRequests struct {
	mu    sync.Mutex
	batch transactionAction
	after map[any]transactionAction
}

var _ connect.TransactionContext = (*transactionRequests)(nil)

func (q *transactionRequests) set(slot *transactionAction, a transactionAction) {
	if a > *slot { // an abort wins over a commit
		*slot = a
	}
}

func (q *transactionRequests) CommitTransaction() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.set(&q.batch, actionCommit)
}

func (q *transactionRequests) AbortTransaction() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.set(&q.batch, actionAbort)
}

func (q *transactionRequests) CommitTransactionAfter(rec connect.Record) {
	q.requestAfter(rec, actionCommit)
}

func (q *transactionRequests) AbortTransactionAfter(rec connect.Record) {
	q.requestAfter(rec, actionAbort)
}

func (q *transactionRequests) requestAfter(rec connect.Record, a transactionAction) {
	key := offsetIdentity(rec.SourceOffset)
	if key == nil {
		return // a record without an offset cannot be recognized
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	cur := q.after[key]
	q.set(&cur, a)
	q.after[key] = cur
}

func (q *transactionRequests) takeBatch() transactionAction {
	q.mu.Lock()
	defer q.mu.Unlock()
	a := q.batch
	q.batch = actionNone
	return a
}

// takeAfter returns (and forgets) what was asked after the record whose
// offset map is offset; nil receivers ask nothing.
func (q *transactionRequests) takeAfter(offset map[string]any) transactionAction {
	if q == nil {
		return actionNone
	}
	key := offsetIdentity(offset)
	if key == nil {
		return actionNone
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	a, ok := q.after[key]
	if ok {
		delete(q.after, key)
	}
	return a
}

// offsetIdentity is a map's identity (the pointer behind it), or nil.
func offsetIdentity(m map[string]any) any {
	if m == nil {
		return nil
	}
	return reflect.ValueOf(m).UnsafePointer()
}
