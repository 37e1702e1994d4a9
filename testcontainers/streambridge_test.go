package streambridge_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/testcontainers/testcontainers-go"
	"github.com/twmb/franz-go/pkg/kgo"

	streambridge "github.com/streambridge/bridge/testcontainers"
)

// imageEnv names a prebuilt image to test; unset, the test builds one from
// this checkout with compose/build-image.sh and removes it afterwards.
const imageEnv = "STREAMBRIDGE_IMAGE"

// testTimeout bounds each step: it catches hangs, not slowness.
const testTimeout = 2 * time.Minute

func TestMain(m *testing.M) {
	// Ryuk, testcontainers' reaper, is an image this machine cannot pull;
	// each test terminates what it starts.
	os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	os.Exit(m.Run())
}

// needDocker fails under CI=true and skips otherwise when no daemon answers.
func needDocker(t *testing.T) {
	t.Helper()
	out, err := exec.Command("docker", "info").CombinedOutput()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("docker is not usable (%v: %s); install docker.io and start dockerd (.ci/run does)", err, bytes.TrimSpace(out))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing tool fails the test)")
	}
	t.Skip(msg)
}

func image(t *testing.T) string {
	t.Helper()
	if img := os.Getenv(imageEnv); img != "" {
		return img
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	tag := "streambridge/bridge:tc-" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "bash", "../compose/build-image.sh", tag).CombinedOutput(); err != nil {
		t.Fatalf("build-image.sh: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("docker", "rmi", tag).CombinedOutput(); err != nil {
			t.Errorf("docker rmi %s: %v: %s", tag, err, out)
		}
	})
	return tag
}

// networks lists docker's networks by name.
func networks(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("docker", "network", "ls", "--format", "{{.Name}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(out))
}

// TestRun starts the image, drives Kafka (franz-go), Kinesis and SQS
// (aws-sdk-go-v2) through the addresses Run returns, restarts the
// container and finds the data again, and terminates it leaving no
// container or volume behind.
func TestRun(t *testing.T) {
	needDocker(t)
	img := image(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// testcontainers creates its "reaper_default" network when dockerd has
	// no "bridge" one (dockerd --bridge=none); the container does not use
	// it, and the test removes it if it was not there before.
	hadReaperNet := slices.Contains(networks(t), testcontainers.ReaperDefault)
	t.Cleanup(func() {
		if !hadReaperNet && slices.Contains(networks(t), testcontainers.ReaperDefault) {
			_ = exec.Command("docker", "network", "rm", testcontainers.ReaperDefault).Run()
		}
	})

	start := time.Now()
	c, err := streambridge.Run(ctx, img)
	testcontainers.CleanupContainer(t, c)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("Run to healthy: %v", time.Since(start).Round(time.Millisecond))

	bootstrap, _ := c.KafkaBootstrap(ctx)
	endpoint, _ := c.AWSEndpoint(ctx)
	if !strings.HasPrefix(bootstrap, "127.0.0.1:") || !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("addresses %q and %q are not on loopback", bootstrap, endpoint)
	}

	// Kafka: produce, then consume from the start.
	const topic = "tc-orders"
	kcl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer kcl.Close()
	for i := range 5 {
		if err := kcl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "order-%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	readKafka := func(when string) {
		t.Helper()
		cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics(topic),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		pctx, cancel := context.WithTimeout(ctx, testTimeout)
		defer cancel()
		var got []string
		for len(got) < 5 && pctx.Err() == nil {
			fs := cl.PollFetches(pctx)
			fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
		}
		if want := []string{"order-0", "order-1", "order-2", "order-3", "order-4"}; !slices.Equal(got, want) {
			t.Errorf("%s: Kafka records %v, want %v", when, got, want)
		}
	}
	readKafka("before restart")

	// Kinesis and SQS with aws-sdk-go-v2.
	awsCfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(endpoint),
	}
	kin := kinesis.NewFromConfig(awsCfg)
	const stream = "tc-clicks"
	if _, err := kin.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
		t.Fatal(err)
	}
	if err := kinesis.NewStreamExistsWaiter(kin).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, testTimeout); err != nil {
		t.Fatal(err)
	}
	if _, err := kin.PutRecord(ctx, &kinesis.PutRecordInput{StreamName: aws.String(stream), PartitionKey: aws.String("pk"), Data: []byte("click")}); err != nil {
		t.Fatal(err)
	}
	q := sqs.NewFromConfig(awsCfg)
	cq, err := q.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("tc-jobs")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: cq.QueueUrl, MessageBody: aws.String("job-1")}); err != nil {
		t.Fatal(err)
	}

	// Restart: the container keeps its /data volume.
	stop := 10 * time.Second
	if err := c.Stop(ctx, &stop); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	readKafka("after restart")
	it, err := kin.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String(stream),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: "TRIM_HORIZON"})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := kin.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs.Records) != 1 || string(recs.Records[0].Data) != "click" {
		t.Errorf("after restart: Kinesis records %v, want the one click", recs.Records)
	}
	msgs, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: cq.QueueUrl, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs.Messages) != 1 || aws.ToString(msgs.Messages[0].Body) != "job-1" {
		t.Errorf("after restart: SQS messages %v, want job-1", msgs.Messages)
	}

	// Terminate removes the container and its anonymous /data volume.
	id := c.GetContainerID()
	out, err := exec.Command("docker", "inspect", "-f", "{{range .Mounts}}{{.Name}} {{end}}", id).Output()
	if err != nil {
		t.Fatal(err)
	}
	vols := strings.Fields(string(out))
	if len(vols) != 1 {
		t.Fatalf("container mounts %q, want the one /data volume", out)
	}
	if err := testcontainers.TerminateContainer(c); err != nil {
		t.Fatal(err)
	}
	if err := exec.Command("docker", "inspect", id).Run(); err == nil {
		t.Errorf("container %s still there after Terminate", id)
	}
	if err := exec.Command("docker", "volume", "inspect", vols[0]).Run(); err == nil {
		t.Errorf("volume %s still there after Terminate", vols[0])
	}
}
