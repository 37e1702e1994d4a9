package kinesis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

// dataStream creates a stream of n shards directly in the store, so these
// tests do not depend on CreateStream.
func dataStream(t testing.TB, ts *testServer, name string, shards int) store.Stream {
	t.Helper()
	st, err := ts.store.CreateStream(context.Background(), store.StreamConfig{Name: name, ShardCount: shards})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// apiError asserts that err is an AWS error of type code whose message
// contains want (when want is not empty).
func apiError(t testing.TB, err error, code, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || !strings.Contains(ae.ErrorMessage(), want) {
		t.Fatalf("want %s %q, got %s %q", code, want, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// rawError asserts a raw call's error type and exact message.
func rawError(t testing.TB, status int, body map[string]any, code, message string) {
	t.Helper()
	if status != 400 || body["__type"] != code || (message != "" && body["message"] != message) {
		t.Fatalf("want 400 %s %q, got %d %v", code, message, status, body)
	}
}

func allBytes() []byte {
	b := make([]byte, 512)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}

func TestPutRecordRoundTripBinary(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := t.Context()
	dataStream(t, ts, "bin", 1)

	payloads := [][]byte{allBytes(), {}, []byte("plain"), bytes.Repeat([]byte{0, 0xff}, 1000)}
	var seqs []string
	for i, p := range payloads {
		out, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("bin"), PartitionKey: aws.String(fmt.Sprintf("ключ-%d", i)), Data: p})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(out.ShardId) != "shardId-000000000000" {
			t.Fatalf("shard %s", aws.ToString(out.ShardId))
		}
		if len(seqs) > 0 && aws.ToString(out.SequenceNumber) <= seqs[len(seqs)-1] {
			t.Fatalf("sequence numbers not increasing: %s after %s", aws.ToString(out.SequenceNumber), seqs[len(seqs)-1])
		}
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	recs := readShard(t, kc, "bin", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	if len(recs) != len(payloads) {
		t.Fatalf("read %d records, put %d", len(recs), len(payloads))
	}
	for i, r := range recs {
		if !bytes.Equal(r.Data, payloads[i]) || aws.ToString(r.PartitionKey) != fmt.Sprintf("ключ-%d", i) || aws.ToString(r.SequenceNumber) != seqs[i] {
			t.Fatalf("record %d: got %q/%s/%s", i, r.Data, aws.ToString(r.PartitionKey), aws.ToString(r.SequenceNumber))
		}
		if r.ApproximateArrivalTimestamp == nil || time.Since(*r.ApproximateArrivalTimestamp) > time.Hour {
			t.Fatalf("record %d: arrival %v", i, r.ApproximateArrivalTimestamp)
		}
	}
	// The Kafka view: key = partition key, value = data, no headers.
	res, err := ts.store.Read(ctx, "bin", 0, 0, store.ReadLimits{})
	if err != nil || len(res.Batches) != len(payloads) {
		t.Fatalf("store read: %d batches, %v", len(res.Batches), err)
	}
}

// readShard reads a shard from an iterator of the given type to its end
// (closed shard) or tip (open shard).
func readShard(t testing.TB, kc *awskinesis.Client, stream, shard string, typ types.ShardIteratorType, seq string) []types.Record {
	t.Helper()
	in := &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: typ}
	if seq != "" {
		in.StartingSequenceNumber = aws.String(seq)
	}
	it, err := kc.GetShardIterator(t.Context(), in)
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := readFrom(t, kc, aws.ToString(it.ShardIterator), 0)
	return recs
}

// readFrom follows NextShardIterator until a call returns nothing or the
// shard ends, and returns the records and the last answer.
func readFrom(t testing.TB, kc *awskinesis.Client, iter string, limit int32) ([]types.Record, *awskinesis.GetRecordsOutput) {
	t.Helper()
	var all []types.Record
	for {
		in := &awskinesis.GetRecordsInput{ShardIterator: aws.String(iter)}
		if limit > 0 {
			in.Limit = aws.Int32(limit)
		}
		out, err := kc.GetRecords(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Records...)
		if out.NextShardIterator == nil || len(out.Records) == 0 {
			return all, out
		}
		iter = aws.ToString(out.NextShardIterator)
	}
}

func TestExplicitHashKeyRoutesToEachShard(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	st := dataStream(t, ts, "ehk", 4)
	for _, sh := range st.Shards {
		for _, k := range []mapping.HashKey{sh.HashRange.Start, sh.HashRange.End} {
			out, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{
				StreamName: aws.String("ehk"), PartitionKey: aws.String("same-key"),
				ExplicitHashKey: aws.String(k.String()), Data: []byte(k.String()),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got := aws.ToString(out.ShardId); got != sh.ID() {
				t.Fatalf("hash key %s went to %s, want %s", k, got, sh.ID())
			}
		}
	}
	// Without an explicit hash key the partition key's MD5 routes.
	pk := "route-me"
	want := st.ShardForHashKey(mapping.HashPartitionKey(pk)).ID()
	out, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("ehk"), PartitionKey: aws.String(pk), Data: []byte("x")})
	if err != nil || aws.ToString(out.ShardId) != want {
		t.Fatalf("MD5 routing: %v %v, want %s", out, err, want)
	}

	over := new(big.Int).Lsh(big.NewInt(1), 128).String()
	_, err = kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("ehk"), PartitionKey: aws.String("k"), ExplicitHashKey: aws.String(over), Data: []byte("x")})
	apiError(t, err, errInvalidArgument, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was "+over)
}

func TestPutRecordErrors(t *testing.T) {
	ts := startTestServer(t)
	dataStream(t, ts, "s", 1)
	long := strings.Repeat("é", 257)
	big := strings.Repeat("A", (defaultMaxRecordBytes/3+1)*4) // base64 of just over 1 MiB
	tests := []struct {
		name    string
		body    map[string]any
		code    string
		message string
	}{
		{"no partition key", map[string]any{"StreamName": "s", "Data": "AA=="}, errValidation,
			"1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null"},
		{"empty partition key", map[string]any{"StreamName": "s", "Data": "AA==", "PartitionKey": ""}, errValidation,
			"1 validation error detected: Value '' at 'partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"long partition key", map[string]any{"StreamName": "s", "Data": "AA==", "PartitionKey": long}, errValidation,
			"1 validation error detected: Value '" + long + "' at 'partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256"},
		{"no data", map[string]any{"StreamName": "s", "PartitionKey": "k"}, errValidation,
			"1 validation error detected: Value null at 'data' failed to satisfy constraint: Member must not be null"},
		{"everything missing", map[string]any{}, errValidation,
			"2 validation errors detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null; Value null at 'data' failed to satisfy constraint: Member must not be null"},
		{"bad explicit hash key", map[string]any{"StreamName": "s", "Data": "AA==", "PartitionKey": "k", "ExplicitHashKey": "01"}, errValidation,
			"1 validation error detected: Value '01' at 'explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"},
		{"bad sequence for ordering", map[string]any{"StreamName": "s", "Data": "AA==", "PartitionKey": "k", "SequenceNumberForOrdering": "x"}, errValidation,
			"1 validation error detected: Value 'x' at 'sequenceNumberForOrdering' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"},
		{"foreign sequence for ordering", map[string]any{"StreamName": "s", "Data": "AA==", "PartitionKey": "k", "SequenceNumberForOrdering": "123"}, errInvalidArgument,
			"ExclusiveMinimumSequenceNumber 123 used in PutRecord on stream s under account 000000000000 is invalid."},
		{"no stream", map[string]any{"Data": "AA==", "PartitionKey": "k"}, errValidation,
			"1 validation error detected: Either StreamName or StreamARN should be provided."},
		{"unknown stream", map[string]any{"StreamName": "nope", "Data": "AA==", "PartitionKey": "k"}, errResourceNotFound,
			"Stream nope under account 000000000000 not found."},
		{"record over 1 MiB", map[string]any{"StreamName": "s", "Data": big, "PartitionKey": "k"}, errInvalidArgument, ""},
		{"dry run", map[string]any{"StreamName": "s", "Data": "AA==", "PartitionKey": "k", "DryRun": true}, errDryRun, ""},
		{"data not base64", map[string]any{"StreamName": "s", "Data": "!!", "PartitionKey": "k"}, errSerialization, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := ts.call(t, "PutRecord", tt.body)
			rawError(t, status, body, tt.code, tt.message)
		})
	}
	// Nothing of the above was stored.
	if _, hw, _ := ts.store.Offsets(context.Background(), "s", 0); hw != 0 {
		t.Fatalf("%d records stored by failed requests", hw)
	}
}

func TestPutRecordSequenceForOrderingAccepted(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "s", 1)
	first, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("1")})
	if err != nil {
		t.Fatal(err)
	}
	second, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("k"), Data: []byte("2"), SequenceNumberForOrdering: first.SequenceNumber})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(second.SequenceNumber) <= aws.ToString(first.SequenceNumber) {
		t.Fatalf("%s not after %s", aws.ToString(second.SequenceNumber), aws.ToString(first.SequenceNumber))
	}
	// By ARN too.
	if _, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamARN: aws.String(ts.streamARN("s")), PartitionKey: aws.String("k"), Data: []byte("3")}); err != nil {
		t.Fatal(err)
	}
}

func TestPutRecordsResultsInRequestOrder(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	st := dataStream(t, ts, "many", 3)
	entries := make([]types.PutRecordsRequestEntry, maxPutRecordsCount)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("k%d", i%17)), Data: []byte(fmt.Sprintf("v%d", i))}
	}
	out, err := kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("many"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToInt32(out.FailedRecordCount) != 0 || len(out.Records) != len(entries) {
		t.Fatalf("failed %d, %d results", aws.ToInt32(out.FailedRecordCount), len(out.Records))
	}
	last := map[string]string{}
	for i, r := range out.Records {
		want := st.ShardForHashKey(mapping.HashPartitionKey(aws.ToString(entries[i].PartitionKey))).ID()
		if aws.ToString(r.ShardId) != want {
			t.Fatalf("record %d in %s, want %s", i, aws.ToString(r.ShardId), want)
		}
		seq := aws.ToString(r.SequenceNumber)
		if seq <= last[want] {
			t.Fatalf("record %d: sequence %s not after %s in %s", i, seq, last[want], want)
		}
		last[want] = seq
	}
	// One batch per shard, and each shard reads back in request order.
	total := 0
	for _, sh := range st.Shards {
		res, err := ts.store.Read(t.Context(), "many", sh.Partition, 0, store.ReadLimits{MaxBytes: 1 << 24})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Batches) != 1 {
			t.Fatalf("%s: %d batches, want 1", sh.ID(), len(res.Batches))
		}
		recs := readShard(t, kc, "many", sh.ID(), types.ShardIteratorTypeTrimHorizon, "")
		prev := -1
		for _, r := range recs {
			var i int
			fmt.Sscanf(string(r.Data), "v%d", &i)
			if i <= prev {
				t.Fatalf("%s: v%d after v%d", sh.ID(), i, prev)
			}
			prev = i
		}
		total += len(recs)
	}
	if total != len(entries) {
		t.Fatalf("read %d records, put %d", total, len(entries))
	}
}

func TestPutRecordsValidation(t *testing.T) {
	ts := startTestServer(t)
	dataStream(t, ts, "s", 2)
	long := strings.Repeat("k", 257)
	tests := []struct {
		name    string
		body    map[string]any
		code    string
		message string
	}{
		{"mixed valid and invalid records", map[string]any{"StreamName": "s", "Records": []any{
			map[string]any{"PartitionKey": "ok", "Data": "AA=="},
			map[string]any{"PartitionKey": "", "Data": "AA=="},
			map[string]any{"Data": "AA=="},
			map[string]any{"PartitionKey": long, "Data": "AA==", "ExplicitHashKey": "x"},
			map[string]any{"PartitionKey": "no-data"},
		}}, errValidation, "5 validation errors detected: " +
			"Value '' at 'records.2.member.partitionKey' failed to satisfy constraint: Member must have length greater than or equal to 1; " +
			"Value null at 'records.3.member.partitionKey' failed to satisfy constraint: Member must not be null; " +
			"Value '" + long + "' at 'records.4.member.partitionKey' failed to satisfy constraint: Member must have length less than or equal to 256; " +
			"Value 'x' at 'records.4.member.explicitHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38}); " +
			"Value null at 'records.5.member.data' failed to satisfy constraint: Member must not be null"},
		{"no records", map[string]any{"StreamName": "s"}, errValidation,
			"1 validation error detected: Value null at 'records' failed to satisfy constraint: Member must not be null"},
		{"empty records", map[string]any{"StreamName": "s", "Records": []any{}}, errValidation,
			"1 validation error detected: Value '[]' at 'records' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"hash key out of range", map[string]any{"StreamName": "s", "Records": []any{
			map[string]any{"PartitionKey": "a", "Data": "AA=="},
			map[string]any{"PartitionKey": "b", "Data": "AA==", "ExplicitHashKey": "340282366920938463463374607431768211456"},
		}}, errInvalidArgument, "Invalid ExplicitHashKey. ExplicitHashKey must be in the range: [0, 2^128-1]. Specified value was 340282366920938463463374607431768211456"},
		{"unknown stream", map[string]any{"StreamName": "nope", "Records": []any{map[string]any{"PartitionKey": "a", "Data": "AA=="}}},
			errResourceNotFound, "Stream nope under account 000000000000 not found."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := ts.call(t, "PutRecords", tt.body)
			rawError(t, status, body, tt.code, tt.message)
		})
	}

	t.Run("too many records", func(t *testing.T) {
		recs := make([]any, maxPutRecordsCount+1)
		for i := range recs {
			recs[i] = map[string]any{"PartitionKey": "a", "Data": "AA=="}
		}
		status, body := ts.call(t, "PutRecords", map[string]any{"StreamName": "s", "Records": recs})
		rawError(t, status, body, errValidation, "")
		if msg := body["message"].(string); !strings.HasSuffix(msg, "failed to satisfy constraint: Member must have length less than or equal to 500") {
			t.Fatalf("message %q", msg)
		}
	})
	t.Run("over 10 MiB in all", func(t *testing.T) {
		data := make([]byte, 900<<10)
		entries := make([]types.PutRecordsRequestEntry, 12)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: data}
		}
		_, err := ts.client().PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("s"), Records: entries})
		apiError(t, err, errInvalidArgument, "Records size exceeds 10 MB limit")
	})
	t.Run("validation stops at ten", func(t *testing.T) {
		recs := make([]any, 20)
		for i := range recs {
			recs[i] = map[string]any{"Data": "AA=="}
		}
		status, body := ts.call(t, "PutRecords", map[string]any{"StreamName": "s", "Records": recs})
		rawError(t, status, body, errValidation, "")
		if msg := body["message"].(string); !strings.HasPrefix(msg, "10 validation errors detected:") {
			t.Fatalf("message %q", msg)
		}
	})
	if _, hw, _ := ts.store.Offsets(context.Background(), "s", 0); hw != 0 {
		t.Fatalf("%d records stored by refused requests", hw)
	}
}

// TestPutRecordsRacingSplit puts records while shards split: every
// acknowledged record is read back exactly once, from the shard its answer
// named, at the sequence number it was given.
func TestPutRecordsRacingSplit(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	st := dataStream(t, ts, "race", 1)
	ctx := t.Context()

	type ack struct{ shard, seq, data string }
	var (
		mu   sync.Mutex
		acks []ack
		wg   sync.WaitGroup
	)
	for w := range 4 {
		wg.Go(func() {
			for b := range 20 {
				entries := make([]types.PutRecordsRequestEntry, 25)
				for i := range entries {
					entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("w%d-%d", w, i)), Data: []byte(fmt.Sprintf("w%d-b%d-%d", w, b, i))}
				}
				out, err := kc.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String("race"), Records: entries})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for i, r := range out.Records {
					if r.ErrorCode != nil {
						t.Errorf("record failed: %s", aws.ToString(r.ErrorMessage))
						continue
					}
					acks = append(acks, ack{aws.ToString(r.ShardId), aws.ToString(r.SequenceNumber), string(entries[i].Data)})
				}
				mu.Unlock()
			}
		})
	}
	// Split the open shards a few times while the writers run.
	for range 3 {
		cur, err := ts.store.DescribeStream(context.Background(), "race")
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range cur.OpenShards() {
			mid := midHashKey(sh.HashRange)
			if _, err := ts.store.SplitShard(ctx, "race", sh.Index, mid); err != nil {
				t.Fatal(err)
			}
		}
	}
	wg.Wait()
	_ = st

	final, _ := ts.store.DescribeStream(context.Background(), "race")
	got := map[string]ack{}
	for _, sh := range final.Shards {
		for _, r := range readShard(t, kc, "race", sh.ID(), types.ShardIteratorTypeTrimHorizon, "") {
			key := aws.ToString(r.SequenceNumber)
			if _, dup := got[key]; dup {
				t.Fatalf("sequence %s read twice", key)
			}
			got[key] = ack{sh.ID(), key, string(r.Data)}
		}
	}
	if len(got) != len(acks) {
		t.Fatalf("read %d records, %d acknowledged", len(got), len(acks))
	}
	for _, a := range acks {
		if g, ok := got[a.seq]; !ok || g != a {
			t.Fatalf("acknowledged %+v, read %+v", a, g)
		}
	}
}

// midHashKey returns the midpoint of a hash range, to split at.
func midHashKey(r mapping.HashRange) mapping.HashKey {
	lo, _ := new(big.Int).SetString(r.Start.String(), 10)
	hi, _ := new(big.Int).SetString(r.End.String(), 10)
	mid := new(big.Int).Add(lo, hi)
	mid.Rsh(mid, 1)
	mid.Add(mid, big.NewInt(1))
	k, err := mapping.ParseHashKey(mid.String())
	if err != nil {
		panic(err)
	}
	return k
}
