package connectbench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/bench/sdkclient"
	"github.com/streambridge/bridge/connect"
)

// Dummy credentials: the bench's bridges do not check signatures.
const (
	benchKeyID  = "AKIDBRIDGEBENCH"
	benchSecret = "bench-secret"
	benchRegion = "us-east-1"
)

func (b *bench) kinesisClient() *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       benchRegion,
		BaseEndpoint: aws.String(b.cfg.Kinesis),
		Credentials:  credentials.NewStaticCredentialsProvider(benchKeyID, benchSecret, ""),
		HTTPClient:   sdkclient.New(b.cfg.Tasks + 4),
	})
}

// awsSettings are the connectors' settings for the bench's endpoint.
func (b *bench) awsSettings(cfg connect.Config) connect.Config {
	cfg["aws.endpoint.url"] = b.cfg.Kinesis
	cfg["aws.region"] = benchRegion
	cfg["aws.access.key.id"] = benchKeyID
	cfg["aws.secret.access.key"] = benchSecret
	return cfg
}

// createStream creates a stream with the bench's shard count and waits for it.
func (b *bench) createStream(ctx context.Context, cl *kinesis.Client, name string) error {
	if _, err := cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(int32(b.cfg.Partitions))}); err != nil {
		return err
	}
	return kinesis.NewStreamExistsWaiter(cl).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(name)}, time.Minute)
}

// putRecords writes the bench's records to stream with PutRecords calls of
// 500 records from Tasks goroutines (the sink's batching and parallelism),
// resending only failed entries, and returns how long it took.
func (b *bench) putRecords(ctx context.Context, cl *kinesis.Client, stream string) (time.Duration, error) {
	if err := b.settle(ctx); err != nil {
		return 0, err
	}
	recs := make([]types.PutRecordsRequestEntry, b.cfg.Records)
	for i := range recs {
		recs[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("key-%d", i)), Data: b.payloads[i%len(b.payloads)]}
	}
	batches := make(chan []types.PutRecordsRequestEntry)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range b.cfg.Tasks {
		wg.Go(func() {
			for batch := range batches {
				for len(batch) > 0 {
					out, err := cl.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: batch})
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
						return
					}
					var failed []types.PutRecordsRequestEntry
					for i, r := range out.Records {
						if r.ErrorCode != nil {
							failed = append(failed, batch[i])
						}
					}
					batch = failed
				}
			}
		})
	}
	for i := 0; i < len(recs); i += 500 {
		batches <- recs[i:min(i+500, len(recs))]
	}
	close(batches)
	wg.Wait()
	return time.Since(start), firstErr
}

func (b *bench) kinesisToKafka(ctx context.Context) (Result, error) {
	cl := b.kinesisClient()
	stream, ref, topic := b.name("stream"), b.name("ref"), b.name("copy")
	if err := b.createStream(ctx, cl, stream); err != nil {
		return Result{}, err
	}
	fmt.Fprintf(b.cfg.Log, "loading %d records into stream %s\n", b.cfg.Records, stream)
	if _, err := b.putRecords(ctx, cl, stream); err != nil {
		return Result{}, err
	}
	direct, err := b.produce(ctx, b.cfg.Kafka, ref)
	if err != nil {
		return Result{}, err
	}
	if err := b.precreate(ctx, topic); err != nil {
		return Result{}, err
	}
	d, err := b.copy(ctx, b.awsSettings(connect.Config{
		"name": "bench-kinesis-source", "connector.class": "io.streambridge.connect.kinesis.KinesisSourceConnector",
		"kinesis.stream": stream, "topic": topic,
		"key.converter": "org.apache.kafka.connect.storage.StringConverter",
	}), func(ctx context.Context) error { return b.waitFor(ctx, b.cfg.Kafka, topic) })
	if err != nil {
		return Result{}, err
	}
	return b.result(direct, d), nil
}

func (b *bench) kafkaToKinesis(ctx context.Context) (Result, error) {
	cl := b.kinesisClient()
	topic, ref, stream := b.name("src"), b.name("ref"), b.name("stream")
	fmt.Fprintf(b.cfg.Log, "loading %d records into topic %s\n", b.cfg.Records, topic)
	if _, err := b.produce(ctx, b.cfg.Kafka, topic); err != nil {
		return Result{}, err
	}
	for _, s := range []string{ref, stream} {
		if err := b.createStream(ctx, cl, s); err != nil {
			return Result{}, err
		}
	}
	direct, err := b.putRecords(ctx, cl, ref)
	if err != nil {
		return Result{}, err
	}
	// On the bridge a stream is a topic: its end offsets count the copy.
	d, err := b.copy(ctx, b.awsSettings(connect.Config{
		"name": "bench-kinesis-sink", "connector.class": "io.streambridge.connect.kinesis.KinesisSinkConnector",
		"topics": topic, "kinesis.stream": stream,
	}), func(ctx context.Context) error { return b.waitFor(ctx, b.cfg.Kafka, stream) })
	if err != nil {
		return Result{}, err
	}
	return b.result(direct, d), nil
}
