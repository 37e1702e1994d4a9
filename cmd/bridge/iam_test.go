package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	kintypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/server"
)

// iamCredentials are the keys of the IAM tests: an administrator who sets
// things up, alice and bob.
const iamCredentials = `[admin]
aws_access_key_id = AKIDIAMADMIN
aws_secret_access_key = admin-secret

[alice]
aws_access_key_id = AKIDIAMALICE
aws_secret_access_key = alice-secret

[bob]
aws_access_key_id = AKIDIAMBOB
aws_secret_access_key = bob-secret
`

// iamPolicies: admin may do anything; alice may write and read the
// streams alice-* and send to and receive from alice-queue; bob
// (policies/bob.json) may do anything to queues but send to alice-queue,
// and nothing to streams, and never delete one.
const iamPolicies = `# IAM policies by access key id
AKIDIAMADMIN:
  - {"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}
AKIDIAMALICE:
  - Version: 2012-10-17
    Statement:
      - Effect: Allow
        Action: [kinesis:PutRecord, "kinesis:Get*", kinesis:ListShards]
        Resource: arn:aws:kinesis:us-east-1:000000000000:stream/alice-*
      - Effect: Allow
        Action: [sqs:SendMessage, sqs:ReceiveMessage]
        Resource: arn:aws:sqs:us-east-1:000000000000:alice-queue
AKIDIAMBOB:
  - policies/bob.json
`

const iamBobPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "sqs:*", "Resource": "*"},
    {"Effect": "Deny", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:000000000000:alice-queue"},
    {"Effect": "Deny", "Action": "kinesis:DeleteStream", "Resource": "*"}
  ]
}`

// startIAMBridge starts `bridge serve` in memory on loopback ports with
// the credentials and policies above and an audit log; it returns the
// AWS endpoint and the audit log's path.
func startIAMBridge(t *testing.T, policies string) (endpoint, auditPath string, err error) {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{"credentials": iamCredentials, "policies.yaml": policies, "policies/bob.json": iamBobPolicy} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	auditPath = filepath.Join(dir, "audit.log")
	var so serveOptions
	fs := pflag.NewFlagSet("iam", pflag.ContinueOnError)
	so.addFlags(fs)
	if err := fs.Parse([]string{"--in-memory", "--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--aws-credentials-file", filepath.Join(dir, "credentials"), "--aws-policies-file", filepath.Join(dir, "policies.yaml"),
		"--audit-log", auditPath}); err != nil {
		t.Fatal(err)
	}
	if err := so.check(); err != nil {
		t.Fatal(err)
	}
	cfg, err := so.serverConfig(slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.Start(t.Context(), cfg)
	if err != nil {
		return "", "", err
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Error(err)
		}
	})
	return "http://" + srv.Addrs().AWS, auditPath, nil
}

// wantAPIError checks that err is the API error code with HTTP status.
func wantAPIError(t *testing.T, what string, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	var re *smithyhttp.ResponseError
	if !errors.As(err, &ae) || !errors.As(err, &re) {
		t.Errorf("%s: %v; want %s", what, err, code)
		return
	}
	if ae.ErrorCode() != code || re.HTTPStatusCode() != status {
		t.Errorf("%s: %s (HTTP %d): %s; want %s (HTTP %d)", what, ae.ErrorCode(), re.HTTPStatusCode(), ae.ErrorMessage(), code, status)
	}
}

// TestIAMPolicies drives a bridge started with --aws-policies-file with
// aws-sdk-go-v2's Kinesis and SQS clients: each key may do what its
// policies allow and is refused the rest with AccessDeniedException (HTTP
// 400, Kinesis) or AccessDenied (HTTP 403, SQS) and nothing written; an
// explicit Deny wins over every Allow; a Kinesis resource policy and an
// SQS queue Policy grant what identity policies do not; the audit log has
// every denial and the control-plane calls.
func TestIAMPolicies(t *testing.T) {
	endpoint, auditPath, err := startIAMBridge(t, iamPolicies)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	kin := func(key, secret string) *awskinesis.Client {
		return awskinesis.New(awskinesis.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	}
	sqsc := func(key, secret string) *awssqs.Client {
		return awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
	}
	adminK, aliceK, bobK := kin("AKIDIAMADMIN", "admin-secret"), kin("AKIDIAMALICE", "alice-secret"), kin("AKIDIAMBOB", "bob-secret")
	adminQ, aliceQ, bobQ := sqsc("AKIDIAMADMIN", "admin-secret"), sqsc("AKIDIAMALICE", "alice-secret"), sqsc("AKIDIAMBOB", "bob-secret")

	// The administrator makes two streams and two queues.
	for _, s := range []string{"alice-stream", "other-stream"} {
		if _, err := adminK.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(s), ShardCount: aws.Int32(1)}); err != nil {
			t.Fatal(err)
		}
	}
	queueURL := map[string]string{}
	for _, q := range []string{"alice-queue", "other-queue"} {
		out, err := adminQ.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(q)})
		if err != nil {
			t.Fatal(err)
		}
		queueURL[q] = aws.ToString(out.QueueUrl)
	}

	// alice writes and reads her stream, and is refused the other.
	put := func(c *awskinesis.Client, stream string) error {
		_, err := c.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String(stream), Data: []byte("x"), PartitionKey: aws.String("k")})
		return err
	}
	if err := put(aliceK, "alice-stream"); err != nil {
		t.Fatalf("alice PutRecord on her stream: %v", err)
	}
	if got := readAll(ctx, t, aliceK, "alice-stream"); got != 1 {
		t.Errorf("alice read %d records of her stream, want 1", got)
	}
	err = put(aliceK, "other-stream")
	wantAPIError(t, "alice PutRecord on other-stream", err, "AccessDeniedException", 400)
	if err != nil && !strings.Contains(err.Error(), "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: kinesis:PutRecord on resource: arn:aws:kinesis:us-east-1:000000000000:stream/other-stream because no identity-based policy allows the kinesis:PutRecord action") {
		t.Errorf("alice's refusal: %v", err)
	}
	// GetRecords is decided on the stream inside the iterator.
	it, err := adminK.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String("other-stream"),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	_, err = aliceK.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	wantAPIError(t, "alice GetRecords with an iterator of other-stream", err, "AccessDeniedException", 400)
	if got := readAll(ctx, t, adminK, "other-stream"); got != 0 {
		t.Errorf("other-stream holds %d records after refused writes", got)
	}

	// alice sends to her queue, singly and in a batch (sqs:SendMessage),
	// and is refused the other queue.
	if _, err := aliceQ.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queueURL["alice-queue"]), MessageBody: aws.String("hi")}); err != nil {
		t.Fatalf("alice SendMessage: %v", err)
	}
	if _, err := aliceQ.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(queueURL["alice-queue"]),
		Entries: []sqstypes.SendMessageBatchRequestEntry{{Id: aws.String("1"), MessageBody: aws.String("hi")}}}); err != nil {
		t.Fatalf("alice SendMessageBatch: %v", err)
	}
	_, err = aliceQ.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queueURL["other-queue"]), MessageBody: aws.String("no")})
	wantAPIError(t, "alice SendMessage to other-queue", err, "AccessDenied", 403)
	_, err = aliceQ.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(queueURL["alice-queue"])})
	wantAPIError(t, "alice DeleteQueue", err, "AccessDenied", 403)
	if n := countMessages(ctx, t, adminQ, queueURL["other-queue"]); n != "0" {
		t.Errorf("other-queue holds %s messages after a refused send", n)
	}

	// bob: an explicit Deny beats his sqs:* Allow.
	_, err = bobQ.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queueURL["alice-queue"]), MessageBody: aws.String("no")})
	wantAPIError(t, "bob SendMessage to alice-queue", err, "AccessDenied", 403)
	if err != nil && !strings.Contains(err.Error(), "with an explicit deny in an identity-based policy") {
		t.Errorf("bob's refusal: %v", err)
	}
	if _, err := bobQ.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queueURL["other-queue"]), MessageBody: aws.String("ok")}); err != nil {
		t.Errorf("bob SendMessage to other-queue: %v", err)
	}

	// bob has no Kinesis allow until other-stream's resource policy
	// grants him; his explicit Deny of DeleteStream still wins over it.
	wantAPIError(t, "bob PutRecord before the resource policy", put(bobK, "other-stream"), "AccessDeniedException", 400)
	streamARN := "arn:aws:kinesis:us-east-1:000000000000:stream/other-stream"
	if _, err := adminK.PutResourcePolicy(ctx, &awskinesis.PutResourcePolicyInput{ResourceARN: aws.String(streamARN),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/bob"},"Action":"kinesis:*","Resource":"` + streamARN + `"}]}`)}); err != nil {
		t.Fatal(err)
	}
	if err := put(bobK, "other-stream"); err != nil {
		t.Errorf("bob PutRecord with the resource policy: %v", err)
	}
	_, err = bobK.DeleteStream(ctx, &awskinesis.DeleteStreamInput{StreamName: aws.String("other-stream")})
	wantAPIError(t, "bob DeleteStream", err, "AccessDeniedException", 400)

	// The queue's Policy attribute lets alice send to other-queue.
	if _, err := adminQ.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: aws.String(queueURL["other-queue"]), Attributes: map[string]string{
		"Policy": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::000000000000:user/alice"]},"Action":"sqs:SendMessage"}}`,
	}}); err != nil {
		t.Fatal(err)
	}
	if _, err := aliceQ.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(queueURL["other-queue"]), MessageBody: aws.String("now")}); err != nil {
		t.Errorf("alice SendMessage with the queue policy: %v", err)
	}

	// The audit log: every denial, and the control-plane calls.
	type key struct{ source, name, principal, resource, operation, outcome, code string }
	got := map[key]bool{}
	for _, e := range readAudit(t, auditPath) {
		got[key{e.Source, e.Name, e.Principal, e.Resource, e.Operation, e.Outcome, e.ErrorCode}] = true
		if e.SourceIP != "127.0.0.1" {
			t.Errorf("audit event from %q: %+v", e.SourceIP, e)
		}
	}
	const acct = "000000000000"
	for _, want := range []key{
		{"kinesis", "PutRecord", "AKIDIAMALICE", streamARN, "kinesis:PutRecord", audit.Denied, "AccessDeniedException"},
		{"kinesis", "GetRecords", "AKIDIAMALICE", streamARN, "kinesis:GetRecords", audit.Denied, "AccessDeniedException"},
		{"kinesis", "DeleteStream", "AKIDIAMBOB", streamARN, "kinesis:DeleteStream", audit.Denied, "AccessDeniedException"},
		{"sqs", "SendMessage", "AKIDIAMALICE", "arn:aws:sqs:us-east-1:" + acct + ":other-queue", "sqs:SendMessage", audit.Denied, "AccessDenied"},
		{"sqs", "DeleteQueue", "AKIDIAMALICE", "arn:aws:sqs:us-east-1:" + acct + ":alice-queue", "sqs:DeleteQueue", audit.Denied, "AccessDenied"},
		{"sqs", "SendMessage", "AKIDIAMBOB", "arn:aws:sqs:us-east-1:" + acct + ":alice-queue", "sqs:SendMessage", audit.Denied, "AccessDenied"},
		{"kinesis", "CreateStream", "AKIDIAMADMIN", streamARN, "kinesis:CreateStream", audit.Allowed, ""},
		{"kinesis", "PutResourcePolicy", "AKIDIAMADMIN", streamARN, "kinesis:PutResourcePolicy", audit.Allowed, ""},
		{"sqs", "CreateQueue", "AKIDIAMADMIN", "arn:aws:sqs:us-east-1:" + acct + ":other-queue", "sqs:CreateQueue", audit.Allowed, ""},
		{"sqs", "SetQueueAttributes", "AKIDIAMADMIN", "arn:aws:sqs:us-east-1:" + acct + ":other-queue", "sqs:SetQueueAttributes", audit.Allowed, ""},
	} {
		if !got[want] {
			t.Errorf("audit log lacks %+v", want)
		}
	}
	for k := range got {
		if k.outcome == audit.Allowed && (k.name == "PutRecord" || k.name == "SendMessage") {
			t.Errorf("a data-plane call in the audit log: %+v", k)
		}
	}
}

// readAll returns how many records a stream's one shard holds, read with c.
func readAll(ctx context.Context, t *testing.T, c *awskinesis.Client, stream string) int {
	t.Helper()
	it, err := c.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: kintypes.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatalf("GetShardIterator %s: %v", stream, err)
	}
	out, err := c.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatalf("GetRecords %s: %v", stream, err)
	}
	return len(out.Records)
}

// countMessages returns the queue's ApproximateNumberOfMessages.
func countMessages(ctx context.Context, t *testing.T, c *awssqs.Client, url string) string {
	t.Helper()
	out, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"]
}

func readAudit(t *testing.T, path string) []audit.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var events []audit.Event
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e audit.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("audit line %q: %v", sc.Text(), err)
		}
		events = append(events, e)
	}
	return events
}

// The policies file is checked at start: a bad document or a key the
// credentials file lacks stops the bridge, naming the file and the key;
// --aws-policies-file without --aws-credentials-file is refused.
func TestIAMPoliciesFileErrors(t *testing.T) {
	for _, c := range []struct {
		name, policies, want string
	}{
		{"unknown key", "AKIDNOBODY: []\n", "access key id AKIDNOBODY is not in --aws-credentials-file"},
		{"bad document", "AKIDIAMALICE:\n  - {\"Version\": \"2012-10-17\", \"Statement\": {\"Effect\": \"Permit\", \"Action\": \"*\", \"Resource\": \"*\"}}\n",
			"AKIDIAMALICE: policy 0"},
		{"missing file", "AKIDIAMALICE: [nothere.json]\n", "nothere.json"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := startIAMBridge(t, c.policies)
			if err == nil || !strings.Contains(err.Error(), "--aws-policies-file") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("start: %v; want an --aws-policies-file error with %q", err, c.want)
			}
		})
	}
	var so serveOptions
	fs := pflag.NewFlagSet("iam", pflag.ContinueOnError)
	so.addFlags(fs)
	if err := fs.Parse([]string{"--aws-policies-file", "p.yaml"}); err != nil {
		t.Fatal(err)
	}
	if err := so.check(); err == nil || !strings.Contains(err.Error(), "needs --aws-credentials-file") {
		t.Errorf("check: %v", err)
	}
}
