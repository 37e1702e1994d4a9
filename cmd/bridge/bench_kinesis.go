package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/bench/kinesisbench"
	"github.com/streambridge/bridge/server"
)

type benchKinesisOptions struct {
	cfg      kinesisbench.Config
	embedded bool
	dataDir  string
	name     string
	compare  []string // name=URL or URL
	repeat   int
	quiet    bool
}

// benchTarget is one endpoint a bench kinesis invocation loads.
type benchTarget struct {
	name, endpoint string
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
with backoff and counted in the table.

The target is any Kinesis endpoint (--endpoint), or a bridge started in this
process on 127.0.0.1 with a temporary data dir (--embedded).
--compare-endpoint [NAME=]URL (repeatable) runs the same load against other
endpoints in the same invocation and prints the ratios target/other; with
--repeat N the targets take turns and the table shows medians.
scripts/kinesis-references.sh start runs kinesalite and kinesis-local to
compare with.

  bridge bench kinesis --embedded --compare-endpoint kinesalite=http://127.0.0.1:4567 --compare-endpoint kinesis-local=http://127.0.0.1:4568
  bridge bench kinesis --endpoint http://127.0.0.1:4566 --records 1000000 --producers 8`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchKinesis(cmd.Context(), &o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.cfg.Endpoint, "endpoint", "", "URL of the Kinesis endpoint to load, e.g. http://127.0.0.1:4566")
	fs.BoolVar(&o.embedded, "embedded", false, "start a bridge in this process on 127.0.0.1 (temporary data dir) and load its AWS port")
	fs.StringVar(&o.dataDir, "data-dir", "", "with --embedded: the data dir to use (default: a temporary one, removed afterwards)")
	fs.StringArrayVar(&o.compare, "compare-endpoint", nil, "[NAME=]URL of another Kinesis endpoint to run the same load against (repeatable)")
	fs.StringVar(&o.name, "name", "", `column name of the target in the table (default "bridge" with --embedded, else "target")`)
	fs.StringVar(&o.cfg.Region, "region", "us-east-1", "region the requests are signed for (credentials are dummy ones)")
	fs.StringVar(&o.cfg.Stream, "stream", "bench", "stream to use; created if missing")
	fs.IntVar(&o.cfg.Shards, "shards", 2, "shards of the stream when it is created")
	fs.IntVar(&o.cfg.RecordSize, "record-size", 1024, "data size of each record in bytes")
	fs.Int64Var(&o.cfg.Records, "records", 100000, "records to put (in all, over all producers)")
	fs.IntVar(&o.cfg.Producers, "producers", 4, "concurrent PutRecords callers")
	fs.IntVar(&o.cfg.Batch, "batch", 500, "records per PutRecords call (at most 500; fewer if they would pass 5 MiB)")
	fs.IntVar(&o.cfg.Limit, "limit", 10000, "GetRecords Limit (records per call, at most 10000)")
	fs.IntVar(&o.repeat, "repeat", 1, "run the load this many times per target (targets take turns) and report the median of each figure")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	return cmd
}

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

func runBenchKinesis(ctx context.Context, o *benchKinesisOptions, stdout, stderr io.Writer) (err error) {
	if o.embedded == (o.cfg.Endpoint != "") {
		return errors.New("give either --endpoint URL or --embedded")
	}
	if o.repeat < 1 {
		return fmt.Errorf("--repeat %d: want at least 1", o.repeat)
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
	targets := []benchTarget{{name: name, endpoint: o.cfg.Endpoint}}
	for _, v := range o.compare {
		t, err := parseCompareEndpoint(v)
		if err != nil {
			return err
		}
		for _, other := range targets {
			if other.name == t.name {
				return fmt.Errorf("--compare-endpoint %q: two targets named %q", v, t.name)
			}
		}
		targets = append(targets, t)
	}

	if o.embedded {
		addr, stop, err := startEmbeddedBridgeAWS(ctx, o.dataDir, stderr)
		if err != nil {
			return err
		}
		defer func() {
			if stopErr := stop(); err == nil && stopErr != nil {
				err = fmt.Errorf("stopping the embedded bridge: %w", stopErr)
			}
		}()
		targets[0].endpoint = "http://" + addr
	}

	runs := map[string][]kinesisbench.Result{}
	for i := range o.repeat {
		for _, t := range targets {
			cfg := o.cfg
			cfg.Endpoint = t.endpoint
			fmt.Fprintf(stderr, "bench kinesis: %s at %s (run %d of %d)\n", t.name, t.endpoint, i+1, o.repeat)
			res, err := kinesisbench.Run(ctx, cfg)
			if err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
			res.Target = t.name
			runs[t.name] = append(runs[t.name], res)
		}
	}
	results := make([]kinesisbench.Result, len(targets))
	for i, t := range targets {
		results[i] = kinesisbench.Median(runs[t.name])
	}
	if o.repeat > 1 {
		fmt.Fprintf(stdout, "median of %d runs per target, taking turns\n", o.repeat)
	}
	return kinesisbench.WriteTable(stdout, o.cfg, results...)
}

// startEmbeddedBridgeAWS is startEmbeddedBridge (bench.go) for the AWS
// port: the server `bridge serve` runs, with its default settings, on
// 127.0.0.1 ports the kernel picks and a data dir that is temporary unless
// dataDir is set.
func startEmbeddedBridgeAWS(ctx context.Context, dataDir string, stderr io.Writer) (addr string, stop func() error, err error) {
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
	so.dataDir = dataDir
	so.kafkaAddr, so.awsAddr, so.adminAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	srv, err := server.Start(ctx, so.serverConfig(newLogger(stderr, "text", "warn")))
	if err != nil {
		return "", nil, errors.Join(fmt.Errorf("embedded bridge: %w", err), cleanup())
	}
	return srv.Addrs().AWS, func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return errors.Join(srv.Shutdown(sctx), cleanup())
	}, nil
}
