// Package connectbench measures Connect copies end to end: a worker (the
// connect runtime, in this process) copies records from one system to
// another, and the rate is compared with producing the same records straight
// into the target in the same run, the ratio (goal: at least 0.7).
//
// Pipelines:
//
//	kafka-kafka    KafkaSourceConnector: a second Kafka cluster → the worker's
//	kinesis-kafka  KinesisSourceConnector: a Kinesis stream → the worker's Kafka
//	kafka-kinesis  KinesisSinkConnector: the worker's Kafka → a Kinesis stream
//
// Data is loaded into the source before the clock starts; the copy's clock
// runs from starting the connector to the last record being readable in the
// target (end offsets polled every 10 ms), so it includes the tasks'
// start-up. Like the other bench packages this one is a client: it reaches
// the servers over the network and starts none.
package connectbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

// Config describes one bench run.
type Config struct {
	// Pipeline is one of the names in the package comment.
	Pipeline string
	// Kafka is the worker's cluster (host:port).
	Kafka string
	// SourceKafka is the cluster kafka-kafka copies from.
	SourceKafka string
	// Kinesis is the Kinesis endpoint (http://host:port) of the kinesis
	// pipelines; for kafka-kinesis it must be a bridge whose Kafka is Kafka,
	// where a stream is a topic and the copy is counted by end offsets.
	Kinesis string
	// KinesisFloor, when set, is a Kinesis endpoint doing the least a
	// source needs (bench/kinesisfloor) that kinesis-kafka copies from
	// too, into a topic of its own: Result.FloorCopy.
	KinesisFloor string
	Records      int
	RecordSize   int
	// DistinctValues makes every record's value different
	// (measure.DistinctPayloads) rather than one of 16 (measure.Payloads).
	DistinctValues bool
	// Partitions is the partition (and shard) count of every topic and
	// stream; Tasks the connector's tasks.max.
	Partitions int
	Tasks      int
	// Registry holds the plugins (converters and the connectors used).
	Registry *connect.Registry
	// Settings are added to every connector's configuration (over the
	// bench's own), to compare settings in one run.
	Settings map[string]string
	Log      io.Writer
	// DuringCopy, when set, is called as a copy's clock starts, and the
	// function it returns when the clock stops: a CPU profile of the copy
	// alone, without the loading and the direct run. Its argument is the
	// pipeline, with "-floor" for the copy from KinesisFloor.
	DuringCopy func(copy string) (end func())
	// Settle, when set, is called before each timed phase (the direct run
	// and the copy) and waits until the servers are done with what the
	// phase before left them (measure.WaitIdle), so that a store's flushes
	// of the loaded or directly produced records are not timed as part of
	// the copy.
	Settle func(ctx context.Context) error
	// CPU, when set, reports the CPU seconds so far of every process the
	// bench involves (this one and the servers'); with KinesisFloor it
	// gives Result.Bound.
	CPU func() (float64, error)
}

// Rate is one measured phase.
type Rate struct {
	Duration   time.Duration
	MBps       float64
	RecordsPer float64
}

func rate(records, size int, d time.Duration) Rate {
	bytes := int64(records) * int64(size)
	return Rate{Duration: d, MBps: measure.MBps(bytes, d), RecordsPer: measure.PerSec(int64(records), d)}
}

// Result is one pipeline's figures.
type Result struct {
	Pipeline string
	// Direct is producing the records straight into the target (franz-go
	// for Kafka, PutRecords for Kinesis); Copy is the connector's copy.
	Direct, Copy Rate
	// FloorCopy is kinesis-kafka's copy from Config.KinesisFloor; zero
	// otherwise.
	FloorCopy Rate
	// Bound is, with FloorCopy, the highest ratio any kinesis-kafka copy
	// can reach on this machine (wireBound); 0 when not measured.
	Bound float64
}

// Ratio is the copy's rate over the direct one.
func (r Result) Ratio() float64 {
	if r.Direct.MBps == 0 {
		return 0
	}
	return r.Copy.MBps / r.Direct.MBps
}

// FloorRatio is the floor copy's rate over the direct one: what the ratio
// would be with a source that costs nothing but the Kinesis API.
func (r Result) FloorRatio() float64 {
	if r.Direct.MBps == 0 {
		return 0
	}
	return r.FloorCopy.MBps / r.Direct.MBps
}

// Pipelines lists the pipelines Run knows.
var Pipelines = []string{"kafka-kafka", "kinesis-kafka", "kafka-kinesis"}

// Run runs one pipeline.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Records <= 0 || cfg.RecordSize <= 0 || cfg.Partitions <= 0 || cfg.Tasks <= 0 {
		return Result{}, errors.New("records, record size, partitions and tasks must be positive")
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	b := &bench{cfg: cfg, run: fmt.Sprintf("%d", time.Now().UnixNano()%1_000_000_000), payloads: measure.Payloads(cfg.RecordSize)}
	if cfg.DistinctValues {
		b.payloads = measure.DistinctPayloads(cfg.Records, cfg.RecordSize)
	}
	switch cfg.Pipeline {
	case "kafka-kafka":
		return b.kafkaToKafka(ctx)
	case "kinesis-kafka":
		return b.kinesisToKafka(ctx)
	case "kafka-kinesis":
		return b.kafkaToKinesis(ctx)
	}
	return Result{}, fmt.Errorf("unknown pipeline %q (want one of %v)", cfg.Pipeline, Pipelines)
}

type bench struct {
	cfg      Config
	run      string // makes topic and stream names unique per run
	payloads [][]byte
}

func (b *bench) settle(ctx context.Context) error {
	if b.cfg.Settle == nil {
		return nil
	}
	return b.cfg.Settle(ctx)
}

func (b *bench) name(what string) string { return "connectbench-" + what + "-" + b.run }

// records returns the bench's records for topic, keyed so they spread over
// the partitions.
func (b *bench) records(topic string) []*kgo.Record {
	recs := make([]*kgo.Record, b.cfg.Records)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Key: fmt.Appendf(nil, "key-%d", i), Value: b.payloads[i%len(b.payloads)]}
	}
	return recs
}

// produce writes the bench's records to topic at addr, creating it with the
// bench's partition count, and returns how long it took and the CPU seconds
// the bench's processes used meanwhile (-1 without Config.CPU).
func (b *bench) produce(ctx context.Context, addr, topic string) (time.Duration, float64, error) {
	if err := b.settle(ctx); err != nil {
		return 0, 0, err
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ProducerLinger(5*time.Millisecond),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		return 0, 0, err
	}
	defer cl.Close()
	if err := b.createTopic(ctx, cl, topic); err != nil {
		return 0, 0, err
	}
	recs := b.records(topic)
	cpu := measure.CPUSince(b.cfg.CPU)
	start := time.Now()
	errc := make(chan error, 1)
	for _, r := range recs {
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		return 0, 0, err
	}
	d, used := time.Since(start), cpu()
	select {
	case err := <-errc:
		return 0, 0, err
	default:
	}
	return d, used, nil
}

func (b *bench) createTopic(ctx context.Context, cl *kgo.Client, topic string) error {
	_, err := kadm.NewClient(cl).CreateTopic(ctx, int32(b.cfg.Partitions), -1, nil, topic)
	return err
}

// waitFor polls the end offsets of topic at addr until they add up to the
// bench's record count.
func (b *bench) waitFor(ctx context.Context, addr, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	var last int64
	for {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err == nil {
			var sum int64
			ends.Each(func(o kadm.ListedOffset) { sum += o.Offset })
			if sum >= int64(b.cfg.Records) {
				return nil
			}
			last = sum
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s has %d of %d records: %w", topic, last, b.cfg.Records, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// copy runs the connector cfg describes on a fresh worker until done says
// the target has every record, and returns the time from the start. label
// names the copy for Config.DuringCopy.
func (b *bench) copy(ctx context.Context, label string, cfg connect.Config, done func(context.Context) error) (time.Duration, error) {
	w, err := runtime.NewWorker(runtime.WorkerConfig{
		Registry: b.cfg.Registry, Kafka: []kgo.Opt{kgo.SeedBrokers(b.cfg.Kafka)},
		Offsets: &runtime.MemoryOffsetStore{}, OffsetFlushInterval: time.Second,
		Logger: slog.New(slog.NewTextHandler(b.cfg.Log, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return 0, err
	}
	defer w.Close()
	if err := b.settle(ctx); err != nil {
		return 0, err
	}
	name := cfg[connect.NameConfig]
	cfg[connect.TasksMaxConfig] = fmt.Sprint(b.cfg.Tasks)
	maps.Copy(cfg, b.cfg.Settings)
	start := time.Now()
	if b.cfg.DuringCopy != nil {
		defer b.cfg.DuringCopy(label)()
	}
	h, err := w.StartConnector(ctx, name, cfg, runtime.Hooks{})
	if err != nil {
		return 0, err
	}
	tcs, err := h.TaskConfigs(b.cfg.Tasks)
	if err != nil {
		return 0, err
	}
	for i, tc := range tcs {
		if err := w.StartTask(runtime.TaskID{Connector: name, Task: i}, cfg, tc); err != nil {
			return 0, err
		}
	}
	if err := done(ctx); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

func (b *bench) kafkaToKafka(ctx context.Context) (Result, error) {
	src, ref := b.name("src"), b.name("ref")
	fmt.Fprintf(b.cfg.Log, "loading %d records into %s at %s\n", b.cfg.Records, src, b.cfg.SourceKafka)
	if _, _, err := b.produce(ctx, b.cfg.SourceKafka, src); err != nil {
		return Result{}, err
	}
	direct, _, err := b.produce(ctx, b.cfg.Kafka, ref)
	if err != nil {
		return Result{}, err
	}
	if err := b.precreate(ctx, src); err != nil {
		return Result{}, err
	}
	d, err := b.copy(ctx, b.cfg.Pipeline, connect.Config{
		"name": "bench-kafka", "connector.class": "io.streambridge.connect.kafka.KafkaSourceConnector",
		"source.bootstrap.servers": b.cfg.SourceKafka, "topics": src, "offset.syncs.topic": "",
	}, func(ctx context.Context) error { return b.waitFor(ctx, b.cfg.Kafka, src) })
	if err != nil {
		return Result{}, err
	}
	return b.result(direct, d), nil
}

// precreate creates the copy's topic in the worker's cluster with the
// bench's partition count, as a migration would.
func (b *bench) precreate(ctx context.Context, topic string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.cfg.Kafka))
	if err != nil {
		return err
	}
	defer cl.Close()
	return b.createTopic(ctx, cl, topic)
}

func (b *bench) result(direct, copied time.Duration) Result {
	return Result{Pipeline: b.cfg.Pipeline,
		Direct: rate(b.cfg.Records, b.cfg.RecordSize, direct),
		Copy:   rate(b.cfg.Records, b.cfg.RecordSize, copied)}
}
