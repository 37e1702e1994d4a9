// DescribeTransactions (key 65), version 0 (KIP-664): the state of
// transactional ids as the coordinator holds them: state name (Kafka's:
// Empty, Ongoing, PrepareCommit, ...), timeout, start of the ongoing
// transaction (-1 when none), producer id and epoch, and the partitions of
// the transaction. Needs DESCRIBE on each transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED); an unknown one is
// TRANSACTIONAL_ID_NOT_FOUND; partitions of topics the caller may not
// DESCRIBE are left out, as Kafka does.
package kafka

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.DescribeTransactions, MinVersion: 0, MaxVersion: 0, Handle: handleDescribeTransactions})
}

func handleDescribeTransactions(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DescribeTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	c, cerr := r.Server.txnCoord()
	for _, id := range req.TransactionalIDs {
		ts := kmsg.NewDescribeTransactionsResponseTransactionState()
		ts.TransactionalID = id
		ts.ProducerID, ts.ProducerEpoch, ts.StartTimestamp = -1, -1, -1
		resp.TransactionStates = append(resp.TransactionStates, ts)
		st := &resp.TransactionStates[len(resp.TransactionStates)-1]
		if !r.authorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTransactionalId, id) {
			st.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			continue
		}
		if cerr != nil {
			st.ErrorCode = txnErrorCode(r.Server, cerr)
			continue
		}
		e, err := c.lock(id, false)
		if err != nil {
			st.ErrorCode = txnErrorCode(r.Server, err)
			continue
		}
		if e == nil {
			st.ErrorCode = kerr.TransactionalIDNotFound.Code
			continue
		}
		var m *txnMeta
		if e.meta != nil {
			m = e.meta.clone()
		}
		e.mu.Unlock()
		if m == nil {
			st.ErrorCode = kerr.TransactionalIDNotFound.Code
			continue
		}
		st.State = m.State.String()
		st.TimeoutMillis = m.TimeoutMs
		st.StartTimestamp = m.StartMs
		st.ProducerID, st.ProducerEpoch = m.PID, m.Epoch
		topics := m.topics()
		names := make([]string, 0, len(topics))
		for t := range topics {
			names = append(names, t)
		}
		sort.Strings(names)
		for _, t := range names {
			if !r.quietlyAuthorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, t) {
				continue
			}
			tt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
			tt.Topic, tt.Partitions = t, topics[t]
			st.Topics = append(st.Topics, tt)
		}
	}
	return Respond(resp), nil
}
