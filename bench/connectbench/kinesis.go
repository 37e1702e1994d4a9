package connectbench

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/bench/sdkclient"
	"github.com/streambridge/bridge/connect"
)

// Dummy credentials: the bench's bridges do not check signatures.
const (
	benchKeyID  = "AKIDBRIDGEBENCH"
	benchSecret = "bench-secret"
	benchRegion = "us-east-1"
)

func (b *bench) kinesisClient(endpoint string) *kinesis.Client {
	return kinesis.New(kinesis.Options{
		Region:       benchRegion,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(benchKeyID, benchSecret, ""),
		HTTPClient:   sdkclient.New(b.cfg.Tasks + 4),
	})
}

// awsSettings are the connectors' settings for a Kinesis endpoint.
func awsSettings(endpoint string, cfg connect.Config) connect.Config {
	cfg["aws.endpoint.url"] = endpoint
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
	stream, ref, topic := b.name("stream"), b.name("ref"), b.name("copy")
	if err := b.loadStream(ctx, b.cfg.Kinesis, stream); err != nil {
		return Result{}, err
	}
	direct, directCPU, err := b.produce(ctx, b.cfg.Kafka, ref)
	if err != nil {
		return Result{}, err
	}
	d, err := b.copyStream(ctx, b.cfg.Pipeline, b.cfg.Kinesis, stream, topic)
	if err != nil {
		return Result{}, err
	}
	res := b.result(direct, d)
	if b.cfg.KinesisFloor == "" {
		return res, nil
	}
	// The same copy from the floor, into a topic of its own.
	stream, topic = b.name("floor-stream"), b.name("floor-copy")
	if err := b.loadStream(ctx, b.cfg.KinesisFloor, stream); err != nil {
		return Result{}, fmt.Errorf("floor: %w", err)
	}
	d, err = b.copyStream(ctx, b.cfg.Pipeline+"-floor", b.cfg.KinesisFloor, stream, topic)
	if err != nil {
		return Result{}, fmt.Errorf("floor: %w", err)
	}
	// The floor keeps streams in memory: free this run's.
	if _, err := b.kinesisClient(b.cfg.KinesisFloor).DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String(stream)}); err != nil {
		return Result{}, fmt.Errorf("floor: %w", err)
	}
	res.FloorCopy = rate(b.cfg.Records, b.cfg.RecordSize, d)
	if res.Bound, err = b.wireBound(ctx, direct, directCPU); err != nil {
		return Result{}, err
	}
	return res, nil
}

// wireBound is the highest ratio a kinesis-kafka copy can reach here. A copy
// does at least what the direct run did (the same records produced into the
// same Kafka) and, on top, carries every byte of the records' data from a
// Kinesis endpoint over a socket: the Kinesis API has no compression, while
// the direct run's batches may be compressed (to a fifteenth, with the 16
// repeated values). Moving the bytes costs at least what measure.Loopback
// pays for them, with a stream per shard (the most GetRecords calls a copy
// has at once) and 1 MiB answers. With both cores busy from start to end,
// the copy cannot take less than (direct CPU + loopback CPU) / cores, nor
// less than the loopback's own time; the bound is the direct run's time
// over that. It leaves out everything else a copy does (reading the stream,
// encoding and decoding the answers, the worker's records), so real copies
// stay well below it.
func (b *bench) wireBound(ctx context.Context, direct time.Duration, directCPU float64) (float64, error) {
	if directCPU < 0 {
		return 0, nil
	}
	if err := b.settle(ctx); err != nil {
		return 0, err
	}
	bytes := int64(b.cfg.Records) * int64(b.cfg.RecordSize)
	frame := int(min(1<<20, bytes/int64(b.cfg.Partitions)))
	if frame == 0 {
		return 0, nil
	}
	mbps, cpuMsPerMB, err := measure.Loopback(ctx, frame, bytes, b.cfg.Partitions)
	if err != nil {
		return 0, fmt.Errorf("loopback: %w", err)
	}
	mb := float64(bytes) / 1e6
	least := max(direct.Seconds(), (directCPU+cpuMsPerMB*mb/1e3)/float64(runtime.NumCPU()), mb/mbps)
	return direct.Seconds() / least, nil
}

// loadStream creates stream at endpoint and puts the bench's records in it.
func (b *bench) loadStream(ctx context.Context, endpoint, stream string) error {
	cl := b.kinesisClient(endpoint)
	if err := b.createStream(ctx, cl, stream); err != nil {
		return err
	}
	fmt.Fprintf(b.cfg.Log, "loading %d records into stream %s at %s\n", b.cfg.Records, stream, endpoint)
	_, err := b.putRecords(ctx, cl, stream)
	return err
}

// copyStream copies stream at endpoint into topic (created first) with the
// KinesisSourceConnector and returns how long it took.
func (b *bench) copyStream(ctx context.Context, label, endpoint, stream, topic string) (time.Duration, error) {
	if err := b.precreate(ctx, topic); err != nil {
		return 0, err
	}
	return b.copy(ctx, label, awsSettings(endpoint, connect.Config{
		"name": "bench-kinesis-source", "connector.class": "io.streambridge.connect.kinesis.KinesisSourceConnector",
		"kinesis.stream": stream, "topic": topic,
		"key.converter": "org.apache.kafka.connect.storage.StringConverter",
	}), func(ctx context.Context) error { return b.waitFor(ctx, b.cfg.Kafka, topic) })
}

func (b *bench) kafkaToKinesis(ctx context.Context) (Result, error) {
	cl := b.kinesisClient(b.cfg.Kinesis)
	topic, ref, stream := b.name("src"), b.name("ref"), b.name("stream")
	fmt.Fprintf(b.cfg.Log, "loading %d records into topic %s\n", b.cfg.Records, topic)
	if _, _, err := b.produce(ctx, b.cfg.Kafka, topic); err != nil {
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
	d, err := b.copy(ctx, b.cfg.Pipeline, awsSettings(b.cfg.Kinesis, connect.Config{
		"name": "bench-kinesis-sink", "connector.class": "io.streambridge.connect.kinesis.KinesisSinkConnector",
		"topics": topic, "kinesis.stream": stream,
	}), func(ctx context.Context) error { return b.waitFor(ctx, b.cfg.Kafka, stream) })
	if err != nil {
		return Result{}, err
	}
	return b.result(direct, d), nil
}
