package kinesis

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
)

const testPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},` +
	`"Action":["kinesis:GetRecords"],"Resource":"*"}]}`

// TestResourcePolicies: put, get and delete on a stream and on a consumer,
// the policy kept byte for byte and dropped with its resource.
func TestResourcePolicies(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := context.Background()
	cpCreate(t, kc, "pol", 1)
	reg, err := kc.RegisterStreamConsumer(ctx, &awskinesis.RegisterStreamConsumerInput{StreamARN: aws.String(ts.streamARN("pol")), ConsumerName: aws.String("app")})
	if err != nil {
		t.Fatal(err)
	}
	get := func(arn string) (string, error) {
		out, err := kc.GetResourcePolicy(ctx, &awskinesis.GetResourcePolicyInput{ResourceARN: aws.String(arn)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Policy), nil
	}
	streamARN, consumerARN := ts.streamARN("pol"), aws.ToString(reg.Consumer.ConsumerARN)
	for _, tc := range []struct{ name, arn, policy string }{
		{"stream", streamARN, testPolicy},
		// Spacing and key order are the sender's.
		{"consumer", consumerARN, "{ \"Statement\" : [],\n \"Version\":\"2012-10-17\" }"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := get(tc.arn); err != nil || p != emptyPolicy {
				t.Fatalf("before: %q, %v", p, err)
			}
			_, err := kc.DeleteResourcePolicy(ctx, &awskinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(tc.arn)})
			cpSDKErr(t, err, errResourceNotFound, "No resource policy found for resource ARN "+tc.arn+".")
			if _, err := kc.PutResourcePolicy(ctx, &awskinesis.PutResourcePolicyInput{ResourceARN: aws.String(tc.arn), Policy: aws.String(tc.policy)}); err != nil {
				t.Fatal(err)
			}
			if p, err := get(tc.arn); err != nil || p != tc.policy {
				t.Fatalf("after put: %q, %v", p, err)
			}
			if _, err := kc.DeleteResourcePolicy(ctx, &awskinesis.DeleteResourcePolicyInput{ResourceARN: aws.String(tc.arn)}); err != nil {
				t.Fatal(err)
			}
			if p, err := get(tc.arn); err != nil || p != emptyPolicy {
				t.Fatalf("after delete: %q, %v", p, err)
			}
		})
	}

	// A policy goes with its resource: a new consumer or stream of the same
	// name starts without one.
	put := func(arn string) {
		t.Helper()
		if _, err := kc.PutResourcePolicy(ctx, &awskinesis.PutResourcePolicyInput{ResourceARN: aws.String(arn), Policy: aws.String(testPolicy)}); err != nil {
			t.Fatal(err)
		}
	}
	put(streamARN)
	put(consumerARN)
	if _, err := kc.DeregisterStreamConsumer(ctx, &awskinesis.DeregisterStreamConsumerInput{ConsumerARN: aws.String(consumerARN)}); err != nil {
		t.Fatal(err)
	}
	_, err = get(consumerARN)
	cpSDKErr(t, err, errResourceNotFound, "Consumer "+consumerARN+" under account 000000000000 not found.")
	if _, err := kc.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("pol")}); err != nil {
		t.Fatal(err)
	}
	_, err = get(streamARN)
	cpSDKErr(t, err, errResourceNotFound, "Stream "+streamARN+" under account 000000000000 not found.")
	cpCreate(t, kc, "pol", 1)
	if p, err := get(streamARN); err != nil || p != emptyPolicy {
		t.Fatalf("re-created stream: %q, %v", p, err)
	}
}

func TestResourcePolicyErrors(t *testing.T) {
	ts := startTestServer(t)
	cpCreate(t, ts.client(), "pol", 1)
	arn := ts.streamARN("pol")
	missing := ts.streamARN("nope")
	consumer := arn + "/consumer/none:1700000000"
	big := `{"Statement":"` + strings.Repeat("x", maxPolicyBytes) + `"}`
	for _, tc := range []struct {
		name, op     string
		body         map[string]any
		typ, message string
	}{
		{"put nothing", "PutResourcePolicy", map[string]any{}, errValidation,
			"2 validation errors detected: Value null at 'policy' failed to satisfy constraint: Member must not be null; " +
				"Value null at 'resourceARN' failed to satisfy constraint: Member must not be null"},
		{"get nothing", "GetResourcePolicy", map[string]any{}, errValidation,
			"1 validation error detected: Value null at 'resourceARN' failed to satisfy constraint: Member must not be null"},
		{"not an ARN", "GetResourcePolicy", map[string]any{"ResourceARN": "pol"}, errValidation,
			"1 validation error detected: Value 'pol' at 'resourceARN' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:aws.*:kinesis:.*:\\d{12}:.*stream/\\S+"},
		{"not JSON", "PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": "allow everyone"}, errInvalidArgument,
			"Policy is not a valid JSON policy document: it must be a JSON object."},
		{"JSON but not an object", "PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": `["a"]`}, errInvalidArgument, ""},
		{"empty", "PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": ""}, errInvalidArgument, ""},
		{"too big", "PutResourcePolicy", map[string]any{"ResourceARN": arn, "Policy": big}, errInvalidArgument,
			"Policy size of 20496 bytes exceeds the maximum of 20480 bytes."},
		{"unknown stream", "PutResourcePolicy", map[string]any{"ResourceARN": missing, "Policy": testPolicy}, errResourceNotFound,
			"Stream " + missing + " under account 000000000000 not found."},
		{"unknown stream, delete", "DeleteResourcePolicy", map[string]any{"ResourceARN": missing}, errResourceNotFound,
			"Stream " + missing + " under account 000000000000 not found."},
		{"unknown consumer", "GetResourcePolicy", map[string]any{"ResourceARN": consumer}, errResourceNotFound,
			"Consumer " + consumer + " under account 000000000000 not found."},
		{"unknown consumer, put", "PutResourcePolicy", map[string]any{"ResourceARN": consumer, "Policy": testPolicy}, errResourceNotFound, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, tc.op, tc.body)
			cpRawErr(t, status, out, tc.typ, tc.message)
		})
	}
}
