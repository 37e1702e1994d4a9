// Produce (key 0), versions 0-12. v0-2 carry message sets of magic 0/1,
// converted to one v2 batch per partition first (produce_legacy.go). From
// v3 on, record batch v2 only. Each partition's records must be exactly one batch
// (as Kafka requires from v3): CRC-checked by recordbatch.CheckProduce and
// stored as sent, compression kept (gzip, snappy, lz4, zstd), with only the
// base offset and partition leader epoch rewritten; a topic with
// message.timestamp.type=LogAppendTime gets the arrival time stamped into
// the batch header. A batch over the topic's max.message.bytes gets
// MESSAGE_TOO_LARGE; other partitions of the request are unaffected.
//
// Acks: 1 and -1 both answer once the batch is durable, since this single
// node is the whole ISR; 0 answers nothing. The handler starts every append
// in request order (offsets and order fixed), and the deferred reply waits
// for durability, so pipelined requests share fsyncs.
//
// Idempotent producers (producer id >= 0) are checked against per-partition
// state (producers.go): a retry of one of the last five batches is answered
// with its original offsets and is not stored again, a gap is
// OUT_OF_ORDER_SEQUENCE_NUMBER, an older epoch INVALID_PRODUCER_EPOCH.
// Transactional batches are checked against their transaction
// (startTransactional, txn_coordinator.go): the request's transactional id
// (WRITE on it, else TRANSACTIONAL_ID_AUTHORIZATION_FAILED), its producer id
// and epoch (INVALID_PRODUCER_EPOCH), and the partition added to its ongoing
// transaction (INVALID_TXN_STATE); from v12 (KIP-890 part 2) the produce
// adds the partition itself (txn_v2.go).
//
// v5+ report LogStartOffset; v8+ ErrorMessage; v10-11 add only tagged
// fields (leader hints) we never need to send: node 0 leads everything;
// v12 changes nothing on the wire.
// A merged-away partition answers POLICY_VIOLATION (see errorCode).
package kafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.Produce, MinVersion: 0, MaxVersion: 12, Handle: handleProduce})
}

// produceWait is a partition's append between start and durability.
type produceWait struct {
	rp        *kmsg.ProduceResponseTopicPartition
	topic     string
	partition int32
	pd        store.Pending // nil for a duplicate
	dup       batchMeta     // the original, when pd is nil
	offsets   *batchOffsets // an idempotent append's, resolved at finish
}

// produceJob is one partition of a produce request, between checks and
// the start of its append.
type produceJob struct {
	rp      *kmsg.ProduceResponseTopicPartition
	st      *store.Stream
	tc      TopicConfig
	records []byte
	info    recordbatch.Info  // records' header, once checked
	refs    []store.ObjectRef // objects records were offloaded to
	txnID   *string           // the request's transactional id
	w       produceWait
	err     error

	// addsPartition: Produce v12+ adds the partition to the transaction
	// itself (KIP-890 part 2, txn_v2.go).
	addsPartition bool
}

func handleProduce(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.ProduceRequest)
	resp := req.ResponseKind().(*kmsg.ProduceResponse)
	s := r.Server

	refuse := int16(0)
	switch {
	case req.Acks != 0 && req.Acks != 1 && req.Acks != -1:
		refuse = kerr.InvalidRequiredAcks.Code
	case req.TransactionID != nil && !r.authorized(kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, *req.TransactionID):
		refuse = kerr.TransactionalIDAuthorizationFailed.Code
	}

	// First the topics and the response skeleton, in request order.
	var jobs []produceJob
	defer func() {
		// Should anything below panic (a bug), the appends already
		// started must still be waited on, or they would hold the store
		// open forever; the connection then closes as for any panic.
		if p := recover(); p != nil {
			for _, j := range jobs {
				if j.err == nil && j.w.pd != nil {
					j.w.pd.Wait()
				}
			}
			panic(p)
		}
	}()
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(req.Topics))
	for i := range req.Topics {
		rt := &req.Topics[i]
		t := &resp.Topics[i]
		*t = kmsg.NewProduceResponseTopic()
		t.Topic = rt.Topic
		t.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))

		var (
			st   = new(store.Stream)
			terr error
		)
		topicRefuse := refuse
		if topicRefuse == 0 && !r.topicAllowed(kmsg.ACLOperationWrite, rt.Topic) {
			topicRefuse = kerr.TopicAuthorizationFailed.Code
		}
		if topicRefuse == 0 {
			topicRefuse = s.produceInternalRefusal(rt.Topic) // internaltopic.go
		}
		if topicRefuse == 0 {
			*st, terr = s.autoCreate(ctx, r, rt.Topic, true)
		}
		tc := TopicConfigFor(st)
		for j := range rt.Partitions {
			rp := &t.Partitions[j]
			*rp = kmsg.NewProduceResponseTopicPartition()
			rp.Partition = rt.Partitions[j].Partition
			rp.BaseOffset = -1
			rp.LogAppendTime = -1
			rp.LogStartOffset = -1
			switch {
			case topicRefuse != 0:
				rp.ErrorCode = topicRefuse
				continue
			case terr != nil:
				rp.ErrorCode = errorCode(terr)
				continue
			}
			jobs = append(jobs, produceJob{rp: rp, st: st, tc: tc, records: rt.Partitions[j].Records, txnID: req.TransactionID, addsPartition: r.Version >= 12})
		}
	}

	// Then the appends: they fix the partitions' order, so they start here,
	// on the reader goroutine, before the next request is looked at.
	// (Starting a request's partitions concurrently was measured: no gain,
	// the store's commit pipeline serializes them anyway.)
	now := time.Now().UnixMilli()
	for i := range jobs {
		j := &jobs[i]
		j.w = produceWait{topic: j.st.Name, partition: j.rp.Partition}
		if r.Version < 3 {
			if j.records, j.err = s.legacyProduceBatch(j.st.Name, j.rp.Partition, j.records); j.err != nil {
				continue
			}
		}
		j.info, j.err = checkProduce(j.st, j.tc, j.rp.Partition, j.records, now)
	}
	s.offloadJobs(ctx, jobs)
	for i := range jobs {
		if j := &jobs[i]; j.err == nil {
			j.w, j.err = s.startProduce(ctx, j)
		}
	}

	var waits []produceWait
	for i := range jobs {
		j := &jobs[i]
		rp := j.rp
		if j.err != nil {
			if store.IsKeyError(j.err) {
				s.log.Warn("produce: the topic's KMS key cannot encrypt", "topic", j.st.Name, "partition", rp.Partition, "err", j.err)
			}
			rp.ErrorCode = errorCode(j.err)
			if r.Version >= 8 {
				rp.ErrorMessage = errorMessage(j.err)
				rp.ErrorRecords = recordErrors(j.err)
			}
			continue
		}
		if j.tc.LogAppendTime {
			rp.LogAppendTime = now
		}
		j.w.rp = rp
		waits = append(waits, j.w)
	}

	finish := func(ctx context.Context) (kmsg.Response, error) {
		for i := range waits {
			s.finishProduce(ctx, &waits[i])
		}
		return resp, nil
	}
	if req.Acks == 0 {
		// No response, but the appends must still be waited on.
		return Reply{later: finish, none: true}, nil
	}
	return RespondLater(finish), nil
}

// checkProduce makes a broker's checks of one partition's batch and
// rewrites what a broker rewrites in its header. It runs on the reader
// goroutine, in request order.
func checkProduce(st *store.Stream, tc TopicConfig, partition int32, batch []byte, now int64) (recordbatch.Info, error) {
	if partition < 0 || int(partition) >= len(st.Partitions) {
		return recordbatch.Info{}, fmt.Errorf("%w: %s has no partition %d", store.ErrPartitionNotFound, st.Name, partition)
	}
	if st.Partitions[partition].Retired {
		return recordbatch.Info{}, fmt.Errorf("%w: partition %d of %s was merged away (its shard was merged) and accepts no writes; produce to another partition", store.ErrPartitionRetired, partition, st.Name)
	}
	info, err := recordbatch.CheckProduce(batch)
	switch {
	case err == nil:
	case errors.Is(err, recordbatch.ErrCorrupt), errors.Is(err, recordbatch.ErrTruncated):
		return info, refuse(kerr.CorruptMessage, "%v", err)
	default: // magic 0/1, unknown codec, control batch, bad offset deltas
		return info, refuse(kerr.InvalidRecord, "%v", err)
	}
	if int64(len(batch)) > int64(tc.MaxMessageBytes) {
		return info, refuse(kerr.MessageTooLarge, "batch of %d bytes is over %s's max.message.bytes of %d", len(batch), st.Name, tc.MaxMessageBytes)
	}
	if info.Transactional() && info.ProducerID < 0 {
		return info, refuse(kerr.InvalidRecord, "transactional batch without a producer id")
	}
	if info.ProducerID >= 0 && (info.ProducerEpoch < 0 || info.BaseSequence < 0) {
		return info, refuse(kerr.InvalidRecord, "idempotent batch without producer epoch or sequence")
	}
	if tc.Compacted {
		if err := checkKeys(st.Name, partition, batch); err != nil {
			return info, err
		}
	}
	if tc.LogAppendTime {
		recordbatch.SetLogAppendTime(batch, now)
	}
	// As a broker does on append; consumers compare it with the epoch
	// Metadata reports (always 0). The CRC does not cover it.
	recordbatch.SetPartitionLeaderEpoch(batch, 0)
	// The offload marks are the bridge's alone.
	recordbatch.ClearMarks(batch)
	return info, nil
}

// startProduce starts a checked (and offloaded) batch's append, or
// recognises it as a retry. It runs on the reader goroutine, in request
// order.
func (s *Server) startProduce(ctx context.Context, j *produceJob) (produceWait, error) {
	var err error
	w := j.w
	if j.info.ProducerID < 0 {
		w.pd, err = s.store.StartAppendBatch(ctx, j.st.Name, j.rp.Partition, j.records, store.AppendOptions{Objects: j.refs})
	} else if j.info.Transactional() {
		w, err = s.startTransactional(ctx, j)
	} else {
		w, err = s.startIdempotent(ctx, j.st, j.rp.Partition, j.records, j.info, j.refs)
	}
	if w.pd == nil && len(j.refs) > 0 {
		s.cfg.Offload.Discard(j.refs) // refused, or a retry of a stored batch
	}
	return w, err
}

// startIdempotent checks a batch of an idempotent producer against the
// partition's producer state and starts its append with the updated state.
func (s *Server) startIdempotent(ctx context.Context, st *store.Stream, partition int32, batch []byte, info recordbatch.Info, refs []store.ObjectRef) (produceWait, error) {
	w := produceWait{topic: st.Name, partition: partition}
	pp := s.producers.partition(topicID(*st), partition)
	pp.mu.Lock()
	defer pp.mu.Unlock()
	e, err := pp.entry(ctx, st, s, info.ProducerID)
	if err != nil {
		return w, err
	}
	firstSeq, lastSeq := info.BaseSequence, nextSeq(info.BaseSequence, info.LastOffsetDelta)
	chk := e.check(info.ProducerEpoch, firstSeq, lastSeq)
	switch {
	case chk.code != 0:
		var msg string
		if chk.code == kerr.InvalidProducerEpoch.Code {
			msg = fmt.Sprintf("producer %d epoch %d is older than the current %d", info.ProducerID, info.ProducerEpoch, e.epoch)
		} else {
			msg = fmt.Sprintf("producer %d: sequence %d does not follow the last one appended", info.ProducerID, firstSeq)
		}
		return w, refuse(kerr.TypedErrorForCode(chk.code), "%s", msg)
	case chk.dup:
		s.m.dups.Inc()
		w.dup = chk.orig
		return w, nil
	}
	_, hw, err := s.store.Offsets(ctx, st.Name, partition)
	if err != nil {
		return w, err
	}
	w.offsets = &batchOffsets{done: make(chan struct{})}
	next := e.next(info.ProducerEpoch, batchMeta{firstSeq: firstSeq, lastSeq: lastSeq, base: hw, last: -1, pending: w.offsets})
	w.pd, err = s.store.StartAppendBatch(ctx, st.Name, partition, batch, store.AppendOptions{
		State:   []store.KV{{Namespace: producerNamespace, Key: pp.key(info.ProducerID), Value: next.encode()}},
		Objects: refs,
	})
	if err != nil {
		return w, err
	}
	pp.entries[info.ProducerID] = next
	return w, nil
}

// finishProduce waits for a partition's append to be durable and fills in
// its response. It runs on the writer goroutine.
func (s *Server) finishProduce(ctx context.Context, w *produceWait) {
	rp := w.rp
	if w.pd == nil {
		// A retry: answer once the original is durable, with its offsets.
		orig := w.dup
		if orig.pending != nil {
			select {
			case <-orig.pending.done:
			case <-ctx.Done():
				rp.ErrorCode = errorCode(ctx.Err())
				return
			}
			if err := orig.pending.err; err != nil {
				rp.ErrorCode = errorCode(err)
				return
			}
			orig = orig.settle()
		}
		rp.BaseOffset = orig.base
	} else {
		res, err := w.pd.Wait()
		if o := w.offsets; o != nil {
			o.base, o.last, o.err = res.BaseOffset, res.LastOffset, err
			close(o.done)
		}
		if err != nil {
			rp.ErrorCode = errorCode(err)
			return
		}
		rp.BaseOffset = res.BaseOffset
	}
	if logStart, _, err := s.store.Offsets(ctx, w.topic, w.partition); err == nil {
		rp.LogStartOffset = logStart
	}
}
