package itest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestInitFileBinary: the bridge binary, given BRIDGE_INIT_FILE, creates
// the file's fixtures before its ports serve (the log says so in that
// order), kadm and the SQS SDK find them, and a second start on the same
// data dir leaves them alone. A bad file exits with status 1 and an error
// naming the file, the entry and the reason.
func TestInitFileBinary(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "fixtures.yaml")
	if err := os.WriteFile(file, []byte(`kafka: {topics: [{name: orders, partitions: 3}]}
sqs: {queues: [{name: jobs, attributes: {VisibilityTimeout: "30"}}]}
s3: {buckets: [{name: uploads}]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"BRIDGE_INIT_FILE=" + file}
	data := filepath.Join(dir, "data")
	for _, outcome := range []string{"created", "unchanged"} {
		b := startBridge(t, env, loopbackArgs(data)...)
		b.mu.Lock()
		applied, listening := -1, -1
		seen := map[string]string{}
		for i, l := range b.lines {
			switch {
			case l.str("msg") == "init file applied":
				applied = i
			case l.str("msg") == "listening" && l.str("listener") == "kafka" && listening < 0:
				listening = i
			case l.str("msg") == "fixture":
				seen[l.str("entry")] = l.str("outcome")
			}
		}
		b.mu.Unlock()
		if applied < 0 || listening < 0 || applied > listening {
			t.Errorf("log: fixtures applied at line %d, kafka listening at line %d; want the fixtures first", applied, listening)
		}
		for _, entry := range []string{"kafka.topics[0]", "sqs.queues[0]", "s3.buckets[0]"} {
			if seen[entry] != outcome {
				t.Errorf("start %s: %s outcome %q", outcome, entry, seen[entry])
			}
		}

		cl, err := kgo.NewClient(kgo.SeedBrokers(b.kafka))
		if err != nil {
			t.Fatal(err)
		}
		td, err := kadm.NewClient(cl).ListTopics(context.Background(), "orders")
		cl.Close()
		if err != nil || len(td["orders"].Partitions) != 3 {
			t.Errorf("orders: %v, %v", td, err)
		}
		sq := awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + b.aws), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDINIT", "secret", "")})
		u, err := sq.GetQueueUrl(context.Background(), &awssqs.GetQueueUrlInput{QueueName: aws.String("jobs")})
		if err != nil {
			t.Fatal(err)
		}
		a, err := sq.GetQueueAttributes(context.Background(), &awssqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"VisibilityTimeout"}})
		if err != nil || a.Attributes["VisibilityTimeout"] != "30" {
			t.Errorf("jobs: %v, %v", a, err)
		}
		b.signal(syscall.SIGTERM)
		b.mustExit(0)
	}

	if err := os.WriteFile(file, []byte("kafka: {topics: [{name: orders, partitions: 2}]}\ns3: {buckets: [{name: Bad_Bucket}]}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := launch(t, env, loopbackArgs(data)...)
	p.mustExit(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	var msg string
	for _, l := range p.lines {
		if l.str("level") == "ERROR" {
			msg = l.str("err")
		}
	}
	for _, want := range []string{
		file + `:1: kafka.topics[0] "orders": INVALID_PARTITIONS: Topic currently has 3 partitions, which is higher than the requested 2.`,
		file + `:2: s3.buckets[0] "Bad_Bucket": InvalidBucketName: The specified bucket is not valid.`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q\nlacks %q", msg, want)
		}
	}
}
