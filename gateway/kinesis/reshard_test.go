package kinesis

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestSplitAndMergeWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "r", 1)
	// kinesalite's smallest split: the children cover [0, 1] and [2, max].
	_, err := kc.SplitShard(ctx, &awskinesis.SplitShardInput{
		StreamName: aws.String("r"), ShardToSplit: aws.String("shard-0"), NewStartingHashKey: aws.String("2"),
	})
	if err != nil {
		t.Fatal(err)
	}
	d := cpDescribe(t, kc, "r")
	if cpShardIDs(d.Shards) != "0,1,2" {
		t.Fatalf("after the split: %s", cpShardIDs(d.Shards))
	}
	parent, lower, upper := d.Shards[0], d.Shards[1], d.Shards[2]
	if parent.SequenceNumberRange.EndingSequenceNumber == nil {
		t.Fatal("the parent is still open")
	}
	if *lower.ParentShardId != "shardId-000000000000" || *lower.HashKeyRange.StartingHashKey != "0" || *lower.HashKeyRange.EndingHashKey != "1" ||
		*upper.ParentShardId != "shardId-000000000000" || *upper.HashKeyRange.StartingHashKey != "2" ||
		*upper.HashKeyRange.EndingHashKey != "340282366920938463463374607431768211455" {
		t.Fatalf("children %+v %+v / %+v %+v", lower, *lower.HashKeyRange, upper, *upper.HashKeyRange)
	}

	// Merge in either order; the child names both parents.
	_, err = kc.MergeShards(ctx, &awskinesis.MergeShardsInput{
		StreamName: aws.String("r"), ShardToMerge: aws.String("shardId-000000000002"), AdjacentShardToMerge: aws.String("shardId-000000000001"),
	})
	if err != nil {
		t.Fatal(err)
	}
	d = cpDescribe(t, kc, "r")
	child := d.Shards[3]
	if *child.ParentShardId != "shardId-000000000002" || *child.AdjacentParentShardId != "shardId-000000000001" ||
		*child.HashKeyRange.StartingHashKey != "0" || child.SequenceNumberRange.EndingSequenceNumber != nil {
		t.Fatalf("merged child %+v %+v", child, *child.HashKeyRange)
	}
	open, _ := kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String("r"), ShardFilter: &types.ShardFilter{Type: types.ShardFilterTypeAtLatest}})
	if cpShardIDs(open.Shards) != "3" {
		t.Fatalf("open after the merge: %s", cpShardIDs(open.Shards))
	}
}

func TestUpdateShardCountWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "u", 2)
	out, err := kc.UpdateShardCount(ctx, &awskinesis.UpdateShardCountInput{
		StreamName: aws.String("u"), TargetShardCount: aws.Int32(4), ScalingType: types.ScalingTypeUniformScaling,
	})
	if err != nil {
		t.Fatal(err)
	}
	if *out.CurrentShardCount != 2 || *out.TargetShardCount != 4 || *out.StreamName != "u" || *out.StreamARN != ts.streamARN("u") {
		t.Fatalf("output %+v", out)
	}
	sum, _ := kc.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String("u")})
	if *sum.StreamDescriptionSummary.OpenShardCount != 4 {
		t.Fatalf("open shards %d", *sum.StreamDescriptionSummary.OpenShardCount)
	}
	// Back down to 2: at least half is fine.
	if _, err := kc.UpdateShardCount(ctx, &awskinesis.UpdateShardCountInput{
		StreamName: aws.String("u"), TargetShardCount: aws.Int32(2), ScalingType: types.ScalingTypeUniformScaling,
	}); err != nil {
		t.Fatal(err)
	}
	_, err = kc.UpdateShardCount(ctx, &awskinesis.UpdateShardCountInput{
		StreamName: aws.String("u"), TargetShardCount: aws.Int32(5), ScalingType: types.ScalingTypeUniformScaling,
	})
	cpSDKErr(t, err, errLimitExceeded, "UpdateShardCount cannot scale up over double your current open shard count. Current open shard count: 2, Target shard count: 5")
}

func TestReshardErrors(t *testing.T) {
	ts, clock := cpServerWithClock(t, 0)
	kc := ts.client()
	cpCreate(t, kc, "x", 3)
	if _, err := kc.SplitShard(context.Background(), &awskinesis.SplitShardInput{
		StreamName: aws.String("x"), ShardToSplit: aws.String("shardId-000000000002"), NewStartingHashKey: aws.String("300000000000000000000000000000000000000"),
	}); err != nil {
		t.Fatal(err)
	}
	_, err := kc.CreateStream(context.Background(), &awskinesis.CreateStreamInput{
		StreamName: aws.String("od"), StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeOnDemand},
	})
	if err != nil {
		t.Fatal(err)
	}
	acct := " under account 000000000000"
	for _, tc := range []struct {
		name, op     string
		body         map[string]any
		typ, message string
	}{
		{"split: nothing", "SplitShard", map[string]any{}, errValidation, "2 validation errors detected: " +
			"Value null at 'newStartingHashKey' failed to satisfy constraint: Member must not be null; " +
			"Value null at 'shardToSplit' failed to satisfy constraint: Member must not be null"},
		{"split: bad key", "SplitShard", map[string]any{"StreamName": "x", "ShardToSplit": "0", "NewStartingHashKey": "01"}, errValidation,
			"1 validation error detected: Value '01' at 'newStartingHashKey' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,38})"},
		{"split: unknown stream, shard id too big", "SplitShard", map[string]any{"StreamName": "nope", "ShardToSplit": "2147483648", "NewStartingHashKey": "0"},
			errResourceNotFound, "Could not find shard 2147483648 in stream nope" + acct + "."},
		{"split: unknown stream", "SplitShard", map[string]any{"StreamName": "nope", "ShardToSplit": "2147483647", "NewStartingHashKey": "0"},
			errResourceNotFound, "Stream nope" + acct + " not found."},
		{"split: unknown shard", "SplitShard", map[string]any{"StreamName": "x", "ShardToSplit": "shardId-9", "NewStartingHashKey": "5"},
			errResourceNotFound, "Could not find shard shardId-000000000009 in stream x" + acct + "."},
		{"split: key too small", "SplitShard", map[string]any{"StreamName": "x", "ShardToSplit": "shard-0", "NewStartingHashKey": "1"},
			errInvalidArgument, "NewStartingHashKey 1 used in SplitShard() on shard shardId-000000000000 in stream x" + acct +
				" is not both greater than one plus the shard's StartingHashKey 0 and less than the shard's EndingHashKey 113427455640312821154458202477256070484."},
		{"split: key much too big", "SplitShard", map[string]any{"StreamName": "x", "ShardToSplit": "shard-1", "NewStartingHashKey": "999999999999999999999999999999999999999"},
			errInvalidArgument, "NewStartingHashKey 999999999999999999999999999999999999999 used in SplitShard() on shard shardId-000000000001 in stream x" + acct +
				" is not both greater than one plus the shard's StartingHashKey 113427455640312821154458202477256070485 and less than the shard's EndingHashKey 226854911280625642308916404954512140969."},
		{"split: closed shard", "SplitShard", map[string]any{"StreamName": "x", "ShardToSplit": "shardId-000000000002", "NewStartingHashKey": "300000000000000000000000000000000000001"},
			errInvalidArgument, "Shard shardId-000000000002 in stream x" + acct + " has already been merged or split, and thus is not eligible for splitting."},
		{"split: on-demand", "SplitShard", map[string]any{"StreamName": "od", "ShardToSplit": "shardId-000000000000", "NewStartingHashKey": "5"},
			errValidation, "This API is only supported for the data streams with the provisioned capacity mode. Stream od" + acct + " is in ON_DEMAND mode."},
		{"merge: not adjacent", "MergeShards", map[string]any{"StreamName": "x", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000003"},
			errInvalidArgument, "Shards shardId-000000000000 and shardId-000000000003 in stream x" + acct + " are not an adjacent pair of shards eligible for merging"},
		{"merge: itself", "MergeShards", map[string]any{"StreamName": "x", "ShardToMerge": "shardId-000000000000", "AdjacentShardToMerge": "shardId-000000000000"},
			errInvalidArgument, "Shards shardId-000000000000 and shardId-000000000000 in stream x" + acct + " are not an adjacent pair of shards eligible for merging"},
		{"merge: closed", "MergeShards", map[string]any{"StreamName": "x", "ShardToMerge": "shardId-000000000001", "AdjacentShardToMerge": "shardId-000000000002"},
			errInvalidArgument, "Shard shardId-000000000002 in stream x" + acct + " has already been merged or split, and thus is not eligible for merging."},
		{"merge: bad id", "MergeShards", map[string]any{"StreamName": "x", "ShardToMerge": "ABKLFD8", "AdjacentShardToMerge": "shardId-000000000002"},
			errResourceNotFound, "Could not find shard ABKLFD8 in stream x" + acct + "."},
		{"scale: below half", "UpdateShardCount", map[string]any{"StreamName": "x", "TargetShardCount": 1, "ScalingType": "UNIFORM_SCALING"},
			errLimitExceeded, "UpdateShardCount cannot scale down below half your current open shard count. Current open shard count: 4, Target shard count: 1"},
		{"scale: over the stream limit", "UpdateShardCount", map[string]any{"StreamName": "x", "TargetShardCount": 10001, "ScalingType": "UNIFORM_SCALING"},
			errLimitExceeded, "Target shard count or number of open shards cannot be greater than 10000. Current open shard count: 4, Target shard count: 10001"},
		{"scale: scaling type", "UpdateShardCount", map[string]any{"StreamName": "x", "TargetShardCount": 4, "ScalingType": "RANDOM"},
			errValidation, "1 validation error detected: Value 'RANDOM' at 'scalingType' failed to satisfy constraint: Member must satisfy enum value set: [UNIFORM_SCALING]"},
		{"scale: on-demand", "UpdateShardCount", map[string]any{"StreamName": "od", "TargetShardCount": 5, "ScalingType": "UNIFORM_SCALING"},
			errValidation, "This API is only supported for the data streams with the provisioned capacity mode. Stream od" + acct + " is in ON_DEMAND mode."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, tc.op, tc.body)
			cpRawErr(t, status, out, tc.typ, tc.message)
		})
	}

	// Ten scalings a day, then LimitExceededException until a day passes.
	body := func(n int) map[string]any {
		return map[string]any{"StreamName": "x", "TargetShardCount": n, "ScalingType": "UNIFORM_SCALING"}
	}
	for i := 0; i < scalingsPerWindow; i++ {
		if status, out := ts.call(t, "UpdateShardCount", body(5-i%2)); status != 200 {
			t.Fatalf("scaling %d: %d %v", i, status, out)
		}
	}
	status, out := ts.call(t, "UpdateShardCount", body(5))
	cpRawErr(t, status, out, errLimitExceeded, "")
	clock.add(scalingWindow)
	if status, out := ts.call(t, "UpdateShardCount", body(5)); status != 200 {
		t.Fatalf("a day later: %d %v", status, out)
	}
}
