package kinesis

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

func iterator(t testing.TB, kc *awskinesis.Client, stream, shard string, typ types.ShardIteratorType) string {
	t.Helper()
	it, err := kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream), ShardId: aws.String(shard), ShardIteratorType: typ})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(it.ShardIterator)
}

func TestGetRecordsLimitAndMillisBehind(t *testing.T) {
	clock := newMovableClock()
	ts := startTestServer(t, func(c *Config) { c.Now = clock.Now })
	kc := ts.client()
	dataStream(t, ts, "lim", 1)
	putN(t, kc, "lim", "r", 25)
	clock.add(time.Minute)

	iter := iterator(t, kc, "lim", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon)
	var got []string
	for page := 0; ; page++ {
		out, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: aws.String(iter), Limit: aws.Int32(10)})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, dataOf(out.Records)...)
		behind := aws.ToInt64(out.MillisBehindLatest)
		switch page {
		case 0, 1:
			if len(out.Records) != 10 || behind < 30_000 {
				t.Fatalf("page %d: %d records, %d ms behind; want 10 and about a minute", page, len(out.Records), behind)
			}
		case 2:
			if len(out.Records) != 5 || behind != 0 {
				t.Fatalf("last page: %d records, %d ms behind; want 5 and 0", len(out.Records), behind)
			}
		}
		if out.NextShardIterator == nil {
			t.Fatal("open shard answered no NextShardIterator")
		}
		iter = aws.ToString(out.NextShardIterator)
		if page == 3 {
			if len(out.Records) != 0 || behind != 0 || out.ChildShards != nil {
				t.Fatalf("at the tip: %+v", out)
			}
			break
		}
	}
	if len(got) != 25 || got[0] != "r0" || got[24] != "r24" {
		t.Fatalf("read %v", got)
	}

	for _, bad := range []int{0, 10001} {
		status, body := ts.call(t, "GetRecords", map[string]any{"ShardIterator": iter, "Limit": bad})
		constraint := "greater than or equal to 1"
		if bad > 1 {
			constraint = "less than or equal to 10000"
		}
		rawError(t, status, body, errValidation, fmt.Sprintf("1 validation error detected: Value '%d' at 'limit' failed to satisfy constraint: Member must have value %s", bad, constraint))
	}
	status, body := ts.call(t, "GetRecords", map[string]any{})
	rawError(t, status, body, errValidation, "1 validation error detected: Value null at 'shardIterator' failed to satisfy constraint: Member must not be null")
	status, body = ts.call(t, "GetRecords", map[string]any{"ShardIterator": iter, "StreamARN": ts.streamARN("other")})
	rawError(t, status, body, errInvalidArgument, "")
}

func TestGetRecordsTenMiBPerCall(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "big", 1)
	data := make([]byte, defaultMaxRecordBytes-1)
	for range 12 {
		if _, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("big"), PartitionKey: aws.String("k"), Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	out, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: aws.String(iterator(t, kc, "big", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon))})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 10 {
		t.Fatalf("first call: %d records of 1 MiB, want 10", len(out.Records))
	}
	rest, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	if err != nil || len(rest.Records) != 2 {
		t.Fatalf("second call: %v %v", rest, err)
	}
}

// TestGetRecordsAcrossSplit reads a shard split under the reader: the
// parent ends with ChildShards, the children hold the rest, and nothing
// is lost, repeated or reordered.
func TestGetRecordsAcrossSplit(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "split", 1)
	keys := make([]string, 40)
	for i := range keys {
		keys[i] = fmt.Sprintf("key-%d", i)
	}
	put := func(round int) {
		entries := make([]types.PutRecordsRequestEntry, len(keys))
		for i, k := range keys {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(k), Data: []byte(fmt.Sprintf("%s/%d", k, round))}
		}
		out, err := kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("split"), Records: entries})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatal(out, err)
		}
	}
	put(0)
	parentIter := iterator(t, kc, "split", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon)
	first, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: aws.String(parentIter), Limit: aws.Int32(15)})
	if err != nil {
		t.Fatal(err)
	}
	put(1)
	st, _ := ts.store.DescribeStream(context.Background(), "split")
	at := midHashKey(st.Shards[0].HashRange)
	if _, err := ts.store.SplitShard(t.Context(), "split", 0, at); err != nil {
		t.Fatal(err)
	}
	put(2)
	put(3)

	rest, last := readFrom(t, kc, aws.ToString(first.NextShardIterator), 7)
	parent := append(dataOf(first.Records), dataOf(rest)...)
	if last.NextShardIterator != nil {
		t.Fatal("parent read to its end still has a NextShardIterator")
	}
	if len(parent) != 2*len(keys) {
		t.Fatalf("parent: %d records, want %d", len(parent), 2*len(keys))
	}
	wantChildren := []types.ChildShard{
		{ShardId: aws.String("shardId-000000000001"), ParentShards: []string{"shardId-000000000000"},
			HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String("0"), EndingHashKey: aws.String(at.Prev().String())}},
		{ShardId: aws.String("shardId-000000000002"), ParentShards: []string{"shardId-000000000000"},
			HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String(at.String()), EndingHashKey: aws.String(mapping.MaxHashKey.String())}},
	}
	if fmt.Sprint(childShardText(last.ChildShards)) != fmt.Sprint(childShardText(wantChildren)) {
		t.Fatalf("ChildShards %v, want %v", childShardText(last.ChildShards), childShardText(wantChildren))
	}
	// The call that returned the last records already reports the end.
	if len(last.Records) == 0 {
		t.Fatal("the end was reported by an empty call after the last records, not with them")
	}

	// Children: every key's later records, in order, in the child that
	// holds its hash key.
	seen := map[string][]string{}
	for _, r := range parent {
		k, _, _ := strings.Cut(r, "/")
		seen[k] = append(seen[k], r)
	}
	for _, c := range last.ChildShards {
		lo, _ := mapping.ParseHashKey(aws.ToString(c.HashKeyRange.StartingHashKey))
		hi, _ := mapping.ParseHashKey(aws.ToString(c.HashKeyRange.EndingHashKey))
		for _, r := range readShard(t, kc, "split", aws.ToString(c.ShardId), types.ShardIteratorTypeTrimHorizon, "") {
			h := mapping.HashPartitionKey(aws.ToString(r.PartitionKey))
			if !(mapping.HashRange{Start: lo, End: hi}).Contains(h) {
				t.Fatalf("%s holds key %s outside its range", aws.ToString(c.ShardId), aws.ToString(r.PartitionKey))
			}
			seen[aws.ToString(r.PartitionKey)] = append(seen[aws.ToString(r.PartitionKey)], string(r.Data))
		}
	}
	for _, k := range keys {
		want := []string{k + "/0", k + "/1", k + "/2", k + "/3"}
		if !slices.Equal(seen[k], want) {
			t.Fatalf("key %s read as %v, want %v", k, seen[k], want)
		}
	}
}

func childShardText(cs []types.ChildShard) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s<-%v[%s..%s]", aws.ToString(c.ShardId), c.ParentShards, aws.ToString(c.HashKeyRange.StartingHashKey), aws.ToString(c.HashKeyRange.EndingHashKey)))
	}
	return out
}

func TestGetRecordsAfterMerge(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "merge", 2)
	putN(t, kc, "merge", "r", 10)
	if _, err := ts.store.MergeShards(t.Context(), "merge", 0, 1); err != nil {
		t.Fatal(err)
	}
	for _, shard := range []string{"shardId-000000000000", "shardId-000000000001"} {
		_, last := readFrom(t, kc, iterator(t, kc, "merge", shard, types.ShardIteratorTypeTrimHorizon), 0)
		got := childShardText(last.ChildShards)
		want := fmt.Sprintf("[shardId-000000000002<-[shardId-000000000000 shardId-000000000001][0..%s]]", mapping.MaxHashKey)
		if last.NextShardIterator != nil || fmt.Sprint(got) != want {
			t.Fatalf("%s end: next %v, children %v, want %s", shard, last.NextShardIterator, got, want)
		}
	}
	// An empty closed shard ends at once; LATEST on a closed shard too.
	out, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: aws.String(iterator(t, kc, "merge", "shardId-000000000000", types.ShardIteratorTypeLatest))})
	if err != nil || out.NextShardIterator != nil || len(out.ChildShards) != 1 || len(out.Records) != 0 {
		t.Fatalf("LATEST of a closed shard: %+v %v", out, err)
	}
}

// TestGetRecordsKafkaBatches reads batches a Kafka producer would write:
// compressed, with null, empty, binary and long keys and a tombstone.
func TestGetRecordsKafkaBatches(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "kafka", 1)
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	long := strings.Repeat("x", 300)
	recs := []recordbatch.Record{
		{Key: nil, Value: []byte("null key"), Timestamp: at},
		{Key: []byte{}, Value: []byte("empty key"), Timestamp: at.Add(time.Millisecond)},
		{Key: []byte{0xff, 0xfe}, Value: []byte("binary key"), Timestamp: at.Add(2 * time.Millisecond)},
		{Key: []byte(long), Value: []byte("long key"), Timestamp: at.Add(3 * time.Millisecond)},
		{Key: []byte("plain"), Value: nil, Timestamp: at.Add(4 * time.Millisecond), Headers: []recordbatch.Header{{Key: "h", Value: []byte("v")}}},
	}
	for _, codec := range []recordbatch.Codec{recordbatch.Gzip, recordbatch.None, recordbatch.Zstd} {
		batch, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Codec: codec})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.store.AppendBatch(t.Context(), "kafka", 0, batch, store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	md5Key := func(k []byte) string { s := md5.Sum(k); return "kafka-key-md5-" + hex.EncodeToString(s[:]) }
	wantKeys := []string{"kafka-null-key", "kafka-empty-key", md5Key([]byte{0xff, 0xfe}), md5Key([]byte(long)), "plain"}
	got := readShard(t, kc, "kafka", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	if len(got) != 3*len(recs) {
		t.Fatalf("read %d records, want %d", len(got), 3*len(recs))
	}
	for i, r := range got {
		want := recs[i%len(recs)]
		if aws.ToString(r.PartitionKey) != wantKeys[i%len(recs)] || string(r.Data) != string(want.Value) {
			t.Fatalf("record %d: key %q data %q", i, aws.ToString(r.PartitionKey), r.Data)
		}
		if r.Data == nil || !r.ApproximateArrivalTimestamp.Equal(want.Timestamp) {
			t.Fatalf("record %d: data %v, arrival %v want %v", i, r.Data, r.ApproximateArrivalTimestamp, want.Timestamp)
		}
		if aws.ToString(r.SequenceNumber) != mapping.SequenceNumber(0, int64(i)) {
			t.Fatalf("record %d: sequence %s", i, aws.ToString(r.SequenceNumber))
		}
	}
	// Raw wire shape of a tombstone: Data is "", never null.
	status, body := ts.call(t, "GetRecords", map[string]any{"ShardIterator": iterator(t, kc, "kafka", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon), "Limit": 5})
	if status != 200 {
		t.Fatal(status, body)
	}
	if d, ok := body["Records"].([]any)[4].(map[string]any)["Data"].(string); !ok || d != "" {
		t.Fatalf("tombstone Data %#v", body["Records"].([]any)[4])
	}
}

func TestGetRecordsSkipsTrimmedRecords(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "trim", 1)
	putN(t, kc, "trim", "r", 10)
	old := iterator(t, kc, "trim", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon)
	if _, err := ts.store.TrimBefore(t.Context(), "trim", 0, 6); err != nil {
		t.Fatal(err)
	}
	if got, _ := readFrom(t, kc, old, 0); fmt.Sprint(dataOf(got)) != "[r6 r7 r8 r9]" {
		t.Fatalf("iterator from before the trim read %v", dataOf(got))
	}
	if got := readShard(t, kc, "trim", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, ""); fmt.Sprint(dataOf(got)) != "[r6 r7 r8 r9]" {
		t.Fatalf("TRIM_HORIZON after the trim read %v", dataOf(got))
	}
}

// TestGetRecordsJSONMatchesEncodingJSON: the hand-written JSON answer is
// byte for byte what encoding/json writes for the struct.
func TestGetRecordsJSONMatchesEncodingJSON(t *testing.T) {
	ts := Timestamp{Time: time.UnixMilli(1700000000123)}
	next := "AAAA+/=="
	outs := []getRecordsOutput{
		{Records: []kinesisRecord{}},
		{Records: []kinesisRecord{
			{SequenceNumber: mapping.SequenceNumber(3, 9), ApproximateArrivalTimestamp: &ts, Data: []byte{0, 1, 0xff}, PartitionKey: "plain"},
			{SequenceNumber: "1", ApproximateArrivalTimestamp: &Timestamp{Time: time.UnixMilli(5000)}, Data: []byte{}, PartitionKey: "q\"b\\<>&\n\r\t\x01\x1f é \u2028\u2029 😀", EncryptionType: "KMS"},
		}, NextShardIterator: &next, MillisBehindLatest: 1234},
		{Records: []kinesisRecord{}, ChildShards: []childShard{{ShardId: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"}, HashKeyRange: childHashRange{"0", "9"}}}},
	}
	for i, o := range outs {
		want, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.appendJSON(nil); string(got) != string(want) {
			t.Fatalf("answer %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func TestGetRecordsCBOR(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "cbor", 1)
	putN(t, kc, "cbor", "r", 3)
	iter := iterator(t, kc, "cbor", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon)
	resp := ts.post(t, "GetRecords", cborCodec{}, map[string]any{"ShardIterator": iter, "Limit": 2})
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != contentTypeCBOR {
		t.Fatalf("%d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	var out struct {
		Records []struct {
			Data                        []byte
			PartitionKey                string
			ApproximateArrivalTimestamp Timestamp
		}
		NextShardIterator  string
		MillisBehindLatest int64
	}
	if err := (cborCodec{}).Decode(raw, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Records) != 2 || string(out.Records[1].Data) != "r1" || out.Records[1].PartitionKey != "r1" || out.NextShardIterator == "" || out.Records[0].ApproximateArrivalTimestamp.IsZero() {
		t.Fatalf("CBOR answer %+v", out)
	}
}

// TestGetRecordsCBORMatchesCodec: the hand-written CBOR answer is byte for
// byte what the CBOR codec writes for the struct.
func TestGetRecordsCBORMatchesCodec(t *testing.T) {
	ts := Timestamp{Time: time.UnixMilli(1700000000123)}
	next := "AAAA+/=="
	long := strings.Repeat("k", 300)
	outs := []getRecordsOutput{
		{Records: []kinesisRecord{}},
		{Records: []kinesisRecord{
			{SequenceNumber: mapping.SequenceNumber(3, 9), ApproximateArrivalTimestamp: &ts, Data: []byte{0, 1, 0xff}, PartitionKey: "plain"},
			{SequenceNumber: "1", ApproximateArrivalTimestamp: &Timestamp{Time: time.UnixMilli(5000)}, Data: []byte{}, PartitionKey: "é 😀", EncryptionType: "KMS"},
			{SequenceNumber: "2", Data: make([]byte, 70000), PartitionKey: long},
			{SequenceNumber: "3", Data: nil, PartitionKey: "nil data"},
		}, NextShardIterator: &next, MillisBehindLatest: 1 << 40},
		{Records: []kinesisRecord{}, ChildShards: []childShard{{ShardId: "shardId-000000000001", ParentShards: []string{"shardId-000000000000"}, HashKeyRange: childHashRange{"0", "9"}}}},
	}
	for i, o := range outs {
		want, err := cborCodec{}.Encode(o)
		if err != nil {
			t.Fatal(err)
		}
		got, err := o.appendCBOR(nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("answer %d (%v):\n got %x\nwant %x", i, err, got, want)
		}
	}
}
