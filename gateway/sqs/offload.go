package sqs

// Large payloads (ARCHITECTURE.md, "Large payloads"), SQS's side. SQS
// itself never offloads: a message sent through SQS is limited by its
// queue's MaximumMessageSize (at most 1 MiB), as on AWS, and the offload
// threshold is over that, so only two kinds of pointer records reach a
// queue, both in marked batches (payloads.Marked):
//
//   - records the bridge offloaded, a Kafka producer's over the topic's
//     threshold: the bridge owns their objects (store.OffloadPrefix, in the
//     store's references), and deletes them with their records;
//   - messages an extended client sent in pointer form after writing the
//     object itself (the Java and Python SQS extended clients do): the
//     client owns the object and deletes it. Their batch is marked
//     ClientPointers only so that Kafka consumers and Kinesis readers read
//     them restored (payloads.Restorable), and only when the sender may
//     read the object (mayRead).
//
// ReceiveMessage delivers both in the extended clients' form: the pointer
// as body, the ExtendedPayloadSize (or legacy SQSLargePayloadSize)
// attribute as a Number, and a receipt handle carrying the pointer as the
// Java extended client builds its handles (offload.EmbedInReceiptHandle).
// Every operation that takes a handle accepts such a one. DeleteMessage of
// one deletes the object too, when the bridge owns it and the pointer is
// the one in the message's record, so a plain SDK consumer (boto3 reading
// the pointer and the object itself) leaves nothing behind. It never
// deletes on a client's word alone: a handle naming another object, or an
// object the client owns (DeleteMessage is not authorized as
// s3:DeleteObject), deletes no object. A Kafka consumer that reads the
// record after that gets the pointer record (its fetch logs the missing
// payload and hands the pointer over).

import (
	"context"
	"strings"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/security/iampolicy"
	"github.com/streambridge/bridge/store"
)

// receivedPointer returns the pointer of a received message that is a
// pointer record. Only a record of a marked batch is looked at.
func (h *Handler) receivedPointer(r receivedMessage) (offload.Pointer, bool) {
	if h.cfg.Offload == nil || !r.offloaded {
		return offload.Pointer{}, false
	}
	p, _, ok := payloads.PointerOf(&r.record)
	return p, ok
}

// asPointerMessage gives a pointer record's message the extended clients'
// form: its size attribute is a Number (a Kafka-produced record's header
// has no type and would read as a String), and the receipt handle carries
// the pointer.
func asPointerMessage(in *incoming, p offload.Pointer, handle string) string {
	for _, name := range []string{payloads.SizeHeader, payloads.LegacySizeHeader} {
		v, ok := in.attributes[name]
		if !ok {
			continue
		}
		if base, _ := baseType(v.DataType); base != typeNumber {
			s := string(v.BinaryValue)
			if v.StringValue != nil {
				s = *v.StringValue
			}
			in.attributes[name] = MessageAttributeValue{DataType: typeNumber, StringValue: &s}
		}
	}
	return offload.EmbedInReceiptHandle(p, handle)
}

// splitHandle returns the handle the bridge issued inside a handle that
// carries a pointer, and the innermost pointer (the bridge's: a Java
// extended client wraps the handles it is given once more, and passes on
// the one it was given). hasPointer is false for a plain handle.
func splitHandle(handle string) (inner string, p offload.Pointer, hasPointer bool) {
	inner = handle
	for {
		q, rest, ok := offload.SplitReceiptHandle(inner)
		if !ok {
			return inner, p, hasPointer
		}
		inner, p, hasPointer = rest, q, true
	}
}

// deletePayload deletes the object of the message a deleted receipt named,
// when the handle carried p, the message's record is a pointer record of a
// marked batch naming p, and the bridge owns the object (its key is under
// payloads.OwnedPrefix: SendMessage refuses client pointers under
// store.OffloadPrefix, and Produce clears the marks of what producers send). A failure is
// logged, not answered: the message is deleted, and the store deletes the
// object with its record in any case.
func (h *Handler) deletePayload(ctx context.Context, t *target, r receipt, p offload.Pointer) {
	if h.cfg.Offload == nil || !strings.HasPrefix(p.Key, payloads.OwnedPrefix(t.name, r.partition)) {
		return
	}
	rec, ok, err := t.q.parts[r.partition].record(ctx, r.offset)
	if err != nil || !ok || !rec.offloaded {
		if err != nil {
			h.log.Warn("sqs: reading a deleted message's record for its payload failed", "queue", t.name, "partition", r.partition, "offset", r.offset, "err", err)
		}
		return
	}
	if stored, _, ok := payloads.PointerOf(&rec.Record); !ok || stored != p {
		return
	}
	if err := h.store.DeleteObject(ctx, p.Bucket, p.Key); err != nil {
		h.log.Warn("sqs: deleting a deleted message's payload failed", "queue", t.name, "bucket", p.Bucket, "key", p.Key, "err", err)
	}
}

// mayRead reports whether the sender of a pointer message may read the
// object it names (s3:GetObject), when requests are authorized: Kafka
// consumers and Kinesis readers get the message restored with the
// bridge's own access to every object, so the sender's access must cover
// it. A message it may not read is stored unmarked, and read as the
// pointer it is.
func (h *Handler) mayRead(ctx context.Context, m *outgoing) bool {
	if h.cfg.Authorizer == nil {
		return true
	}
	who, ok := awsapi.PrincipalFrom(ctx)
	if !ok {
		return false
	}
	r := m.record()
	p, _, _ := payloads.PointerOf(&r)
	_, d := h.cfg.Authorizer.Decide(who.AccessKeyID, "s3:GetObject", "arn:aws:s3:::"+p.Bucket+"/"+p.Key, nil)
	return d == iampolicy.Allowed
}

// sentPointer reports whether an outgoing message is in the extended
// clients' pointer form: a pointer as body and a decimal size attribute
// (ExtendedPayloadSize, or the first Java client's SQSLargePayloadSize).
// A pointer into the bridge's own objects is refused: those belong to the
// records the bridge offloaded, and a message naming one would let its
// DeleteMessage, or the store's sweep, reach another record's payload.
func sentPointer(m *outgoing) (bool, error) {
	_, hasSize := m.attributes[payloads.SizeHeader]
	_, hasLegacy := m.attributes[payloads.LegacySizeHeader]
	if !hasSize && !hasLegacy {
		return false, nil
	}
	r := m.record()
	p, _, ok := payloads.PointerOf(&r)
	if !ok {
		return false, nil
	}
	if strings.HasPrefix(p.Key, store.OffloadPrefix) {
		return false, newError(ErrInvalidParameterValue, "The message's payload pointer names an object under %s, which is reserved by the bridge.", store.OffloadPrefix)
	}
	return true, nil
}
