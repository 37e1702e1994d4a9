// AddPartitionsToTxn (key 24), versions 0-5: a transactional producer names
// the partitions it is about to write to, before its first batch to each;
// the first call of a transaction makes it Ongoing and starts its timeout.
// The coordinator writes a marker into each at the transaction's end.
//
// v0-3 carry one transaction (the client's form). v4+ is the batched form
// brokers send their coordinator (KIP-890 part 1): several transactions,
// each with VerifyOnly, which only checks that the partitions are in the
// transaction (INVALID_TXN_STATE for those that are not) and changes
// nothing; it needs CLUSTER_ACTION on the cluster (else
// CLUSTER_AUTHORIZATION_FAILED for the whole request), as on Kafka. This
// bridge verifies its own produce requests in process (Produce), so only
// tools send v4+. v5 changes nothing on the wire.
//
// Errors as Kafka's: WRITE on the transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED) and on each topic
// (TOPIC_AUTHORIZATION_FAILED), an unknown topic or partition
// UNKNOWN_TOPIC_OR_PARTITION, and then every other partition of that
// transaction OPERATION_NOT_ATTEMPTED; an unknown transactional id or
// another producer id INVALID_PRODUCER_ID_MAPPING, another epoch
// PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v2), a transaction
// completing CONCURRENT_TRANSACTIONS.
package kafka

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.AddPartitionsToTxn, MinVersion: 0, MaxVersion: 5, Handle: handleAddPartitionsToTxn})
}

// txnTopicParts is one topic's partitions in an AddPartitionsToTxn, and
// then each one's error code.
type txnTopicParts struct {
	topic string
	parts []int32
	codes []int16
}

func handleAddPartitionsToTxn(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.AddPartitionsToTxnRequest)
	resp := req.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if r.Version < 4 {
		ts := make([]txnTopicParts, len(req.Topics))
		for i, t := range req.Topics {
			ts[i] = txnTopicParts{topic: t.Topic, parts: t.Partitions}
		}
		addPartitionsToTxn(ctx, r, req.TransactionalID, req.ProducerID, req.ProducerEpoch, false, ts)
		for _, t := range ts {
			rt := kmsg.NewAddPartitionsToTxnResponseTopic()
			rt.Topic = t.topic
			for i, p := range t.parts {
				rp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				rp.Partition, rp.ErrorCode = p, t.codes[i]
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return Respond(resp), nil
	}
	if !r.clusterAllowed(kmsg.ACLOperationClusterAction) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return Respond(resp), nil
	}
	for _, tx := range req.Transactions {
		ts := make([]txnTopicParts, len(tx.Topics))
		for i, t := range tx.Topics {
			ts[i] = txnTopicParts{topic: t.Topic, parts: t.Partitions}
		}
		addPartitionsToTxn(ctx, r, tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly, ts)
		rtx := kmsg.NewAddPartitionsToTxnResponseTransaction()
		rtx.TransactionalID = tx.TransactionalID
		for _, t := range ts {
			rt := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
			rt.Topic = t.topic
			for i, p := range t.parts {
				rp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
				rp.Partition, rp.ErrorCode = p, t.codes[i]
				rt.Partitions = append(rt.Partitions, rp)
			}
			rtx.Topics = append(rtx.Topics, rt)
		}
		resp.Transactions = append(resp.Transactions, rtx)
	}
	return Respond(resp), nil
}

// addPartitionsToTxn adds (or with verifyOnly checks) ts's partitions to
// the transaction of id, filling in their codes.
func addPartitionsToTxn(ctx context.Context, r *Request, id string, pid int64, epoch int16, verifyOnly bool, ts []txnTopicParts) {
	s := r.Server
	all := func(code int16) {
		for i := range ts {
			ts[i].codes = make([]int16, len(ts[i].parts))
			for j := range ts[i].codes {
				ts[i].codes[j] = code
			}
		}
	}
	all(0)
	if !r.authorized(kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, id) {
		all(kerr.TransactionalIDAuthorizationFailed.Code)
		return
	}
	// Topics first: one bad partition and nothing is added.
	bad := false
	for i := range ts {
		t := &ts[i]
		code := int16(0)
		var nparts int
		if !r.topicAllowed(kmsg.ACLOperationWrite, t.topic) {
			code = kerr.TopicAuthorizationFailed.Code
		} else if st, err := s.store.DescribeStream(ctx, t.topic); err != nil {
			code = kerr.UnknownTopicOrPartition.Code
		} else {
			nparts = len(st.Partitions)
		}
		for j, p := range t.parts {
			switch {
			case code != 0:
				t.codes[j] = code
			case p < 0 || int(p) >= nparts:
				t.codes[j] = kerr.UnknownTopicOrPartition.Code
			default:
				continue
			}
			bad = true
		}
	}
	if bad {
		for i := range ts {
			for j := range ts[i].codes {
				if ts[i].codes[j] == 0 {
					ts[i].codes[j] = kerr.OperationNotAttempted.Code
				}
			}
		}
		return
	}
	c, err := s.txnCoord()
	if err != nil {
		all(txnErrorCode(s, err))
		return
	}
	e, err := c.lock(id, false)
	if err != nil {
		all(txnErrorCode(s, err))
		return
	}
	if e == nil {
		all(kerr.InvalidProducerIDMapping.Code)
		return
	}
	defer e.mu.Unlock()
	m := e.meta
	switch {
	case m == nil || m.PID != pid:
		all(kerr.InvalidProducerIDMapping.Code)
		return
	case m.Epoch != epoch:
		all(fencedCode(r.Version, 2))
		return
	case e.done != nil || m.State.preparing():
		all(kerr.ConcurrentTransactions.Code)
		return
	case m.State == txnDead || m.State == txnPrepareEpochFence:
		all(kerr.InvalidTxnState.Code)
		return
	}
	if verifyOnly {
		for i := range ts {
			for j, p := range ts[i].parts {
				if m.State != txnOngoing || !m.hasPart(ts[i].topic, p) {
					ts[i].codes[j] = kerr.InvalidTxnState.Code
				}
			}
		}
		return
	}
	n := m.clone()
	n.beginIfIdle(time.Now().UnixMilli())
	for _, t := range ts {
		for _, p := range t.parts {
			n.addPart(t.topic, p)
		}
	}
	if m.State == txnOngoing && len(n.Parts) == len(m.Parts) {
		return // all there already
	}
	if err := c.storeOrdered(ctx, n); err != nil {
		all(txnErrorCode(s, err))
		return
	}
	began := m.State != txnOngoing
	e.meta = n
	if began {
		c.scheduleTimeout(e)
	}
}
