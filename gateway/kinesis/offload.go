package kinesis

// Large payloads (issue 13): records kept as objects (gateway/payloads).
//
// Writing: PutRecord(s) offloads a record (a KPL aggregate's user records
// one by one) whose data and partition key exceed the stream's
// offload.threshold.bytes (Config.Offload's default where the stream sets
// none). The Kinesis record limits still apply first: offloading keeps the
// store lean, it does not raise what a stream takes. With the default
// threshold of 1 MiB that means records a stream takes after
// UpdateMaxRecordSize raised its limit; a lower threshold offloads smaller
// ones. The object is written before the batch that points to it, and the
// append carries its reference, so the store deletes it with the record.
//
// Reading: GetRecords and SubscribeToShard look only into batches marked
// Offloaded (a Kinesis batch with references, a Kafka producer's batch the
// Kafka front end offloaded). A pointer record's payload is restored (Data
// is the payload, byte for byte) while the answer stays within its byte
// budget (10 MiB for GetRecords), counting the payload's size; a payload
// that does not fit after other records ends the answer, and the next call
// returns it first, restored. A payload over 10 MiB, which no Kinesis
// record can hold, is returned as its pointer record: Data is the
// PayloadS3Pointer JSON the AWS extended clients write,
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"B","s3Key":"K"}]
//
// which names itself by its class name. Kinesis records have no headers for
// the payload's size: the object's Content-Length (S3 HeadObject or
// GetObject on the bridge's S3 API) is it. A payload whose object is gone
// is returned as its pointer too, and logged: the reader gets the record
// rather than a shard it cannot read past.
//
// Client pointers: a record a client puts whose data is the pointer in its
// class form (what the Connect Kinesis sink and the extended clients
// write after putting the object themselves) is read restored too, like
// the pointer messages SQS extended clients send, when the bridge can
// vouch for it: the object exists (its size becomes the record's size
// header, so a later overwrite of another size reads as the pointer), the
// sender may read it (s3:GetObject, when requests are authorized), and it
// is not under store.OffloadPrefix (the bridge's own objects; such a
// record stays plain data). The batch is marked ClientPointers; the
// object stays the client's, never deleted with the record. Anything else
// that looks like a pointer is plain data, delivered as it was put.

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/security/iampolicy"
	"github.com/streambridge/bridge/store"
)

// restorable reports whether r, a record of a batch marked Offloaded, is a
// pointer record a Kinesis reader gets restored, and the size the restored
// record counts against the answer's budget (payload and partition key).
// Payloads over what a Kinesis record can hold stay pointers.
func (h *Handler) restorable(info recordbatch.Info, stream string, partition int32, r *recordbatch.Record) (p offload.Pointer, size int, ok bool) {
	if h.cfg.Offload == nil {
		return offload.Pointer{}, 0, false
	}
	p, n, ok := payloads.PointerOf(r)
	if !ok || !payloads.Restorable(info, stream, partition, p) || n+int64(len(r.Key)) > maxGetRecordsBytes {
		return offload.Pointer{}, 0, false
	}
	return p, int(n) + len(r.Key), true
}

// restore puts the payload p names into r's value, or leaves r the pointer
// record it is when the object is gone or of another size (as a Kafka
// fetch does: one such record must not make its shard unreadable). It
// returns r's size as it now counts. Other errors (the object store
// failing) fail the read: the reader retries.
func (h *Handler) restore(ctx context.Context, st *store.Stream, shard int, r *recordbatch.Record, p offload.Pointer, size int) (int, error) {
	v, err := h.cfg.Offload.Load(ctx, p, int64(size-len(r.Key)))
	switch {
	case err == nil:
		r.Value = v
		return size, nil
	case errors.Is(err, payloads.ErrMissing), errors.Is(err, payloads.ErrMismatch):
		h.log.Warn("kinesis: a record's offloaded payload is missing or does not match its pointer; the reader gets its pointer",
			"stream", st.Name, "shard", mapping.ShardID(shard), "sequence_number", mapping.SequenceNumber(shard, r.Offset), "err", err)
		return len(r.Value) + len(r.Key), nil
	default:
		return 0, err
	}
}

// offloadRecords offloads the records of one append that are over st's
// threshold, in place, and returns the references the append carries
// (none, at the cost of one policy lookup and a length scan, when no
// record is over it).
func (h *Handler) offloadRecords(ctx context.Context, st *store.Stream, partition int32, recs []recordbatch.Record) ([]store.ObjectRef, error) {
	if h.cfg.Offload == nil {
		return nil, nil
	}
	return h.cfg.Offload.Records(ctx, st, partition, recs)
}

// pointerClassPrefix opens a pointer in its class form: the only form a
// Kinesis record's data is taken as a pointer in, having no attribute to
// mark it.
var pointerClassPrefix = []byte(`["` + offload.PointerClass + `"`)

// markClientPointers gives the records of one append that are pointers a
// client made, and that the bridge can vouch for, their size header, and
// reports whether there was one (the append then marks its batch
// ClientPointers). A record that is not one costs a prefix comparison.
// An object store failure fails the append (the entries' InternalFailure:
// the client sends them again).
func (h *Handler) markClientPointers(ctx context.Context, recs []recordbatch.Record) (bool, error) {
	if h.cfg.Offload == nil {
		return false, nil
	}
	marked := false
	for i := range recs {
		r := &recs[i]
		if !bytes.HasPrefix(bytes.TrimLeft(r.Value, " \t\r\n"), pointerClassPrefix) {
			continue
		}
		p, ok := offload.Decode(r.Value)
		if !ok || strings.HasPrefix(p.Key, store.OffloadPrefix) || !h.senderMayRead(ctx, p) {
			continue
		}
		size, err := h.cfg.Offload.ObjectSize(ctx, p)
		if errors.Is(err, payloads.ErrMissing) {
			continue
		}
		if err != nil {
			return false, err
		}
		r.Headers = append(r.Headers, recordbatch.Header{Key: payloads.SizeHeader, Value: strconv.AppendInt(nil, size, 10)})
		marked = true
	}
	return marked, nil
}

// senderMayRead reports whether the request's sender may read the object
// p names (s3:GetObject), when requests are authorized: readers get it
// restored with the bridge's own access to every object.
func (h *Handler) senderMayRead(ctx context.Context, p offload.Pointer) bool {
	if h.cfg.Authorizer == nil {
		return true
	}
	who, ok := awsapi.PrincipalFrom(ctx)
	if !ok {
		return false
	}
	_, d := h.cfg.Authorizer.Decide(who.AccessKeyID, "s3:GetObject", "arn:aws:s3:::"+p.Bucket+"/"+p.Key, nil)
	return d == iampolicy.Allowed
}
