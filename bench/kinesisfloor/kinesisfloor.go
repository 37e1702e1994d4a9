// Package kinesisfloor is the least a Kinesis endpoint can do for the
// Kinesis source's copy in `bridge bench connect`: streams in memory that
// answer the calls the bench and the KinesisSourceConnector make
// (CreateStream, DescribeStream, DeleteStream, PutRecords, ListShards,
// GetShardIterator, GetRecords in CBOR or JSON) and nothing else.
//
// It exists to measure what the Kinesis API and this machine allow a copy
// out of Kinesis: the bench copies from it too (`--compare-floor`), and the
// figure is a ceiling no real source reaches. Each record is encoded as the
// CBOR item a GetRecords answer carries when it is put (the loading is not
// timed), so a CBOR GetRecords is an answer head, one slice of a shard's
// encoded records written as it is, and a tail: no store, no reads, no
// per-record work. What it pays is what any Kinesis endpoint pays: net/http,
// decoding the request, and writing every byte of the records' data, since
// the Kinesis API has no compression.
package kinesisfloor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/streambridge/bridge/mapping"
)

// Handler serves the floor's streams. The zero value is ready to use.
type Handler struct {
	mu      sync.Mutex
	streams map[string]*stream
}

type stream struct {
	name   string
	shards []*shard
	ranges []mapping.HashRange // the shards' hash keys, as CreateStream splits them
}

// shard holds its records encoded: items is the CBOR of every record, one
// after another, and ends[i] where record i's item ends. Appends never
// change bytes already there, so a slice taken under mu stays valid after
// it is released.
type shard struct {
	mu    sync.Mutex
	items []byte
	ends  []int
	// data keeps the records for JSON readers (base64 per answer).
	data []jsonRecord
}

// cborRecord is a record as a CBOR GetRecords answer carries it (the Java
// SDK's encoding: the arrival time is tag 1 around epoch milliseconds).
type cborRecord struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp cbor.Tag
	Data                        []byte
	PartitionKey                string
}

type jsonRecord struct {
	SequenceNumber              string
	ApproximateArrivalTimestamp float64
	Data                        []byte
	PartitionKey                string
}

const (
	targetPrefix    = "Kinesis_20131202."
	contentTypeJSON = "application/x-amz-json-1.1"
	contentTypeCBOR = "application/x-amz-cbor-1.1"
	region          = "us-east-1"
	account         = "000000000000"
	maxLimit        = 10_000
)

type request struct {
	StreamName             string
	ShardCount             int
	ShardId                string
	ShardIteratorType      string
	StartingSequenceNumber string
	ShardIterator          string
	Limit                  int
	Records                []struct {
		Data         []byte
		PartitionKey string
	}
}

// apiError is a Kinesis error: its __type and message.
type apiError struct{ typ, message string }

func (e *apiError) Error() string { return e.typ + ": " + e.message }

func errNotFound(what string) *apiError {
	return &apiError{"ResourceNotFoundException", what + " not found"}
}

func errInvalid(msg string) *apiError { return &apiError{"InvalidArgumentException", msg} }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if !ok || r.Method != http.MethodPost {
		writeError(w, &apiError{"UnknownOperationException", "the floor speaks Kinesis JSON 1.1 and CBOR only"})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, errInvalid("reading the request: "+err.Error()))
		return
	}
	inCBOR := r.Header.Get("Content-Type") == contentTypeCBOR
	var in request
	if inCBOR {
		err = cbor.Unmarshal(body, &in)
	} else {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		writeError(w, &apiError{"SerializationException", err.Error()})
		return
	}
	if op == "GetRecords" {
		err = h.getRecords(w, &in, inCBOR)
	} else {
		var out any
		out, err = h.call(op, &in)
		if err == nil {
			w.Header().Set("Content-Type", contentTypeJSON)
			err = json.NewEncoder(w).Encode(out)
		}
	}
	if e := (*apiError)(nil); errors.As(err, &e) {
		writeError(w, e)
	}
}

// call answers the calls other than GetRecords, all in JSON.
func (h *Handler) call(op string, in *request) (any, error) {
	switch op {
	case "CreateStream":
		return h.createStream(in.StreamName, in.ShardCount)
	case "DeleteStream":
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.streams[in.StreamName]; !ok {
			return nil, errNotFound("stream " + in.StreamName)
		}
		delete(h.streams, in.StreamName)
		return struct{}{}, nil
	}
	s, err := h.stream(in.StreamName)
	if err != nil {
		return nil, err
	}
	switch op {
	case "DescribeStream":
		return map[string]any{"StreamDescription": map[string]any{
			"StreamName": s.name, "StreamARN": s.arn(), "StreamStatus": "ACTIVE",
			"Shards": s.listShards(), "HasMoreShards": false, "RetentionPeriodHours": 24,
			"StreamCreationTimestamp": 0, "EnhancedMonitoring": []any{}, "EncryptionType": "NONE",
		}}, nil
	case "ListShards":
		return map[string]any{"Shards": s.listShards()}, nil
	case "PutRecords":
		return s.putRecords(in)
	case "GetShardIterator":
		return s.shardIterator(in)
	}
	return nil, &apiError{"UnknownOperationException", op + " is not served by the floor"}
}

func (h *Handler) createStream(name string, shards int) (any, error) {
	if name == "" || shards < 1 || shards > 1000 {
		return nil, errInvalid("a stream needs a name and 1 to 1000 shards")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.streams[name]; ok {
		return nil, &apiError{"ResourceInUseException", "stream " + name + " exists"}
	}
	if h.streams == nil {
		h.streams = map[string]*stream{}
	}
	s := &stream{name: name, shards: make([]*shard, shards), ranges: mapping.EvenSplit(shards)}
	for i := range s.shards {
		s.shards[i] = &shard{}
	}
	h.streams[name] = s
	return struct{}{}, nil
}

func (h *Handler) stream(name string) (*stream, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s, ok := h.streams[name]; ok {
		return s, nil
	}
	return nil, errNotFound("stream " + name)
}

func (s *stream) arn() string {
	return fmt.Sprintf("arn:aws:kinesis:%s:%s:stream/%s", region, account, s.name)
}

// listShards describes the shards, open.
func (s *stream) listShards() []any {
	out := make([]any, len(s.shards))
	for i, r := range s.ranges {
		out[i] = map[string]any{
			"ShardId":             mapping.ShardID(i),
			"HashKeyRange":        map[string]string{"StartingHashKey": r.Start.String(), "EndingHashKey": r.End.String()},
			"SequenceNumberRange": map[string]string{"StartingSequenceNumber": mapping.SequenceNumber(i, 0)},
		}
	}
	return out
}

// putRecords appends each record to the shard its partition key's MD5
// falls in, encoded for GetRecords.
func (s *stream) putRecords(in *request) (any, error) {
	if len(in.Records) == 0 || len(in.Records) > 500 {
		return nil, errInvalid("PutRecords takes 1 to 500 records")
	}
	type result struct{ SequenceNumber, ShardId string }
	out := make([]result, len(in.Records))
	now := time.Now()
	for i, r := range in.Records {
		idx := mapping.ShardForHashKey(s.ranges, mapping.HashPartitionKey(r.PartitionKey))
		sh := s.shards[idx]
		sh.mu.Lock()
		seq := mapping.SequenceNumber(idx, int64(len(sh.ends)))
		item, err := cbor.Marshal(cborRecord{seq, cbor.Tag{Number: 1, Content: now.UnixMilli()}, r.Data, r.PartitionKey})
		if err == nil {
			sh.items = append(sh.items, item...)
			sh.ends = append(sh.ends, len(sh.items))
			sh.data = append(sh.data, jsonRecord{seq, float64(now.UnixMilli()) / 1e3, r.Data, r.PartitionKey})
		}
		sh.mu.Unlock()
		if err != nil {
			return nil, &apiError{"InternalFailure", err.Error()}
		}
		out[i] = result{seq, mapping.ShardID(idx)}
	}
	return map[string]any{"FailedRecordCount": 0, "Records": out}, nil
}

// An iterator is "stream/shard/position": where the next GetRecords reads.
func (s *stream) iterator(shard, pos int) string { return fmt.Sprintf("%s/%d/%d", s.name, shard, pos) }

func (s *stream) shardIterator(in *request) (any, error) {
	idx, err := mapping.ParseShardID(in.ShardId)
	if err != nil || idx >= len(s.shards) {
		return nil, errNotFound("shard " + in.ShardId)
	}
	sh := s.shards[idx]
	sh.mu.Lock()
	count := len(sh.ends)
	sh.mu.Unlock()
	var pos int
	switch in.ShardIteratorType {
	case "TRIM_HORIZON":
	case "LATEST":
		pos = count
	case "AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER":
		seqShard, seqPos, err := mapping.ParseSequenceNumber(in.StartingSequenceNumber)
		if err != nil || seqShard != idx {
			return nil, errInvalid("StartingSequenceNumber " + in.StartingSequenceNumber + " is not of shard " + in.ShardId)
		}
		pos = int(seqPos)
		if in.ShardIteratorType == "AFTER_SEQUENCE_NUMBER" {
			pos++
		}
	default:
		return nil, errInvalid("the floor does not serve ShardIteratorType " + in.ShardIteratorType)
	}
	return map[string]string{"ShardIterator": s.iterator(idx, min(pos, count))}, nil
}

// getRecords answers from the iterator's position: up to Limit records
// (default 10,000), the next iterator, and MillisBehindLatest above 0 while
// records remain after the answer's, so that readers read ahead.
func (h *Handler) getRecords(w http.ResponseWriter, in *request, inCBOR bool) error {
	name, rest, _ := strings.Cut(in.ShardIterator, "/")
	idxText, posText, _ := strings.Cut(rest, "/")
	idx, err1 := strconv.Atoi(idxText)
	pos, err2 := strconv.Atoi(posText)
	if err1 != nil || err2 != nil {
		return errInvalid("malformed ShardIterator")
	}
	s, err := h.stream(name)
	if err != nil {
		return err
	}
	if idx < 0 || idx >= len(s.shards) {
		return errNotFound("shard")
	}
	limit := in.Limit
	if limit <= 0 || limit > maxLimit {
		limit = maxLimit
	}
	sh := s.shards[idx]
	sh.mu.Lock()
	count := len(sh.ends)
	pos = min(max(pos, 0), count)
	end := min(pos+limit, count)
	var items []byte
	if end > pos {
		start := 0
		if pos > 0 {
			start = sh.ends[pos-1]
		}
		items = sh.items[start:sh.ends[end-1]]
	}
	data := sh.data[pos:end]
	sh.mu.Unlock()

	next := s.iterator(idx, end)
	var behind int64
	if end < count {
		behind = 1000
	}
	if !inCBOR {
		w.Header().Set("Content-Type", contentTypeJSON)
		return json.NewEncoder(w).Encode(map[string]any{"Records": data, "NextShardIterator": next, "MillisBehindLatest": behind})
	}
	// The answer is a map of Records (an array of the items as they are),
	// NextShardIterator and MillisBehindLatest.
	head := append([]byte{0xa3}, mustCBOR("Records")...)
	head = append(head, arrayHead(end-pos)...)
	tail := append(mustCBOR("NextShardIterator"), mustCBOR(next)...)
	tail = append(tail, mustCBOR("MillisBehindLatest")...)
	tail = append(tail, mustCBOR(behind)...)
	w.Header().Set("Content-Type", contentTypeCBOR)
	w.Header().Set("Content-Length", strconv.Itoa(len(head)+len(items)+len(tail)))
	for _, b := range [][]byte{head, items, tail} {
		if _, err := w.Write(b); err != nil {
			return nil // the reader went away
		}
	}
	return nil
}

// arrayHead is the head of a CBOR array of n items: an unsigned integer's
// encoding of n (major type 0) with the major type made 4.
func arrayHead(n int) []byte {
	b := mustCBOR(uint64(n))
	b[0] |= 4 << 5
	return b
}

func mustCBOR(v any) []byte {
	b, err := cbor.Marshal(v)
	if err != nil {
		panic(err) // strings and integers always encode
	}
	return b
}

func writeError(w http.ResponseWriter, e *apiError) {
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(http.StatusBadRequest)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.typ, "message": e.message})
}
