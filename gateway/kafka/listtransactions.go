// ListTransactions (key 66), versions 0-1 (KIP-664, KIP-994): the
// transactional ids the caller may DESCRIBE, with producer id and state,
// filtered by state names (names Kafka does not know come back in
// UnknownStateFilters and match nothing), by producer ids, and from v1 by
// DurationFilterMillis: only transactions started longer ago than that
// (KIP-994: now minus the transaction's start, which Empty's -1 always
// passes, as on Kafka; -1 means no filter). v2's transactional id pattern
// (Kafka 4.1) is not advertised.
package kafka

import (
	"context"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.ListTransactions, MinVersion: 0, MaxVersion: 1, Handle: handleListTransactions})
}

func handleListTransactions(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.ListTransactionsRequest)
	resp := req.ResponseKind().(*kmsg.ListTransactionsResponse)
	c, err := r.Server.txnCoord()
	if err != nil {
		resp.ErrorCode = txnErrorCode(r.Server, err)
		return Respond(resp), nil
	}
	states := map[txnState]bool{}
	for _, name := range req.StateFilters {
		if st, ok := parseTxnState(name); ok {
			states[st] = true
		} else {
			resp.UnknownStateFilters = append(resp.UnknownStateFilters, name)
		}
	}
	if len(req.StateFilters) > 0 && len(states) == 0 {
		return Respond(resp), nil // only unknown states: nothing matches
	}
	pids := map[int64]bool{}
	for _, p := range req.ProducerIDFilters {
		pids[p] = true
	}
	now := time.Now().UnixMilli()
	ms := c.all()
	sort.Slice(ms, func(i, j int) bool { return ms[i].ID < ms[j].ID })
	for _, m := range ms {
		switch {
		case len(states) > 0 && !states[m.State]:
			continue
		case len(pids) > 0 && !pids[m.PID]:
			continue
		case m.State == txnDead:
			continue
		case r.Version >= 1 && req.DurationFilterMillis >= 0 && now-m.StartMs <= req.DurationFilterMillis:
			continue
		case !r.quietlyAuthorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTransactionalId, m.ID):
			continue
		}
		ts := kmsg.NewListTransactionsResponseTransactionState()
		ts.TransactionalID, ts.ProducerID, ts.TransactionState = m.ID, m.PID, m.State.String()
		resp.TransactionStates = append(resp.TransactionStates, ts)
	}
	return Respond(resp), nil
}
