package itest

// Every built-in connector end to end through the real binary: one `bridge
// serve --connect-addr` whose REST API creates each connector from the JSON
// a user would write (the README's examples), against endpoints this
// project did not write where there are some (kfake, kinesalite, gofakes3,
// an httptest server) and against the bridge's own Kinesis, SQS and S3
// APIs; what arrives is compared record for record with what was sent.

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startConnectBridgeE2E is startConnectBridge with the region and account
// the AWS clients here sign for.
func startConnectBridgeE2E(t *testing.T) connectBridge {
	t.Helper()
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()), "--connect-addr", "127.0.0.1:0",
		"--region", kinesisRegion, "--account", kinesisAccount)...)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	line := b.waitLog(ctx, "listening connect", func(l logLine) bool {
		return l.str("msg") == "listening" && l.str("listener") == "connect"
	})
	return connectBridge{b, "http://" + line.str("addr")}
}

// e2eRecords are n records spread over partitions, with keys, headers and
// timestamps a copy must keep.
func e2eRecords(topic string, n int, partitions int32) []*kgo.Record {
	base := time.UnixMilli(1_700_000_000_000)
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{
			Topic:     topic,
			Partition: int32(i) % partitions,
			Key:       fmt.Appendf(nil, "key-%d", i%3),
			Value:     fmt.Appendf(nil, "value-%d", i),
			Headers:   []kgo.RecordHeader{{Key: "h", Value: fmt.Appendf(nil, "x%d", i)}, {Key: "empty", Value: []byte{}}},
			Timestamp: base.Add(time.Duration(i) * time.Second),
		}
	}
	return recs
}

// wantViews is what a copy of recs into a topic must read back as: by
// partition, then in production order.
func wantViews(recs []*kgo.Record) []recView {
	v := views(recs)
	slices.SortStableFunc(v, func(a, b recView) int { return int(a.Partition - b.Partition) })
	return v
}

func TestConnectConnectors(t *testing.T) {
	need(t, "curl", func() error { _, err := exec.LookPath("curl"); return err }, "apt-get install curl")
	cb := startConnectBridgeE2E(t)
	awsURL := "http://" + cb.aws
	kfake := startBenchChild(t, "kfake-server")

	t.Run("KafkaSource", func(t *testing.T) {
		t.Parallel()
		const topic = "mirror-in"
		createTopic(t, kfake, topic, 2)
		createTopic(t, cb.kafka, topic, 2)
		recs := e2eRecords(topic, 12, 2)
		produceAll(t, kfake, recs)
		createConnector(t, cb, "kafka-source", map[string]any{
			"connector.class":          "io.streambridge.connect.kafka.KafkaSourceConnector",
			"tasks.max":                "2",
			"source.bootstrap.servers": kfake,
			"topics":                   topic,
		})
		compareViews(t, "kfake → bridge", views(consumeN(t, cb.kafka, topic, len(recs))), wantViews(recs))
		assertCount(t, cb.kafka, topic, len(recs))

		// Offset syncs: the first copied record of each partition pairs
		// upstream offset 0 with downstream offset 0.
		synced := map[int32]bool{}
		eventually(t, "offset syncs for both partitions", func() error {
			for _, r := range consumeN(t, cb.kafka, "connect-offset-syncs", 1) {
				var s struct {
					Topic                            string
					Partition                        int32
					UpstreamOffset, DownstreamOffset int64
				}
				if err := json.Unmarshal(r.Value, &s); err != nil {
					t.Fatalf("offset sync %q: %v", r.Value, err)
				}
				if string(r.Key) != fmt.Sprintf("%s-%d", s.Topic, s.Partition) {
					t.Errorf("offset sync key %q for %+v", r.Key, s)
				}
				if s.Topic == topic && s.UpstreamOffset == 0 && s.DownstreamOffset == 0 {
					synced[s.Partition] = true
				}
			}
			if len(synced) != 2 {
				return fmt.Errorf("synced partitions %v", synced)
			}
			return nil
		})
	})

	t.Run("KafkaSink", func(t *testing.T) {
		t.Parallel()
		const topic = "mirror-out"
		createTopic(t, cb.kafka, topic, 2)
		createTopic(t, kfake, topic, 2)
		recs := e2eRecords(topic, 12, 2)
		produceAll(t, cb.kafka, recs)
		createConnector(t, cb, "kafka-sink", map[string]any{
			"connector.class":          "io.streambridge.connect.kafka.KafkaSinkConnector",
			"topics":                   topic,
			"target.bootstrap.servers": kfake,
		})
		compareViews(t, "bridge → kfake", views(consumeN(t, kfake, topic, len(recs))), wantViews(recs))
		assertCount(t, kfake, topic, len(recs))
	})

	t.Run("KinesisBridge", func(t *testing.T) {
		t.Parallel()
		connectKinesisRoundTrip(t, cb, awsURL, "bridge")
	})

	t.Run("KinesisKinesalite", func(t *testing.T) {
		t.Parallel()
		need(t, "kinesalite", checkNodeKinesis, installNodeKinesis)
		readScript(t, "node/kinesis_kinesalite.js")
		connectKinesisRoundTrip(t, cb, startKinesalite(t), "kinesalite")
	})

	connectSqsCases(t, cb, awsURL)
	connectS3Cases(t, cb, awsURL)
	connectHttpSinkCase(t, cb)
	connectFileCases(t, cb)
	connectSmtCase(t, cb)
	connectValidationCases(t, cb)
}

// kinesisRoundTrip copies a topic into a stream at endpoint with
// KinesisSinkConnector and the stream into another topic with
// KinesisSourceConnector: every key and value arrives, each key's records
// in order.
func connectKinesisRoundTrip(t *testing.T, cb connectBridge, endpoint, name string) {
	in, out, stream := "kin-in-"+name, "kin-out-"+name, "kin-"+name
	kc := awskinesis.New(awskinesis.Options{
		Region:       kinesisRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(e2eKeyID, e2eSecret, ""),
	})
	ctx := ctxFor(t)
	if _, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(2)}); err != nil {
		t.Fatalf("CreateStream on %s: %v", name, err)
	}
	w := awskinesis.NewStreamExistsWaiter(kc, func(o *awskinesis.StreamExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 500*time.Millisecond
	})
	if err := w.Wait(ctx, &awskinesis.DescribeStreamInput{StreamName: aws.String(stream)}, kinesisTimeout); err != nil {
		t.Fatal(err)
	}
	createTopic(t, cb.kafka, in, 1)
	recs := e2eRecords(in, 20, 1)
	produceAll(t, cb.kafka, recs)

	sink := awsSettings(endpoint)
	sink["connector.class"] = "io.streambridge.connect.kinesis.KinesisSinkConnector"
	sink["topics"] = in
	sink["kinesis.stream"] = stream
	sink["key.converter"] = "org.apache.kafka.connect.storage.StringConverter"
	createConnector(t, cb, "kinesis-sink-"+name, sink)

	source := awsSettings(endpoint)
	source["connector.class"] = "io.streambridge.connect.kinesis.KinesisSourceConnector"
	source["tasks.max"] = "2"
	source["kinesis.stream"] = stream
	source["topic"] = out
	source["kinesis.poll.interval.ms"] = "100"
	source["key.converter"] = "org.apache.kafka.connect.storage.StringConverter"
	source["value.converter"] = "org.apache.kafka.connect.converters.ByteArrayConverter"
	createConnector(t, cb, "kinesis-source-"+name, source)

	// The sink's side, read with aws-sdk-go-v2: each record's key as the
	// partition key and its value as the data, once.
	var sent []string
	for _, r := range recs {
		sent = append(sent, string(r.Key)+"="+string(r.Value))
	}
	slices.Sort(sent)
	eventually(t, "stream "+stream+" holds the records", func() error {
		inStream, err := readStream(ctx, kc, stream)
		if err != nil {
			return err
		}
		slices.Sort(inStream)
		if !slices.Equal(inStream, sent) {
			return fmt.Errorf("stream holds %q, want %q", inStream, sent)
		}
		return nil
	})

	got := consumeN(t, cb.kafka, out, len(recs))
	if len(got) != len(recs) {
		t.Fatalf("%d records, want %d", len(got), len(recs))
	}
	// Each key is one partition key, so one shard and one Kafka partition:
	// its records arrive in the order they were sent.
	byKey := func(rs []*kgo.Record) map[string][]string {
		m := map[string][]string{}
		for _, r := range rs {
			m[string(r.Key)] = append(m[string(r.Key)], string(r.Value))
		}
		return m
	}
	want, have := byKey(recs), byKey(got)
	for k, vs := range want {
		if !slices.Equal(have[k], vs) {
			t.Errorf("key %s: values %q, want %q", k, have[k], vs)
		}
	}
	if len(have) != len(want) {
		t.Errorf("keys %v, want %v", have, want)
	}
	assertCount(t, cb.kafka, out, len(recs))
}

// sqsCases copy a topic into a bridge queue with SqsSinkConnector and the
// queue into another topic with SqsSourceConnector: every message once,
// the queue empty after the source's commit, and on FIFO each group's
// order.
func connectSqsCases(t *testing.T, cb connectBridge, awsURL string) {
	for _, c := range []struct {
		name, queue string
		fifo        bool
	}{
		{"SqsStandard", "e2e-std", false},
		{"SqsFifo", "e2e-ordered.fifo", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in, out := "sqs-in-"+c.name, "sqs-out-"+c.name
			sc := sqsClientAt(awsURL)
			ctx := ctxFor(t)
			attrs := map[string]string{}
			if c.fifo {
				attrs["FifoQueue"] = "true"
			}
			if _, err := sc.CreateQueue(ctx, &sqsCreateQueueInput{QueueName: aws.String(c.queue), Attributes: attrs}); err != nil {
				t.Fatal(err)
			}
			createTopic(t, cb.kafka, in, 1)
			// At most 10 messages: a FIFO group's next messages come only
			// after the earlier ones were deleted, at the source's commit
			// (every 60 s, or when it stops).
			recs := e2eRecords(in, 10, 1)
			produceAll(t, cb.kafka, recs)

			sink := awsSettings(awsURL)
			sink["connector.class"] = "io.streambridge.connect.sqs.SqsSinkConnector"
			sink["topics"] = in
			sink["sqs.queue.name"] = c.queue
			sink["key.converter"] = "org.apache.kafka.connect.storage.StringConverter"
			sink["value.converter"] = "org.apache.kafka.connect.storage.StringConverter"
			createConnector(t, cb, strings.ToLower(c.name)+"-sink", sink)

			source := awsSettings(awsURL)
			source["connector.class"] = "io.streambridge.connect.sqs.SqsSourceConnector"
			source["sqs.queue.name"] = c.queue
			source["topic"] = out
			source["sqs.wait.time.seconds"] = "1"
			source["value.converter"] = "org.apache.kafka.connect.storage.StringConverter"
			source["key.converter"] = "org.apache.kafka.connect.storage.StringConverter"
			createConnector(t, cb, strings.ToLower(c.name)+"-source", source)

			got := consumeN(t, cb.kafka, out, len(recs))
			if !slices.Equal(sortedValues(got), sortedValues(recs)) {
				t.Errorf("values %q, want %q", sortedValues(got), sortedValues(recs))
			}
			for _, r := range got {
				if !c.fifo {
					continue
				}
				var group string
				for _, h := range r.Headers {
					if h.Key == "sqs.message.group.id" {
						group = string(h.Value)
					}
				}
				if group != string(r.Key) {
					t.Errorf("record %s: key %q, group header %q", r.Value, r.Key, group)
				}
			}
			if c.fifo {
				// A group's records are in one partition, in the order sent.
				byKey := map[string][]string{}
				for _, r := range got {
					byKey[string(r.Key)] = append(byKey[string(r.Key)], string(r.Value))
				}
				for _, r := range recs {
					k := string(r.Key)
					if len(byKey[k]) == 0 || byKey[k][0] != string(r.Value) {
						t.Fatalf("group %s: %q does not start with %s (FIFO order)", k, byKey[k], r.Value)
					}
					byKey[k] = byKey[k][1:]
				}
			}

			// Deleted after the copy: a stop commits, the commit deletes.
			stopConnector(t, cb, strings.ToLower(c.name)+"-source")
			url := sqsQueueURL(t, sc, c.queue)
			eventually(t, "queue "+c.queue+" empty", func() error {
				n, err := sqsQueueDepth(ctx, sc, url)
				if err != nil {
					return err
				}
				if n != 0 {
					return fmt.Errorf("%d messages left", n)
				}
				return nil
			})
			assertCount(t, cb.kafka, out, len(recs))
		})
	}
}

// readStream reads every shard of stream from its start and returns its
// records as "partitionKey=data".
func readStream(ctx context.Context, kc *awskinesis.Client, stream string) ([]string, error) {
	shards, err := kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String(stream)})
	if err != nil {
		return nil, err
	}
	var out []string
	for _, sh := range shards.Shards {
		it, err := kc.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: sh.ShardId, ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			return nil, err
		}
		iter := it.ShardIterator
		for iter != nil {
			res, err := kc.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				return nil, err
			}
			for _, r := range res.Records {
				out = append(out, aws.ToString(r.PartitionKey)+"="+string(r.Data))
			}
			if len(res.Records) == 0 || aws.ToInt64(res.MillisBehindLatest) == 0 {
				break
			}
			iter = res.NextShardIterator
		}
	}
	return out, nil
}
