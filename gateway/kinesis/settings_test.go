package kinesis

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestRetentionPeriodWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "ret", 1)
	if _, err := kc.IncreaseStreamRetentionPeriod(ctx, &awskinesis.IncreaseStreamRetentionPeriodInput{
		StreamName: aws.String("ret"), RetentionPeriodHours: aws.Int32(168),
	}); err != nil {
		t.Fatal(err)
	}
	if d := cpDescribe(t, kc, "ret"); *d.RetentionPeriodHours != 168 {
		t.Fatalf("retention %d", *d.RetentionPeriodHours)
	}
	// The store enforces it, so Kafka clients see the same retention.
	if st, _ := ts.store.DescribeStream(context.Background(), "ret"); st.Retention != 168*time.Hour {
		t.Fatalf("store retention %v", st.Retention)
	}
	if _, err := kc.DecreaseStreamRetentionPeriod(ctx, &awskinesis.DecreaseStreamRetentionPeriodInput{
		StreamARN: aws.String(ts.streamARN("ret")), RetentionPeriodHours: aws.Int32(48),
	}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name, op     string
		hours        int
		typ, message string
	}{
		{"too short", "IncreaseStreamRetentionPeriod", 23, errInvalidArgument,
			"Minimum allowed retention period is 24 hours. Requested retention period (23 hours) is too short."},
		{"too long", "DecreaseStreamRetentionPeriod", 8761, errInvalidArgument,
			"Maximum allowed retention period is 8760 hours. Requested retention period (8761 hours) is too long."},
		{"increase lower", "IncreaseStreamRetentionPeriod", 24, errInvalidArgument,
			"Requested retention period (24 hours) for stream ret can not be shorter than existing retention period (48 hours). Use DecreaseRetentionPeriod API."},
		{"decrease higher", "DecreaseStreamRetentionPeriod", 72, errInvalidArgument,
			"Requested retention period (72 hours) for stream ret can not be longer than existing retention period (48 hours). Use IncreaseRetentionPeriod API."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, tc.op, map[string]any{"StreamName": "ret", "RetentionPeriodHours": tc.hours})
			cpRawErr(t, status, out, tc.typ, tc.message)
		})
	}
	status, out := ts.call(t, "IncreaseStreamRetentionPeriod", map[string]any{"StreamName": "ret"})
	cpRawErr(t, status, out, errValidation,
		"1 validation error detected: Value null at 'retentionPeriodHours' failed to satisfy constraint: Member must not be null")
}

func TestStreamModeEncryptionMonitoringWithSDK(t *testing.T) {
	ts, clock := cpServerWithClock(t, 0)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "m", 2)
	arn := aws.String(ts.streamARN("m"))

	mode := func(m types.StreamMode) error {
		_, err := kc.UpdateStreamMode(ctx, &awskinesis.UpdateStreamModeInput{StreamARN: arn, StreamModeDetails: &types.StreamModeDetails{StreamMode: m}})
		return err
	}
	if err := mode(types.StreamModeOnDemand); err != nil {
		t.Fatal(err)
	}
	if d := cpDescribe(t, kc, "m"); d.StreamModeDetails.StreamMode != types.StreamModeOnDemand || len(d.Shards) != 2 {
		t.Fatalf("mode %s, %d shards", d.StreamModeDetails.StreamMode, len(d.Shards))
	}
	lim, err := kc.DescribeLimits(ctx, &awskinesis.DescribeLimitsInput{})
	if err != nil || *lim.OnDemandStreamCount != 1 || *lim.OpenShardCount != 2 || *lim.ShardLimit != accountShardLimit || *lim.OnDemandStreamCountLimit != 50 {
		t.Fatalf("limits %+v, %v", lim, err)
	}
	if err := mode(types.StreamModeProvisioned); err != nil {
		t.Fatal(err)
	}
	cpSDKErr(t, mode(types.StreamModeOnDemand), errLimitExceeded, "")
	clock.add(24 * time.Hour)
	if err := mode(types.StreamModeOnDemand); err != nil {
		t.Fatalf("a day later: %v", err)
	}

	if _, err := kc.StartStreamEncryption(ctx, &awskinesis.StartStreamEncryptionInput{
		StreamName: aws.String("m"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis"),
	}); err != nil {
		t.Fatal(err)
	}
	d := cpDescribe(t, kc, "m")
	if d.EncryptionType != types.EncryptionTypeKms || aws.ToString(d.KeyId) != "alias/aws/kinesis" {
		t.Fatalf("encryption %s %v", d.EncryptionType, d.KeyId)
	}
	if _, err := kc.StopStreamEncryption(ctx, &awskinesis.StopStreamEncryptionInput{
		StreamName: aws.String("m"), EncryptionType: types.EncryptionTypeKms, KeyId: aws.String("alias/aws/kinesis"),
	}); err != nil {
		t.Fatal(err)
	}
	if d := cpDescribe(t, kc, "m"); d.EncryptionType != types.EncryptionTypeNone || d.KeyId != nil {
		t.Fatalf("after stopping: %s %v", d.EncryptionType, d.KeyId)
	}

	on, err := kc.EnableEnhancedMonitoring(ctx, &awskinesis.EnableEnhancedMonitoringInput{
		StreamName: aws.String("m"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameAll},
	})
	if err != nil || len(on.CurrentShardLevelMetrics) != 0 || len(on.DesiredShardLevelMetrics) != 7 || *on.StreamARN != *arn {
		t.Fatalf("enable %+v, %v", on, err)
	}
	off, err := kc.DisableEnhancedMonitoring(ctx, &awskinesis.DisableEnhancedMonitoringInput{
		StreamName: aws.String("m"), ShardLevelMetrics: []types.MetricsName{types.MetricsNameIncomingBytes, types.MetricsNameOutgoingBytes},
	})
	if err != nil || len(off.CurrentShardLevelMetrics) != 7 || len(off.DesiredShardLevelMetrics) != 5 {
		t.Fatalf("disable %+v, %v", off, err)
	}
	if d := cpDescribe(t, kc, "m"); len(d.EnhancedMonitoring[0].ShardLevelMetrics) != 5 {
		t.Fatalf("reported metrics %v", d.EnhancedMonitoring[0].ShardLevelMetrics)
	}

	for _, tc := range []struct {
		name, op     string
		body         map[string]any
		typ, message string
	}{
		{"mode: no ARN", "UpdateStreamMode", map[string]any{"StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"}}, errValidation,
			"1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null"},
		{"encryption: NONE", "StartStreamEncryption", map[string]any{"StreamName": "m", "EncryptionType": "NONE", "KeyId": "k"}, errInvalidArgument, ""},
		{"encryption: no key", "StartStreamEncryption", map[string]any{"StreamName": "m", "EncryptionType": "KMS"}, errValidation,
			"1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null"},
		{"monitoring: unknown metric", "EnableEnhancedMonitoring", map[string]any{"StreamName": "m", "ShardLevelMetrics": []string{"Bytes"}}, errValidation,
			"1 validation error detected: Value '[Bytes]' at 'shardLevelMetrics' failed to satisfy constraint: Member must satisfy constraint: " +
				"[Member must satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, " +
				"WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]]"},
		{"monitoring: none", "EnableEnhancedMonitoring", map[string]any{"StreamName": "m", "ShardLevelMetrics": []string{}}, errValidation,
			"1 validation error detected: Value '[]' at 'shardLevelMetrics' failed to satisfy constraint: Member must have length greater than or equal to 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, tc.op, tc.body)
			cpRawErr(t, status, out, tc.typ, tc.message)
		})
	}
}

func TestUpdateMaxRecordSizeWithSDK(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "big", 1)
	st, _ := ts.store.DescribeStream(context.Background(), "big")
	if ts.maxRecordBytes(st) != 1<<20 {
		t.Fatalf("default %d", ts.maxRecordBytes(st))
	}
	if _, err := kc.UpdateMaxRecordSize(ctx, &awskinesis.UpdateMaxRecordSizeInput{
		StreamARN: aws.String(ts.streamARN("big")), MaxRecordSizeInKiB: aws.Int32(10240),
	}); err != nil {
		t.Fatal(err)
	}
	st, _ = ts.store.DescribeStream(context.Background(), "big")
	if ts.maxRecordBytes(st) != 10<<20 {
		t.Fatalf("raised %d", ts.maxRecordBytes(st))
	}
	sum, _ := kc.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String("big")})
	if *sum.StreamDescriptionSummary.MaxRecordSizeInKiB != 10240 {
		t.Fatalf("summary %d", *sum.StreamDescriptionSummary.MaxRecordSizeInKiB)
	}
	status, out := ts.call(t, "UpdateMaxRecordSize", map[string]any{"StreamARN": ts.streamARN("big"), "MaxRecordSizeInKiB": 10241})
	cpRawErr(t, status, out, errValidation,
		"1 validation error detected: Value '10241' at 'maxRecordSizeInKiB' failed to satisfy constraint: Member must have value less than or equal to 10240")
	if !strings.Contains(out["message"].(string), "10240") {
		t.Fatal(out)
	}
}
