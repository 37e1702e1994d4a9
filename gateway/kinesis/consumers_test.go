package kinesis

import (
	"context"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

func TestConsumersLifecycleWithSDK(t *testing.T) {
	ts, clock := cpServerWithClock(t, 5*time.Second)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "c", 1)
	clock.add(5 * time.Second) // ACTIVE
	streamARN := aws.String(ts.streamARN("c"))

	reg, err := kc.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	c := reg.Consumer
	wantARN := regexp.MustCompile(`^arn:aws:kinesis:us-east-1:000000000000:stream/c/consumer/app:\d+$`)
	if !wantARN.MatchString(*c.ConsumerARN) || c.ConsumerStatus != types.ConsumerStatusCreating ||
		*c.ConsumerARN != fmt.Sprintf("%s/consumer/app:%d", *streamARN, c.ConsumerCreationTimestamp.Unix()) {
		t.Fatalf("registered %+v", c)
	}
	if _, sc, err := ts.consumerByARN(context.Background(), *c.ConsumerARN); err != nil || sc.Status != consumerCreating || sc.Name != "app" {
		t.Fatalf("consumerByARN: %+v, %v", sc, err)
	}
	clock.add(5 * time.Second)
	desc, err := kc.DescribeStreamConsumer(ctx, &awskinesis.DescribeStreamConsumerInput{ConsumerARN: c.ConsumerARN})
	if err != nil || desc.ConsumerDescription.ConsumerStatus != types.ConsumerStatusActive || *desc.ConsumerDescription.StreamARN != *streamARN {
		t.Fatalf("describe by ARN: %+v, %v", desc, err)
	}
	desc, err = kc.DescribeStreamConsumer(ctx, &awskinesis.DescribeStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("app")})
	if err != nil || *desc.ConsumerDescription.ConsumerARN != *c.ConsumerARN {
		t.Fatalf("describe by name: %+v, %v", desc, err)
	}
	_, err = kc.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("app")})
	cpSDKErr(t, err, errResourceInUse, "")

	// Up to 20 per stream, listed in pages.
	for i := 1; i < maxConsumersPerStream; i++ {
		if _, err := kc.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{
			StreamARN: streamARN, ConsumerName: aws.String(fmt.Sprintf("c%02d", i)),
		}); err != nil {
			t.Fatal(err)
		}
	}
	_, err = kc.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String("one-more")})
	cpSDKErr(t, err, errLimitExceeded, "")
	var listed int
	p := awskinesis.NewListStreamConsumersPaginator(kc, &awskinesis.ListStreamConsumersInput{StreamARN: streamARN, MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		listed += len(page.Consumers)
	}
	if listed != maxConsumersPerStream {
		t.Fatalf("listed %d", listed)
	}
	sum, _ := kc.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamARN: streamARN})
	if *sum.StreamDescriptionSummary.ConsumerCount != maxConsumersPerStream {
		t.Fatalf("consumer count %d", *sum.StreamDescriptionSummary.ConsumerCount)
	}

	// Deregistered: DELETING for the delay, then gone.
	if _, err := kc.DeregisterStreamConsumer(ctx, &awskinesis.DeregisterStreamConsumerInput{ConsumerARN: c.ConsumerARN}); err != nil {
		t.Fatal(err)
	}
	if _, sc, err := ts.consumerByARN(context.Background(), *c.ConsumerARN); err != nil || sc.Status != consumerDeleting {
		t.Fatalf("after deregistering: %+v, %v", sc, err)
	}
	clock.add(5 * time.Second)
	_, err = kc.DescribeStreamConsumer(ctx, &awskinesis.DescribeStreamConsumerInput{ConsumerARN: c.ConsumerARN})
	cpSDKErr(t, err, errResourceNotFound, "Consumer "+*c.ConsumerARN+" under account 000000000000 not found.")

	// A stream with consumers is deleted only when told to take them along.
	_, err = kc.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("c")})
	cpSDKErr(t, err, errResourceInUse, "")
	if _, err := kc.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("c"), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	clock.add(5 * time.Second)
	cpCreate(t, kc, "c", 1) // same name, new stream: the old consumers are gone
	clock.add(5 * time.Second)
	out, err := kc.ListStreamConsumers(ctx, &awskinesis.ListStreamConsumersInput{StreamARN: streamARN})
	if err != nil || len(out.Consumers) != 0 {
		t.Fatalf("consumers of the new stream: %+v, %v", out, err)
	}
}

func TestConsumerErrors(t *testing.T) {
	ts := startTestServer(t)
	cpCreate(t, ts.client(), "c", 1)
	arn := ts.streamARN("c")
	for _, tc := range []struct {
		name, op     string
		body         map[string]any
		typ, message string
	}{
		{"register: nothing", "RegisterStreamConsumer", map[string]any{}, errValidation,
			"2 validation errors detected: Value null at 'consumerName' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'streamARN' failed to satisfy constraint: Member must not be null"},
		{"register: bad name", "RegisterStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "a b"}, errValidation,
			"1 validation error detected: Value 'a b' at 'consumerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"},
		{"register: unknown stream", "RegisterStreamConsumer", map[string]any{"StreamARN": ts.streamARN("nope"), "ConsumerName": "a"}, errResourceNotFound,
			"Stream nope under account 000000000000 not found."},
		{"describe: nothing", "DescribeStreamConsumer", map[string]any{}, errInvalidArgument, ""},
		{"describe: unknown", "DescribeStreamConsumer", map[string]any{"StreamARN": arn, "ConsumerName": "ghost"}, errResourceNotFound,
			"Consumer ghost under stream c under account 000000000000 not found."},
		{"describe: unknown ARN", "DescribeStreamConsumer", map[string]any{"ConsumerARN": arn + "/consumer/ghost:1"}, errResourceNotFound, ""},
		{"list: no ARN", "ListStreamConsumers", map[string]any{}, errValidation,
			"1 validation error detected: Value null at 'streamARN' failed to satisfy constraint: Member must not be null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, tc.op, tc.body)
			cpRawErr(t, status, out, tc.typ, tc.message)
		})
	}
}
