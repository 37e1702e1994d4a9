// AddOffsetsToTxn (key 25), versions 0-4: a transactional producer names a
// consumer group whose offsets its transaction will commit
// (TxnOffsetCommit, sent to the group coordinator next); like
// AddPartitionsToTxn it makes the transaction Ongoing. Kafka adds the
// group's __consumer_offsets partition to the transaction; here the group
// itself is recorded, and its pending offsets become its committed offsets
// when the transaction commits.
//
// Needs WRITE on the transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED)
// and READ on the group (GROUP_AUTHORIZATION_FAILED). Errors as
// AddPartitionsToTxn's: INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED
// (INVALID_PRODUCER_EPOCH before v2), CONCURRENT_TRANSACTIONS. v4 changes
// nothing on the wire.
package kafka

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.AddOffsetsToTxn, MinVersion: 0, MaxVersion: 4, Handle: handleAddOffsetsToTxn})
}

func handleAddOffsetsToTxn(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.AddOffsetsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	resp.ErrorCode = addOffsetsToTxn(ctx, r, req)
	return Respond(resp), nil
}

func addOffsetsToTxn(ctx context.Context, r *Request, req *kmsg.AddOffsetsToTxnRequest) int16 {
	s := r.Server
	if !r.authorized(kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, req.TransactionalID) {
		return kerr.TransactionalIDAuthorizationFailed.Code
	}
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		return kerr.GroupAuthorizationFailed.Code
	}
	c, err := s.txnCoord()
	if err != nil {
		return txnErrorCode(s, err)
	}
	e, err := c.lock(req.TransactionalID, false)
	if err != nil {
		return txnErrorCode(s, err)
	}
	if e == nil {
		return kerr.InvalidProducerIDMapping.Code
	}
	defer e.mu.Unlock()
	m := e.meta
	switch {
	case m == nil || m.PID != req.ProducerID:
		return kerr.InvalidProducerIDMapping.Code
	case m.Epoch != req.ProducerEpoch:
		return fencedCode(r.Version, 2)
	case e.done != nil || m.State.preparing():
		return kerr.ConcurrentTransactions.Code
	case m.State == txnDead || m.State == txnPrepareEpochFence:
		return kerr.InvalidTxnState.Code
	case m.State == txnOngoing && m.hasGroup(req.Group):
		return 0
	}
	n := m.clone()
	n.beginIfIdle(time.Now().UnixMilli())
	n.Groups = append(n.Groups, req.Group)
	if err := c.storeOrdered(ctx, n); err != nil {
		return txnErrorCode(s, err)
	}
	began := m.State != txnOngoing
	e.meta = n
	if began {
		c.scheduleTimeout(e)
	}
	return 0
}
