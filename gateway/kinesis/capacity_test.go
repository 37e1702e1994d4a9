package kinesis

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// cpCommit sets the account's billing commitment through the SDK and
// returns what UpdateAccountSettings answered.
func cpCommit(t testing.TB, kc *awskinesis.Client, status types.MinimumThroughputBillingCommitmentInputStatus) *types.MinimumThroughputBillingCommitmentOutput {
	t.Helper()
	out, err := kc.UpdateAccountSettings(context.Background(), &awskinesis.UpdateAccountSettingsInput{
		MinimumThroughputBillingCommitment: &types.MinimumThroughputBillingCommitmentInput{Status: status},
	})
	if err != nil {
		t.Fatalf("UpdateAccountSettings %s: %v", status, err)
	}
	return out.MinimumThroughputBillingCommitment
}

// cpSummary returns a stream's DescribeStreamSummary through the SDK.
func cpSummary(t testing.TB, kc *awskinesis.Client, name string) *types.StreamDescriptionSummary {
	t.Helper()
	out, err := kc.DescribeStreamSummary(context.Background(), &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeStreamSummary %s: %v", name, err)
	}
	return out.StreamDescriptionSummary
}

func TestAccountSettingsCommitmentLifecycle(t *testing.T) {
	ts, clock := cpServerWithClock(t, 0)
	kc := ts.client()
	ctx := context.Background()
	sec := func(tm *time.Time) int64 {
		if tm == nil {
			return 0
		}
		return tm.Unix()
	}
	type want struct {
		status                   types.MinimumThroughputBillingCommitmentOutputStatus
		started, ended, earliest time.Time // zero: absent
	}
	check := func(step string, got *types.MinimumThroughputBillingCommitmentOutput, w want) {
		t.Helper()
		unix := func(tm time.Time) int64 {
			if tm.IsZero() {
				return 0
			}
			return tm.Unix()
		}
		if got == nil || got.Status != w.status || sec(got.StartedAt) != unix(w.started) ||
			sec(got.EndedAt) != unix(w.ended) || sec(got.EarliestAllowedEndAt) != unix(w.earliest) {
			t.Fatalf("%s: got %+v, want %+v", step, got, w)
		}
	}
	describe := func() *types.MinimumThroughputBillingCommitmentOutput {
		t.Helper()
		out, err := kc.DescribeAccountSettings(ctx, &awskinesis.DescribeAccountSettingsInput{})
		if err != nil {
			t.Fatal(err)
		}
		return out.MinimumThroughputBillingCommitment
	}
	const (
		on  = types.MinimumThroughputBillingCommitmentInputStatusEnabled
		off = types.MinimumThroughputBillingCommitmentInputStatusDisabled
	)
	check("never enabled", describe(), want{status: "DISABLED"})
	check("disabling a disabled one", cpCommit(t, kc, off), want{status: "DISABLED"})

	start := clock.Now()
	day := start.Add(commitmentMinimum)
	check("enabled", cpCommit(t, kc, on), want{status: "ENABLED", started: start, earliest: day})
	clock.add(time.Hour)
	check("enabled again", cpCommit(t, kc, on), want{status: "ENABLED", started: start, earliest: day})
	check("disabled within the day", cpCommit(t, kc, off), want{status: "ENABLED_UNTIL_EARLIEST_ALLOWED_END", started: start, earliest: day})
	check("re-enabled: the end is cancelled", cpCommit(t, kc, on), want{status: "ENABLED", started: start, earliest: day})
	cpCommit(t, kc, off)
	clock.add(commitmentMinimum)
	check("a day later", describe(), want{status: "DISABLED", started: start, ended: day})

	start = clock.Now()
	cpCommit(t, kc, on)
	clock.add(25 * time.Hour)
	check("disabled after the day", cpCommit(t, kc, off), want{status: "DISABLED", started: start, ended: clock.Now()})

	for _, tc := range []struct {
		name    string
		body    map[string]any
		message string
	}{
		{"missing", map[string]any{},
			"1 validation error detected: Value null at 'minimumThroughputBillingCommitment' failed to satisfy constraint: Member must not be null"},
		{"no status", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{}},
			"1 validation error detected: Value null at 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must not be null"},
		{"bad status", map[string]any{"MinimumThroughputBillingCommitment": map[string]any{"Status": "MAYBE"}},
			"1 validation error detected: Value 'MAYBE' at 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, "UpdateAccountSettings", tc.body)
			cpRawErr(t, status, out, errValidation, tc.message)
		})
	}
}

func TestWarmThroughput(t *testing.T) {
	ts, clock := cpServerWithClock(t, 0)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "prov", 1)
	if _, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String("od")}); err != nil {
		t.Fatal(err)
	}
	warm := func(stream string, mibps int32) (*awskinesis.UpdateStreamWarmThroughputOutput, error) {
		return kc.UpdateStreamWarmThroughput(ctx, &awskinesis.UpdateStreamWarmThroughputInput{StreamName: aws.String(stream), WarmThroughputMiBps: aws.Int32(mibps)})
	}
	_, err := warm("od", 100)
	cpSDKErr(t, err, errInvalidArgument, "Warm throughput requires MinimumThroughputBillingCommitment to be enabled for account 000000000000.")
	cpCommit(t, kc, types.MinimumThroughputBillingCommitmentInputStatusEnabled)
	_, err = warm("prov", 100)
	cpSDKErr(t, err, errInvalidArgument, "Warm throughput is only supported for streams in ON_DEMAND capacity mode; stream prov under account 000000000000 is PROVISIONED.")
	_, err = warm("od", maxWarmMiBps+1)
	cpSDKErr(t, err, errLimitExceeded, "")
	_, err = warm("missing", 1)
	cpSDKErr(t, err, errResourceNotFound, "Stream missing under account 000000000000 not found.")

	out, err := warm("od", 100)
	if err != nil || *out.StreamName != "od" || *out.StreamARN != ts.streamARN("od") || *out.WarmThroughput.TargetMiBps != 100 || out.WarmThroughput.CurrentMiBps != nil {
		t.Fatalf("first warm throughput: %+v, %v", out, err)
	}
	if out, err = warm("od", 200); err != nil || *out.WarmThroughput.TargetMiBps != 200 || *out.WarmThroughput.CurrentMiBps != 100 {
		t.Fatalf("second warm throughput: %+v, %v", out, err)
	}
	if w := cpSummary(t, kc, "od").WarmThroughput; w == nil || *w.TargetMiBps != 200 || *w.CurrentMiBps != 200 {
		t.Fatalf("summary warm throughput %+v", w)
	}
	if w := cpSummary(t, kc, "prov").WarmThroughput; w != nil {
		t.Fatalf("a provisioned stream has warm throughput %+v", w)
	}

	// CreateStream and UpdateStreamMode take it too, for ON_DEMAND only;
	// going PROVISIONED drops it.
	_, err = kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String("p2"), ShardCount: aws.Int32(1), WarmThroughputMiBps: aws.Int32(8)})
	cpSDKErr(t, err, errInvalidArgument, "")
	if _, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String("od2"), WarmThroughputMiBps: aws.Int32(8)}); err != nil {
		t.Fatal(err)
	}
	if w := cpSummary(t, kc, "od2").WarmThroughput; w == nil || *w.TargetMiBps != 8 {
		t.Fatalf("created with warm throughput %+v", w)
	}
	mode := func(stream string, m types.StreamMode, mibps *int32) error {
		_, err := kc.UpdateStreamMode(ctx, &awskinesis.UpdateStreamModeInput{StreamARN: aws.String(ts.streamARN(stream)),
			StreamModeDetails: &types.StreamModeDetails{StreamMode: m}, WarmThroughputMiBps: mibps})
		return err
	}
	cpSDKErr(t, mode("prov", types.StreamModeProvisioned, aws.Int32(5)), errInvalidArgument, "")
	if err := mode("od2", types.StreamModeProvisioned, nil); err != nil {
		t.Fatal(err)
	}
	if s := cpSummary(t, kc, "od2"); s.WarmThroughput != nil {
		t.Fatalf("provisioned again, warm throughput %+v", s.WarmThroughput)
	}
	if err := mode("prov", types.StreamModeOnDemand, aws.Int32(16)); err != nil {
		t.Fatal(err)
	}
	if w := cpSummary(t, kc, "prov").WarmThroughput; w == nil || *w.TargetMiBps != 16 {
		t.Fatalf("switched with warm throughput %+v", w)
	}

	// Once the commitment is over, the warm throughput is not reported.
	cpCommit(t, kc, types.MinimumThroughputBillingCommitmentInputStatusDisabled)
	clock.add(commitmentMinimum)
	if w := cpSummary(t, kc, "od").WarmThroughput; w != nil {
		t.Fatalf("without commitment, warm throughput %+v", w)
	}
	status, body := ts.call(t, "UpdateStreamWarmThroughput", map[string]any{"StreamName": "od"})
	cpRawErr(t, status, body, errValidation,
		"1 validation error detected: Value null at 'warmThroughputMiBps' failed to satisfy constraint: Member must not be null")
}

func TestRecordDistributionStrategy(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	const auto, userKey = types.RecordDistributionStrategyAuto, types.RecordDistributionStrategyUserPartitionKey

	_, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String("p"), ShardCount: aws.Int32(2), RecordDistributionStrategy: auto})
	cpSDKErr(t, err, errInvalidArgument,
		"Record distribution strategy AUTO is only supported for streams in ON_DEMAND capacity mode; stream p under account 000000000000 is PROVISIONED.")
	cpCreate(t, kc, "p", 2)
	if s := cpSummary(t, kc, "p"); s.RecordDistributionStrategy != userKey {
		t.Fatalf("default strategy %q", s.RecordDistributionStrategy)
	}
	if _, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String("a"), RecordDistributionStrategy: auto}); err != nil {
		t.Fatal(err)
	}
	if s := cpSummary(t, kc, "a"); s.RecordDistributionStrategy != auto || *s.OpenShardCount != onDemandShards {
		t.Fatalf("AUTO stream: %q, %d shards", s.RecordDistributionStrategy, *s.OpenShardCount)
	}

	// AUTO spreads one partition key (and explicit hash keys) over every
	// shard, and takes records without a partition key.
	spread := func(stream string) map[string]int {
		t.Helper()
		entries := make([]types.PutRecordsRequestEntry, 400)
		for i := range entries {
			entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("same"), ExplicitHashKey: aws.String("0"), Data: []byte{byte(i)}}
		}
		out, err := kc.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil || *out.FailedRecordCount != 0 {
			t.Fatalf("PutRecords to %s: %+v, %v", stream, out, err)
		}
		shards := map[string]int{}
		for _, r := range out.Records {
			shards[*r.ShardId]++
		}
		return shards
	}
	if shards := spread("a"); len(shards) != onDemandShards {
		t.Fatalf("AUTO put 400 records on %v", shards)
	}
	put, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("a"), Data: []byte("no key")})
	if err != nil {
		t.Fatalf("PutRecord without a partition key to an AUTO stream: %v", err)
	}
	recs := readShard(t, kc, "a", *put.ShardId, types.ShardIteratorTypeAtSequenceNumber, *put.SequenceNumber)
	if len(recs) != 1 || string(recs[0].Data) != "no key" {
		t.Fatalf("read back %v", dataOf(recs))
	}
	status, body := ts.call(t, "PutRecords", map[string]any{"StreamName": "a", "Records": []map[string]any{{"Data": "eA=="}, {"Data": "eQ==", "PartitionKey": "k"}}})
	if status != 200 || body["FailedRecordCount"] != float64(0) {
		t.Fatalf("PutRecords without a partition key: %d %v", status, body)
	}
	// Elsewhere a partition key is required, as always.
	for _, stream := range []string{"p", "missing"} {
		status, body = ts.call(t, "PutRecord", map[string]any{"StreamName": stream, "Data": "eA=="})
		cpRawErr(t, status, body, errValidation,
			"1 validation error detected: Value null at 'partitionKey' failed to satisfy constraint: Member must not be null")
	}
	status, body = ts.call(t, "PutRecords", map[string]any{"StreamName": "p", "Records": []map[string]any{{"Data": "eA=="}}})
	cpRawErr(t, status, body, errValidation,
		"1 validation error detected: Value null at 'records.1.member.partitionKey' failed to satisfy constraint: Member must not be null")

	// Switching strategies: USER_PARTITION_KEY routes by key again; AUTO
	// needs ON_DEMAND, and keeps the stream from going PROVISIONED.
	strategy := func(stream string, s types.RecordDistributionStrategy) error {
		_, err := kc.UpdateStreamRecordDistributionStrategy(ctx, &awskinesis.UpdateStreamRecordDistributionStrategyInput{
			StreamARN: aws.String(ts.streamARN(stream)), RecordDistributionStrategy: s})
		return err
	}
	cpSDKErr(t, strategy("p", auto), errInvalidArgument, "")
	_, err = kc.UpdateStreamMode(ctx, &awskinesis.UpdateStreamModeInput{StreamARN: aws.String(ts.streamARN("a")),
		StreamModeDetails: &types.StreamModeDetails{StreamMode: types.StreamModeProvisioned}})
	cpSDKErr(t, err, errInvalidArgument, "Stream a under account 000000000000 uses the AUTO record distribution strategy, which needs ON_DEMAND capacity mode. Set USER_PARTITION_KEY first.")
	if err := strategy("a", userKey); err != nil {
		t.Fatal(err)
	}
	if shards := spread("a"); len(shards) != 1 {
		t.Fatalf("USER_PARTITION_KEY put one key on %v", shards)
	}
	if s := cpSummary(t, kc, "a"); s.RecordDistributionStrategy != userKey || s.StreamStatus != types.StreamStatusActive {
		t.Fatalf("after the switch: %q %s", s.RecordDistributionStrategy, s.StreamStatus)
	}
	status, body = ts.call(t, "UpdateStreamRecordDistributionStrategy", map[string]any{"StreamARN": ts.streamARN("a"), "RecordDistributionStrategy": "RANDOM"})
	cpRawErr(t, status, body, errValidation,
		"1 validation error detected: Value 'RANDOM' at 'recordDistributionStrategy' failed to satisfy constraint: Member must satisfy enum value set: [AUTO, USER_PARTITION_KEY]")
	status, body = ts.call(t, "UpdateStreamRecordDistributionStrategy", map[string]any{"RecordDistributionStrategy": "AUTO"})
	cpRawErr(t, status, body, errValidation,
		"1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null")
}
