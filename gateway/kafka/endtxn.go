// EndTxn (key 26), versions 0-5: a transactional producer commits or
// aborts its ongoing transaction. The coordinator stores PrepareCommit or
// PrepareAbort, writes a marker (a control batch, recordbatch.EncodeControl)
// into every partition of the transaction, side by side, and once they are
// durable stores CompleteCommit (committing the transaction's pending
// offsets to their groups in the same write) or CompleteAbort
// (txn_coordinator.go). The answer waits for all of that: when EndTxn
// returns, the transaction's records are committed and readable. Kafka
// answers once PrepareCommit is durable and finishes asynchronously; the
// difference shows only as an EndTxn a marker fsync slower.
//
// As Kafka's TransactionCoordinator.handleEndTransaction: WRITE on the
// transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an unknown
// transactional id or another producer id INVALID_PRODUCER_ID_MAPPING;
// another epoch PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2); no
// transaction (Empty) INVALID_TXN_STATE; a retry after the transaction
// completed the same way succeeds, the other way INVALID_TXN_STATE; while
// it completes, CONCURRENT_TRANSACTIONS for the same outcome and
// INVALID_TXN_STATE for the other. v3 is flexible; v4 changes nothing on
// the wire. v5 (KIP-890 part 2, an epoch bump per transaction, the bumped
// epoch and producer id in the answer) follows Kafka 4's rules instead:
// handleEndTxnV2 in txn_v2.go.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.EndTxn, MinVersion: 0, MaxVersion: 5, Handle: handleEndTxn})
}

func handleEndTxn(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.EndTxnRequest)
	resp := req.ResponseKind().(*kmsg.EndTxnResponse)
	if r.Version >= 5 {
		return handleEndTxnV2(ctx, r, req, resp) // txn_v2.go
	}
	e, done, code := endTxn(r, req)
	if done == nil {
		resp.ErrorCode = code
		return Respond(resp), nil
	}
	// The markers were started here, in request order; their wait is on
	// the writer goroutine.
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		select {
		case <-done:
			e.mu.Lock()
			resp.ErrorCode = e.code
			e.mu.Unlock()
		case <-ctx.Done():
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		}
		return resp, nil
	}), nil
}

// endTxn starts the end of req's transaction: done is closed when it is
// complete; when done is nil, code is the answer.
func endTxn(r *Request, req *kmsg.EndTxnRequest) (*txnEntry, chan struct{}, int16) {
	s := r.Server
	if !r.authorized(kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, req.TransactionalID) {
		return nil, nil, kerr.TransactionalIDAuthorizationFailed.Code
	}
	c, err := s.txnCoord()
	if err != nil {
		return nil, nil, txnErrorCode(s, err)
	}
	e, err := c.lock(req.TransactionalID, false)
	if err != nil {
		return nil, nil, txnErrorCode(s, err)
	}
	if e == nil {
		return nil, nil, kerr.InvalidProducerIDMapping.Code
	}
	defer e.mu.Unlock()
	m := e.meta
	switch {
	case m == nil || m.PID != req.ProducerID:
		return nil, nil, kerr.InvalidProducerIDMapping.Code
	case m.Epoch != req.ProducerEpoch:
		return nil, nil, fencedCode(r.Version, 2)
	}
	switch m.State {
	case txnOngoing:
		if e.done != nil {
			return nil, nil, kerr.ConcurrentTransactions.Code
		}
		n := m.clone()
		n.State = txnPrepareAbort
		if req.Commit {
			n.State = txnPrepareCommit
		}
		done, err := c.prepare(e, n)
		if err != nil {
			return nil, nil, txnErrorCode(s, err)
		}
		return e, done, 0
	case txnCompleteCommit:
		if req.Commit {
			return nil, nil, 0
		}
	case txnCompleteAbort:
		if !req.Commit {
			return nil, nil, 0
		}
	case txnPrepareCommit:
		if req.Commit {
			return nil, nil, kerr.ConcurrentTransactions.Code
		}
	case txnPrepareAbort:
		if !req.Commit {
			return nil, nil, kerr.ConcurrentTransactions.Code
		}
	}
	return nil, nil, kerr.InvalidTxnState.Code
}
