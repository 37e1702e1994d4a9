package kinesis

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// cpShardIDs lists shards' ids, comma-separated.
func cpShardIDs(shards []types.Shard) string {
	ids := make([]string, len(shards))
	for i, sh := range shards {
		ids[i] = strings.TrimPrefix(*sh.ShardId, "shardId-00000000000")
	}
	return strings.Join(ids, ",")
}

func TestListShardsPagingWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "many", 7)
	var all []types.Shard
	in := &awskinesis.ListShardsInput{StreamName: aws.String("many"), MaxResults: aws.Int32(3)}
	for {
		out, err := kc.ListShards(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, out.Shards...)
		if out.NextToken == nil {
			break
		}
		in = &awskinesis.ListShardsInput{NextToken: out.NextToken, MaxResults: aws.Int32(3)}
	}
	if got := cpShardIDs(all); got != "0,1,2,3,4,5,6" {
		t.Fatalf("paged %s", got)
	}
	out, err := kc.ListShards(ctx, &awskinesis.ListShardsInput{
		StreamARN: aws.String(ts.streamARN("many")), ExclusiveStartShardId: aws.String("shardId-000000000004"),
	})
	if err != nil || cpShardIDs(out.Shards) != "5,6" || out.NextToken != nil {
		t.Fatalf("after 4: %v, %v", out, err)
	}
	// A matching creation timestamp is fine, another names no stream.
	d := cpDescribe(t, kc, "many")
	if _, err := kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String("many"), StreamCreationTimestamp: d.StreamCreationTimestamp}); err != nil {
		t.Fatal(err)
	}
	_, err = kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String("many"), StreamCreationTimestamp: aws.Time(time.Unix(1, 0))})
	cpSDKErr(t, err, errResourceNotFound, "")
}

// TestListShardsFilters runs every ShardFilter type over a stream whose
// shard 0 was split an hour after creation, and again once the parent has
// left the retention period.
func TestListShardsFilters(t *testing.T) {
	ts, clock := cpServerWithClock(t, 0)
	kc := ts.client()
	ctx := context.Background()
	t0 := clock.Now()
	cpCreate(t, kc, "f", 2)
	clock.add(time.Hour)
	t1 := clock.Now()
	_, err := kc.SplitShard(ctx, &awskinesis.SplitShardInput{
		StreamName: aws.String("f"), ShardToSplit: aws.String("shardId-000000000000"),
		NewStartingHashKey: aws.String("85070591730234615865843651857942052864"),
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(f *types.ShardFilter) string {
		t.Helper()
		out, err := kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String("f"), ShardFilter: f})
		if err != nil {
			t.Fatal(err)
		}
		return cpShardIDs(out.Shards)
	}
	at := func(typ types.ShardFilterType, ts time.Time) *types.ShardFilter {
		return &types.ShardFilter{Type: typ, Timestamp: aws.Time(ts)}
	}
	for _, tc := range []struct {
		name   string
		filter *types.ShardFilter
		want   string
	}{
		{"default", nil, "0,1,2,3"},
		{"FROM_TRIM_HORIZON", &types.ShardFilter{Type: types.ShardFilterTypeFromTrimHorizon}, "0,1,2,3"},
		{"AT_LATEST", &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}, "1,2,3"},
		{"AFTER_SHARD_ID", &types.ShardFilter{Type: types.ShardFilterTypeAfterShardId, ShardId: aws.String("shardId-000000000001")}, "2,3"},
		{"AT_TRIM_HORIZON", &types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}, "0,1"},
		{"AT_TIMESTAMP before the split", at(types.ShardFilterTypeAtTimestamp, t0.Add(30*time.Minute)), "0,1"},
		{"AT_TIMESTAMP before the stream", at(types.ShardFilterTypeAtTimestamp, t0.Add(-time.Hour)), "0,1"},
		{"AT_TIMESTAMP after the split", at(types.ShardFilterTypeAtTimestamp, t1.Add(time.Minute)), "1,2,3"},
		{"FROM_TIMESTAMP before the split", at(types.ShardFilterTypeFromTimestamp, t0.Add(30*time.Minute)), "0,1,2,3"},
		{"FROM_TIMESTAMP after the split", at(types.ShardFilterTypeFromTimestamp, t1.Add(time.Minute)), "1,2,3"},
	} {
		if got := list(tc.filter); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}

	// A day after the split the closed parent has expired everywhere.
	clock.add(24 * time.Hour)
	if got := list(nil); got != "1,2,3" {
		t.Errorf("a day later: %s", got)
	}
	if got := list(&types.ShardFilter{Type: types.ShardFilterTypeAtTrimHorizon}); got != "1,2,3" {
		t.Errorf("AT_TRIM_HORIZON a day later: %s", got)
	}
	if got := list(at(types.ShardFilterTypeFromTimestamp, t0)); got != "1,2,3" {
		t.Errorf("FROM_TIMESTAMP moved up to the trim horizon: %s", got)
	}
	if got := cpShardIDs(cpDescribe(t, kc, "f").Shards); got != "1,2,3" {
		t.Errorf("DescribeStream a day later: %s", got)
	}
	// The children still name their parent.
	d := cpDescribe(t, kc, "f")
	if d.Shards[1].ParentShardId == nil || *d.Shards[1].ParentShardId != "shardId-000000000000" {
		t.Errorf("child %+v", d.Shards[1])
	}
}

// TestClosedShardExpiresWithItsRecords: a closed shard whose records were
// all trimmed (here as Kafka DeleteRecords would) is no longer listed.
func TestClosedShardExpiresWithItsRecords(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "trim", 1)
	recs := []recordbatch.Record{{Key: []byte("a"), Value: []byte("1")}, {Key: []byte("b"), Value: []byte("2")}}
	if _, err := ts.store.AppendToShard(ctx, "trim", 0, recs, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := kc.SplitShard(ctx, &awskinesis.SplitShardInput{
		StreamName: aws.String("trim"), ShardToSplit: aws.String("0"), NewStartingHashKey: aws.String("1000"),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := cpDescribe(t, kc, "trim")
	if got := cpShardIDs(d.Shards); got != "0,1,2" {
		t.Fatalf("after the split: %s", got)
	}
	parent := d.Shards[0].SequenceNumberRange
	if *parent.EndingSequenceNumber != cpSeq(0, 1) {
		t.Fatalf("parent ends at %s", *parent.EndingSequenceNumber)
	}
	if _, err := ts.store.TrimBefore(ctx, "trim", 0, 2); err != nil {
		t.Fatal(err)
	}
	if got := cpShardIDs(cpDescribe(t, kc, "trim").Shards); got != "1,2" {
		t.Fatalf("after trimming the parent's records: %s", got)
	}
}

func cpSeq(shard int, offset int64) string { return store.Shard{Index: shard}.SequenceNumber(offset) }

func TestListShardsErrors(t *testing.T) {
	ts, clock := cpServerWithClock(t, 0)
	cpCreate(t, ts.client(), "e", 3)
	status, out := ts.call(t, "ListShards", map[string]any{"StreamName": "e", "MaxResults": 1})
	token, _ := out["NextToken"].(string)
	if status != 200 || token == "" {
		t.Fatalf("%d %v", status, out)
	}
	for _, tc := range []struct {
		name         string
		body         map[string]any
		typ, message string
	}{
		{"neither", map[string]any{}, errInvalidArgument, "Either NextToken or StreamName should be provided."},
		{"both", map[string]any{"StreamName": "e", "NextToken": token}, errInvalidArgument, "NextToken and StreamName cannot be provided together."},
		{"token and start", map[string]any{"NextToken": token, "ExclusiveStartShardId": "shardId-000000000000"}, errInvalidArgument, ""},
		{"max results", map[string]any{"StreamName": "e", "MaxResults": 0}, errValidation,
			"1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1"},
		{"max results high", map[string]any{"StreamName": "e", "MaxResults": 10001}, errValidation,
			"1 validation error detected: Value '10001' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 10000"},
		{"garbage token", map[string]any{"NextToken": "%%%"}, errInvalidArgument, ""},
		{"unknown stream", map[string]any{"StreamName": "nope"}, errResourceNotFound, "Stream nope under account 000000000000 not found."},
		{"filter without type", map[string]any{"StreamName": "e", "ShardFilter": map[string]any{}}, errValidation,
			"1 validation error detected: Value null at 'shardFilter.type' failed to satisfy constraint: Member must not be null"},
		{"AFTER_SHARD_ID without id", map[string]any{"StreamName": "e", "ShardFilter": map[string]any{"Type": "AFTER_SHARD_ID"}}, errInvalidArgument,
			"ShardId must be supplied in a ShardFilter with a Type of AFTER_SHARD_ID."},
		{"AT_TIMESTAMP without time", map[string]any{"StreamName": "e", "ShardFilter": map[string]any{"Type": "AT_TIMESTAMP"}}, errInvalidArgument,
			"Timestamp must be supplied in a ShardFilter with a Type of AT_TIMESTAMP."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, "ListShards", tc.body)
			cpRawErr(t, status, out, tc.typ, tc.message)
		})
	}
	status, out = ts.call(t, "ListShards", map[string]any{"NextToken": token})
	if status != 200 || len(out["Shards"].([]any)) != 2 {
		t.Fatalf("with the token: %d %v", status, out)
	}
	clock.add(nextTokenLifetime)
	status, out = ts.call(t, "ListShards", map[string]any{"NextToken": token})
	cpRawErr(t, status, out, errExpiredNextToken, "")
}

func TestParseShardRef(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"shardId-000000000007", 7, true},
		{"shardId-5", 5, true},
		{"shard-0", 0, true},
		{"anything-12", 12, true},
		{"3", 3, true},
		{"-00002147483647", 2147483647, true},
		{"2147483648", 0, false},
		{"shardId-002147483648", 0, false},
		{"ABKLFD8", 0, false},
		{"2.14E4", 0, false},
		{"a-", 0, false},
		{"", 0, false},
		{"shardId-1-2", 1, true},
	} {
		got, ok := parseShardRef(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseShardRef(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
