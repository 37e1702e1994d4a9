package kinesis

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// TestGetRecordsAroundTransactions: a Kinesis reader of a Kafka topic
// stops at an open transaction's first record (MillisBehindLatest 0, the
// next iterator there), never sees an aborted transaction's records nor
// markers, and gets a committed one's records once it commits.
func TestGetRecordsAroundTransactions(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "tx", 1)
	appendRaw := func(raw []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.store.AppendBatch(t.Context(), "tx", 0, raw, store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	data := func(pid int64, values ...string) ([]byte, error) {
		recs := make([]recordbatch.Record, len(values))
		for i, v := range values {
			recs[i] = recordbatch.Record{Offset: int64(i), Key: []byte("k"), Value: []byte(v), Timestamp: time.Now()}
		}
		opts := recordbatch.EncodeOptions{}
		if pid >= 0 {
			opts = recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid, ProducerEpoch: 0}
		}
		return recordbatch.Encode(nil, recs, opts)
	}
	end := func(pid int64, typ recordbatch.ControlType) ([]byte, error) {
		return recordbatch.EncodeControl(pid, 0, recordbatch.Control{Type: typ}, time.Now())
	}
	const shard = "shardId-000000000000"
	appendRaw(data(-1, "p0"))
	appendRaw(data(1, "a1", "a2")) // pid 1, to abort
	appendRaw(data(2, "c1"))       // pid 2, to commit
	appendRaw(data(-1, "p1"))

	got, out := readFrom(t, kc, iterator(t, kc, "tx", shard, types.ShardIteratorTypeTrimHorizon), 0)
	if fmt.Sprint(dataOf(got)) != "[p0]" || aws.ToInt64(out.MillisBehindLatest) != 0 {
		t.Fatalf("with two open transactions: %v, MillisBehindLatest %d", dataOf(got), aws.ToInt64(out.MillisBehindLatest))
	}
	next := aws.ToString(out.NextShardIterator)
	latest := iterator(t, kc, "tx", shard, types.ShardIteratorTypeLatest)

	appendRaw(end(1, recordbatch.ControlAbort))
	if got, _ := readFrom(t, kc, next, 0); fmt.Sprint(dataOf(got)) != "[]" {
		t.Fatalf("after the abort, with pid 2 open: %v", dataOf(got))
	}
	appendRaw(end(2, recordbatch.ControlCommit))
	got, _ = readFrom(t, kc, next, 0)
	if fmt.Sprint(dataOf(got)) != "[c1 p1]" {
		t.Fatalf("after the commit: %v", dataOf(got))
	}
	// LATEST taken while the transactions were open starts at the first
	// open one: its committed records are read too.
	if got, _ := readFrom(t, kc, latest, 0); fmt.Sprint(dataOf(got)) != "[c1 p1]" {
		t.Fatalf("LATEST from before the commit: %v", dataOf(got))
	}
	if got := readShard(t, kc, "tx", shard, types.ShardIteratorTypeTrimHorizon, ""); fmt.Sprint(dataOf(got)) != "[p0 c1 p1]" {
		t.Fatalf("whole shard: %v", dataOf(got))
	}
}

// TestSubscribeToShardAroundTransactions: a subscription waits behind an
// open transaction (on the LSO, not spinning on the high watermark), skips
// it when it aborts and delivers a committed one's records.
func TestSubscribeToShardAroundTransactions(t *testing.T) {
	f := newSubFixture(t, 1)
	appendRaw := func(raw []byte, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.ts.store.AppendBatch(t.Context(), f.stream, 0, raw, store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	data := func(pid int64, value string) ([]byte, error) {
		return recordbatch.Encode(nil, []recordbatch.Record{{Key: []byte("k"), Value: []byte(value), Timestamp: time.Now()}},
			recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid})
	}
	end := func(pid int64, typ recordbatch.ControlType) ([]byte, error) {
		return recordbatch.EncodeControl(pid, 0, recordbatch.Control{Type: typ}, time.Now())
	}
	appendRaw(data(1, "a1")) // open, to abort
	f.put(t, "p1")
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	appendRaw(data(2, "c1")) // open, to commit
	appendRaw(end(1, recordbatch.ControlAbort))
	appendRaw(end(2, recordbatch.ControlCommit))
	// Not collect: an event's ContinuationSequenceNumber may name the
	// position of a marker after its last record (where to resume).
	var got []types.Record
	cont := ""
	for len(got) < 2 {
		ev := nextEvent(t, es)
		if ev == nil {
			t.Fatalf("stream ended: %v", es.Err())
		}
		got = append(got, ev.Records...)
		cont = aws.ToString(ev.ContinuationSequenceNumber)
	}
	if fmt.Sprint(dataOf(got)) != "[p1#0 c1]" {
		t.Fatalf("subscription read %v", dataOf(got))
	}
	// Resuming after it, as clients do, goes on with the next record.
	f.consumerARN = f.registerConsumer(t, "again")
	es = f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(cont)})
	f.put(t, "p2")
	if got := dataOf(collect(t, es, 1)); fmt.Sprint(got) != "[p2#0]" {
		t.Fatalf("resumed after %s: %v", cont, got)
	}
}
