package kinesisbench

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/streambridge/bridge/mapping"
)

// fakeKinesis is a small Kinesis endpoint (JSON 1.1) that misbehaves the
// ways real services and emulators do, deterministically: a new stream is
// CREATING for its first DescribeStreamSummary, every third PutRecords call
// refuses every other record as throttled, every fourth call (PutRecords or
// GetRecords) is refused whole with ProvisionedThroughputExceededException
// or LimitExceededException (the first GetRecords call among them), every fifth GetRecords page is empty, and each
// PutRecords call also writes a record of another writer ahead of its own,
// which the reader must skip.
type fakeKinesis struct {
	mu      sync.Mutex
	streams map[string]*fakeStream
	calls   map[string]int
	url     string
}

type fakeStream struct {
	described int
	shards    [][]fakeRecord
}

type fakeRecord struct {
	Data           []byte
	PartitionKey   string
	SequenceNumber string
}

func startFakeKinesis(t *testing.T) *fakeKinesis {
	t.Helper()
	f := &fakeKinesis{streams: map[string]*fakeStream{}, calls: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f, ErrorLog: log.New(os.Stderr, "fake: ", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { _ = srv.Close() })
	f.url = "http://" + ln.Addr().String()
	return f
}

type fakeError struct{ typ, msg string }

func (f *fakeKinesis) streamNames() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.streams))
}

func (f *fakeKinesis) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "Kinesis_20131202.")
	body, err := io.ReadAll(r.Body)
	var in map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.calls[op]++
	out, ferr := f.serve(op, f.calls[op], in)
	if ferr != nil {
		out = map[string]any{"__type": ferr.typ, "message": ferr.msg}
	}
	resp, err := json.Marshal(out) // under the lock: out may share the streams' slices
	f.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if ferr != nil {
		w.WriteHeader(http.StatusBadRequest)
	}
	_, _ = w.Write(resp)
}

func str(in map[string]json.RawMessage, field string) string {
	var s string
	_ = json.Unmarshal(in[field], &s)
	return s
}

func num(in map[string]json.RawMessage, field string) int {
	var n int
	_ = json.Unmarshal(in[field], &n)
	return n
}

func fakeSeq(shard, index int) string { return strconv.Itoa((shard+1)*1_000_000_000 + index) }

func (f *fakeKinesis) serve(op string, call int, in map[string]json.RawMessage) (any, *fakeError) {
	stream := f.streams[str(in, "StreamName")]
	if op != "CreateStream" && op != "GetRecords" && stream == nil {
		return nil, &fakeError{"ResourceNotFoundException", "no such stream"}
	}
	switch op {
	case "CreateStream":
		if f.streams[str(in, "StreamName")] != nil {
			return nil, &fakeError{"ResourceInUseException", "stream exists"}
		}
		f.streams[str(in, "StreamName")] = &fakeStream{shards: make([][]fakeRecord, num(in, "ShardCount"))}
		return map[string]any{}, nil
	case "DeleteStream":
		delete(f.streams, str(in, "StreamName"))
		return map[string]any{}, nil
	case "DescribeStreamSummary":
		stream.described++
		status := "ACTIVE"
		if stream.described == 1 {
			status = "CREATING"
		}
		return map[string]any{"StreamDescriptionSummary": map[string]any{"StreamStatus": status}}, nil
	case "PutRecords":
		if call%4 == 0 {
			return nil, &fakeError{"LimitExceededException", "slow down"}
		}
		var entries []struct {
			Data         []byte
			PartitionKey string
		}
		_ = json.Unmarshal(in["Records"], &entries)
		stream.shards[0] = append(stream.shards[0], fakeRecord{Data: []byte("x"), PartitionKey: "another-writer", SequenceNumber: fakeSeq(0, len(stream.shards[0]))})
		var results []map[string]any
		failed := 0
		for i, e := range entries {
			if call%3 == 0 && i%2 == 1 {
				failed++
				results = append(results, map[string]any{"ErrorCode": "ProvisionedThroughputExceededException", "ErrorMessage": "Rate exceeded"})
				continue
			}
			h := fnv.New32a()
			h.Write([]byte(e.PartitionKey))
			shard := int(h.Sum32() % uint32(len(stream.shards)))
			seq := fakeSeq(shard, len(stream.shards[shard]))
			stream.shards[shard] = append(stream.shards[shard], fakeRecord{Data: e.Data, PartitionKey: e.PartitionKey, SequenceNumber: seq})
			results = append(results, map[string]any{"ShardId": mapping.ShardID(shard), "SequenceNumber": seq})
		}
		return map[string]any{"FailedRecordCount": failed, "Records": results}, nil
	case "GetShardIterator":
		shard, _ := mapping.ParseShardID(str(in, "ShardId"))
		seq, _ := strconv.Atoi(str(in, "StartingSequenceNumber"))
		index := seq - (shard+1)*1_000_000_000
		if str(in, "ShardIteratorType") == "AFTER_SEQUENCE_NUMBER" {
			index++
		}
		return map[string]any{"ShardIterator": fmt.Sprintf("%s/%d/%d", str(in, "StreamName"), shard, index)}, nil
	case "GetRecords":
		if call%4 == 1 {
			return nil, &fakeError{"ProvisionedThroughputExceededException", "Rate exceeded for shard"}
		}
		var name string
		var shard, index int
		parts := strings.Split(str(in, "ShardIterator"), "/")
		name = parts[0]
		shard, _ = strconv.Atoi(parts[1])
		index, _ = strconv.Atoi(parts[2])
		records := f.streams[name].shards[shard][index:]
		if call%5 == 0 {
			records = nil
		}
		records = records[:min(len(records), num(in, "Limit"))]
		next := fmt.Sprintf("%s/%d/%d", name, shard, index+len(records))
		return map[string]any{"Records": records, "NextShardIterator": next, "MillisBehindLatest": 0}, nil
	}
	return nil, &fakeError{"UnknownOperationException", op}
}
