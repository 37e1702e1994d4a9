// InitProducerId (key 22), versions 0-5: gives a producer its id and epoch.
//
// Without a transactional id (an idempotent producer) the answer is a new
// id at epoch 0 from a counter in the store's state area, advanced durably
// before the id is handed out, so an id is never given twice, even across
// crashes; as on a Kafka broker the v3+ ProducerID/ProducerEpoch fields
// (KIP-360 epoch bumps) matter only to transactional producers.
//
// With a transactional id the transaction coordinator (txn_coordinator.go)
// answers: the id's first call gets a new producer id at epoch 0, later
// ones the same id with the epoch bumped, which fences every older
// producer of that transactional id (their requests get PRODUCER_FENCED,
// INVALID_PRODUCER_EPOCH before v4), or a new id at epoch 0 once the epoch
// is exhausted. A transaction left ongoing is aborted first (its epoch
// bumped: PrepareEpochFence) and the call answered CONCURRENT_TRANSACTIONS,
// which the client retries, as it does while a transaction completes. v3+
// callers naming their current id and epoch (KIP-360) must name the
// current or, for a retry, the previous pair (else PRODUCER_FENCED, or
// INVALID_PRODUCER_EPOCH before v4); an epoch fenced by a timeout or a
// newer producer is neither, so its producer is fenced, as on Kafka before
// 4.0; a transactional id seen for the first time gets a new id whatever
// the call names. The
// timeout must be in (0, transaction.max.timeout.ms = 15 min]
// (INVALID_TRANSACTION_TIMEOUT); the empty transactional id is
// INVALID_REQUEST. Needs WRITE on the transactional id. v5 (KIP-890 part 2)
// changes nothing on the wire.
package kafka

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.InitProducerID, MinVersion: 0, MaxVersion: 5, Handle: handleInitProducerID})
}

func handleInitProducerID(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.InitProducerIDRequest)
	resp := req.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	if req.TransactionalID != nil {
		resp.ErrorCode = initTransactional(ctx, r, req, resp)
		return Respond(resp), nil
	}
	// KIP-679: IDEMPOTENT_WRITE on the cluster, or WRITE on some topic.
	if !r.quietlyAuthorized(kmsg.ACLOperationIdempotentWrite, kmsg.ACLResourceTypeCluster, clusterName) && !r.mayWriteSomeTopic() {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return Respond(resp), nil
	}
	id, err := r.Server.pids.next(ctx)
	if err != nil {
		r.Server.log.Error("kafka: allocating a producer id failed", "err", err)
		resp.ErrorCode = errorCode(err)
		return Respond(resp), nil
	}
	resp.ProducerID, resp.ProducerEpoch = id, 0
	return Respond(resp), nil
}

// pidAllocator hands out producer ids from a durable counter.
type pidAllocator struct {
	s  *Server
	mu sync.Mutex
	n  int64 // the next id; 0 until loaded
}

const (
	pidNamespace = "kafka"
	pidKey       = "producer.id.next"
)

// next allocates an id.
func (a *pidAllocator) next(ctx context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.n <= 0 {
		v, err := a.s.store.Get(ctx, pidNamespace, pidKey)
		switch {
		case errors.Is(err, store.ErrNotFound):
			a.n = 1 // 0 is valid in Kafka, but 1 reads better in logs
		case err != nil:
			return 0, err
		case len(v) != 8:
			return 0, errors.New("kafka: corrupt producer id counter")
		default:
			a.n = int64(binary.BigEndian.Uint64(v))
		}
	}
	id := a.n
	v := binary.BigEndian.AppendUint64(nil, uint64(id+1))
	if err := a.s.store.Update(ctx, store.KV{Namespace: pidNamespace, Key: pidKey, Value: v}); err != nil {
		return 0, err
	}
	a.n = id + 1
	return id, nil
}

// initTransactional answers InitProducerId for a transactional id,
// filling resp's id and epoch; it returns the error code.
func initTransactional(ctx context.Context, r *Request, req *kmsg.InitProducerIDRequest, resp *kmsg.InitProducerIDResponse) int16 {
	s := r.Server
	id := *req.TransactionalID
	switch {
	case id == "":
		return kerr.InvalidRequest.Code
	case !r.authorized(kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, id):
		return kerr.TransactionalIDAuthorizationFailed.Code
	case req.TransactionTimeoutMillis <= 0 || time.Duration(req.TransactionTimeoutMillis)*time.Millisecond > txnMaxTimeout:
		return kerr.InvalidTransactionTimeout.Code
	}
	c, err := s.txnCoord()
	if err != nil {
		return txnErrorCode(s, err)
	}
	e, err := c.lock(id, true)
	if err != nil {
		return txnErrorCode(s, err)
	}
	defer e.mu.Unlock()
	expectPID, expectEpoch := int64(-1), int16(-1)
	if r.Version >= 3 {
		expectPID, expectEpoch = req.ProducerID, req.ProducerEpoch
	}
	if e.meta == nil {
		// A new transactional id; a KIP-360 producer naming an id is
		// given a new one too, as Kafka does (its metadata is new).
		pid, err := s.pids.next(ctx)
		if err != nil {
			s.log.Error("kafka: allocating a producer id failed", "err", err)
			return errorCode(err)
		}
		m := &txnMeta{ID: id, PID: pid, Epoch: 0, LastPID: -1, LastEpoch: -1, TimeoutMs: req.TransactionTimeoutMillis, State: txnEmpty, StartMs: -1}
		if err := c.store(ctx, m); err != nil {
			return txnErrorCode(s, err)
		}
		e.meta = m
		resp.ProducerID, resp.ProducerEpoch = m.PID, m.Epoch
		return 0
	}
	m := e.meta
	if e.done != nil || m.State.preparing() {
		return kerr.ConcurrentTransactions.Code
	}
	if expectPID >= 0 {
		switch {
		case expectPID == m.LastPID && expectEpoch == m.LastEpoch && (m.State == txnEmpty || m.State == txnCompleteAbort || m.State == txnCompleteCommit):
			// A retry of the call that made the current pair.
			resp.ProducerID, resp.ProducerEpoch = m.PID, m.Epoch
			return 0
		case expectPID != m.PID || expectEpoch != m.Epoch:
			return fencedCode(r.Version, 4)
		}
	}
	if m.State == txnOngoing {
		// Abort the open transaction of the producer being replaced; the
		// client retries once it is done.
		c.fenceAndAbort(e)
		return kerr.ConcurrentTransactions.Code
	}
	n := m.clone()
	if err := c.bumpEpoch(ctx, n); err != nil {
		return errorCode(err)
	}
	n.TimeoutMs = req.TransactionTimeoutMillis
	n.State = txnEmpty
	n.StartMs = -1
	if err := c.store(ctx, n); err != nil {
		return txnErrorCode(s, err)
	}
	e.meta = n
	resp.ProducerID, resp.ProducerEpoch = n.PID, n.Epoch
	return 0
}
