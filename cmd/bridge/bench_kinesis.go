package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/bench/kinesisbench"
	"github.com/streambridge/bridge/bench/measure"
)

type benchKinesisOptions struct {
	cfg       kinesisbench.Config
	embedded  bool
	inProcess bool
	dataDir   string
	name      string
	compare   []string // name=URL or URL
	repeat    int
	warmup    int
	quiet     bool
	profile   string
}

// benchTarget is one endpoint a bench kinesis invocation loads.
type benchTarget struct {
	name, endpoint string
	// cpu reports the server's CPU seconds so far; nil when unknown (a
	// server elsewhere, or one sharing this process).
	cpu func() (float64, error)
}

func newBenchKinesisCmd() *cobra.Command {
	var o benchKinesisOptions
	cmd := &cobra.Command{
		Use:   "kinesis",
		Short: "Put then get records with the Kinesis API and report throughput and latency",
		Long: `Put records to a Kinesis stream (created with --shards shards if missing)
with PutRecords from --producers concurrent callers, then read exactly those
records back with GetRecords, one reader per shard, and report put and get
MB/s and records/s and the PutRecords call latency (p50 and p99). Throttled
calls and records (ProvisionedThroughputExceeded, LimitExceeded) are retried
with backoff and counted in the table. A stream the run created is deleted
after it (unless --keep-stream), so each run starts from an empty stream.

The target is any Kinesis endpoint (--endpoint), or a bridge started by this
command on 127.0.0.1 with a temporary data dir (--embedded): a child
process running bridge serve, or with --in-process one in this process.
--compare-endpoint [NAME=]URL (repeatable) runs the same load against other
endpoints in the same invocation and prints the ratios target/other; with
--repeat N the targets take turns and the table shows medians. Each target
first gets --warmup unmeasured runs of the same load (default 1): a server
that just started is still faulting in its memory and JIT-compiling.
scripts/kinesis-references.sh start runs kinesalite and kinesis-local to
compare with.

For a server on this machine in another process (the child bridge, or an
endpoint on 127.0.0.1 whose listening process /proc shows), the table adds
the server's CPU milliseconds per MB put and got: the figure that other
load on a shared machine disturbs least.

  bridge bench kinesis --embedded --compare-endpoint kinesalite=http://127.0.0.1:4567 --compare-endpoint kinesis-local=http://127.0.0.1:4568
  bridge bench kinesis --endpoint http://127.0.0.1:4566 --records 1000000 --producers 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchKinesis(cmd.Context(), &o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.cfg.Endpoint, "endpoint", "", "URL of the Kinesis endpoint to load, e.g. http://127.0.0.1:4566")
	fs.BoolVar(&o.embedded, "embedded", false, "start a bridge (bridge serve in a child process) on 127.0.0.1 with a temporary data dir and load its AWS port")
	fs.BoolVar(&o.inProcess, "in-process", false, "with --embedded: run the bridge in this process rather than in a child process (no server CPU figures)")
	fs.StringVar(&o.dataDir, "data-dir", "", "with --embedded: the data dir to use (default: a temporary one, removed afterwards)")
	fs.StringArrayVar(&o.compare, "compare-endpoint", nil, "[NAME=]URL of another Kinesis endpoint to run the same load against (repeatable)")
	fs.StringVar(&o.name, "name", "", `column name of the target in the table (default "bridge" with --embedded, else "target")`)
	fs.StringVar(&o.cfg.Region, "region", kinesisbench.DefaultRegion, "region the requests are signed for (credentials are dummy ones)")
	fs.StringVar(&o.cfg.Stream, "stream", "bench", "stream to use; created if missing")
	fs.IntVar(&o.cfg.Shards, "shards", 2, "shards of the stream when it is created")
	fs.IntVar(&o.cfg.RecordSize, "record-size", 1024, "data size of each record in bytes")
	fs.Int64Var(&o.cfg.Records, "records", 100000, "records to put (in all, over all producers)")
	fs.IntVar(&o.cfg.Producers, "producers", 4, "concurrent PutRecords callers")
	fs.IntVar(&o.cfg.Batch, "batch", 500, "records per PutRecords call (at most 500; fewer if they would pass 5 MiB)")
	fs.IntVar(&o.cfg.Limit, "limit", kinesisbench.MaxGetRecordsLimit, fmt.Sprintf("GetRecords Limit (records per call, at most %d)", kinesisbench.MaxGetRecordsLimit))
	fs.BoolVar(&o.cfg.KeepStream, "keep-stream", false, "keep the stream if the run created it (by default it is deleted after each run, so every run starts from an empty stream)")
	fs.IntVar(&o.repeat, "repeat", 1, "run the load this many times per target (targets take turns) and report the median of each figure")
	fs.IntVar(&o.warmup, "warmup", 1, "unmeasured runs of the same load per target before the measured ones")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&o.profile, "cpu-profile", "", "write a CPU profile of this process (the load generator, and with --embedded --in-process the bridge too) to this file")
	return cmd
}

// loadGeneratorGOGC is the collector setting of the load generator when the
// server runs elsewhere and GOGC is not set. aws-sdk-go-v2 reads each
// answer into a buffer it grows by doubling and drops, and encodes each
// PutRecords body likewise: with the default (100) the load generator
// spent 15 ms of CPU per MB put and 16 per MB got, mostly faulting in fresh
// memory, against 9-10 at 400, on the 2-core machine the README's figures
// come from; the CPU it saves goes to the server under test, whichever it
// is. Larger settings fault in more memory again (800: 11 and 15).
const loadGeneratorGOGC = 400

// parseCompareEndpoint reads a --compare-endpoint value: NAME=URL, or a
// URL named after its host:port.
func parseCompareEndpoint(v string) (benchTarget, error) {
	name, endpoint, named := strings.Cut(v, "=")
	if !named || strings.Contains(name, "/") {
		name, endpoint = "", v
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return benchTarget{}, fmt.Errorf("--compare-endpoint %q: want [NAME=]http://HOST:PORT", v)
	}
	if name == "" {
		name = u.Host
	}
	return benchTarget{name: name, endpoint: endpoint}, nil
}

// benchTargets returns the endpoints an invocation loads: the target
// (endpoint, or with embedded a bridge whose address is not known yet),
// named name or after what it is, then each --compare-endpoint value.
func benchTargets(name string, embedded bool, endpoint string, compare []string) ([]benchTarget, error) {
	if name == "" {
		name = "target"
		if embedded {
			name = "bridge"
		}
	}
	targets := []benchTarget{{name: name, endpoint: endpoint}}
	for _, v := range compare {
		t, err := parseCompareEndpoint(v)
		if err != nil {
			return nil, err
		}
		for _, other := range targets {
			if other.name == t.name {
				return nil, fmt.Errorf("--compare-endpoint %q: two targets named %q", v, t.name)
			}
		}
		targets = append(targets, t)
	}
	return targets, nil
}

func runBenchKinesis(ctx context.Context, o *benchKinesisOptions, stdout, stderr io.Writer) (err error) {
	if o.embedded == (o.cfg.Endpoint != "") {
		return errors.New("give either --endpoint URL or --embedded")
	}
	if o.repeat < 1 {
		return fmt.Errorf("--repeat %d: want at least 1", o.repeat)
	}
	if o.warmup < 0 {
		return fmt.Errorf("--warmup %d: want 0 or more", o.warmup)
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	}
	stopProfile, err := startCPUProfile(o.profile)
	if err != nil {
		return err
	}
	defer keepFirst(&err, stopProfile)
	if !(o.embedded && o.inProcess) {
		o.cfg.ClientCPU = measure.ProcessCPU(os.Getpid())
		if os.Getenv("GOGC") == "" {
			defer debug.SetGCPercent(debug.SetGCPercent(loadGeneratorGOGC))
		}
	}
	targets, err := benchTargets(o.name, o.embedded, o.cfg.Endpoint, o.compare)
	if err != nil {
		return err
	}

	results, err := runAWSBench(ctx, stdout, stderr,
		awsBench{api: "kinesis", embedded: o.embedded, inProcess: o.inProcess, dataDir: o.dataDir, warmup: o.warmup, repeat: o.repeat}, targets,
		func(ctx context.Context, endpoint string, serverCPU func() (float64, error)) (kinesisbench.Result, error) {
			cfg := o.cfg
			cfg.Endpoint, cfg.ServerCPU = endpoint, serverCPU
			return kinesisbench.Run(ctx, cfg)
		},
		func(r *kinesisbench.Result, name string) { r.Target = name },
		kinesisbench.Median)
	if err != nil {
		return err
	}
	return kinesisbench.WriteTable(stdout, o.cfg, results...)
}

// loopbackServerCPU returns the CPU time reader of the process serving
// endpoint when it is on this machine's loopback, else nil.
func loopbackServerCPU(endpoint string) func() (float64, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil
	}
	host, portStr := u.Hostname(), u.Port()
	ip := net.ParseIP(host)
	if host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil
	}
	pid, err := kinesisbench.ListenerPID(port)
	if err != nil || pid == os.Getpid() {
		return nil
	}
	return measure.ProcessCPU(pid)
}
