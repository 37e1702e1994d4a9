package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/server"
)

// goodFixtures declares one of everything the format has.
const goodFixtures = `# fixtures for the tests
kafka:
  topics:
    - {name: orders, partitions: 3, replication_factor: 1, configs: {cleanup.policy: compact, retention.ms: 3600000}}
    - {name: defaulted}
kinesis:
  streams:
    - {name: clicks, shards: 2, retention_hours: 48, tags: {team: a}}
    - {name: burst, mode: ON_DEMAND}
sqs:
  queues:
    - {name: jobs, attributes: {VisibilityTimeout: "30"}, tags: {team: a}, dead_letter_queue: {name: jobs-dlq, max_receive_count: 5}}
    - {name: jobs-dlq}
    - {name: jobs.fifo, attributes: {FifoQueue: "true", ContentBasedDeduplication: "true"}}
s3:
  buckets:
    - {name: uploads}
`

// startInit starts `bridge serve --init-file file` in this process on
// loopback ports, on dataDir ("" for --in-memory). It returns the start's
// error rather than failing, for the tests of bad files, and a stop
// function (also run at cleanup).
func startInit(t *testing.T, dataDir, file string, args ...string) (*server.Server, func(), error) {
	t.Helper()
	var srv *server.Server
	root := newRootCmd(noEnv, func(_ *cobra.Command, o *serveOptions, _ layered) error {
		cfg, err := o.serverConfig(newLogger(t.Output(), "text", "info"))
		if err != nil {
			return err
		}
		srv, err = server.Start(t.Context(), cfg)
		return err
	})
	store := []string{"--in-memory"}
	if dataDir != "" {
		store = []string{"--data-dir", dataDir}
	}
	root.SetArgs(append(append([]string{"serve", "--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--init-file", file}, store...), args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	if err := root.Execute(); err != nil {
		return nil, func() {}, err
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	}
	t.Cleanup(stop)
	return srv, stop, nil
}

// writeFixtures writes a fixtures file into dir and returns its path.
func writeFixtures(t *testing.T, dir, body string) string {
	t.Helper()
	path := filepath.Join(dir, "fixtures.yaml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fixtureClients are third-party clients of one running bridge.
type fixtureClients struct {
	adm *kadm.Client
	kin *awskinesis.Client
	sqs *awssqs.Client
	s3  *awss3.Client
}

func clientsOf(t *testing.T, srv *server.Server) fixtureClients {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(srv.Addrs().Kafka), kgo.RequestRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	endpoint := aws.String("http://" + srv.Addrs().AWS)
	creds := credentials.NewStaticCredentialsProvider("AKIDFIXTURES", "secret", "")
	return fixtureClients{
		adm: kadm.NewClient(cl),
		kin: awskinesis.New(awskinesis.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds, RetryMaxAttempts: 1}),
		sqs: awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds, RetryMaxAttempts: 1}),
		s3:  awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: endpoint, Credentials: creds, RetryMaxAttempts: 1, UsePathStyle: true}),
	}
}

// topicState is a topic's partition count and its explicit configs, as
// kadm sees them.
func (c fixtureClients) topicState(t *testing.T, topic string) (int, map[string]string) {
	t.Helper()
	ctx := t.Context()
	td, err := c.adm.ListTopics(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := td[topic]
	if !ok || d.Err != nil {
		t.Fatalf("topic %s: listed %v, err %v", topic, ok, d.Err)
	}
	rcs, err := c.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		t.Fatal(err)
	}
	configs := map[string]string{}
	for _, cfg := range rc.Configs {
		if cfg.Source == 1 { // DYNAMIC_TOPIC_CONFIG: set on the topic
			configs[cfg.Key] = cfg.MaybeValue()
		}
	}
	return len(d.Partitions), configs
}

// queueAttrs is GetQueueAttributes All of a queue found by GetQueueUrl.
func (c fixtureClients) queueAttrs(t *testing.T, name string) map[string]string {
	t.Helper()
	ctx := t.Context()
	u, err := c.sqs.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatalf("GetQueueUrl %s: %v", name, err)
	}
	a, err := c.sqs.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: u.QueueUrl, AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	return a.Attributes
}

// TestInitFileFixtures: every kind of fixture exists, as declared, when
// the server is ready, seen by kadm, and by the Go SDK's Kinesis, SQS and
// S3 clients.
func TestInitFileFixtures(t *testing.T) {
	srv, _, err := startInit(t, "", writeFixtures(t, t.TempDir(), goodFixtures))
	if err != nil {
		t.Fatal(err)
	}
	c := clientsOf(t, srv)
	ctx := t.Context()

	n, configs := c.topicState(t, "orders")
	if n != 3 || configs["cleanup.policy"] != "compact" || configs["retention.ms"] != "3600000" {
		t.Errorf("orders: %d partitions, configs %v", n, configs)
	}
	if n, _ := c.topicState(t, "defaulted"); n != 1 {
		t.Errorf("defaulted: %d partitions, want --default-partitions 1", n)
	}

	for _, tc := range []struct {
		name      string
		shards    int32
		mode      string
		retention int32
	}{{"clicks", 2, "PROVISIONED", 48}, {"burst", 4, "ON_DEMAND", 24}} {
		s, err := c.kin.DescribeStreamSummary(ctx, &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(tc.name)})
		if err != nil {
			t.Fatalf("DescribeStreamSummary %s: %v", tc.name, err)
		}
		d := s.StreamDescriptionSummary
		if *d.OpenShardCount != tc.shards || string(d.StreamModeDetails.StreamMode) != tc.mode || *d.RetentionPeriodHours != tc.retention || d.StreamStatus != "ACTIVE" {
			t.Errorf("%s: %d shards, %s, %d hours, %s", tc.name, *d.OpenShardCount, d.StreamModeDetails.StreamMode, *d.RetentionPeriodHours, d.StreamStatus)
		}
	}
	tags, err := c.kin.ListTagsForStream(ctx, &awskinesis.ListTagsForStreamInput{StreamName: aws.String("clicks")})
	if err != nil || len(tags.Tags) != 1 || *tags.Tags[0].Key != "team" || *tags.Tags[0].Value != "a" {
		t.Errorf("clicks tags: %v, %v", tags, err)
	}

	jobs := c.queueAttrs(t, "jobs")
	var redrive struct {
		DeadLetterTargetArn string
		MaxReceiveCount     json.Number
	}
	if err := json.Unmarshal([]byte(jobs["RedrivePolicy"]), &redrive); err != nil {
		t.Fatalf("jobs RedrivePolicy %q: %v", jobs["RedrivePolicy"], err)
	}
	if jobs["VisibilityTimeout"] != "30" || redrive.DeadLetterTargetArn != "arn:aws:sqs:us-east-1:000000000000:jobs-dlq" || redrive.MaxReceiveCount.String() != "5" {
		t.Errorf("jobs attributes: %v", jobs)
	}
	if fifo := c.queueAttrs(t, "jobs.fifo"); fifo["FifoQueue"] != "true" || fifo["ContentBasedDeduplication"] != "true" {
		t.Errorf("jobs.fifo attributes: %v", fifo)
	}
	if _, err := c.s3.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("uploads")}); err != nil {
		t.Errorf("HeadBucket uploads: %v", err)
	}
}

// TestInitFileErrors: each kind of bad entry stops the start with an error
// naming the file, the entry's line, its place and name, and the reason in
// the API's own words; a file with a bad entry creates none of its good
// ones.
func TestInitFileErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"unknown key", "kafka:\n  topics:\n    - {name: a, partitons: 3}\n",
			[]string{"fixtures.yaml:3: field partitons not found in a Kafka topic"}},
		{"unknown section", "kafak: {}\n", []string{"fixtures.yaml:1: field kafak not found at the top level"}},
		{"not a number", "kinesis: {streams: [{name: s, shards: two}]}\n", []string{"fixtures.yaml:1: cannot unmarshal !!str `two` into int"}},
		{"topic name", "kafka: {topics: [{name: \"bad topic\"}]}\n",
			[]string{`fixtures.yaml:1: kafka.topics[0] "bad topic": INVALID_TOPIC_EXCEPTION: Topic name "bad topic" is illegal`}},
		{"topic partitions", "kafka:\n  topics:\n    - {name: t, partitions: -3}\n",
			[]string{`fixtures.yaml:3: kafka.topics[0] "t": INVALID_PARTITIONS: Number of partitions was set to an invalid non-positive value.`}},
		{"replication factor", "kafka: {topics: [{name: t, replication_factor: 3}]}\n",
			[]string{`kafka.topics[0] "t": INVALID_REPLICATION_FACTOR: Unable to replicate the partition 3 time(s)`}},
		{"topic config", "kafka: {topics: [{name: t, configs: {cleanup.policy: nope}}]}\n",
			[]string{`kafka.topics[0] "t": INVALID_CONFIG: Invalid value nope for configuration cleanup.policy`}},
		{"unknown topic config", "kafka: {topics: [{name: t, configs: {retention.mss: \"1\"}}]}\n",
			[]string{`kafka.topics[0] "t": INVALID_CONFIG: Unknown topic config name: retention.mss`}},
		{"stream name", "kinesis: {streams: [{name: \"a b\", shards: 1}]}\n",
			[]string{`kinesis.streams[0] "a b": ValidationException: 1 validation error detected: Value 'a b' at 'streamName' failed to satisfy constraint`}},
		{"stream shards", "kinesis: {streams: [{name: s, shards: -1}]}\n",
			[]string{`kinesis.streams[0] "s": ValidationException: 1 validation error detected: Value '-1' at 'shardCount'`}},
		{"stream mode", "kinesis: {streams: [{name: s, mode: FAST}]}\n",
			[]string{`kinesis.streams[0] "s": ValidationException`, `streamModeDetails.streamMode`}},
		{"stream retention", "kinesis: {streams: [{name: s, shards: 1, retention_hours: 10}]}\n",
			[]string{`kinesis.streams[0] "s": InvalidArgumentException: Minimum allowed retention period is 24 hours.`}},
		{"queue attribute", "sqs:\n  queues:\n    - {name: q}\n    - {name: jobs, attributes: {VisibilityTimeout: \"99999\"}}\n",
			[]string{`fixtures.yaml:4: sqs.queues[1] "jobs": InvalidAttributeValue: Invalid value for the parameter VisibilityTimeout.`}},
		{"unknown queue attribute", "sqs: {queues: [{name: q, attributes: {Bogus: \"1\"}}]}\n",
			[]string{`sqs.queues[0] "q": InvalidAttributeName: Unknown Attribute Bogus.`}},
		{"fifo without FifoQueue", "sqs:\n  queues:\n    - {name: q}\n    - {name: jobs.fifo}\n",
			[]string{`fixtures.yaml:4: sqs.queues[1] "jobs.fifo": InvalidParameterValueException`}},
		{"missing dead-letter queue", "sqs: {queues: [{name: q, dead_letter_queue: {name: nowhere, max_receive_count: 5}}]}\n",
			[]string{`sqs.queues[0] "q": InvalidParameterValueException:`, "Dead letter target does not exist."}},
		{"dead-letter twice", "sqs: {queues: [{name: q, attributes: {RedrivePolicy: \"{}\"}, dead_letter_queue: {name: d, max_receive_count: 1}}]}\n",
			[]string{`sqs.queues[0] "q": both dead_letter_queue and attributes.RedrivePolicy are set`}},
		{"bucket name", "s3: {buckets: [{name: Bad_Bucket}]}\n",
			[]string{`s3.buckets[0] "Bad_Bucket": InvalidBucketName: The specified bucket is not valid.`}},
		{"no name", "kinesis: {streams: [{shards: 1}]}\ns3: {buckets: [{}]}\n",
			[]string{`fixtures.yaml:1: kinesis.streams[0] "": name is required`, `fixtures.yaml:2: s3.buckets[0] "": name is required`}},
		{"two documents", "kafka: {}\n---\nsqs: {}\n", []string{"fixtures.yaml: one YAML document expected"}},
		{"duplicate", "kafka:\n  topics:\n    - {name: a}\n    - {name: a}\n",
			[]string{`fixtures.yaml:4: kafka.topics[1] "a": already declared as kafka.topics[0]`}},
		{"one namespace", "kafka: {topics: [{name: a}]}\nsqs: {queues: [{name: a}]}\n",
			[]string{`fixtures.yaml:2: sqs.queues[0] "a": already declared as kafka.topics[0] (Kafka topics, Kinesis streams and SQS queues are all streams`}},
		{"topics colliding", "kafka: {topics: [{name: a.b}, {name: a_b}]}\n",
			[]string{`kafka.topics[1] "a_b": INVALID_TOPIC_EXCEPTION: Topic 'a_b' collides with existing topic: a.b`}},
		{"every bad entry", "kafka: {topics: [{name: \"x y\"}, {name: fine}]}\ns3: {buckets: [{name: B}]}\n",
			[]string{`kafka.topics[0] "x y"`, `s3.buckets[0] "B"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			_, _, err := startInit(t, filepath.Join(dir, "data"), writeFixtures(t, dir, tc.file))
			if err == nil {
				t.Fatal("started")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nwant it to contain %q", err, w)
				}
			}
			if !strings.HasPrefix(err.Error(), "--init-file "+dir) && !strings.Contains(err.Error(), "--init-file "+dir) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}

	// The good entries of a bad file were not created: the next start,
	// without the file, finds no topic "fine".
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if _, _, err := startInit(t, data, writeFixtures(t, dir, "kafka: {topics: [{name: fine}, {name: \"x y\"}]}\n")); err == nil {
		t.Fatal("bad file started")
	}
	srv, _, err := startInit(t, data, writeFixtures(t, dir, "s3: {buckets: [{name: other}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	td, err := clientsOf(t, srv).adm.ListTopics(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if td.Has("fine") {
		t.Error("a bad file's good entry was created")
	}
}

// TestInitFileRestart: fixtures are idempotent across restarts on one data
// dir. The same file changes nothing; more partitions are added, new queue
// attributes, tags and stream retention set; fewer partitions or another
// shard count stop the start, naming the entry, with nothing changed.
func TestInitFileRestart(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	file := writeFixtures(t, dir, goodFixtures)
	for range 2 {
		srv, stop, err := startInit(t, data, file)
		if err != nil {
			t.Fatal(err)
		}
		if n, _ := clientsOf(t, srv).topicState(t, "orders"); n != 3 {
			t.Fatalf("orders: %d partitions", n)
		}
		stop()
	}

	grown := strings.NewReplacer("partitions: 3", "partitions: 5", `VisibilityTimeout: "30"`, `VisibilityTimeout: "45"`,
		"retention_hours: 48", "retention_hours: 72", "retention.ms: 3600000", "retention.ms: 7200000").Replace(goodFixtures)
	srv, stop, err := startInit(t, data, writeFixtures(t, dir, grown))
	if err != nil {
		t.Fatal(err)
	}
	c := clientsOf(t, srv)
	if n, configs := c.topicState(t, "orders"); n != 5 || configs["retention.ms"] != "7200000" || configs["cleanup.policy"] != "compact" {
		t.Errorf("orders after growth: %d partitions, %v", n, configs)
	}
	if a := c.queueAttrs(t, "jobs"); a["VisibilityTimeout"] != "45" {
		t.Errorf("jobs VisibilityTimeout %s", a["VisibilityTimeout"])
	}
	s, err := c.kin.DescribeStreamSummary(t.Context(), &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String("clicks")})
	if err != nil || *s.StreamDescriptionSummary.RetentionPeriodHours != 72 {
		t.Errorf("clicks retention: %v %v", s, err)
	}
	stop()

	for _, tc := range []struct{ name, file, want string }{
		{"fewer partitions", strings.Replace(grown, "partitions: 5", "partitions: 2", 1),
			`kafka.topics[0] "orders": INVALID_PARTITIONS: Topic currently has 5 partitions, which is higher than the requested 2.`},
		{"other shard count", strings.Replace(grown, "shards: 2", "shards: 3", 1),
			`kinesis.streams[0] "clicks": the stream exists with 2 open shards, the file declares 3`},
		{"other stream mode", strings.Replace(grown, "mode: ON_DEMAND", "mode: PROVISIONED, shards: 4", 1),
			`kinesis.streams[1] "burst": the stream exists in mode ON_DEMAND, the file declares PROVISIONED`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := startInit(t, data, writeFixtures(t, dir, tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v\nwant %q", err, tc.want)
			}
		})
	}
	// Nothing of the refused files was applied.
	srv, _, err = startInit(t, data, writeFixtures(t, dir, grown))
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := clientsOf(t, srv).topicState(t, "orders"); n != 5 {
		t.Errorf("orders: %d partitions after refused files", n)
	}
}

// TestInitFileRedriveToExistingQueue: a queue may redrive to a dead-letter
// queue the file does not declare but the store already has.
func TestInitFileRedriveToExistingQueue(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	_, stop, err := startInit(t, data, writeFixtures(t, dir, "sqs: {queues: [{name: dlq.fifo, attributes: {FifoQueue: \"true\"}}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	srv, _, err := startInit(t, data, writeFixtures(t, dir,
		"sqs: {queues: [{name: work.fifo, attributes: {FifoQueue: \"true\"}, dead_letter_queue: {name: dlq.fifo, max_receive_count: 3}}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a := clientsOf(t, srv).queueAttrs(t, "work.fifo"); !strings.Contains(a["RedrivePolicy"], "dlq.fifo") {
		t.Errorf("work.fifo: %v", a)
	}
}

// TestInitFileMissing: a file that cannot be read stops the start before
// any port is bound.
func TestInitFileMissing(t *testing.T) {
	_, _, err := startInit(t, "", filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), "--init-file") {
		t.Fatalf("missing file: %v", err)
	}
}

// FuzzParseFixtures: any bytes give fixtures or an error naming the file,
// never a panic.
func FuzzParseFixtures(f *testing.F) {
	f.Add([]byte(goodFixtures))
	f.Add([]byte("kafka: {topics: [{name: a, partitons: 3}]}\n"))
	f.Add([]byte("sqs: {queues: [{name: a}, {name: a, dead_letter_queue: {}}]}\n"))
	f.Add([]byte("kafka: [1]\n"))
	f.Add([]byte("{kafka: {topics: [{name: a, configs: {x: [1]}}]}, s3: {buckets: [{name: b}, {name: b}]}}"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		fx, err := parseFixtures("f.yaml", b)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		_ = fx.count()
		_ = fx.queueOrder()
	})
}

// TestInitFileUnderSecurity: the fixtures are the operator's, so a bridge
// that requires SigV4 on the AWS port and Kafka ACLs still creates them;
// signed clients and a super user then find them.
func TestInitFileUnderSecurity(t *testing.T) {
	dir := t.TempDir()
	creds := filepath.Join(dir, "credentials")
	if err := os.WriteFile(creds, []byte(sigv4CredentialsFile), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, _, err := startInit(t, "", writeFixtures(t, dir, goodFixtures),
		"--aws-credentials-file", creds, "--authorizer", "acl", "--super-users", "User:ANONYMOUS")
	if err != nil {
		t.Fatal(err)
	}
	c := clientsOf(t, srv)
	if n, _ := c.topicState(t, "orders"); n != 3 {
		t.Errorf("orders: %d partitions", n)
	}
	signed := awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String("http://" + srv.Addrs().AWS), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIGV4TEST", "sigv4/secret+key", "")})
	if _, err := signed.GetQueueUrl(t.Context(), &awssqs.GetQueueUrlInput{QueueName: aws.String("jobs.fifo")}); err != nil {
		t.Errorf("GetQueueUrl jobs.fifo, signed: %v", err)
	}
	if _, err := c.sqs.GetQueueUrl(t.Context(), &awssqs.GetQueueUrlInput{QueueName: aws.String("jobs.fifo")}); err == nil {
		t.Error("an unknown key was not refused: is SigV4 on?")
	}
}
