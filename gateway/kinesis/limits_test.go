package kinesis

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func limitedServer(t *testing.T) (*testServer, *awskinesis.Client, *movableClock) {
	t.Helper()
	clock := newMovableClock()
	ts := startTestServer(t, func(c *Config) { c.Now = clock.Now; c.EnforceLimits = true })
	dataStream(t, ts, "lim", 1)
	return ts, ts.client(), clock
}

func smallEntries(n int) []types.PutRecordsRequestEntry {
	entries := make([]types.PutRecordsRequestEntry, n)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: []byte("x")}
	}
	return entries
}

const throttledMessage = "Rate exceeded for shard shardId-000000000000 in stream lim under account 000000000000."

func TestLimitsRecordsPerSecond(t *testing.T) {
	_, kc, clock := limitedServer(t)
	put := func(n int) *awskinesis.PutRecordsOutput {
		t.Helper()
		out, err := kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("lim"), Records: smallEntries(n)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	if out := put(500); aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("first 500: %d failed", aws.ToInt32(out.FailedRecordCount))
	}
	out := put(500)
	if aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("second 500: %d failed", aws.ToInt32(out.FailedRecordCount))
	}
	out = put(10)
	if aws.ToInt32(out.FailedRecordCount) != 10 {
		t.Fatalf("past 1000 records in a second: %d failed, want 10", aws.ToInt32(out.FailedRecordCount))
	}
	for _, r := range out.Records {
		if aws.ToString(r.ErrorCode) != errThroughputExceeded || aws.ToString(r.ErrorMessage) != throttledMessage || r.SequenceNumber != nil || r.ShardId != nil {
			t.Fatalf("throttled record answered %+v", r)
		}
	}
	_, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String("k"), Data: []byte("x")})
	apiError(t, err, errThroughputExceeded, throttledMessage)

	// A tenth of a second later, a hundred records fit again.
	clock.add(100 * time.Millisecond)
	out = put(101)
	if n := aws.ToInt32(out.FailedRecordCount); n != 1 || out.Records[100].ErrorCode == nil {
		t.Fatalf("after 100ms: %d failed, want the last one", n)
	}
	clock.add(time.Second)
	if _, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String("k"), Data: []byte("x")}); err != nil {
		t.Fatal(err)
	}
}

func TestLimitsBytesPerSecond(t *testing.T) {
	_, kc, clock := limitedServer(t)
	data := make([]byte, 400<<10)
	entries := []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("a"), Data: data},
		{PartitionKey: aws.String("b"), Data: data},
		{PartitionKey: aws.String("c"), Data: data},
		{PartitionKey: aws.String("d"), Data: []byte("small")},
	}
	out, err := kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("lim"), Records: entries})
	if err != nil {
		t.Fatal(err)
	}
	// 1.2 MiB does not fit in 1 MiB/s: the third record fails, the small
	// one after it still fits.
	if aws.ToInt32(out.FailedRecordCount) != 1 || out.Records[2].ErrorCode == nil || out.Records[3].ErrorCode != nil {
		t.Fatalf("answers %+v", out.Records)
	}
	clock.add(time.Second)
	out, err = kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("lim"), Records: entries[:2]})
	if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
		t.Fatalf("a second later: %v %v", out, err)
	}
}

func TestLimitsGetRecordsCalls(t *testing.T) {
	_, kc, clock := limitedServer(t)
	iter := aws.String(iterator(t, kc, "lim", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon))
	for i := range shardReadCallsPerSecond {
		if _, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: iter}); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: iter})
	apiError(t, err, errThroughputExceeded, throttledMessage)
	clock.add(200 * time.Millisecond)
	if _, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: iter}); err != nil {
		t.Fatalf("after 200ms: %v", err)
	}
}

func TestLimitsGetRecordsBytes(t *testing.T) {
	_, kc, clock := limitedServer(t)
	data := make([]byte, 1000<<10)
	for range 4 {
		if _, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("lim"), PartitionKey: aws.String("k"), Data: data}); err != nil {
			t.Fatal(err)
		}
		clock.add(time.Second)
	}
	out, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: aws.String(iterator(t, kc, "lim", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon))})
	if err != nil || len(out.Records) != 4 {
		t.Fatalf("first read: %v %v", out, err)
	}
	// About 4 MiB read at 2 MiB/s: the shard is in debt for about a second
	// after its one-second allowance.
	_, err = kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	apiError(t, err, errThroughputExceeded, throttledMessage)
	clock.add(900 * time.Millisecond)
	_, err = kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	apiError(t, err, errThroughputExceeded, throttledMessage)
	clock.add(200 * time.Millisecond)
	if _, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: out.NextShardIterator}); err != nil {
		t.Fatalf("after the debt is paid: %v", err)
	}
}

func TestLimitsOffByDefault(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "free", 1)
	for range 3 {
		out, err := kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("free"), Records: smallEntries(500)})
		if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
			t.Fatalf("%v %v", out, err)
		}
	}
}

func TestTokenBucket(t *testing.T) {
	now := time.Unix(1000, 0)
	b := newTokenBucket(10, now)
	b.tokens = 0
	b.refill(now.Add(-time.Second)) // a clock stepping back refills nothing
	if b.tokens != 0 {
		t.Fatalf("tokens %v after the clock stepped back", b.tokens)
	}
	b.refill(now.Add(500 * time.Millisecond))
	if b.tokens != 5 {
		t.Fatalf("tokens %v after half a second, want 5", b.tokens)
	}
	b.refill(now.Add(time.Hour))
	if b.tokens != 10 || !b.full() {
		t.Fatalf("tokens %v after an hour, want the burst 10", b.tokens)
	}
}

func TestLimiterLargeRecordBursts(t *testing.T) {
	l := newThroughputLimiter()
	now := time.Unix(1000, 0)
	ref := shardRef{"s", 0}
	if !l.admitWrite(ref, 3<<20, now) {
		t.Fatal("a 3 MiB record on a full bucket is refused")
	}
	if l.admitWrite(ref, 1, now.Add(time.Second)) {
		t.Fatal("admitted while 2 MiB in debt")
	}
	if !l.admitWrite(ref, 1, now.Add(3*time.Second)) {
		t.Fatal("refused once the debt is paid")
	}
}

func TestLimiterPrunesIdleShards(t *testing.T) {
	l := newThroughputLimiter()
	now := time.Unix(1000, 0)
	for i := range pruneAbove {
		l.admitWrite(shardRef{"s", i}, 1, now)
	}
	l.admitWrite(shardRef{"s", pruneAbove}, 1, now.Add(time.Minute))
	if n := len(l.shards); n != 1 {
		t.Fatalf("%d shards tracked after the idle ones were pruned, want 1", n)
	}
}
