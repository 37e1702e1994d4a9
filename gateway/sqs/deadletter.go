package sqs

// Dead-letter queues. A queue with a RedrivePolicy sends a message whose
// receive count goes over maxReceiveCount to its dead-letter queue instead
// of returning it: the receive that would have been one too many appends
// the message there (the same record, with its SentTimestamp, and the
// source queue's ARN for DeadLetterQueueSourceArn) and then deletes it from
// the source. A crash between the two leaves the message in both, never in
// neither: at least once, like the rest of SQS.

import (
	"context"
	"errors"
	"slices"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// redrive moves the received messages over their queue's maxReceiveCount
// to its dead-letter queue and returns the others. A dead-letter queue
// that no longer exists moves nothing, as in SQS.
func (h *Handler) redrive(ctx context.Context, t *target, got []receivedMessage) ([]receivedMessage, error) {
	arn, maxReceives, ok := redriveTarget(t.attrs)
	if !ok || !slices.ContainsFunc(got, func(r receivedMessage) bool { return int64(r.state.receives) > maxReceives }) {
		return got, nil
	}
	name, ok := h.queueOfARN(arn)
	if !ok {
		return got, nil
	}
	dlq, err := h.lookup(ctx, name)
	if errors.Is(err, errNoQueue) {
		h.log.Warn("sqs: dead-letter queue does not exist; messages stay", "queue", t.name, "deadLetterQueue", name)
		return got, nil
	}
	if err != nil {
		return nil, err
	}
	var keep, dead []receivedMessage
	for _, r := range got {
		if int64(r.state.receives) > maxReceives {
			dead = append(dead, r)
		} else {
			keep = append(keep, r)
		}
	}
	recs := make([]storedRecord, len(dead))
	for i, r := range dead {
		recs[i] = movedRecord(r, h.queueARN(t.name))
	}
	if err := h.appendRecords(ctx, dlq, recs); err != nil {
		return nil, err
	}
	if err := t.q.removeReceived(ctx, dead); err != nil {
		return nil, err
	}
	return keep, nil
}

// movedRecord is a message's record as it goes to another queue: its
// body, group, attributes and SentTimestamp kept, its delay dropped, and
// deadLetterSource (when not "") recorded. A pointer record's batch is
// marked there too, so it is received in pointer form; its
// object stays the source record's (offload.go: the bridge deletes no
// object for the copy, and the store deletes a bridge-offloaded one with
// the source record).
func movedRecord(m receivedMessage, deadLetterSource string) storedRecord {
	r := m.record
	out := recordbatch.Record{Timestamp: r.Timestamp, Key: r.Key, Value: r.Value}
	for _, hd := range r.Headers {
		if hd.Key == headerDelayUntil || hd.Key == headerDeadLetterSource {
			continue
		}
		out.Headers = append(out.Headers, hd)
	}
	if deadLetterSource != "" {
		out.Headers = append(out.Headers, recordbatch.Header{Key: headerDeadLetterSource, Value: []byte(deadLetterSource)})
	}
	return storedRecord{out, m.offloaded}
}

// appendRecords appends whole records to queue t, each to the partition
// its group places it in, durably.
func (h *Handler) appendRecords(ctx context.Context, t *target, recs []storedRecord) error {
	byPartition := map[int32][]recordbatch.Record{}
	marked := map[int32]bool{}
	for _, r := range recs {
		p := t.q.partitionFor(string(r.Key))
		byPartition[p] = append(byPartition[p], r.Record)
		marked[p] = marked[p] || r.offloaded
	}
	for p, rs := range byPartition {
		// The copies' pointers were the bridge's or vetted when sent,
		// and name objects outside this queue's own prefix: a client
		// pointers batch is the mark under which readers restore them.
		batch, err := recordbatch.Encode(nil, rs, recordbatch.EncodeOptions{ClientPointers: marked[p]})
		if err != nil {
			return err
		}
		if _, err := h.store.AppendBatch(ctx, t.name, p, batch, store.AppendOptions{}); err != nil {
			return err
		}
	}
	return nil
}

// removeReceived deletes messages just received, by their states' nonces.
func (q *queue) removeReceived(ctx context.Context, msgs []receivedMessage) error {
	byPartition := map[int32][]receipt{}
	for _, m := range msgs {
		byPartition[m.partition] = append(byPartition[m.partition], receipt{queue: q.name, partition: m.partition, offset: m.record.Offset, nonce: m.state.nonce})
	}
	for p, rs := range byPartition {
		if _, err := q.parts[p].remove(ctx, rs); err != nil {
			return err
		}
	}
	return nil
}
