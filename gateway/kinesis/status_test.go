package kinesis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
)

// Helpers of the control-plane tests carry a cp prefix.

// cpServerWithClock starts a server on a clock the test moves, with an
// optional state delay.
func cpServerWithClock(t *testing.T, delay time.Duration) (*testServer, *movableClock) {
	t.Helper()
	clock := newMovableClock()
	ts := startTestServer(t, func(c *Config) {
		c.Now = clock.Now
		c.StateDelay = delay
	})
	return ts, clock
}

// cpCreate creates a PROVISIONED stream through the SDK.
func cpCreate(t testing.TB, kc *awskinesis.Client, name string, shards int32) {
	t.Helper()
	_, err := kc.CreateStream(context.Background(), &awskinesis.CreateStreamInput{
		StreamName: aws.String(name), ShardCount: aws.Int32(shards),
	})
	if err != nil {
		t.Fatalf("CreateStream %s: %v", name, err)
	}
}

// cpDescribe returns a stream's description through the SDK.
func cpDescribe(t testing.TB, kc *awskinesis.Client, name string) *types.StreamDescription {
	t.Helper()
	out, err := kc.DescribeStream(context.Background(), &awskinesis.DescribeStreamInput{StreamName: aws.String(name)})
	if err != nil {
		t.Fatalf("DescribeStream %s: %v", name, err)
	}
	return out.StreamDescription
}

// cpSDKErr asserts an SDK error's code and, when message is not empty, its
// exact message.
func cpSDKErr(t testing.TB, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code || (message != "" && ae.ErrorMessage() != message) {
		t.Fatalf("want %s %q,\n got %s %q", code, message, ae.ErrorCode(), ae.ErrorMessage())
	}
}

// cpRawErr asserts a raw call's error type and, when message is not empty,
// its exact message.
func cpRawErr(t testing.TB, status int, body map[string]any, code, message string) {
	t.Helper()
	if status != 400 || body["__type"] != code || (message != "" && body["message"] != message) {
		t.Fatalf("want 400 %s %q,\n got %d %v", code, message, status, body)
	}
}

func TestStatusDelayCreatingActiveDeleting(t *testing.T) {
	ts, clock := cpServerWithClock(t, 10*time.Second)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "s", 2)

	d := cpDescribe(t, kc, "s")
	if d.StreamStatus != types.StreamStatusCreating || len(d.Shards) != 0 || *d.HasMoreShards {
		t.Fatalf("while creating: %s, %d shards", d.StreamStatus, len(d.Shards))
	}
	if _, err := ts.streamForData(ctx, "s"); err == nil || err.(*Error).Type != errResourceNotFound {
		t.Fatalf("data plane while CREATING: %v, want ResourceNotFoundException", err)
	}
	_, err := kc.SplitShard(ctx, &awskinesis.SplitShardInput{
		StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("100"),
	})
	cpSDKErr(t, err, errResourceInUse, "Stream s under account 000000000000 not ACTIVE, instead in state CREATING")

	clock.add(10 * time.Second)
	if d := cpDescribe(t, kc, "s"); d.StreamStatus != types.StreamStatusActive || len(d.Shards) != 2 {
		t.Fatalf("after the delay: %s, %d shards", d.StreamStatus, len(d.Shards))
	}

	// UPDATING after a reshard: the data plane still works, control refuses.
	_, err = kc.SplitShard(ctx, &awskinesis.SplitShardInput{
		StreamName: aws.String("s"), ShardToSplit: aws.String("shardId-000000000000"), NewStartingHashKey: aws.String("100"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := cpDescribe(t, kc, "s"); d.StreamStatus != types.StreamStatusUpdating {
		t.Fatalf("after a split: %s", d.StreamStatus)
	}
	if _, err := ts.streamForData(ctx, "s"); err != nil {
		t.Fatalf("data plane while UPDATING: %v", err)
	}
	_, err = kc.IncreaseStreamRetentionPeriod(ctx, &awskinesis.IncreaseStreamRetentionPeriodInput{
		StreamName: aws.String("s"), RetentionPeriodHours: aws.Int32(48),
	})
	cpSDKErr(t, err, errResourceInUse, "Stream s under account 000000000000 not ACTIVE, instead in state UPDATING")
	clock.add(10 * time.Second)

	if _, err := kc.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	if d := cpDescribe(t, kc, "s"); d.StreamStatus != types.StreamStatusDeleting {
		t.Fatalf("after DeleteStream: %s", d.StreamStatus)
	}
	_, err = kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
	cpSDKErr(t, err, errResourceInUse, "Stream s under account 000000000000 already exists.")
	clock.add(10 * time.Second)
	_, err = kc.DescribeStream(ctx, &awskinesis.DescribeStreamInput{StreamName: aws.String("s")})
	cpSDKErr(t, err, errResourceNotFound, "Stream s under account 000000000000 not found.")
	if names, _ := ts.store.ListStreams(context.Background()); len(names) != 0 {
		t.Fatalf("store still has %v", names)
	}
}

// TestStreamWaitersWithStateDelay runs the SDK's waiters on the real clock:
// StreamExists through CREATING, StreamNotExists through DELETING.
func TestStreamWaitersWithStateDelay(t *testing.T) {
	ts := startTestServer(t, func(c *Config) { c.StateDelay = 300 * time.Millisecond })
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "w", 1)
	if d := cpDescribe(t, kc, "w"); d.StreamStatus != types.StreamStatusCreating {
		t.Fatalf("status %s, want CREATING", d.StreamStatus)
	}
	exists := awskinesis.NewStreamExistsWaiter(kc, func(o *awskinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 100*time.Millisecond
	})
	if err := exists.Wait(ctx, &awskinesis.DescribeStreamInput{StreamName: aws.String("w")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := kc.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("w")}); err != nil {
		t.Fatal(err)
	}
	gone := awskinesis.NewStreamNotExistsWaiter(kc, func(o *awskinesis.StreamNotExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 100*time.Millisecond
	})
	if err := gone.Wait(ctx, &awskinesis.DescribeStreamInput{StreamName: aws.String("w")}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	// The timer deletes the stream from the store without any request.
	deadline := time.Now().Add(30 * time.Second)
	names, _ := ts.store.ListStreams(ctx)
	for len(names) != 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		names, _ = ts.store.ListStreams(ctx)
	}
	if len(names) != 0 {
		t.Fatalf("store still has %v", names)
	}
}
