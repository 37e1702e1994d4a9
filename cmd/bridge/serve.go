package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/gateway/kinesis"
	"github.com/streambridge/bridge/server"
)

// serveOptions are the settings of `bridge serve`, one field per flag.
type serveOptions struct {
	configFile          string
	dataDir             string
	inMemory            bool
	kafkaAddr           string
	advertisedKafkaAddr string
	awsAddr             string
	adminAddr           string
	logFormat           choice
	logLevel            choice
	shutdownTimeout     time.Duration
	autoCreateTopics    bool
	defaultPartitions   int
	region              string
	account             string
	kinesisLimits       bool
	kinesisStateDelay   time.Duration
}

func (o *serveOptions) addFlags(fs *pflag.FlagSet) {
	*o = serveOptions{
		logFormat: choice{value: "text", allowed: []string{"text", "json"}},
		logLevel:  choice{value: "info", allowed: []string{"debug", "info", "warn", "error"}},
	}
	fs.StringVar(&o.configFile, configFlag, "", "YAML file of settings, keys as the flag names (data-dir: ./x)")
	fs.StringVar(&o.dataDir, "data-dir", "./bridge-data", "directory for the embedded store; created if missing")
	fs.BoolVar(&o.inMemory, "in-memory", false, "keep everything in memory and lose it on exit (tests, demos)")
	fs.StringVar(&o.kafkaAddr, "kafka-addr", ":9092", "address for Kafka clients")
	fs.StringVar(&o.advertisedKafkaAddr, "advertised-kafka-addr", "", "host:port Kafka clients are told to connect to (default: the bound address, localhost if bound to all interfaces)")
	fs.StringVar(&o.awsAddr, "aws-addr", ":4566", "address for the Kinesis, SQS and S3-style HTTP APIs")
	fs.StringVar(&o.adminAddr, "admin-addr", ":8080", "address for /healthz, /readyz and /metrics")
	fs.Var(&o.logFormat, "log-format", "log format: "+o.logFormat.list())
	fs.Var(&o.logLevel, "log-level", "log level: "+o.logLevel.list())
	fs.BoolVar(&o.autoCreateTopics, "auto-create-topics", true, "create unknown Kafka topics on first Metadata or Produce, as Kafka's auto.create.topics.enable")
	fs.IntVar(&o.defaultPartitions, "default-partitions", 1, "partitions of an auto-created topic, and of CreateTopics asking for the default (-1)")
	fs.StringVar(&o.region, "region", "us-east-1", "AWS region in the ARNs the AWS-style APIs return and accept")
	fs.StringVar(&o.account, "account", "000000000000", "12-digit AWS account id in the ARNs the AWS-style APIs return and accept")
	fs.BoolVar(&o.kinesisLimits, "kinesis-enforce-limits", false, "emulate Kinesis provisioned throughput per shard (1 MB/s or 1000 records/s in, 2 MB/s and 5 reads/s out)")
	fs.DurationVar(&o.kinesisStateDelay, "kinesis-state-delay", 0, "how long Kinesis streams stay CREATING, UPDATING or DELETING, so clients' waiters are exercised")
	fs.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long in-flight requests may run after SIGINT/SIGTERM before their connections are closed")
}

func (o *serveOptions) check() error {
	if o.defaultPartitions < 1 {
		return fmt.Errorf("--default-partitions %d: want at least 1", o.defaultPartitions)
	}
	if len(o.account) != 12 || strings.Trim(o.account, "0123456789") != "" {
		return fmt.Errorf("--account %q: want 12 digits", o.account)
	}
	if o.region == "" {
		return errors.New("--region: want a region name, e.g. us-east-1")
	}
	if o.kinesisStateDelay < 0 {
		return fmt.Errorf("--kinesis-state-delay %v: want zero or a positive duration", o.kinesisStateDelay)
	}
	if o.shutdownTimeout <= 0 {
		return fmt.Errorf("--shutdown-timeout %v: want a positive duration, e.g. 10s", o.shutdownTimeout)
	}
	return nil
}

func (o *serveOptions) serverConfig(log *slog.Logger) server.Config {
	return server.Config{
		DataDir:             o.dataDir,
		InMemory:            o.inMemory,
		KafkaAddr:           o.kafkaAddr,
		AdvertisedKafkaAddr: o.advertisedKafkaAddr,
		AWSAddr:             o.awsAddr,
		AdminAddr:           o.adminAddr,
		Logger:              log,
		NewKafka: func(d server.Deps) (server.Service, error) {
			return kafka.New(kafka.Config{
				Store:             d.Store,
				Logger:            d.Logger,
				Registerer:        d.Registerer,
				AdvertisedAddr:    d.Addrs.AdvertisedKafka,
				AutoCreateTopics:  o.autoCreateTopics,
				DefaultPartitions: o.defaultPartitions,
			})
		},
		NewAWS: func(d server.Deps) (http.Handler, error) {
			k, err := kinesis.New(kinesis.Config{
				Store:         d.Store,
				Logger:        d.Logger,
				Registerer:    d.Registerer,
				Region:        o.region,
				Account:       o.account,
				EnforceLimits: o.kinesisLimits,
				StateDelay:    o.kinesisStateDelay,
			})
			if err != nil {
				return nil, err
			}
			rt := awsapi.NewRouter(d.Logger)
			if err := rt.Register(awsapi.API{Name: "Kinesis", Handler: k, TargetPrefixes: []string{kinesis.TargetPrefix}}); err != nil {
				return nil, err
			}
			return rt, nil
		},
	}
}

// choice is a flag value limited to a fixed list, checked when it is set, so
// a bad value from any layer is reported with its source.
type choice struct {
	value   string
	allowed []string
}

func (c *choice) String() string { return c.value }
func (c *choice) Type() string   { return "string" }
func (c *choice) list() string   { return strings.Join(c.allowed, "|") }
func (c *choice) Set(v string) error {
	if !slices.Contains(c.allowed, v) {
		return fmt.Errorf("want one of %s", c.list())
	}
	c.value = v
	return nil
}

// newServeCmd builds `bridge serve`. run does the serving; tests replace it
// to look at the resolved options without starting anything.
func newServeCmd(lookupEnv func(string) (string, bool), run func(*cobra.Command, *serveOptions, layered) error) *cobra.Command {
	var opts serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve Kafka and AWS-style APIs on one store",
		Long: `Serve the Kafka protocol, the Kinesis/SQS/S3-style HTTP APIs and the admin
endpoints on one embedded store.

Every flag can also be set as an environment variable (--data-dir as
BRIDGE_DATA_DIR) or as a key in the --config YAML file (data-dir: ./x).
A flag beats the environment, which beats the file, which beats the default.

SIGINT or SIGTERM stops the server gracefully; a second one exits at once.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := applyLayers(cmd.Flags(), lookupEnv)
			if err != nil {
				return err
			}
			if err := opts.check(); err != nil {
				return err
			}
			return run(cmd, &opts, l)
		},
	}
	opts.addFlags(cmd.Flags())
	return cmd
}

// errLogged marks an error the logger has already reported, so main does
// not print it a second time outside the log format.
type errLogged struct{ error }

func (e errLogged) Unwrap() error { return e.error }

// forcedExitCode is the status after a second signal: the process did not
// shut down cleanly, though acknowledged writes are durable regardless.
const forcedExitCode = 2

// runServe is the real `bridge serve`: the logger, the signals, the server.
func runServe(cmd *cobra.Command, opts *serveOptions, l layered) error {
	log := newLogger(cmd.ErrOrStderr(), opts.logFormat.value, opts.logLevel.value)
	if l.configFile != "" {
		log.Info("config file", "path", l.configFile)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if src, ok := l.sources[f.Name]; ok {
			log.Debug("setting", "name", f.Name, "value", f.Value.String(), "from", string(src))
		}
	})

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	err := serve(cmd.Context(), opts.serverConfig(log), opts.shutdownTimeout, log, sigs, func() { os.Exit(forcedExitCode) })
	if err != nil {
		log.Error("exiting with an error", "err", err)
		return errLogged{err}
	}
	return nil
}

// serve runs a server until the first signal on sigs or until it fails, then
// shuts it down within timeout. A second signal calls forceExit. It returns
// nil after a signal-driven stop, even one that interrupted the start.
func serve(ctx context.Context, cfg server.Config, timeout time.Duration, log *slog.Logger, sigs <-chan os.Signal, forceExit func()) error {
	startCtx, cancelStart := context.WithCancelCause(ctx)
	defer cancelStart(nil)
	stop := make(chan struct{})     // closed on the first signal
	finished := make(chan struct{}) // closed when serve returns
	defer close(finished)
	go func() {
		select {
		case sig := <-sigs:
			log.Info("signal received; shutting down (send another to exit at once)", "signal", sig.String())
			cancelStart(fmt.Errorf("signal %s", sig))
			close(stop)
		case <-finished:
			return
		}
		select {
		case sig := <-sigs:
			log.Warn("second signal; exiting without waiting for in-flight requests", "signal", sig.String())
			forceExit()
		case <-finished:
		}
	}()

	srv, err := server.Start(startCtx, cfg)
	if err != nil {
		select {
		case <-stop:
			log.Info("start interrupted; exiting")
			return nil
		default:
			return fmt.Errorf("cannot start: %w", err)
		}
	}
	select {
	case <-stop:
	case <-srv.Done(): // a listener failed; srv.Err says which
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	return errors.Join(srv.Err(), srv.Shutdown(sctx))
}

// newLogger returns the process logger. Logs go to stderr: stdout is left to
// commands whose output is data (version, and admin verbs later).
func newLogger(w io.Writer, format, level string) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(level)) // choice already checked it
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
