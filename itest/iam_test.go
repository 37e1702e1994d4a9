package itest

// IAM policies on the AWS port, seen from boto3: the real bridge binary
// started with --aws-credentials-file and --aws-policies-file.

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

const iamScript = "python/iam_boto3.py"

const iamCredentials = `[admin]
aws_access_key_id = AKIDIAMITESTADMIN
aws_secret_access_key = admin-secret

[carol]
aws_access_key_id = AKIDIAMITESTCAROL
aws_secret_access_key = carol-secret
`

// carol may send to carol-queue and put to carol-stream, nothing else.
const iamPolicies = `{
  "AKIDIAMITESTADMIN": [{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}],
  "AKIDIAMITESTCAROL": [{"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:000000000000:carol-queue"},
    {"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": "arn:aws:kinesis:us-east-1:000000000000:stream/carol-stream"}]}]
}`

// TestIAMPoliciesBoto3: boto3 (SQS over the Query protocol, Kinesis over
// JSON) with carol's key may send to and put on what her policy names,
// and is refused the others with AccessDenied (HTTP 403) and
// AccessDeniedException (HTTP 400), which the audit log records; nothing
// of the refused calls is written.
func TestIAMPoliciesBoto3(t *testing.T) {
	need(t, "boto3", checkBoto3, installBoto3)
	readScript(t, iamScript)
	dir := t.TempDir()
	creds, policies, auditPath := filepath.Join(dir, "credentials"), filepath.Join(dir, "policies.json"), filepath.Join(dir, "audit.jsonl")
	for p, body := range map[string]string{creds: iamCredentials, policies: iamPolicies} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()), "--aws-credentials-file", creds,
		"--aws-policies-file", policies, "--audit-log", auditPath)...)
	endpoint := "http://" + b.aws

	ctx, cancel := context.WithTimeout(context.Background(), kinesisTimeout)
	defer cancel()
	admin := credentials.NewStaticCredentialsProvider("AKIDIAMITESTADMIN", "admin-secret", "")
	kin := awskinesis.New(awskinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: admin})
	sqs := awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), Credentials: admin})
	for _, name := range []string{"carol", "other"} {
		if _, err := sqs.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(name + "-queue")}); err != nil {
			t.Fatal(err)
		}
		if _, err := kin.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(name + "-stream"), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
	}

	type result struct {
		OK      bool
		Error   string
		Status  int
		Message string
	}
	env := []string{"AWS_REGION=us-east-1", "AWS_DEFAULT_REGION=us-east-1", "AWS_ACCESS_KEY_ID=AKIDIAMITESTCAROL", "AWS_SECRET_ACCESS_KEY=carol-secret"}
	for _, c := range []struct {
		name            string
		wantSQS, wantKi result
	}{
		{"carol", result{OK: true}, result{OK: true}},
		{"other", result{Error: "AccessDenied", Status: 403}, result{Error: "AccessDeniedException", Status: 400}},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := runAWSToolEnv(env, nil, systemPython, iamScript, "--endpoint", endpoint, "--queue", c.name+"-queue", "--stream", c.name+"-stream")
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ SQS, Kinesis result }
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			for _, r := range []struct {
				api       string
				got, want result
			}{{"sqs", got.SQS, c.wantSQS}, {"kinesis", got.Kinesis, c.wantKi}} {
				if r.got.OK != r.want.OK || r.got.Error != r.want.Error || r.got.Status != r.want.Status {
					t.Errorf("%s: %+v, want %+v", r.api, r.got, r.want)
				}
				if r.want.Error != "" && !strings.Contains(r.got.Message, "User: arn:aws:iam::000000000000:user/carol is not authorized to perform: "+r.api+":") {
					t.Errorf("%s: message %q", r.api, r.got.Message)
				}
			}
		})
	}

	// Nothing reached other-queue.
	attrs, err := sqs.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(endpoint + "/000000000000/other-queue"),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	if n := attrs.Attributes["ApproximateNumberOfMessages"]; n != "0" {
		t.Errorf("other-queue holds %s messages", n)
	}
	// Nor other-stream.
	it, err := kin.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String("other-stream"),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := kin.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Records) != 0 {
		t.Errorf("other-stream holds %d records", len(recs.Records))
	}
	data, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"eventSource":"sqs","eventName":"SendMessage","principal":"AKIDIAMITESTCAROL","sourceIPAddress":"127.0.0.1","resource":"arn:aws:sqs:us-east-1:000000000000:other-queue","operation":"sqs:SendMessage","outcome":"denied","errorCode":"AccessDenied"`,
		`"eventSource":"kinesis","eventName":"PutRecord","principal":"AKIDIAMITESTCAROL","sourceIPAddress":"127.0.0.1","resource":"arn:aws:kinesis:us-east-1:000000000000:stream/other-stream","operation":"kinesis:PutRecord","outcome":"denied","errorCode":"AccessDeniedException"`,
	} {
		if !bytes.Contains(data, []byte(want)) {
			t.Errorf("audit log lacks %s\n%s", want, data)
		}
	}
}
