package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/bench/connectbench"
	"github.com/streambridge/bridge/bench/kinesisfloor"
	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/connect/plugins"
)

type benchConnectOptions struct {
	cfg       connectbench.Config
	pipelines []string
	inProcess bool
	repeat    int
	warmup    int
	profile   string
	// copyProfile is the start of the files of --copy-cpu-profile.
	copyProfile string
	serveArgs   []string
	settle      bool
	floor       bool
}

func newBenchConnectCmd() *cobra.Command {
	var o benchConnectOptions
	cmd := &cobra.Command{
		Use:   "connect",
		Short: "Copy records with Connect workers and compare with producing them straight into the target",
		Long: `Run Connect copies end to end and compare each with producing the same
records straight into its target, in the same run:

  kafka-kafka    KafkaSourceConnector from a second bridge's Kafka into the worker's
  kinesis-kafka  KinesisSourceConnector from a Kinesis stream into Kafka
  kafka-kinesis  KinesisSinkConnector from Kafka into a Kinesis stream

The worker runs in this process (the connect runtime, as bridge connect runs
it); the bridges run in child processes (in this one with --in-process),
each with a temporary data dir. Records are loaded into the source before
the clock starts; a copy is timed from starting the connector until the
target's end offsets count every record. The ratio is the copy's MB/s over
the direct production's (the issue's goal: at least 0.7).

--compare-floor runs kinesis-kafka's copy a second time from the Kinesis
floor (bench/kinesisfloor, in a child process: streams in memory, each
record encoded for GetRecords when it is put, so that an answer is a slice
of memory written as it is) into a topic of its own: what the copy reaches
with a source that costs nothing but the Kinesis API, next to the same
direct run. Its "bound" is the highest ratio any kinesis-kafka copy can
reach on this machine: the direct run's time over the least a copy needs to
do the direct run's work and carry the records' bytes over loopback
(bench/measure.Loopback, a stream per shard), both cores busy throughout.

  bridge bench connect --records 200000 --repeat 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchConnect(cmd.Context(), &o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&o.pipelines, "pipeline", connectbench.Pipelines, "pipelines to run: kafka-kafka, kinesis-kafka, kafka-kinesis")
	fs.IntVar(&o.cfg.Records, "records", 100_000, "records each phase writes")
	fs.IntVar(&o.cfg.RecordSize, "record-size", 1024, "bytes per record value")
	fs.BoolVar(&o.cfg.DistinctValues, "distinct-values", false, "make every record's value different (by default the values are 16 random ones, repeated)")
	fs.IntVar(&o.cfg.Partitions, "partitions", 4, "partitions of every topic, shards of every stream")
	fs.IntVar(&o.cfg.Tasks, "tasks", 2, "the connector's tasks.max")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the bridges in this process rather than in child processes")
	fs.BoolVar(&o.floor, "compare-floor", false, "also run kinesis-kafka's copy from the Kinesis floor (bench/kinesisfloor: streams in memory, answers written from memory as they are), in a child process")
	fs.BoolVar(&o.settle, "settle", true, "before each timed phase, wait (up to a minute) until the bridges are idle, so that what they do after a phase (the store's flushes) is not timed in the next")
	fs.IntVar(&o.repeat, "repeat", 1, "run each pipeline this many times and report medians")
	fs.IntVar(&o.warmup, "warmup", 0, "unmeasured runs of each pipeline before the measured ones (a fresh worker's and bridges' heaps fault in their pages on first use)")
	fs.StringVar(&o.profile, "cpu-profile", "", "write a CPU profile of this process (the worker and the load generator) to this file")
	fs.StringVar(&o.copyProfile, "copy-cpu-profile", "", "write a CPU profile of this process during each copy alone to FILE.PIPELINE.N (with --in-process the bridges are in it too)")
	// A sink's copy starts with joining a consumer group; Kafka's 3 s
	// initial rebalance delay would be a third of a short copy. Kafka's own
	// test and development setups set it to 0, as this does by default.
	fs.StringToStringVar(&o.cfg.Settings, "set", nil, "connector settings added to every copy's connector, e.g. --set kinesis.records.limit=10000")
	fs.StringSliceVar(&o.serveArgs, "serve-args", []string{"--group-initial-rebalance-delay=0"}, "bridge serve flags for the worker's bridge")
	return cmd
}

func runBenchConnect(ctx context.Context, o *benchConnectOptions, stdout, stderr io.Writer) (err error) {
	for _, p := range o.pipelines {
		if !slices.Contains(connectbench.Pipelines, p) {
			return fmt.Errorf("unknown pipeline %q (want %v)", p, connectbench.Pipelines)
		}
	}
	if o.warmup < 0 {
		return fmt.Errorf("--warmup %d: want 0 or more", o.warmup)
	}
	if o.floor && !slices.Contains(o.pipelines, "kinesis-kafka") {
		return errors.New("--compare-floor: the floor is a Kinesis source, for the kinesis-kafka pipeline")
	}
	if o.profile != "" && o.copyProfile != "" {
		return errors.New("--cpu-profile and --copy-cpu-profile cannot be used together (one CPU profile at a time)")
	}
	if o.profile != "" {
		stop, err := startCPUProfile(o.profile)
		if err != nil {
			return err
		}
		defer keepFirst(&err, stop)
	}
	start := startChildBridge
	if o.inProcess {
		start = startEmbeddedBridge
	}
	worker, err := start(ctx, "", o.serveArgs, []string{"kafka", "aws"}, stderr)
	if err != nil {
		return err
	}
	defer keepFirst(&err, worker.stop)
	cfg := o.cfg
	cfg.Kafka, cfg.Kinesis = worker.addrs["kafka"], "http://"+worker.addrs["aws"]
	cfg.Registry = plugins.Registry()
	cfg.Log = stderr
	if o.copyProfile != "" {
		copies := map[string]int{}
		cfg.DuringCopy = func(pipeline string) func() {
			copies[pipeline]++
			path := fmt.Sprintf("%s.%s.%d", o.copyProfile, pipeline, copies[pipeline])
			stop, err := startCPUProfile(path)
			if err != nil {
				fmt.Fprintf(stderr, "bench connect: %v\n", err)
				return func() {}
			}
			return func() {
				if err := stop(); err != nil {
					fmt.Fprintf(stderr, "bench connect: %s: %v\n", path, err)
				}
			}
		}
	}
	servers := []benchServer{worker}
	if slices.Contains(o.pipelines, "kafka-kafka") {
		source, err := start(ctx, "", nil, []string{"kafka"}, stderr)
		if err != nil {
			return err
		}
		defer keepFirst(&err, source.stop)
		cfg.SourceKafka = source.addr
		servers = append(servers, source)
	}
	if o.settle {
		cfg.Settle = settleFunc(servers, stderr)
	}
	cfg.CPU = totalCPU(servers)
	var floorAddr string
	if o.floor {
		floor, err := startChildReference(ctx, "kinesis-floor-server")
		if err != nil {
			return err
		}
		defer keepFirst(&err, floor.stop)
		floorAddr = "http://" + floor.addr
	}
	fmt.Fprintf(stdout, "%d records of %d bytes, %d partitions, tasks.max %d, median of %d after %d warm-up runs\n\n",
		cfg.Records, cfg.RecordSize, cfg.Partitions, cfg.Tasks, o.repeat, o.warmup)
	fmt.Fprintf(stdout, "%-14s %12s %12s %12s %12s %7s", "pipeline", "direct MB/s", "direct rec/s", "copy MB/s", "copy rec/s", "ratio")
	if o.floor {
		fmt.Fprintf(stdout, " %16s %12s %7s", "floor copy MB/s", "floor ratio", "bound")
	}
	fmt.Fprintln(stdout)
	for _, p := range o.pipelines {
		cfg.Pipeline = p
		cfg.KinesisFloor = ""
		if p == "kinesis-kafka" {
			cfg.KinesisFloor = floorAddr
		}
		var runs []connectbench.Result
		for i := range o.warmup + max(o.repeat, 1) {
			r, err := connectbench.Run(ctx, cfg)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if i >= o.warmup {
				runs = append(runs, r)
			}
		}
		median := func(f func(connectbench.Result) float64) float64 { return measure.MedianOf(runs, f) }
		fmt.Fprintf(stdout, "%-14s %12.1f %12.0f %12.1f %12.0f %6.2fx", p,
			median(func(r connectbench.Result) float64 { return r.Direct.MBps }),
			median(func(r connectbench.Result) float64 { return r.Direct.RecordsPer }),
			median(func(r connectbench.Result) float64 { return r.Copy.MBps }),
			median(func(r connectbench.Result) float64 { return r.Copy.RecordsPer }),
			median(func(r connectbench.Result) float64 { return r.Ratio() }))
		if o.floor && p == "kinesis-kafka" {
			fmt.Fprintf(stdout, " %16.1f %11.2fx %6.2fx",
				median(func(r connectbench.Result) float64 { return r.FloorCopy.MBps }),
				median(func(r connectbench.Result) float64 { return r.FloorRatio() }),
				median(func(r connectbench.Result) float64 { return r.Bound }))
		}
		fmt.Fprintln(stdout)
	}
	if len(o.pipelines) == 0 {
		return errors.New("no pipeline to run")
	}
	return nil
}

// totalCPU reports the CPU seconds of this process (the worker and the load
// generator) and of the servers in child processes.
func totalCPU(servers []benchServer) func() (float64, error) {
	cpus := []func() (float64, error){measure.ProcessCPU(os.Getpid())}
	for _, s := range servers {
		if s.cpu != nil {
			cpus = append(cpus, s.cpu)
		}
	}
	return sumCPU(cpus)
}

// sumCPU reports the sum of the CPU seconds cpus report.
func sumCPU(cpus []func() (float64, error)) func() (float64, error) {
	return func() (float64, error) {
		var sum float64
		for _, f := range cpus {
			s, err := f()
			if err != nil {
				return 0, err
			}
			sum += s
		}
		return sum, nil
	}
}

// settleFunc returns a connectbench.Config.Settle that waits until servers
// are idle (measure.WaitIdle): the child processes together, or this
// process when the bridges run in it.
func settleFunc(servers []benchServer, log io.Writer) func(context.Context) error {
	cpus := []func() (float64, error){measure.ProcessCPU(os.Getpid())}
	if !slices.ContainsFunc(servers, func(s benchServer) bool { return s.cpu == nil }) {
		cpus = nil
		for _, s := range servers {
			cpus = append(cpus, s.cpu)
		}
	}
	cpu := sumCPU(cpus)
	return func(ctx context.Context) error {
		start := time.Now()
		err := measure.WaitIdle(ctx, cpu)
		fmt.Fprintf(log, "bridges idle after %v\n", time.Since(start).Round(time.Millisecond))
		return err
	}
}

// newBenchKinesisFloorServerCmd is the hidden `bridge bench
// kinesis-floor-server` that bench connect --compare-floor starts.
func newBenchKinesisFloorServerCmd() *cobra.Command {
	return newBenchReferenceServerCmd("kinesis-floor-server", "Run the Kinesis floor (bench/kinesisfloor, the least a Kinesis source's copy needs) until interrupted",
		func() (http.Handler, func() error, error) {
			return &kinesisfloor.Handler{}, func() error { return nil }, nil
		})
}
