package kinesis

// GetRecords: records of one shard from a shard iterator.
//
// A call returns up to Limit records (1-10000, default 10000) and at most
// 10 MiB of data and partition keys (at least one record when there is
// one), in order, never skipping one, and the iterator to go on with.
// Offloaded payloads count at their size and come back restored, or as
// their pointer record when over 10 MiB or gone (offload.go). The
// records are those of the shard only: after a split the partition goes on
// in the lower child, and a read of the parent stops at its end.
//
// At the end of a closed shard, and only there, NextShardIterator is null
// and ChildShards lists the shards to go on with (their ids, parents and
// hash key ranges). The call that returns a closed shard's last records
// already says so when it reached the end.
//
// MillisBehindLatest is zero once the reader has everything there is, and
// otherwise the age of the last record returned. Records gone to retention
// are skipped: an iterator below the log start reads from the oldest record
// left, as TRIM_HORIZON would. An iterator of a deleted stream (or of an
// older stream of the same name) gets ResourceNotFoundException.
//
// With --kinesis-enforce-limits a shard serves 5 calls and 2 MiB per second
// (limits.go); past that ProvisionedThroughputExceededException.
//
// Differences from AWS: a call never waits; an empty answer at the tip of an
// open shard comes back at once (AWS too answers at once, but may return
// empty answers mid-shard, which never happens here).

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

func init() {
	registerStreaming("GetRecords", serveGetRecords)
}

// serveGetRecords answers GetRecords, writing the answer itself, in JSON or
// CBOR: the generic path (json.Marshal) re-scans and copies a MarshalJSON
// result, and both codecs' reflection cost more than reading the records.
func serveGetRecords(ctx context.Context, h *Handler, in *getRecordsInput, w http.ResponseWriter, r *http.Request) error {
	out, err := getRecords(ctx, h, in)
	if err != nil {
		return err
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	c, _ := codecFor(mt)
	buf := getRecordsBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledAnswer {
			getRecordsBuffers.Put(buf)
		}
	}()
	if _, isJSON := c.(jsonCodec); isJSON {
		*buf = out.appendJSON((*buf)[:0])
	} else {
		*buf, err = out.appendCBOR((*buf)[:0])
	}
	out.Records = nil
	out.read.done()
	if err != nil {
		return err
	}
	body := *buf
	w.Header().Set("Content-Type", c.ContentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	return nil
}

// getRecordsBuffers keeps JSON answer buffers between calls; one over
// maxPooledAnswer is left to the collector.
var getRecordsBuffers = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledAnswer = 16 << 20

type getRecordsInput struct {
	ShardIterator *string `json:"ShardIterator"`
	Limit         *int    `json:"Limit,omitempty"`
	StreamARN     *string `json:"StreamARN,omitempty"`
	StreamId      *string `json:"StreamId,omitempty"`
	DryRun        *bool   `json:"DryRun,omitempty"`
}

type getRecordsOutput struct {
	Records            []kinesisRecord `json:"Records"`
	NextShardIterator  *string         `json:"NextShardIterator,omitempty"`
	MillisBehindLatest int64           `json:"MillisBehindLatest"`
	ChildShards        []childShard    `json:"ChildShards,omitempty"`
	// read is the read the records are slices of: serveGetRecords
	// releases it once the answer is encoded.
	read shardRead
}

func getRecords(ctx context.Context, h *Handler, in *getRecordsInput) (*getRecordsOutput, error) {
	var v validator
	v.intRange("limit", in.Limit, 1, maxGetRecordsLimit)
	if v.required("shardIterator", in.ShardIterator != nil) {
		v.str("shardIterator", in.ShardIterator, 1, 512, nil)
	}
	v.str("streamARN", in.StreamARN, 1, 2048, streamARNPattern)
	if err := v.err(); err != nil {
		return nil, err
	}
	it, err := h.parseIterator(ctx, *in.ShardIterator)
	if err != nil {
		return nil, err
	}
	if err := h.checkIteratorAge(it); err != nil {
		return nil, err
	}
	if in.StreamARN != nil {
		if name, ok := h.parseStreamARN(*in.StreamARN); !ok || name != it.stream {
			return nil, invalidArgument("StreamARN %s does not match the stream of the shard iterator.", *in.StreamARN)
		}
	}
	shardID := mapping.ShardID(it.shard)
	st, err := h.streamForData(ctx, it.stream)
	if err != nil {
		var e *Error
		if errors.As(err, &e) && e.Type == errResourceNotFound {
			return nil, h.shardMissing(shardID, it.stream)
		}
		return nil, err
	}
	sh, ok := st.Shard(it.shard)
	if !ok || st.Created.UnixMilli() != it.streamCreated {
		return nil, h.shardMissing(shardID, it.stream)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRun()
	}
	ref := shardRef{stream: st.Name, shard: sh.Index}
	if h.limited() && !h.dataPlane().limiter.admitRead(ref, h.now()) {
		return nil, h.throughputExceeded(st.Name, sh.Index)
	}
	limit := maxGetRecordsLimit
	if in.Limit != nil {
		limit = *in.Limit
	}
	r, err := h.readShardView(ctx, st, sh, it.offset, limit, maxGetRecordsBytes)
	if err != nil {
		if errors.Is(err, store.ErrStreamNotFound) {
			return nil, h.shardMissing(shardID, it.stream)
		}
		return nil, h.storeError(st.Name, err)
	}
	if h.limited() {
		size := 0
		for i := range r.Records {
			size += len(r.Records[i].Data) + len(r.Records[i].PartitionKey)
		}
		h.dataPlane().limiter.chargeRead(ref, size, h.now())
	}
	out := &getRecordsOutput{Records: r.Records, MillisBehindLatest: r.MillisBehind(h.now()), read: r}
	if out.Records == nil {
		out.Records = []kinesisRecord{}
	}
	if r.Ended {
		out.ChildShards, err = h.childShardsNow(ctx, &st, sh.Index)
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	next, err := h.encodeIterator(ctx, shardIterator{
		issued: h.now(), streamCreated: it.streamCreated, stream: it.stream, shard: it.shard, offset: r.Next,
	})
	if err != nil {
		return nil, err
	}
	out.NextShardIterator = &next
	return out, nil
}

// childShardsNow returns the children of a shard that has ended. The
// caller's snapshot may predate the reshard that closed it: look again
// then.
func (h *Handler) childShardsNow(ctx context.Context, st *store.Stream, parent int) ([]childShard, error) {
	if children := childShardsOf(st, parent); len(children) > 0 {
		return children, nil
	}
	fresh, err := h.store.DescribeStream(ctx, st.Name)
	if err != nil {
		return nil, h.storeError(st.Name, err)
	}
	return childShardsOf(&fresh, parent), nil
}

// appendJSON appends the answer as encoding/json would encode the struct,
// growing b once to the size it needs: with 10000 records and 10 MiB of
// data, encoding/json's reflection and buffer doubling cost several times
// the read itself.
func (o *getRecordsOutput) appendJSON(b []byte) []byte {
	size := 128
	for i := range o.Records {
		r := &o.Records[i]
		size += 160 + base64.StdEncoding.EncodedLen(len(r.Data)) + 2*len(r.PartitionKey)
	}
	b = slices.Grow(b, size)
	b = append(b, `{"Records":[`...)
	for i := range o.Records {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendKinesisRecordJSON(b, &o.Records[i])
	}
	b = append(b, ']')
	if o.NextShardIterator != nil {
		b = append(b, `,"NextShardIterator":`...)
		b = appendJSONString(b, *o.NextShardIterator)
	}
	b = append(b, `,"MillisBehindLatest":`...)
	b = strconv.AppendInt(b, o.MillisBehindLatest, 10)
	if len(o.ChildShards) > 0 {
		children, _ := json.Marshal(o.ChildShards) // strings only: cannot fail
		b = append(b, `,"ChildShards":`...)
		b = append(b, children...)
	}
	return append(b, '}')
}

// appendKinesisRecordJSON appends r as encoding/json would encode it.
func appendKinesisRecordJSON(b []byte, r *kinesisRecord) []byte {
	b = append(b, `{"SequenceNumber":`...)
	b = appendJSONString(b, r.SequenceNumber)
	if r.ApproximateArrivalTimestamp != nil {
		b = append(b, `,"ApproximateArrivalTimestamp":`...)
		b = strconv.AppendFloat(b, float64(r.ApproximateArrivalTimestamp.UnixMilli())/1000, 'f', -1, 64)
	}
	b = append(b, `,"Data":"`...)
	b = base64.StdEncoding.AppendEncode(b, r.Data)
	b = append(b, `","PartitionKey":`...)
	b = appendJSONString(b, r.PartitionKey)
	if r.EncryptionType != "" {
		b = append(b, `,"EncryptionType":`...)
		b = appendJSONString(b, r.EncryptionType)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string, escaped as encoding/json
// does (HTML characters included); s is valid UTF-8.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != '\u2028' && r != '\u2029' && r != utf8.RuneError {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			if r == utf8.RuneError {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, `\u202`...)
				b = append(b, hex[r&0xF])
			}
			i += size
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
