package main

import (
	"cmp"
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
	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/server"
	"github.com/streambridge/bridge/store/embedded"
)

// newBenchCmd builds `bridge bench`, the load generators.
func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load generators for the bridge or any compatible server",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBenchKafkaCmd(), newBenchKinesisCmd(), newBenchSQSCmd(), newBenchS3Cmd(), newBenchConnectCmd(), newBenchKfakeServerCmd())
	cmd.AddCommand(newBenchS3ServerCmds()...)
	cmd.AddCommand(newBenchSQSFloorServerCmds()...)
	cmd.AddCommand(newBenchKinesisFloorServerCmd())
	return cmd
}

type benchKafkaOptions struct {
	cfg          kafkabench.Config
	embedded     bool
	dataDir      string
	compareKfake bool
	loopback     bool
	disk         bool
	inProcess    bool
	name         string
	security     []string
	fsync        []string
	encryption   bool
	repeat       int
	warmup       int
	quiet        bool
	profile      string
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
--compare-disk measures the ceiling for producing durably: the sequential
write speed of the file system of --data-dir (or of the temporary
directory), as dd bs=1M oflag=direct conv=fdatasync measures it, for as
many bytes as the load produces; the table adds produce's ratio to it.

--security plaintext,ssl,sasl_ssl runs the same load over each Kafka
security protocol of the --embedded bridge, as MSK offers them: ssl is
mutual TLS with a client certificate, sasl_ssl is SCRAM-SHA-512 over TLS.
The bridge is one process with a listener for each, a temporary CA and
certificates and a users file; the table adds the ratio of each mode to
plaintext. --encryption adds a turn over plaintext to a second topic
encrypted at rest (encryption.kms.key.id=alias/aws/kafka), and its ratio
to the clear one. --fsync os runs the --embedded bridge with --fsync os;
--fsync always,os starts one bridge per mode and compares them (plaintext
only). With --repeat N every target takes turns, after --warmup
unmeasured runs each, and the table shows medians.

  bridge bench kafka --embedded --compare-kfake
  bridge bench kafka --embedded --security plaintext,ssl,sasl_ssl --repeat 3
  bridge bench kafka --embedded --encryption --repeat 3
  bridge bench kafka --embedded --compare-kfake --fsync always,os --repeat 3
  bridge bench kafka --embedded --compare-kfake --record-size 10MiB --records 200
  bridge bench kafka --embedded --compare-disk --record-size 10MiB --records 200
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
	fs.BoolVar(&o.disk, "compare-disk", false, "also measure the durable produce ceiling: sequential direct writes of the same bytes to the file system of --data-dir (default: the temporary directory) and one fdatasync")
	fs.StringVar(&o.name, "name", "", `column name of the target in the table (default "bridge" with --embedded, else "target"; with several --security modes, or a secured one, the modes)`)
	fs.StringSliceVar(&o.security, "security", []string{securityPlaintext}, "with --embedded: the Kafka security protocols to run the load over, in turns: plaintext, ssl (mTLS), sasl_ssl (SCRAM-SHA-512 over TLS)")
	fs.StringSliceVar(&o.fsync, "fsync", []string{"always"}, "with --embedded: the bridge's --fsync mode, always or os; both (always,os) start a bridge for each, loaded in turns")
	fs.BoolVar(&o.encryption, "encryption", false, "with --embedded: also run the load over plaintext to a topic encrypted at rest (TOPIC-encrypted, under alias/aws/kafka) and print its ratio to the clear topic")
	fs.StringVar(&o.cfg.Topic, "topic", "bench", "topic to use; created if missing")
	fs.IntVar(&o.cfg.Partitions, "partitions", 3, "partitions of the topic when it is created")
	o.cfg.RecordSize = 1024
	fs.Var(sizeFlag{&o.cfg.RecordSize}, "record-size", "value size: bytes, or with a unit (64KiB, 10MiB); records of 512KiB and more raise the topic's max.message.bytes and the producers' batch size to fit")
	fs.Int64Var(&o.cfg.Records, "records", 100000, "records to produce (in all, over all producers)")
	fs.DurationVar(&o.cfg.Duration, "duration", 0, "produce for this long instead of a number of records")
	fs.IntVar(&o.cfg.Producers, "producers", 1, "producer clients")
	fs.IntVar(&o.cfg.Consumers, "consumers", 1, "consumer clients (they split the partitions)")
	fs.StringVar(&o.cfg.Acks, "acks", "all", "all (idempotent), 1 or 0")
	fs.StringVar(&o.cfg.Compression, "compression", "none", "none, gzip, snappy, lz4 or zstd")
	fs.BoolVar(&o.cfg.Transactional, "transactional", false, "transactional producers (a transactional id each) committing every --txn-records records; consumers read committed")
	fs.IntVar(&o.cfg.TxnRecords, "txn-records", 1000, "with --transactional: records per transaction and producer")
	fs.IntVar(&o.cfg.MaxBuffered, "max-buffered", 10000, "records each producer may have awaiting acknowledgement; latency includes waiting for room")
	fs.IntVar(&o.repeat, "repeat", 1, "run the load this many times per target (targets take turns) and report the median of each figure")
	fs.IntVar(&o.warmup, "warmup", 0, "unmeasured runs of the same load per target before the measured ones")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress lines on stderr")
	fs.StringVar(&o.profile, "cpu-profile", "", "write a CPU profile of this process (the load generator, and with --embedded --in-process the bridge too) to this file")
	return cmd
}

// kafkaTurn is one run of a target of bench kafka: a load's result, or a
// ceiling's MB/s (the loopback's, the disk's), which takes its turn with
// the servers so that it shares what the machine does meanwhile.
type kafkaTurn struct {
	res       kafkabench.Result
	ceiling   float64
	isCeiling bool
}

// Names of the ceilings' turns (benchTarget.name).
const (
	ceilingLoopback = "loopback"
	ceilingDisk     = "disk"
)

func runBenchKafka(ctx context.Context, o *benchKafkaOptions, stdout, stderr io.Writer) (err error) {
	if o.embedded == (len(o.cfg.Brokers) > 0) {
		return errors.New("give either --brokers host:port or --embedded")
	}
	if o.repeat < 1 {
		return fmt.Errorf("--repeat %d: want at least 1", o.repeat)
	}
	if o.warmup < 0 {
		return fmt.Errorf("--warmup %d: want 0 or more", o.warmup)
	}
	modes, err := parseSecurityModes(o.security)
	if err != nil {
		return err
	}
	if !o.embedded && !slices.Equal(modes, []string{securityPlaintext}) {
		return errors.New("--security other than plaintext needs --embedded (the bench writes the certificates and users)")
	}
	fsyncs, err := parseBenchFsync(o, modes)
	if err != nil {
		return err
	}
	if o.encryption && (!o.embedded || !slices.Contains(modes, securityPlaintext)) {
		return errors.New("--encryption needs --embedded and plaintext among --security (it is compared with the clear topic over plaintext)")
	}
	if !o.quiet {
		o.cfg.Progress = stderr
	}
	stopProfile, err := startCPUProfile(o.profile)
	if err != nil {
		return err
	}
	defer keepFirst(&err, stopProfile)

	// The targets in turn order, and how the load connects to each.
	var targets []benchTarget
	secure := map[string]func(*kafkabench.Config){}
	var ratios []kafkabench.Ratio
	bridge := 0       // the target kfake is compared with: the bridge over plaintext if measured
	var bridges []int // with several --fsync modes: each mode's bridge, all compared with kfake
	add := func(t benchTarget, sec func(*kafkabench.Config)) error {
		if slices.ContainsFunc(targets, func(o benchTarget) bool { return o.name == t.name }) {
			return fmt.Errorf("two targets named %q", t.name)
		}
		targets, secure[t.name] = append(targets, t), sec
		return nil
	}
	if !o.embedded {
		if err := add(benchTarget{name: cmp.Or(o.name, "target"), endpoint: strings.Join(o.cfg.Brokers, ",")}, nil); err != nil {
			return err
		}
	} else if len(fsyncs) > 1 {
		// One bridge per mode, plaintext only (parseBenchFsync).
		for _, f := range fsyncs {
			srv, err := startBenchBridgeArgs(ctx, o, []string{"--fsync", f}, []string{"kafka"}, stderr)
			if err != nil {
				return err
			}
			defer func() {
				if stopErr := srv.stop(); err == nil && stopErr != nil {
					err = fmt.Errorf("stopping the bridge: %w", stopErr)
				}
			}()
			if err := add(benchTarget{name: "fsync=" + f, endpoint: srv.addrs["kafka"], cpu: srv.cpu}, nil); err != nil {
				return err
			}
			bridges = append(bridges, len(targets)-1)
		}
		ratios = append(ratios, kafkabench.Ratio{Num: 1, Den: 0})
	} else {
		sec, err := newKafkaBenchSecurity(modes)
		if err != nil {
			return fmt.Errorf("--security: %w", err)
		}
		srv, err := startBenchBridge(ctx, o, sec, []string{"--fsync", fsyncs[0]}, stderr)
		if err != nil {
			return errors.Join(err, sec.cleanup())
		}
		defer func() {
			if stopErr := errors.Join(srv.stop(), sec.cleanup()); err == nil && stopErr != nil {
				err = fmt.Errorf("stopping the bridge: %w", stopErr)
			}
		}()
		for _, m := range modes {
			name := m // the column of each mode, and of a secured one alone
			if len(modes) == 1 && (o.name != "" || m == securityPlaintext) {
				name = cmp.Or(o.name, "bridge")
			}
			if err := add(benchTarget{name: name, endpoint: srv.addrs[sec.listener(m)], cpu: srv.cpu},
				func(cfg *kafkabench.Config) { sec.client(m, cfg) }); err != nil {
				return err
			}
		}
		if plain := slices.Index(modes, securityPlaintext); plain >= 0 {
			bridge = plain
			for i := range modes {
				if i != plain {
					ratios = append(ratios, kafkabench.Ratio{Num: i, Den: plain})
				}
			}
		}
		if o.encryption {
			// The same listener and load, to a topic encrypted at rest.
			key := "alias/aws/kafka"
			err := add(benchTarget{name: "encrypted", endpoint: srv.addrs[sec.listener(securityPlaintext)], cpu: srv.cpu},
				func(cfg *kafkabench.Config) {
					cfg.Topic += "-encrypted"
					cfg.TopicConfigs = map[string]*string{"encryption.kms.key.id": &key}
				})
			if err != nil {
				return err
			}
			ratios = append(ratios, kafkabench.Ratio{Num: len(targets) - 1, Den: bridge})
		}
	}
	if o.compareKfake {
		kfake, err := startBenchKfake(ctx, o)
		if err != nil {
			return err
		}
		defer kfake.stop()
		if err := add(benchTarget{name: "kfake", endpoint: kfake.addr, cpu: kfake.cpu}, nil); err != nil {
			return err
		}
		if bridges == nil {
			bridges = []int{bridge}
		}
		for _, b := range bridges {
			ratios = append(ratios, kafkabench.Ratio{Num: b, Den: len(targets) - 1})
		}
	}
	servers := len(targets)
	if o.loopback {
		if err := add(benchTarget{name: ceilingLoopback, endpoint: "127.0.0.1"}, nil); err != nil {
			return err
		}
	}
	diskDir := cmp.Or(o.dataDir, os.TempDir())
	if o.disk {
		if err := add(benchTarget{name: ceilingDisk, endpoint: diskDir}, nil); err != nil {
			return err
		}
	}
	// What the load produces, and so what a ceiling's turn moves: at
	// least 64 MiB, for a --duration run too.
	loadBytes := max(int64(o.cfg.RecordSize)*o.cfg.Records, 64<<20)

	turns, err := benchTurns(ctx, stdout, stderr, "kafka", targets, o.warmup, o.repeat,
		func(ctx context.Context, t benchTarget) (kafkaTurn, error) {
			// Targets after the servers are ceilings (a server may
			// be named like one).
			if slices.IndexFunc(targets, func(o benchTarget) bool { return o.name == t.name }) >= servers {
				measureCeiling := func() (float64, error) {
					mb, _, err := measure.Loopback(ctx, 1<<20, loadBytes, 1)
					return mb, err
				}
				if t.name == ceilingDisk {
					measureCeiling = func() (float64, error) { return measure.DiskWrite(ctx, diskDir, loadBytes) }
				}
				mb, err := measureCeiling()
				return kafkaTurn{ceiling: mb, isCeiling: true}, err
			}
			cfg := o.cfg
			cfg.Brokers, cfg.ServerCPU = strings.Split(t.endpoint, ","), t.cpu
			if sec := secure[t.name]; sec != nil {
				sec(&cfg)
			}
			res, err := kafkabench.Run(ctx, cfg)
			return kafkaTurn{res: res}, err
		},
		func(t *kafkaTurn, name string) { t.res.Target = name },
		func(runs []kafkaTurn) kafkaTurn {
			if runs[0].isCeiling {
				return kafkaTurn{ceiling: measure.MedianOf(runs, func(t kafkaTurn) float64 { return t.ceiling }), isCeiling: true}
			}
			res := make([]kafkabench.Result, len(runs))
			for i, t := range runs {
				res[i] = t.res
			}
			return kafkaTurn{res: kafkabench.Median(res)}
		})
	if err != nil {
		return err
	}
	results := make([]kafkabench.Result, servers)
	for i := range results {
		results[i] = turns[i].res
	}
	if err := kafkabench.WriteTableRatios(stdout, o.cfg, ratios, results...); err != nil {
		return err
	}
	for i, t := range targets[servers:] {
		mb := turns[servers+i].ceiling
		switch t.name {
		case ceilingLoopback:
			fmt.Fprintf(stdout, "\nloopback ceiling      %8.1f MB/s  (1 MiB frames over 127.0.0.1 into fresh buffers, median; no broker can be consumed faster here)\n", mb)
		case ceilingDisk:
			fmt.Fprintf(stdout, "\ndisk write ceiling    %8.1f MB/s  (1 MiB direct writes and one fdatasync in %s, median; no durable produce can be faster here)\n", mb, t.endpoint)
			for _, r := range results {
				if mb > 0 {
					fmt.Fprintf(stdout, "%-21s %8.2f x the disk's sequential write speed\n", r.Target+" produce", r.ProduceMBps()/mb)
				}
			}
		}
	}
	return nil
}

// startBenchBridge starts the bridge to load, with a Kafka listener for
// each security mode: a child process, or with --in-process one in this
// process.
func startBenchBridge(ctx context.Context, o *benchKafkaOptions, sec *kafkaBenchSecurity, extra []string, stderr io.Writer) (benchServer, error) {
	start := startChildBridge
	if o.inProcess {
		start = startEmbeddedBridge
	}
	return start(ctx, o.dataDir, append(slices.Clone(sec.serveArgs), extra...), sec.listeners(), stderr)
}

// startBenchBridgeArgs starts a bridge with serveArgs and a temporary data
// dir, as startBenchBridge.
func startBenchBridgeArgs(ctx context.Context, o *benchKafkaOptions, serveArgs, listeners []string, stderr io.Writer) (benchServer, error) {
	start := startChildBridge
	if o.inProcess {
		start = startEmbeddedBridge
	}
	return start(ctx, "", serveArgs, listeners, stderr)
}

// parseBenchFsync checks --fsync. Several modes mean a bridge each, so
// they take a temporary data dir each and plain Kafka only.
func parseBenchFsync(o *benchKafkaOptions, security []string) ([]string, error) {
	var fsyncs []string
	for _, f := range o.fsync {
		if _, err := embedded.ParseFsync(f); err != nil {
			return nil, fmt.Errorf("--fsync: %w", err)
		}
		if slices.Contains(fsyncs, f) {
			return nil, fmt.Errorf("--fsync: %s twice", f)
		}
		fsyncs = append(fsyncs, f)
	}
	switch {
	case len(fsyncs) == 0:
		return nil, errors.New("--fsync: want always, os or both")
	case !o.embedded && !slices.Equal(fsyncs, []string{"always"}):
		return nil, errors.New("--fsync needs --embedded (it is the started bridge's mode)")
	case len(fsyncs) > 1 && (o.dataDir != "" || o.encryption || !slices.Equal(security, []string{securityPlaintext})):
		return nil, errors.New("several --fsync modes start a bridge each: not with --data-dir, --encryption or --security other than plaintext")
	}
	return fsyncs, nil
}

// startBenchKfake starts the kfake reference: a child process, or with
// --in-process one in this process.
func startBenchKfake(ctx context.Context, o *benchKafkaOptions) (benchServer, error) {
	if !o.inProcess {
		return startChildReference(ctx, "kfake-server")
	}
	addr, stop, err := kafkabench.StartKfake()
	if err != nil {
		return benchServer{}, fmt.Errorf("kfake: %w", err)
	}
	return benchServer{addr: addr, stop: func() error { stop(); return nil }}, nil
}

// startEmbeddedBridge starts the same server `bridge serve` runs, with its
// default settings and then serveArgs, in this process on 127.0.0.1 ports
// the kernel picks and a data dir that is temporary unless dataDir is set,
// and returns the addresses of listeners, named as startChildBridge's are
// ("aws", "kafka", "kafka SSL").
func startEmbeddedBridge(ctx context.Context, dataDir string, serveArgs, listeners []string, stderr io.Writer) (_ benchServer, err error) {
	var so serveOptions
	fs := pflag.NewFlagSet("embedded", pflag.ContinueOnError)
	so.addFlags(fs) // serve's defaults
	if err := fs.Parse(serveArgs); err != nil {
		return benchServer{}, fmt.Errorf("embedded bridge: %w", err)
	}
	if err := so.check(); err != nil {
		return benchServer{}, fmt.Errorf("embedded bridge: %w", err)
	}
	cleanup := func() error { return nil }
	if dataDir == "" {
		if dataDir, err = os.MkdirTemp("", "bridge-bench-"); err != nil {
			return benchServer{}, err
		}
		tmp := dataDir
		cleanup = func() error { return os.RemoveAll(tmp) }
	}
	so.store.dataDir = dataDir
	so.kafka.addr, so.aws.addr, so.admin.addr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	cfg, err := so.serverConfig(newLogger(stderr, "text", "warn"))
	if err != nil {
		return benchServer{}, errors.Join(fmt.Errorf("embedded bridge: %w", err), cleanup())
	}
	srv, err := server.Start(ctx, cfg)
	if err != nil {
		return benchServer{}, errors.Join(fmt.Errorf("embedded bridge: %w", err), cleanup())
	}
	stop := func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		return errors.Join(srv.Shutdown(sctx), cleanup())
	}
	a := srv.Addrs()
	all := map[string]string{"aws": a.AWS, "kafka": a.Kafka}
	for _, l := range a.KafkaListeners {
		all["kafka "+l.Name] = l.Bound
	}
	addrs := map[string]string{}
	for _, name := range listeners {
		if addrs[name] = all[name]; addrs[name] == "" {
			return benchServer{}, errors.Join(fmt.Errorf("embedded bridge: no listener %q", name), stop())
		}
	}
	return benchServer{addr: addrs[listeners[0]], addrs: addrs, stop: stop}, nil
}
