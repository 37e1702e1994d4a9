package main

// `bridge bench s3`: puts and gets objects through the S3-style API, of
// the bridge or any S3 endpoint, and against gofakes3 (an in-memory S3
// emulator in Go, the reference) in the same invocation.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/bench/s3bench"
	"github.com/streambridge/bridge/bench/s3floor"
)

type benchS3Options struct {
	cfg             s3bench.Config
	embedded        bool
	inProcess       bool
	dataDir         string
	name            string
	compare         []string
	compareGofakes3 bool
	compareFloor    bool
	repeat, warmup  int
	quiet           bool
}

func newBenchS3Cmd() *cobra.Command {
	var o benchS3Options
	cmd := &cobra.Command{
		Use:   "s3",
		Short: "Put and get objects with the S3 API and report throughput and latency",
		Long: `Put --objects objects of --object-size bytes into a new bucket from
--concurrency workers (the SDK's default: aws-chunked bodies with a CRC32
trailer), get each back whole, then delete them and the bucket. Reports
MB/s, objects/s, the latency of the calls (p50, p99) and the server's CPU per
MB.

The target is any S3 endpoint (--endpoint, path-style) or a bridge started by
this command with a temporary data dir (--embedded). --compare-gofakes3 runs
the same load against gofakes3 (an in-memory S3 emulator written in Go, in a
child process) and prints the ratios; --compare-floor adds the floor
(bench/s3floor: remembers each object's size, hashes and stores nothing;
no S3 server is faster under this load); --compare-endpoint [NAME=]URL adds
other endpoints. With --repeat N the targets take turns.

  bridge bench s3 --embedded --compare-gofakes3 --object-size 16777216 --repeat 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchS3(cmd.Context(), &o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.cfg.Endpoint, "endpoint", "", "S3 endpoint URL to load, e.g. http://127.0.0.1:4566")
	fs.BoolVar(&o.embedded, "embedded", false, "start a bridge on 127.0.0.1 with a temporary data dir and load it")
	fs.BoolVar(&o.inProcess, "in-process", false, "run the --embedded bridge in this process (no server CPU figures)")
	fs.StringVar(&o.dataDir, "data-dir", "", "with --embedded: the data dir to use (default: a temporary one)")
	fs.StringVar(&o.name, "name", "", `column name of the target (default "bridge" with --embedded, else "target")`)
	fs.StringArrayVar(&o.compare, "compare-endpoint", nil, "[NAME=]URL of another S3 endpoint to run the same load against (repeatable)")
	fs.BoolVar(&o.compareGofakes3, "compare-gofakes3", false, "also run the load against gofakes3 (in-memory S3 emulator) in a child process")
	fs.BoolVar(&o.compareFloor, "compare-floor", false, "also run the load against the floor (bench/s3floor: object sizes in memory, no bytes kept, nothing hashed) in a child process")
	fs.StringVar(&o.cfg.Region, "region", s3bench.DefaultRegion, "region the requests are signed for (credentials are dummy ones)")
	fs.StringVar(&o.cfg.Bucket, "bucket", "bench", "start of the bucket's name; each run adds a random suffix")
	fs.IntVar(&o.cfg.ObjectSize, "object-size", 1<<20, "size of each object in bytes")
	fs.IntVar(&o.cfg.Objects, "objects", 200, "objects each phase puts or gets")
	fs.IntVar(&o.cfg.Concurrency, "concurrency", 4, "concurrent workers")
	fs.IntVar(&o.repeat, "repeat", 1, "run the load this many times per target (targets take turns) and report medians")
	fs.IntVar(&o.warmup, "warmup", 1, "unmeasured runs per target before the measured ones")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	return cmd
}

func runBenchS3(ctx context.Context, o *benchS3Options, stdout, stderr io.Writer) (err error) {
	if o.embedded == (o.cfg.Endpoint != "") {
		return errors.New("give either --endpoint URL or --embedded")
	}
	if o.repeat < 1 || o.warmup < 0 {
		return fmt.Errorf("--repeat %d --warmup %d: want at least 1 and 0", o.repeat, o.warmup)
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	}
	targets, err := benchTargets(o.name, o.embedded, o.cfg.Endpoint, o.compare)
	if err != nil {
		return err
	}
	var refs []benchReference
	if o.compareGofakes3 {
		refs = append(refs, benchReference{"gofakes3", "gofakes3-server"})
	}
	if o.compareFloor {
		refs = append(refs, benchReference{"floor", "s3-floor-server"})
	}
	more, stop, err := startReferenceTargets(ctx, refs)
	if err != nil {
		return err
	}
	defer keepFirst(&err, stop)
	targets = append(targets, more...)
	results, err := runAWSBench(ctx, stdout, stderr,
		awsBench{api: "s3", embedded: o.embedded, inProcess: o.inProcess, dataDir: o.dataDir, warmup: o.warmup, repeat: o.repeat}, targets,
		func(ctx context.Context, endpoint string, serverCPU func() (float64, error)) (s3bench.Result, error) {
			cfg := o.cfg
			cfg.Endpoint, cfg.ServerCPU = endpoint, serverCPU
			return s3bench.Run(ctx, cfg)
		},
		func(r *s3bench.Result, name string) { r.Target = name },
		s3bench.Median)
	if err != nil {
		return err
	}
	return s3bench.WriteTable(stdout, o.cfg, results...)
}

// newBenchS3ServerCmds are the hidden `bridge bench gofakes3-server`
// (gofakes3 with its in-memory backend, the S3 bench's reference) and
// `bridge bench s3-floor-server` (bench/s3floor).
func newBenchS3ServerCmds() []*cobra.Command {
	return []*cobra.Command{
		newBenchReferenceServerCmd("gofakes3-server", "Run gofakes3, an in-memory S3 emulator (the bench reference), until interrupted",
			func() (http.Handler, func() error, error) {
				return gofakes3.New(s3mem.New()).Server(), func() error { return nil }, nil
			}),
		newBenchReferenceServerCmd("s3-floor-server", "Run the S3 floor (bench/s3floor, the least the S3 bench's load needs) until interrupted",
			func() (http.Handler, func() error, error) {
				return &s3floor.Handler{}, func() error { return nil }, nil
			}),
	}
}
