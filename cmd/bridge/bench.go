package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/bench/kafkabench"
	"github.com/streambridge/bridge/server"
)

// newBenchCmd builds `bridge bench`, the load generators.
func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load generators for the bridge or any compatible server",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBenchKafkaCmd(), newBenchKinesisCmd(), newBenchSQSCmd(), newBenchKfakeServerCmd())
	return cmd
}

type benchKafkaOptions struct {
	cfg          kafkabench.Config
	embedded     bool
	dataDir      string
	compareKfake bool
	loopback     bool
	inProcess    bool
	name         string
	repeat       int
	quiet        bool
}

func newBenchKafkaCmd() *cobra.Command {
	var o benchKafkaOptions
	cmd := &cobra.Command{
		Use:   "kafka",
		Short: "Produce then consume records and report throughput and latency",
		Long: `Produce records to a topic (created if missing) from one or more franz-go
producers, then consume exactly those records by partition assignment, and
report produce and consume MB/s and records/s and the produce latency (the
time from handing a record to the client to its acknowledgement, p50 and
p99).

The target is any Kafka-compatible server (--brokers), or a bridge started by
this command on 127.0.0.1 with a temporary data dir (--embedded).
--compare-kfake runs the same load against franz-go's in-memory fake Kafka
cluster (kfake) too, and prints the ratio target/kfake.

Started servers run in child processes, so the load generator's garbage
collection and page faults are not charged to them, and the table adds each
server's CPU time per MB in and out. --in-process runs them in this process
instead (one process to profile). --compare-loopback also
measures the machine's ceiling for consuming: 1 MiB frames sent over
127.0.0.1 and read into fresh buffers, with no broker work at all.

  bridge bench kafka --embedded --compare-kfake
  bridge bench kafka --brokers 127.0.0.1:9092 --records 1000000 --producers 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cmd.Flags().Changed("duration") && !cmd.Flags().Changed("records") {
				o.cfg.Records = 0
			}
			return runBenchKafka(cmd.Context(), &o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&o.cfg.Brokers, "brokers", nil, "bootstrap host:port addresses of the server to load")
	fs.BoolVar(&o.embedded, "embedded", false, "start a bridge in this process on 127.0.0.1 (temporary data dir) and load it")
	fs.StringVar(&o.dataDir, "data-dir", "", "with --embedded: the data dir to use (default: a temporary one, removed afterwards)")
	fs.BoolVar(&o.compareKfake, "compare-kfake", false, "also run the same load against an in-process kfake cluster and print the ratio")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the --embedded bridge and kfake in this process rather than in child processes (no server CPU figures)")
	fs.BoolVar(&o.loopback, "compare-loopback", false, "also measure the machine's consume ceiling: 1 MiB frames over 127.0.0.1 into fresh buffers, no broker")
	fs.StringVar(&o.name, "name", "", `column name of the target in the table (default "bridge" with --embedded, else "target")`)
	fs.StringVar(&o.cfg.Topic, "topic", "bench", "topic to use; created if missing")
	fs.IntVar(&o.cfg.Partitions, "partitions", 3, "partitions of the topic when it is created")
	fs.IntVar(&o.cfg.RecordSize, "record-size", 1024, "value size in bytes")
	fs.Int64Var(&o.cfg.Records, "records", 100000, "records to produce (in all, over all producers)")
	fs.DurationVar(&o.cfg.Duration, "duration", 0, "produce for this long instead of a number of records")
	fs.IntVar(&o.cfg.Producers, "producers", 1, "producer clients")
	fs.IntVar(&o.cfg.Consumers, "consumers", 1, "consumer clients (they split the partitions)")
	fs.StringVar(&o.cfg.Acks, "acks", "all", "all (idempotent), 1 or 0")
	fs.StringVar(&o.cfg.Compression, "compression", "none", "none, gzip, snappy, lz4 or zstd")
	fs.IntVar(&o.cfg.MaxBuffered, "max-buffered", 10000, "records each producer may have awaiting acknowledgement; latency includes waiting for room")
	fs.IntVar(&o.repeat, "repeat", 1, "run the load this many times (alternating with kfake) and report the median of each figure")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	return cmd
}

func runBenchKafka(ctx context.Context, o *benchKafkaOptions, stdout, stderr io.Writer) (err error) {
	if o.embedded == (len(o.cfg.Brokers) > 0) {
		return errors.New("give either --brokers host:port or --embedded")
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	}
	name := o.name
	if name == "" {
		name = "target"
		if o.embedded {
			name = "bridge"
		}
	}

	if o.repeat < 1 {
		return fmt.Errorf("--repeat %d: want at least 1", o.repeat)
	}
	runs := map[string][]kafkabench.Result{}
	run := func(target string, srv benchServer, round int) error {
		cfg := o.cfg
		brokers := []string{srv.addr}
		cfg.Brokers, cfg.ServerCPU = brokers, srv.cpu
		fmt.Fprintf(stderr, "bench kafka: %s at %v (run %d of %d)\n", target, brokers, round+1, o.repeat)
		res, err := kafkabench.Run(ctx, cfg)
		if err != nil {
			return fmt.Errorf("%s: %w", target, err)
		}
		res.Target = target
		runs[target] = append(runs[target], res)
		return nil
	}

	target := benchServer{addr: strings.Join(o.cfg.Brokers, ",")}
	if o.embedded {
		if target, err = startBenchBridge(ctx, o, stderr); err != nil {
			return err
		}
		defer func() {
			if stopErr := target.stop(); err == nil && stopErr != nil {
				err = fmt.Errorf("stopping the bridge: %w", stopErr)
			}
		}()
	}
	var kfake benchServer
	if o.compareKfake {
		if kfake, err = startBenchKfake(ctx, o); err != nil {
			return err
		}
		defer kfake.stop()
	}
	var loopback []float64
	for i := 0; i < o.repeat; i++ {
		if err := run(name, target, i); err != nil {
			return err
		}
		if o.compareKfake {
			if err := run("kfake", kfake, i); err != nil {
				return err
			}
		}
		if o.loopback {
			fmt.Fprintf(stderr, "bench kafka: loopback ceiling (run %d of %d)\n", i+1, o.repeat)
			mb, err := kafkabench.Loopback(ctx, 1<<20, max(int64(o.cfg.RecordSize)*o.cfg.Records, 64<<20))
			if err != nil {
				return fmt.Errorf("loopback: %w", err)
			}
			loopback = append(loopback, mb)
		}
	}
	results := []kafkabench.Result{kafkabench.Median(runs[name])}
	if o.compareKfake {
		results = append(results, kafkabench.Median(runs["kfake"]))
	}
	if o.repeat > 1 {
		fmt.Fprintf(stdout, "median of %d runs per target, alternating\n", o.repeat)
	}
	if err := kafkabench.WriteTable(stdout, o.cfg, results...); err != nil {
		return err
	}
	if o.loopback {
		slices.Sort(loopback)
		fmt.Fprintf(stdout, "\nloopback ceiling      %8.1f MB/s  (1 MiB frames over 127.0.0.1 into fresh buffers, median; no broker can be consumed faster here)\n", loopback[len(loopback)/2])
	}
	return nil
}

// startBenchBridge starts the bridge to load: a child process, or with
// --in-process one in this process.
func startBenchBridge(ctx context.Context, o *benchKafkaOptions, stderr io.Writer) (benchServer, error) {
	if !o.inProcess {
		return startChildBridge(ctx, o.dataDir, "kafka", stderr)
	}
	addr, stop, err := startEmbeddedBridge(ctx, o.dataDir, "kafka", stderr)
	return benchServer{addr: addr, stop: stop}, err
}

// startBenchKfake starts the kfake reference: a child process, or with
// --in-process one in this process.
func startBenchKfake(ctx context.Context, o *benchKafkaOptions) (benchServer, error) {
	if !o.inProcess {
		return startChildKfake(ctx)
	}
	addr, stop, err := kafkabench.StartKfake()
	if err != nil {
		return benchServer{}, fmt.Errorf("kfake: %w", err)
	}
	return benchServer{addr: addr, stop: func() error { stop(); return nil }}, nil
}

// startEmbeddedBridge starts the same server `bridge serve` runs, with its
// default settings, in this process on 127.0.0.1 ports the kernel picks and
// a data dir that is temporary unless dataDir is set, and returns the
// address of listener ("kafka" or "aws").
func startEmbeddedBridge(ctx context.Context, dataDir, listener string, stderr io.Writer) (addr string, stop func() error, err error) {
	var so serveOptions
	so.addFlags(pflag.NewFlagSet("embedded", pflag.ContinueOnError)) // serve's defaults
	cleanup := func() error { return nil }
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "bridge-bench-"); err != nil {
			return "", nil, err
		}
		tmp := dataDir
		cleanup = func() error { return os.RemoveAll(tmp) }
	}
	so.store.dataDir = dataDir
	so.kafka.addr, so.aws.addr, so.admin.addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg, err := so.serverConfig(newLogger(stderr, "text", "warn"))
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("embedded bridge: %w", err), cleanup())
	}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("embedded bridge: %w", err), cleanup())
	}
	addr = srv.Addrs().Kafka
	if listener == "aws" {
		addr = srv.Addrs().AWS
	}
	return addr, func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return errors.Join(srv.Shutdown(sctx), cleanup())
	}, nil
}
