// TxnOffsetCommit (key 28), versions 0-5: a transactional producer commits
// a consumer group's offsets as part of its transaction (the
// consume-transform-produce loop). The offsets are pending in the
// transaction's state (stored durably with it) until EndTxn: a commit
// makes them the group's committed offsets, in the same store write as
// CompleteCommit; an abort drops them. Until then OffsetFetch answers the
// group's previous commits, or UNSTABLE_OFFSET_COMMIT for require_stable
// (KIP-447, txn_offsets.go).
//
// Checks, in Kafka's order: WRITE on the transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the group
// (GROUP_AUTHORIZATION_FAILED); the transaction: unknown transactional id
// or another producer id INVALID_PRODUCER_ID_MAPPING, another epoch
// PRODUCER_FENCED (INVALID_PRODUCER_EPOCH before v3), the group not added
// by AddOffsetsToTxn to an ongoing transaction INVALID_TXN_STATE; the group
// (v3+, KIP-447): a member id, instance id or generation must be the
// group's current member (UNKNOWN_MEMBER_ID, FENCED_INSTANCE_ID) and
// generation (ILLEGAL_GENERATION; a group that does not exist is
// ILLEGAL_GENERATION for a generation >= 0, as on Kafka before
// GROUP_ID_NOT_FOUND in v6), while generation -1 without a member commits
// as a simple consumer, creating the group at commit; then per partition
// READ on the topic (TOPIC_AUTHORIZATION_FAILED), the topic and partition
// existing (UNKNOWN_TOPIC_OR_PARTITION), metadata at most 4096 bytes
// (OFFSET_METADATA_TOO_LARGE). v2 adds leader epochs, v3 is flexible and
// adds the member fields, v4 changes nothing on the wire. v5 (KIP-890
// part 2) adds its group to the transaction instead of requiring
// AddOffsetsToTxn (txn_v2.go), and answers CONCURRENT_TRANSACTIONS while
// the previous transaction completes.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.TxnOffsetCommit, MinVersion: 0, MaxVersion: 5, Handle: handleTxnOffsetCommit})
}

func handleTxnOffsetCommit(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.TxnOffsetCommitRequest)
	return Respond(txnOffsetCommit(ctx, r, req)), nil
}

func txnOffsetCommit(ctx context.Context, r *Request, req *kmsg.TxnOffsetCommitRequest) *kmsg.TxnOffsetCommitResponse {
	s := r.Server
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition = p.Partition
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	fill := func(code int16) *kmsg.TxnOffsetCommitResponse {
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = code
			}
		}
		return resp
	}
	if !r.authorized(kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, req.TransactionalID) {
		return fill(kerr.TransactionalIDAuthorizationFailed.Code)
	}
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		return fill(kerr.GroupAuthorizationFailed.Code)
	}
	gen, memberID, instanceID := int32(-1), "", (*string)(nil)
	if r.Version >= 3 {
		gen, memberID, instanceID = req.Generation, req.MemberID, req.InstanceID
	}

	// The group first, under its own lock (never held with the
	// transaction's: see the lock order in txn_coordinator.go).
	gc, err := s.groupCoordinator()
	if err != nil {
		return fill(coordinatorErrorCode(s, err))
	}
	g, err := gc.group(req.Group, false)
	if err != nil {
		return fill(coordinatorErrorCode(s, err))
	}
	if g == nil {
		if gen >= 0 || memberID != "" || instanceID != nil {
			return fill(kerr.IllegalGeneration.Code)
		}
	} else {
		code := int16(0)
		switch {
		case g.state == groupDead:
			code = kerr.CoordinatorNotAvailable.Code
		case g.cg != nil && (gen >= 0 || memberID != "" || instanceID != nil):
			// A consumer-protocol (KIP-848) group: the generation is
			// the member's epoch, as ConsumerGroup.validateOffsetCommit
			// checks a transactional commit (any TxnOffsetCommit
			// version). Without member id, epoch and instance id
			// (TxnOffsetCommit v0-2, or a producer sending offsets by
			// group id alone) Kafka does not validate, whatever the
			// group's members: the case below.
			code = g.cg.validateOffsetCommit(memberID, gen, 9)
		case gen >= 0 || memberID != "" || instanceID != nil:
			if code = g.validateMember(memberID, instanceID); code == 0 && gen != g.generation {
				code = kerr.IllegalGeneration.Code
			}
		}
		g.mu.Unlock()
		if code != 0 {
			return fill(code)
		}
	}
	maxMeta := gc.cfg.maxMetadataBytes

	c, err := s.txnCoord()
	if err != nil {
		return fill(txnErrorCode(s, err))
	}
	e, err := c.lock(req.TransactionalID, false)
	if err != nil {
		return fill(txnErrorCode(s, err))
	}
	if e == nil {
		return fill(kerr.InvalidProducerIDMapping.Code)
	}
	defer e.mu.Unlock()
	m := e.meta
	switch {
	case m == nil || m.PID != req.ProducerID:
		return fill(kerr.InvalidProducerIDMapping.Code)
	case m.Epoch != req.ProducerEpoch:
		return fill(fencedCode(r.Version, 3))
	case e.done != nil && r.Version >= 5:
		return fill(kerr.ConcurrentTransactions.Code)
	case r.Version < 5 && (m.State != txnOngoing || !m.hasGroup(req.Group) || e.done != nil):
		return fill(kerr.InvalidTxnState.Code)
	}

	n := m.clone()
	began := false
	if r.Version >= 5 {
		// KIP-890 part 2: the commit adds its group (txn_v2.go).
		var ok bool
		if began, ok = addGroupOnCommit(m, n, req.Group); !ok {
			return fill(kerr.ConcurrentTransactions.Code)
		}
	}
	added := 0
	for i, t := range req.Topics {
		allowed := r.topicAllowed(kmsg.ACLOperationRead, t.Topic)
		nparts := -1
		if allowed {
			if st, err := s.store.DescribeStream(ctx, t.Topic); err == nil {
				nparts = len(st.Partitions)
			}
		}
		for j, p := range t.Partitions {
			code := &resp.Topics[i].Partitions[j].ErrorCode
			switch {
			case !allowed:
				*code = kerr.TopicAuthorizationFailed.Code
			case p.Partition < 0 || int(p.Partition) >= nparts:
				*code = kerr.UnknownTopicOrPartition.Code
			case p.Metadata != nil && len(*p.Metadata) > maxMeta:
				*code = kerr.OffsetMetadataTooLarge.Code
			default:
				o := txnOffset{Topic: t.Topic, Partition: p.Partition, Offset: p.Offset, LeaderEpoch: -1, Metadata: p.Metadata}
				if r.Version >= 2 {
					o.LeaderEpoch = p.LeaderEpoch
				}
				n.setOffset(req.Group, o)
				added++
			}
		}
	}
	if added == 0 {
		return resp
	}
	if err := c.store(ctx, n); err != nil {
		code := txnErrorCode(s, err)
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				if resp.Topics[i].Partitions[j].ErrorCode == 0 {
					resp.Topics[i].Partitions[j].ErrorCode = code
				}
			}
		}
		return resp
	}
	e.meta = n
	if began {
		c.scheduleTimeout(e)
	}
	return resp
}
