package kinesis

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// The values of kinesis.consumer.type.
const (
	consumerPolling = "POLLING"
	consumerEFO     = "EFO"
)

// consumerNamePattern is what RegisterStreamConsumer takes as a name.
var consumerNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,128}$`)

// defaultConsumerName is the consumer name of a configuration without
// kinesis.efo.consumer.name: the connector's name, as KCL takes the
// application name.
func defaultConsumerName(connectorName string) string { return connectorName }

// Waits of ensureConsumer: a consumer takes seconds to become ACTIVE on
// AWS; RegisterStreamConsumer allows 5 calls a second per stream.
const (
	consumerFirstWait   = 50 * time.Millisecond
	consumerMaxWait     = 2 * time.Second
	consumerMaxAttempts = 200 // about five minutes at consumerMaxWait
)

// ensureConsumer returns the ARN of the stream's enhanced fan-out consumer
// of that name once it is ACTIVE, registering it when it does not exist
// (KCL's and Flink's EAGER registration). Another worker registering the
// same name at the same time is fine: the loser's ResourceInUseException
// sends it back to DescribeStreamConsumer. A consumer being deleted is
// waited out and registered again. The consumer is never deregistered by
// the connector: tasks of later runs resume with it.
func ensureConsumer(ctx context.Context, client *awskinesis.Client, stream, name string) (string, error) {
	sum, err := client.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(stream)})
	if err != nil {
		return "", fmt.Errorf("DescribeStreamSummary %s: %w", stream, err)
	}
	streamARN := sum.StreamDescriptionSummary.StreamARN
	wait := consumerFirstWait
	for attempt := 0; ; attempt++ {
		if attempt == consumerMaxAttempts {
			return "", fmt.Errorf("stream consumer %s of %s did not become ACTIVE after %d attempts", name, stream, attempt)
		}
		out, err := client.DescribeStreamConsumer(ctx, &awskinesis.DescribeStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String(name)})
		switch {
		case err == nil && out.ConsumerDescription.ConsumerStatus == types.ConsumerStatusActive:
			return aws.ToString(out.ConsumerDescription.ConsumerARN), nil
		case err == nil:
			// CREATING or DELETING: wait.
		case errorCode(err) == codeNotFound:
			_, err := client.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{StreamARN: streamARN, ConsumerName: aws.String(name)})
			if err != nil && errorCode(err) != codeInUse && !transient(err) {
				return "", fmt.Errorf("RegisterStreamConsumer %s on %s: %w", name, stream, err)
			}
			// Registered (CREATING), by someone else too, or throttled:
			// describe again.
		case !transient(err):
			return "", fmt.Errorf("DescribeStreamConsumer %s on %s: %w", name, stream, err)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return "", ctx.Err()
		case <-timer.C:
		}
		wait = min(2*wait, consumerMaxWait)
	}
}
