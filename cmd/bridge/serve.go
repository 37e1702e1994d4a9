package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/gateway/kinesis"
	gatewaykms "github.com/streambridge/bridge/gateway/kms"
	"github.com/streambridge/bridge/gateway/payloads"
	gateways3 "github.com/streambridge/bridge/gateway/s3"
	"github.com/streambridge/bridge/gateway/sqs"
	"github.com/streambridge/bridge/security/awscreds"
	"github.com/streambridge/bridge/security/sigv4"
	"github.com/streambridge/bridge/server"
)

// serverConfig is the server.Config the options describe. It fails only
// when TLS is on and its files do not load.
func (o *serveOptions) serverConfig(log *slog.Logger) (server.Config, error) {
	if _, err := o.security.authz.openAudit(log); err != nil {
		return server.Config{}, fmt.Errorf("--audit-log: %w", err)
	}
	var awsTLS, adminTLS *tls.Config
	if o.kafka.listeners.usesTLS() {
		// Loaded now, not when the Kafka front end is built, so a bad
		// certificate stops the start before any port is bound.
		r, err := o.security.tlsReloader(log)
		if err != nil {
			return server.Config{}, err
		}
		if r == nil {
			return server.Config{}, errors.New("--kafka-listeners has SSL or SASL_SSL listeners: set --tls-cert-file and --tls-key-file (bridge certs writes a development set)")
		}
	}
	if o.security.tls.aws || o.security.tls.admin {
		r, err := o.security.tlsReloader(log)
		if err != nil {
			return server.Config{}, err
		}
		// Each port gets its own copy; both offer HTTP/2 and HTTP/1.1
		// (SubscribeToShard needs HTTP/2, the AWS CLI speaks HTTP/1.1).
		for _, c := range []struct {
			on  bool
			cfg **tls.Config
		}{{o.security.tls.aws, &awsTLS}, {o.security.tls.admin, &adminTLS}} {
			if c.on {
				*c.cfg = r.Config()
				(*c.cfg).NextProtos = []string{"h2", "http/1.1"}
			}
		}
	}
	var initFixtures func(context.Context, server.Deps) error
	if o.initFile != "" {
		// Read and checked now, so a bad file stops the start before any
		// port is bound; applied once the store is open.
		f, err := loadFixtures(o.initFile)
		if err != nil {
			return server.Config{}, err
		}
		initFixtures = o.initFixtures(f)
	}
	return server.Config{
		Init:                initFixtures,
		AWSTLS:              awsTLS,
		AdminTLS:            adminTLS,
		DataDir:             o.store.dataDir,
		InMemory:            o.store.inMemory,
		Fsync:               o.store.fsyncMode(),
		FsyncInterval:       o.store.fsyncInterval,
		KeyringFile:         o.security.kmsKeyringFile,
		Region:              o.aws.region,
		Account:             o.aws.account,
		KafkaAddr:           o.kafka.addr,
		AdvertisedKafkaAddr: o.kafka.advertisedAddr,
		KafkaListeners:      o.kafka.listeners.serverListeners(),
		AWSAddr:             o.aws.addr,
		AdminAddr:           o.admin.addr,
		Logger:              log,
		NewKafka: func(d server.Deps) (server.Service, error) {
			cfg := kafka.Config{
				Store:             d.Store,
				Logger:            d.Logger,
				Registerer:        d.Registerer,
				AdvertisedAddr:    d.Addrs.AdvertisedKafka,
				AutoCreateTopics:  o.kafka.autoCreateTopics,
				DefaultPartitions: o.kafka.defaultPartitions,
				Offload:           newOffloader(d),
				Groups:            o.kafka.groups.settings(),
				Transactions:      o.kafka.txn.settings(),
			}
			if cfg.FetchSessionSlots = o.kafka.fetchSessionSlots; cfg.FetchSessionSlots == 0 {
				cfg.FetchSessionSlots = -1 // none; the Config's 0 is the default
			}
			if err := o.kafkaSecurity(context.Background(), &cfg, d.Store, d.Addrs); err != nil {
				return nil, err
			}
			return kafka.New(cfg)
		},
		NewAWS: func(d server.Deps) (http.Handler, error) {
			authz, err := o.security.awsAuthorizer(o.aws.account, d.Logger)
			if err != nil {
				return nil, err
			}
			k, err := kinesis.New(kinesis.Config{
				Store:         d.Store,
				Logger:        d.Logger,
				Registerer:    d.Registerer,
				Region:        o.aws.region,
				Account:       o.aws.account,
				EnforceLimits: o.aws.kinesis.enforceLimits,
				StateDelay:    o.aws.kinesis.stateDelay,
				Authorizer:    authz,
				Audit:         o.security.authz.audit,
				Offload:       newOffloader(d),
			})
			if err != nil {
				return nil, err
			}
			q, err := sqs.New(sqs.Config{
				Store:        d.Store,
				Logger:       d.Logger,
				Registerer:   d.Registerer,
				Region:       o.aws.region,
				Account:      o.aws.account,
				QueueURLHost: o.aws.sqs.queueURLHost,
				Authorizer:   authz,
				Audit:        o.security.authz.audit,
				Offload:      newOffloader(d),
			})
			if err != nil {
				return nil, err
			}
			// The keyring the store encrypts with, so keys made through
			// the KMS API are the ones StartStreamEncryption names.
			km, err := gatewaykms.New(gatewaykms.Config{
				Keyring:    d.Keyring,
				Logger:     d.Logger,
				Authorizer: authz,
				Audit:      o.security.authz.audit,
			})
			if err != nil {
				return nil, err
			}
			apis := []awsapi.API{
				{Name: "Kinesis", Handler: k, TargetPrefixes: []string{kinesis.TargetPrefix},
					Signing: sigv4.Service{Name: "kinesis"}, AuthWording: awsapi.AuthJSON},
				{Name: "SQS", Handler: q, TargetPrefixes: []string{sqs.TargetPrefix}, Actions: sqs.Actions(), QueryFallback: true,
					Signing: sigv4.Service{Name: "sqs"}, AuthWording: awsapi.AuthQuery},
				{Name: "KMS", Handler: km, TargetPrefixes: []string{gatewaykms.TargetPrefix},
					Signing: sigv4.Service{Name: gatewaykms.SigningName}, AuthWording: awsapi.AuthJSON},
			}
			// The S3-style API serves the store's objects.
			s3h, err := gateways3.New(gateways3.Config{
				Objects:      d.Store,
				Region:       o.aws.region,
				Account:      o.aws.account,
				VirtualHosts: o.aws.s3.virtualHosts,
				Logger:       d.Logger,
				Authorizer:   authz,
				Audit:        o.security.authz.audit,
			})
			if err != nil {
				return nil, err
			}
			// Every REST request that is not another API's (no
			// X-Amz-Target, no Query Action) is S3's: path-style
			// /bucket/key, or virtual-host style.
			apis = append(apis, awsapi.API{Name: "S3", Handler: s3h, PathPrefixes: []string{"/"},
				Signing: gateways3.Signing(), AuthWording: awsapi.AuthS3, StreamedBody: true})
			rt := awsapi.NewRouter(d.Logger)
			for _, api := range apis {
				if err := rt.Register(api); err != nil {
					return nil, err
				}
			}
			if err := o.security.authenticateAWS(rt, o.aws.region, d.Logger); err != nil {
				return nil, err
			}
			return rt, nil
		},
	}, nil
}

// newOffloader keeps the front ends' large payloads in the store's
// objects, with the default policy where a stream sets none.
func newOffloader(d server.Deps) *payloads.Offloader {
	return payloads.New(d.Store, payloads.Policy{Threshold: payloads.DefaultThreshold}, d.Logger)
}

// authenticateAWS turns on SigV4 checks on the AWS port when
// --aws-credentials-file names a file: it is loaded now, so a bad file
// stops the start with its line in the error.
func (o *securityOptions) authenticateAWS(rt *awsapi.Router, region string, log *slog.Logger) error {
	if o.awsCredentialsFile == "" {
		return nil
	}
	creds, err := o.awsCredentials()
	if err != nil {
		return err
	}
	rt.SetAuthenticator(&sigv4.Verifier{Credentials: creds, Region: region})
	rt.SetAudit(o.authz.audit)
	log.Info("aws: SigV4 signatures required", "credentials_file", o.awsCredentialsFile, "keys", creds.Len(), "region", region)
	return nil
}

// awsCredsOnce loads --aws-credentials-file once for the ports that check
// AWS signatures (the AWS port's SigV4, the Kafka port's MSK IAM), which
// the server may build concurrently.
type awsCredsOnce struct {
	once  sync.Once
	store *awscreds.Store
	err   error
}

// awsCredentials is the Store of --aws-credentials-file, loaded on first
// use.
func (o *securityOptions) awsCredentials() (*awscreds.Store, error) {
	o.awsCreds.once.Do(func() {
		o.awsCreds.store, o.awsCreds.err = awscreds.Load(o.awsCredentialsFile)
		if o.awsCreds.err != nil {
			o.awsCreds.err = fmt.Errorf("--aws-credentials-file: %w", o.awsCreds.err)
		}
	})
	return o.awsCreds.store, o.awsCreds.err
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
	cmd.Flags().SortFlags = false // --help lists each group's flags as declared
	opts.addFlags(cmd.Flags())
	cmd.SetUsageFunc(groupedUsage(opts.groups()))
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
	log := newLogger(cmd.ErrOrStderr(), opts.admin.logFormat.value, opts.admin.logLevel.value)
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
	if opts.security.tls.unused() && !opts.kafka.listeners.usesTLS() && !opts.connect.tls {
		log.Warn("--tls-cert-file is set but no listener serves TLS; set --aws-tls, --admin-tls, --connect-tls or an SSL or SASL_SSL Kafka listener")
	}
	cfg, err := opts.serverConfig(log)
	if err == nil {
		logAllocatorEnv(log)
		cfg.MemoryLimit = applyMemoryLimit(&opts.store.memoryLimit, log)
		var hooks []afterStart
		if h := opts.connectHook(log); h != nil {
			hooks = append(hooks, h)
		}
		err = serve(cmd.Context(), cfg, opts.admin.shutdownTimeout, log, sigs, func() { os.Exit(forcedExitCode) }, hooks...)
	} else {
		err = fmt.Errorf("cannot start: %w", err)
	}
	if err != nil {
		log.Error("exiting with an error", "err", err)
		return errLogged{err}
	}
	return nil
}

// serve runs a server until the first signal on sigs or until it fails, then
// shuts it down within timeout. A second signal calls forceExit. It returns
// nil after a signal-driven stop, even one that interrupted the start.
// after are started once the server is ready and stopped, in reverse
// order, before it shuts down.
func serve(ctx context.Context, cfg server.Config, timeout time.Duration, log *slog.Logger, sigs <-chan os.Signal, forceExit func(), after ...afterStart) error {
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
	var stops []func(context.Context) error
	var startErr error
	for _, start := range after {
		stopIt, err := start(startCtx, srv)
		if err != nil {
			select {
			case <-stop:
				log.Info("start interrupted; exiting")
			default:
				startErr = fmt.Errorf("cannot start: %w", err)
			}
			break
		}
		stops = append(stops, stopIt)
	}
	if startErr == nil && len(stops) == len(after) {
		select {
		case <-stop:
		case <-srv.Done(): // a listener failed; srv.Err says which
		}
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	errs := []error{startErr, srv.Err()}
	for i := len(stops) - 1; i >= 0; i-- {
		errs = append(errs, stops[i](sctx))
	}
	return errors.Join(append(errs, srv.Shutdown(sctx))...)
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
