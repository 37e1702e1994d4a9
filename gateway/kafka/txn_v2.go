package kafka

// KIP-890 part 2 (Kafka 4.0's transaction.version 2), which franz-go uses
// once ApiVersions finalizes the transaction.version feature at 2:
//
//   - Produce v12+: a transactional batch to a partition not yet in the
//     transaction adds it (the client sends no AddPartitionsToTxn), and
//     starts a transaction when none is ongoing; the state write is
//     ordered before the batch, as AddPartitionsToTxn's (storeOrdered).
//   - TxnOffsetCommit v5+: adds its group to the transaction (no
//     AddOffsetsToTxn).
//   - EndTxn v5+: every end bumps the producer epoch (a new producer id
//     once the epoch is exhausted), the markers carry the bumped epoch,
//     and the answer names the producer id and epoch to go on with. An
//     abort with no transaction ongoing bumps the epoch too; a retry with
//     the previous epoch of an end that completed is answered again.
//
// Older versions keep the part 1 rules, so clients that do not use part 2
// (librdkafka, sarama) see no change.

import (
	"context"
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnVersionFeature is the feature ApiVersions finalizes at txnVersionLevel.
const (
	txnVersionFeature = "transaction.version"
	txnVersionLevel   = 2
)

// addTxnVersionFeature lists transaction.version in a v3+ ApiVersions
// answer, supported 0-2 and finalized at 2, as a Kafka 4 cluster with
// transaction.version=2 does.
func addTxnVersionFeature(resp *kmsg.ApiVersionsResponse) {
	if resp.Version < 3 || resp.ErrorCode != 0 {
		return
	}
	sf := kmsg.NewApiVersionsResponseSupportedFeature()
	sf.Name, sf.MinVersion, sf.MaxVersion = txnVersionFeature, 0, txnVersionLevel
	resp.SupportedFeatures = append(resp.SupportedFeatures, sf)
	ff := kmsg.NewApiVersionsResponseFinalizedFeature()
	ff.Name, ff.MinVersionLevel, ff.MaxVersionLevel = txnVersionFeature, txnVersionLevel, txnVersionLevel
	resp.FinalizedFeatures = append(resp.FinalizedFeatures, ff)
	if resp.FinalizedFeaturesEpoch < 0 {
		resp.FinalizedFeaturesEpoch = 1
	}
}

// addOnProduce is Produce v12+'s implicit AddPartitionsToTxn. Call with
// e.mu held; a batch it does not add for is left to checkTxnBatch.
func (c *txnCoordinator) addOnProduce(ctx context.Context, e *txnEntry, topic string, partition int32, pid int64, epoch int16) error {
	m := e.meta
	if m == nil || m.PID != pid || m.Epoch != epoch {
		return nil // checkTxnBatch refuses it
	}
	if m.State == txnOngoing && m.hasPart(topic, partition) {
		return nil
	}
	if e.done != nil || m.State.preparing() {
		return refuse(kerr.ConcurrentTransactions, "transaction of producer %d is completing", pid)
	}
	switch m.State {
	case txnOngoing, txnEmpty, txnCompleteCommit, txnCompleteAbort:
	default:
		return nil
	}
	n := m.clone()
	n.beginIfIdle(time.Now().UnixMilli())
	n.addPart(topic, partition)
	if err := c.storeOrdered(ctx, n); err != nil {
		return refuse(kerr.CoordinatorNotAvailable, "storing the transaction: %v", err)
	}
	began := m.State != txnOngoing
	e.meta = n
	if began {
		c.scheduleTimeout(e)
	}
	return nil
}

// addGroupOnCommit is TxnOffsetCommit v5+'s implicit AddOffsetsToTxn on n
// (a clone of m, stored by the caller); it reports whether a transaction
// began. ok is false when m's state allows no offsets.
func addGroupOnCommit(m, n *txnMeta, group string) (began, ok bool) {
	switch m.State {
	case txnOngoing, txnEmpty, txnCompleteCommit, txnCompleteAbort:
	default:
		return false, false
	}
	n.beginIfIdle(time.Now().UnixMilli())
	if !n.hasGroup(group) {
		n.Groups = append(n.Groups, group)
	}
	return m.State != txnOngoing, true
}

// bumpForEnd gives n, on its way to PrepareX, the epoch its markers carry
// and its producer goes on with (EndTxn v5+); once the epoch is exhausted
// the markers carry the last epoch and the producer gets a new id at
// epoch 0 when the transaction completes (NextPID). The previous pair is
// kept to answer a retry.
func (c *txnCoordinator) bumpForEnd(ctx context.Context, n *txnMeta) error {
	n.LastPID, n.LastEpoch = n.PID, n.Epoch
	if n.Epoch >= math.MaxInt16-1 {
		id, err := c.s.pids.next(ctx)
		if err != nil {
			return err
		}
		n.NextPID = id
	}
	n.Epoch++
	return nil
}

// handleEndTxnV2 answers EndTxn v5+.
func handleEndTxnV2(ctx context.Context, r *Request, req *kmsg.EndTxnRequest, resp *kmsg.EndTxnResponse) (Reply, error) {
	resp.ProducerID, resp.ProducerEpoch = -1, -1
	e, done, code := endTxnV2(ctx, r, req)
	if done == nil {
		resp.ErrorCode = code
		if code == 0 {
			e.mu.Lock()
			if e.meta != nil {
				resp.ProducerID, resp.ProducerEpoch = e.meta.PID, e.meta.Epoch
			}
			e.mu.Unlock()
		}
		return Respond(resp), nil
	}
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		select {
		case <-done:
			e.mu.Lock()
			resp.ErrorCode = e.code
			if e.code == 0 && e.meta != nil {
				resp.ProducerID, resp.ProducerEpoch = e.meta.PID, e.meta.Epoch
			}
			e.mu.Unlock()
		case <-ctx.Done():
			resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		}
		return resp, nil
	}), nil
}

// endTxnV2 is Kafka 4's TransactionCoordinator.endTransaction with
// transaction.version 2. It returns the entry and, when a completion was
// started, its channel; else the code (0: answered with e's current
// producer id and epoch).
func endTxnV2(ctx context.Context, r *Request, req *kmsg.EndTxnRequest) (*txnEntry, chan struct{}, int16) {
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
	if m == nil {
		return nil, nil, kerr.InvalidProducerIDMapping.Code
	}
	retry := m.LastEpoch >= 0 && req.ProducerID == m.LastPID && req.ProducerEpoch == m.LastEpoch
	switch {
	case m.PID != req.ProducerID && !retry:
		return nil, nil, kerr.InvalidProducerIDMapping.Code
	case m.Epoch != req.ProducerEpoch && !retry:
		return nil, nil, kerr.ProducerFenced.Code
	}
	end := func(state txnState) (*txnEntry, chan struct{}, int16) {
		if e.done != nil {
			return nil, nil, kerr.ConcurrentTransactions.Code
		}
		n := m.clone()
		if err := c.bumpForEnd(ctx, n); err != nil {
			return nil, nil, txnErrorCode(s, err)
		}
		n.State = state
		if state == txnPrepareAbort && m.State != txnOngoing {
			n.Parts, n.Groups, n.Offsets = nil, nil, nil
		}
		done, err := c.prepare(e, n)
		if err != nil {
			return nil, nil, txnErrorCode(s, err)
		}
		return e, done, 0
	}
	switch m.State {
	case txnOngoing:
		if retry {
			return nil, nil, kerr.ProducerFenced.Code
		}
		if req.Commit {
			return end(txnPrepareCommit)
		}
		return end(txnPrepareAbort)
	case txnCompleteCommit, txnCompleteAbort:
		if retry {
			if req.Commit == (m.State == txnCompleteCommit) {
				return e, nil, 0
			}
			return nil, nil, kerr.InvalidTxnState.Code
		}
		if !req.Commit {
			return end(txnPrepareAbort) // an abort with nothing open bumps the epoch
		}
	case txnEmpty:
		if retry {
			return nil, nil, kerr.ProducerFenced.Code
		}
		if !req.Commit {
			return end(txnPrepareAbort)
		}
	case txnPrepareCommit, txnPrepareAbort:
		if req.Commit == (m.State == txnPrepareCommit) {
			return nil, nil, kerr.ConcurrentTransactions.Code
		}
	}
	return nil, nil, kerr.InvalidTxnState.Code
}
