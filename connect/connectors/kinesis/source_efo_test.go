package kinesis

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	gwkinesis "github.com/streambridge/bridge/gateway/kinesis"
)

// Enhanced fan-out runs against the bridge only: kinesalite has no
// RegisterStreamConsumer or SubscribeToShard.

// efo adds kinesis.consumer.type=EFO to a configuration.
func efo(cfg connect.Config) connect.Config {
	cfg[ConsumerTypeConfig] = consumerEFO
	return cfg
}

// TestSourceEFOCopiesEveryRecord reads a 3-shard stream with two tasks over
// enhanced fan-out and compares the records with what GetRecords returns,
// record for record per shard; it registers the consumer named after the
// connector.
func TestSourceEFOCopiesEveryRecord(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "src", 3)
	tg.put(t, "src", entries("rec", 200, 31))
	want := tg.readAll(t, "src")
	run := startSource(t, efo(tg.config(connect.Config{StreamConfig: "src", TopicConfig: "out", HeadersConfig: "true", KafkaPartitionConfig: "preserve"})), 2, nil)
	tg.put(t, "src", entries("late", 50, 17)) // pushed to the running subscriptions
	got := byShard(run.pollUntil(250))
	if len(run.got) != 250 {
		t.Fatalf("%d records, want 250", len(run.got))
	}
	checkShards(t, got, tg.readAll(t, "src"))
	if len(want) != 3 {
		t.Fatalf("%d shards", len(want))
	}
	out, err := tg.client.ListStreamConsumers(t.Context(), &awskinesis.ListStreamConsumersInput{StreamARN: streamARN(t, tg, "src")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Consumers) != 1 || aws.ToString(out.Consumers[0].ConsumerName) != "kinesis-test" {
		t.Fatalf("consumers %+v, want one named kinesis-test", out.Consumers)
	}
	if calls, _, _ := tg.subs.counts(); calls < 3 {
		t.Fatalf("%d SubscribeToShard calls for 3 shards", calls)
	}
}

func streamARN(t *testing.T, tg *target, stream string) *string {
	t.Helper()
	sum, err := tg.client.DescribeStreamSummary(t.Context(), &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		t.Fatal(err)
	}
	return sum.StreamDescriptionSummary.StreamARN
}

// TestSourceEFOResubscribesAfterLifetime ends every subscription cleanly
// (AWS does after 5 minutes) twice in the middle of the shards: the task
// subscribes again from the last ContinuationSequenceNumber, and every
// record arrives once, in order.
func TestSourceEFOResubscribesAfterLifetime(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "life", 1)
	tg.put(t, "life", entries("l", 40, 5))
	run := startSource(t, efo(tg.config(connect.Config{StreamConfig: "life", TopicConfig: "out"})), 1, nil)
	run.pollUntil(40)
	for round := range 2 {
		waitActiveSubscriptions(t, tg, 1)
		if n := tg.subs.endAll(); n != 1 {
			t.Fatalf("round %d: %d subscriptions ended, want 1", round, n)
		}
		tg.put(t, "life", entries(fmt.Sprintf("l%d", round), 20, 5))
		run.pollUntil(40 + 20*(round+1))
	}
	got := run.got
	checkSequence(t, got[:40], "l", 40)
	checkSequence(t, got[40:60], "l0", 20)
	checkSequence(t, got[60:], "l1", 20)
	if calls, _, _ := tg.subs.counts(); calls < 3 {
		t.Fatalf("%d SubscribeToShard calls, want at least 3", calls)
	}
}

// waitActiveSubscriptions waits until n subscriptions stream events
// (their starting positions are taken).
func waitActiveSubscriptions(t *testing.T, tg *target, n int) {
	t.Helper()
	for i := 0; ; i++ {
		if _, _, active := tg.subs.counts(); active >= n {
			return
		}
		if i == 2000 {
			t.Fatalf("fewer than %d subscriptions streaming", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSourceEFOBacksOffOnResourceInUse: another subscriber of the same
// consumer takes the shard over (ResourceInUseException ends the task's
// subscription), and the task's next attempts are refused with
// ResourceInUseException while that one holds it. The task backs off
// without failing and goes on where it was once the other one lets go.
func TestSourceEFOBacksOffOnResourceInUse(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "busy", 1)
	tg.put(t, "busy", entries("b", 10, 3))
	tg.clock.freeze()
	run := startSource(t, efo(tg.config(connect.Config{StreamConfig: "busy", TopicConfig: "out"})), 1, nil)
	run.pollUntil(10)
	waitActiveSubscriptions(t, tg, 1)

	// Five seconds later (by the bridge's clock) a second subscriber takes over.
	tg.clock.add(6 * time.Second)
	desc, err := tg.client.DescribeStreamConsumer(t.Context(), &awskinesis.DescribeStreamConsumerInput{
		StreamARN: streamARN(t, tg, "busy"), ConsumerName: aws.String("kinesis-test")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := tg.client.SubscribeToShard(t.Context(), &awskinesis.SubscribeToShardInput{ConsumerARN: desc.ConsumerDescription.ConsumerARN,
		ShardId: aws.String("shardId-000000000000"), StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest}})
	if err != nil {
		t.Fatal(err)
	}
	tg.put(t, "busy", entries("c", 10, 3))
	for i := 0; ; i++ {
		if _, refused, _ := tg.subs.counts(); refused >= 2 {
			break
		}
		if n := run.pollOnce(); n != 0 {
			t.Fatalf("%d records read while another subscription held the shard", n)
		}
		if i == 100 {
			t.Fatal("the task did not try to subscribe again")
		}
	}
	if err := other.GetStream().Close(); err != nil {
		t.Fatal(err)
	}
	got := run.pollUntil(20)
	checkSequence(t, got[:10], "b", 10)
	checkSequence(t, got[10:], "c", 10)
}

// TestSourceEFOFollowsResharding splits the shard in the middle of its
// subscription and merges the children in the middle of theirs: the task
// follows the final events' ChildShards itself (shard discovery is slowed
// to an hour in one case), every record arrives once, and no record of a
// child before the last of its parents.
func TestSourceEFOFollowsResharding(t *testing.T) {
	for _, discovery := range []string{"20", "3600000"} {
		t.Run("discovery="+discovery, func(t *testing.T) {
			tg := startBridge(t)
			tg.createStream(t, "rs", 1)
			tg.put(t, "rs", entries("parent", 60, 60))
			run := startSource(t, efo(tg.config(connect.Config{StreamConfig: "rs", TopicConfig: "out", DiscoveryConfig: discovery})), 2, nil)
			slow := discovery != "20"
			run.hold = slow // a reconfiguration would hand the held records out again
			run.pollUntil(60)
			split(t, tg, "rs", "shardId-000000000000")
			tg.put(t, "rs", entries("child", 100, 100))
			if slow {
				// The children wait for the parent's records to be committed.
				if n := run.pollOnce(); n != 0 {
					t.Fatalf("%d child records before the parent's were committed", n)
				}
				run.hold = false
				run.commit()
			}
			run.pollUntil(100)

			merge(t, tg, "rs", "shardId-000000000001", "shardId-000000000002")
			tg.put(t, "rs", entries("merged", 40, 40))
			got := run.pollUntil(200)
			checkOnceParentsFirst(t, tg, "rs", got, 200)
			if slow && len(run.tasks[0].shards) != 4 {
				t.Errorf("the task follows %d shards, want 4", len(run.tasks[0].shards))
			}
		})
	}
}

// TestSourceEFORestartAndSwitch reads part of a stream by polling, part by
// enhanced fan-out, and the rest by polling again, with a task restart
// each time (uncommitted records lost in it), including one in the middle
// of a KPL aggregate: the stored offsets are the same, so every record
// comes once after what was committed.
func TestSourceEFORestartAndSwitch(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "sw", 1)
	tg.put(t, "sw", entries("p", 30, 4))
	putAggregates(t, tg, "sw", [][]byte{aggregate(userRecords("a", 10))})
	tg.put(t, "sw", entries("q", 30, 4))
	var want []string
	for i := range 30 {
		want = append(want, fmt.Sprintf("p-%05d", i))
	}
	for _, u := range userRecords("a", 10) {
		want = append(want, string(u.Data))
	}
	for i := range 30 {
		want = append(want, fmt.Sprintf("q-%05d", i))
	}

	offsets := &connecttest.SourceContext{}
	polling := tg.config(connect.Config{StreamConfig: "sw", TopicConfig: "out", RecordsLimitConfig: "25"})
	fanOut := efo(tg.config(connect.Config{StreamConfig: "sw", TopicConfig: "out"}))
	var got []string
	keep := func(run *sourceRun, n int) {
		// Kafka acknowledged the first n handed out, then the task died.
		run.held = run.held[:n]
		run.commit()
		for _, r := range run.got[:n] {
			got = append(got, string(r.Value.([]byte)))
		}
		run.stop()
	}

	for _, step := range []struct {
		cfg  connect.Config
		keep int
	}{
		{polling, 20}, // p-00000 ... p-00019
		{fanOut, 15},  // the other ten p, five user records of the aggregate
		{fanOut, 2},   // two more of them: resumed in the aggregate
		{polling, 10}, // its last three, seven q: resumed in the aggregate
	} {
		run := startSource(t, step.cfg, 1, offsets)
		run.hold = true
		run.pollUntil(step.keep)
		keep(run, step.keep)
	}

	run := startSource(t, fanOut, 1, offsets)
	rest := run.pollUntil(len(want) - len(got))
	for _, r := range rest {
		got = append(got, string(r.Value.([]byte)))
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("records across the switches:\n%q\nwant\n%q", got, want)
	}
}

// TestSourceEFOWaitsForConsumer: the bridge keeps a new consumer CREATING
// for a while (StateDelay); the connector waits until it is ACTIVE, and a
// second connector of the same name uses the same consumer.
func TestSourceEFOWaitsForConsumer(t *testing.T) {
	tg := startBridge(t, func(c *gwkinesis.Config) { c.StateDelay = 300 * time.Millisecond })
	tg.createStream(t, "slow", 1)
	tg.put(t, "slow", entries("s", 5, 2))
	cfg := efo(tg.config(connect.Config{StreamConfig: "slow", TopicConfig: "out", ConsumerNameConfig: "my-app.v1"}))
	for range 2 {
		run := startSource(t, cfg, 1, nil)
		checkSequence(t, run.pollUntil(5), "s", 5)
		run.stop()
	}
	out, err := tg.client.ListStreamConsumers(t.Context(), &awskinesis.ListStreamConsumersInput{StreamARN: streamARN(t, tg, "slow")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Consumers) != 1 || aws.ToString(out.Consumers[0].ConsumerName) != "my-app.v1" || out.Consumers[0].ConsumerStatus != types.ConsumerStatusActive {
		t.Fatalf("consumers %+v", out.Consumers)
	}
}

// TestSourceEFOConfigErrors: the consumer type is an enumeration, the
// consumer name follows Kinesis's pattern, and a connector whose name is
// no consumer name needs one.
func TestSourceEFOConfigErrors(t *testing.T) {
	def := SourceDef()
	for _, tc := range []struct {
		cfg   connect.Config
		field string
	}{
		{connect.Config{ConsumerTypeConfig: "FANOUT"}, ConsumerTypeConfig},
		{connect.Config{ConsumerTypeConfig: consumerEFO, ConsumerNameConfig: "no spaces"}, ConsumerNameConfig},
	} {
		cfg := connect.Config{StreamConfig: "s", TopicConfig: "t"}
		for k, v := range tc.cfg {
			cfg[k] = v
		}
		if _, errs := def.Parse(cfg); len(errs[tc.field]) == 0 {
			t.Errorf("%v: no error for %s (%v)", tc.cfg, tc.field, errs)
		}
	}
	v := (&SourceConnector{}).Validate(connect.Config{"name": "my connector", ConsumerTypeConfig: consumerEFO})
	if len(v[ConsumerNameConfig]) != 1 {
		t.Errorf("Validate = %v, want an error for %s", v, ConsumerNameConfig)
	}
	if v := (&SourceConnector{}).Validate(connect.Config{"name": "my connector", ConsumerTypeConfig: consumerEFO, ConsumerNameConfig: "ok"}); v != nil {
		t.Errorf("Validate = %v with a consumer name", v)
	}
	if v := (&SourceConnector{}).Validate(connect.Config{"name": "my connector"}); v != nil {
		t.Errorf("Validate = %v for polling", v)
	}
}

// TestSourceEFOResubscribesWhenSilent: a subscription that sends nothing
// for the idle timeout (here 200 ms; the bridge's heartbeat comes every
// 5 s) is given up and made again from where it was, repeatedly, and
// records put afterwards arrive once. Not parallel: it shortens the
// package's timeout.
func TestSourceEFOResubscribesWhenSilent(t *testing.T) {
	defer func(d time.Duration) { subscriptionIdleTimeout = d }(subscriptionIdleTimeout)
	subscriptionIdleTimeout = 200 * time.Millisecond
	tg := startBridge(t)
	tg.createStream(t, "quiet", 1)
	tg.put(t, "quiet", entries("q", 3, 2))
	run := startSource(t, efo(tg.config(connect.Config{StreamConfig: "quiet", TopicConfig: "out"})), 1, nil)
	run.pollUntil(3)
	for i := 0; ; i++ {
		if calls, _, _ := tg.subs.counts(); calls >= 3 {
			break
		}
		if i == 100 {
			t.Fatal("a silent subscription was not made again")
		}
		run.pollOnce()
	}
	tg.put(t, "quiet", entries("r", 3, 2))
	got := run.pollUntil(6)
	checkSequence(t, got[:3], "q", 3)
	checkSequence(t, got[3:], "r", 3)
}

// TestSourceEFOPositions: a subscription starts where GetShardIterator
// would: LATEST after what was there, AT_TIMESTAMP at the first record at
// or after the time.
func TestSourceEFOPositions(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "pos", 1)
	tg.put(t, "pos", entries("old", 10, 3))
	time.Sleep(5 * time.Millisecond) // the next records arrive in a later millisecond
	tg.put(t, "pos", entries("mid", 5, 3))
	mid := tg.readAll(t, "pos")["shardId-000000000000"][10]

	latest := startSource(t, efo(tg.config(connect.Config{StreamConfig: "pos", TopicConfig: "out", PositionConfig: "LATEST"})), 1, nil)
	latest.pollOnce()
	waitActiveSubscriptions(t, tg, 1)
	tg.put(t, "pos", entries("new", 5, 3))
	checkSequence(t, latest.pollUntil(5), "new", 5)
	latest.stop()

	at := aws.ToTime(mid.ApproximateArrivalTimestamp)
	run := startSource(t, efo(tg.config(connect.Config{StreamConfig: "pos", TopicConfig: "out", PositionConfig: "AT_TIMESTAMP",
		PositionTimeConfig: fmt.Sprint(at.UnixMilli())})), 1, nil)
	got := run.pollUntil(10)
	checkSequence(t, got[:5], "mid", 5)
	checkSequence(t, got[5:], "new", 5)
}

// TestSubscriptionRetriable: which ends of a subscription back the shard
// off and which fail the task.
func TestSubscriptionRetriable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&smithy.GenericAPIError{Code: "ResourceInUseException"}, true},
		{&smithy.GenericAPIError{Code: "LimitExceededException"}, true},
		{&types.LimitExceededException{}, true},
		{&types.ResourceInUseException{}, true},
		{&smithy.GenericAPIError{Code: "InternalFailure"}, true},
		{&types.KMSThrottlingException{}, true},
		{errors.New("read tcp: connection reset by peer"), true},
		{&smithy.GenericAPIError{Code: "AccessDeniedException"}, false},
		{&types.ResourceNotFoundException{}, false},
		{&types.InvalidArgumentException{}, false},
		{context.Canceled, false},
	} {
		if got := subscriptionRetriable(tc.err); got != tc.want {
			t.Errorf("subscriptionRetriable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
