// Package server runs `bridge serve`: the order in which a bridge process
// comes up and goes down. It binds every port first, opens the store, builds
// the front ends on top of it and serves; Shutdown undoes this in reverse so
// that in-flight requests finish before the store closes under them.
//
// Front ends plug in through Config.NewKafka (a Service on the Kafka port)
// and Config.NewAWS (an http.Handler on the AWS port, shared by the Kinesis,
// SQS and S3-style APIs). Until they are set, placeholders answer.
package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/internal/buildinfo"
	"github.com/streambridge/bridge/security/kms"
	"github.com/streambridge/bridge/server/admin"
	"github.com/streambridge/bridge/store/embedded"
)

// Config says what to serve where. Zero values are not defaults (the CLI
// owns those): addresses must be set, and DataDir unless InMemory.
type Config struct {
	// DataDir holds everything the server keeps on disk; the embedded store
	// lives in DataDir/store. Created if missing, locked against a second
	// bridge. Ignored when InMemory is set.
	DataDir string
	// InMemory keeps the store in memory: nothing touches the disk and
	// everything is lost on Shutdown. For tests and demos.
	InMemory bool
	// Fsync is when an acknowledged write reaches the disk (--fsync):
	// embedded.FsyncAlways (the zero value) or embedded.FsyncOS, fsynced in
	// the background every FsyncInterval (zero: the store's default).
	Fsync         embedded.Fsync
	FsyncInterval time.Duration
	// MemoryLimit, when positive, is the memory the process may use; the
	// store sizes its caches and memtables to fit (embedded.PlanMemory).
	// The Go collector's limit is the caller's to set: it is the process's.
	MemoryLimit int64

	// KeyringFile is the KMS keyring (security/kms) whose keys wrap the
	// data keys of encrypted streams. Empty means DataDir/kms-keyring.json;
	// with InMemory the keyring is in memory too. Region and Account name
	// its keys' ARNs (arn:aws:kms:REGION:ACCOUNT:key/ID).
	KeyringFile     string
	Region, Account string

	// KafkaAddr, AWSAddr and AdminAddr are host:port to listen on; port 0
	// picks a free port (see Server.Addrs for the one picked).
	KafkaAddr string
	AWSAddr   string
	AdminAddr string
	// AdvertisedKafkaAddr is the host:port Kafka clients are told to connect
	// to. Empty derives it from KafkaAddr and the bound port, with
	// "localhost" for an unspecified bind host; never 0.0.0.0.
	AdvertisedKafkaAddr string
	// KafkaListeners, when set, replace KafkaAddr and AdvertisedKafkaAddr:
	// one Kafka port per entry, as Kafka's listeners and
	// advertised.listeners settings give them. The Kafka service is handed
	// each one as a NamedListener.
	KafkaListeners []KafkaListener

	// AWSTLS and AdminTLS, when set, make the AWS and admin ports serve
	// HTTPS only; nil serves plain HTTP. A config without NextProtos gets
	// h2 and http/1.1, so HTTP/2 clients (SubscribeToShard) negotiate it
	// with ALPN as they do with AWS. Usually a tlsconfig.Reloader's Config,
	// so renewed certificates are picked up without a restart.
	AWSTLS, AdminTLS *tls.Config

	// Logger receives the server's log lines; nil discards them.
	Logger *slog.Logger

	// NewKafka builds the service for the Kafka port. Nil serves a
	// placeholder that closes every connection.
	NewKafka func(Deps) (Service, error)
	// NewAWS builds the handler for the AWS port, usually an awsapi.Router
	// with the APIs registered. Nil answers every request with HTTP 400
	// UnknownOperationException in the request's protocol (InvalidAction in
	// the Query protocol). If the handler also has a Shutdown(context.Context)
	// error method, it is called as soon as the port starts shutting down,
	// alongside the drain, so that long polls and event streams (SQS
	// ReceiveMessage waits, SubscribeToShard) can end early instead of
	// holding the drain to its timeout.
	NewAWS func(Deps) (http.Handler, error)
	// Init, when set, runs once the store is open and before the front
	// ends are built, so /readyz is not ready and no client is served
	// until it returns: `bridge serve --init-file` creates its fixtures
	// here. Its Deps have no Registerer (what it builds is discarded), and
	// ctx is the start's. An error fails the start.
	Init func(context.Context, Deps) error
}

// KafkaListener is one named Kafka port.
type KafkaListener struct {
	Name string
	Addr string
	// AdvertisedAddr is derived as for AdvertisedKafkaAddr when empty.
	AdvertisedAddr string
}

// kafkaListeners returns the configured Kafka ports: KafkaListeners, or
// the one of KafkaAddr, named PLAINTEXT.
func (c *Config) kafkaListeners() []KafkaListener {
	if len(c.KafkaListeners) > 0 {
		return c.KafkaListeners
	}
	return []KafkaListener{{Name: "PLAINTEXT", Addr: c.KafkaAddr, AdvertisedAddr: c.AdvertisedKafkaAddr}}
}

func (c *Config) validate() error {
	var errs []error
	for _, a := range []struct{ flag, addr string }{
		{"--aws-addr", c.AWSAddr},
		{"--admin-addr", c.AdminAddr},
	} {
		if err := checkAddr(a.flag, a.addr); err != nil {
			errs = append(errs, err)
		}
	}
	for _, l := range c.kafkaListeners() {
		flag := "--kafka-addr"
		if len(c.KafkaListeners) > 0 {
			flag = "--kafka-listeners " + l.Name
		}
		if err := checkAddr(flag, l.Addr); err != nil {
			errs = append(errs, err)
		}
	}
	if !c.InMemory && c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is empty; set it, or use --in-memory"))
	}
	return errors.Join(errs...)
}

// Lifecycle states, in the only order they happen.
const (
	stateStarting int32 = iota
	stateReady
	stateStopping
	stateStopped
)

// component is one listening port and what serves it.
type component struct {
	name    string
	ln      net.Listener
	svc     Service       // nil until built
	started bool          // Serve was called; from then on svc owns ln
	done    chan struct{} // closed when Serve has returned
}

// Server is a running bridge. It is created by Start and ended by Shutdown.
type Server struct {
	log   *slog.Logger
	reg   *prometheus.Registry
	addrs Addrs

	lock    *dataDirLock
	store   *embedded.Store
	keyring *kms.Keyring

	admin, aws *component
	kafka      []*component // one per Kafka listener, sharing one Service

	state atomic.Int32

	done     chan struct{} // closed when serving stops: failure or Shutdown
	doneOnce sync.Once
	errMu    sync.Mutex
	err      error // first unexpected failure

	shutdownOnce sync.Once
	shutdownErr  error
}

// Start brings a server up and returns once it is ready: every port is
// bound, the store is open and every front end is serving. ctx bounds the
// start only; the running server ignores it. On error nothing is left
// running, bound or locked.
func Start(ctx context.Context, cfg Config) (_ *Server, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	info := buildinfo.Read()
	s := &Server{log: log, reg: admin.NewRegistry(info), done: make(chan struct{})}
	log.Info("starting bridge", "version", info.Version, "commit", info.Commit, "go", info.GoVersion)

	// Kafka first, then AWS and admin: a conflict is reported for the
	// first port in that order, as operators read the flags.
	kafkaListeners := cfg.kafkaListeners()
	var specs []listenSpec
	for _, l := range kafkaListeners {
		spec := listenSpec{"kafka", "--kafka-addr", l.Addr}
		if len(cfg.KafkaListeners) > 0 {
			spec = listenSpec{"kafka " + l.Name, "--kafka-listeners", l.Addr}
		}
		specs = append(specs, spec)
	}
	specs = append(specs, listenSpec{"aws", "--aws-addr", cfg.AWSAddr}, listenSpec{"admin", "--admin-addr", cfg.AdminAddr})
	lns, err := listenAll(specs)
	if err != nil {
		return nil, err
	}
	n := len(kafkaListeners)
	for i, l := range kafkaListeners {
		s.kafka = append(s.kafka, &component{name: specs[i].name, ln: namedListener{lns[i], l.Name}})
	}
	s.aws = &component{name: "aws", ln: withTLS(lns[n], cfg.AWSTLS)}
	s.admin = &component{name: "admin", ln: withTLS(lns[n+1], cfg.AdminTLS)}
	defer func() {
		if err != nil {
			log.Info("start failed; releasing ports, store and data dir", "err", err)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = s.stop(ctx)
		}
	}()

	s.addrs = Addrs{
		AWS:   s.aws.ln.Addr().String(),
		Admin: s.admin.ln.Addr().String(),
	}
	var localAdvertised []string
	for i, l := range kafkaListeners {
		advertised, local, err := advertisedKafkaAddr(l.AdvertisedAddr, l.Addr, s.kafka[i].ln.Addr())
		if err != nil {
			return nil, fmt.Errorf("kafka listener %s: %w", l.Name, err)
		}
		if local {
			localAdvertised = append(localAdvertised, advertised)
		}
		s.addrs.KafkaListeners = append(s.addrs.KafkaListeners, KafkaListenerAddrs{Name: l.Name, Bound: s.kafka[i].ln.Addr().String(), Advertised: advertised})
	}
	s.addrs.Kafka, s.addrs.AdvertisedKafka = s.addrs.KafkaListeners[0].Bound, s.addrs.KafkaListeners[0].Advertised

	// Admin first: /healthz answers and /readyz says "starting" while the
	// store opens, which can take a while after a crash.
	adminLog := log.With("listener", "admin")
	s.admin.svc = NewHTTPService(newHTTPServer(admin.NewHandler(s.reg, s.readyErr), adminLog, false))
	s.serve(s.admin)
	logListening(log, "admin", s.admin.ln)

	if err := s.openStore(ctx, cfg); err != nil {
		return nil, err
	}

	deps := func(name string) Deps {
		return Deps{Store: s.store, Keyring: s.keyring, Logger: log.With("listener", name), Registerer: s.reg, Addrs: s.addrs}
	}
	if cfg.Init != nil {
		if err := cfg.Init(ctx, Deps{Store: s.store, Keyring: s.keyring, Logger: log.With("component", "init"), Addrs: s.addrs}); err != nil {
			return nil, err
		}
	}
	var kafkaSvc Service
	if cfg.NewKafka != nil {
		if kafkaSvc, err = cfg.NewKafka(deps("kafka")); err != nil {
			return nil, fmt.Errorf("kafka front end: %w", err)
		}
	} else {
		kafkaSvc = newClosingKafka(log.With("listener", "kafka"))
	}
	for _, c := range s.kafka {
		c.svc = kafkaSvc
	}
	awsHandler := placeholderAWS(log.With("listener", "aws"))
	if cfg.NewAWS != nil {
		if awsHandler, err = cfg.NewAWS(deps("aws")); err != nil {
			return nil, fmt.Errorf("aws front end: %w", err)
		}
	}
	s.aws.svc = newAWSService(newHTTPServer(awsHandler, log.With("listener", "aws"), true), awsHandler)
	if err := interrupted(ctx); err != nil {
		return nil, err
	}

	for i, c := range s.kafka {
		s.serve(c)
		logListening(log, c.name, c.ln, "advertised", s.addrs.KafkaListeners[i].Advertised)
	}
	if len(localAdvertised) > 0 {
		log.Info("advertising localhost to Kafka clients; set --advertised-kafka-addr (or --kafka-advertised-listeners) for clients on other machines",
			"advertised", localAdvertised)
	}
	s.serve(s.aws)
	logListening(log, "aws", s.aws.ln)

	s.state.Store(stateReady)
	log.Info("ready", "kafka", s.addrs.Kafka, "aws", s.addrs.AWS, "admin", s.addrs.Admin)
	return s, nil
}

// keyringFile is the keyring's name in the data dir, unless
// Config.KeyringFile says otherwise.
const keyringFile = "kms-keyring.json"

// The keyring's ARNs when Config leaves them out: the CLI's defaults.
const (
	defaultRegion  = "us-east-1"
	defaultAccount = "000000000000"
)

// openKeyring opens the KMS keyring the store's encryption at rest uses.
func (s *Server) openKeyring(cfg Config) error {
	opts := []kms.Option{kms.WithLogger(s.log.With("component", "kms"))}
	region, account := cfg.Region, cfg.Account
	if region == "" {
		region = defaultRegion
	}
	if account == "" {
		account = defaultAccount
	}
	if cfg.InMemory && cfg.KeyringFile == "" {
		k, err := kms.InMemory(region, account, opts...)
		s.keyring = k
		return err
	}
	path := cfg.KeyringFile
	if path == "" {
		path = filepath.Join(cfg.DataDir, keyringFile)
	}
	k, err := kms.Open(path, region, account, opts...)
	if err != nil {
		return fmt.Errorf("open KMS keyring: %w", err)
	}
	s.log.Info("KMS keyring opened", "file", path)
	s.keyring = k
	return nil
}

func (s *Server) openStore(ctx context.Context, cfg Config) error {
	if err := interrupted(ctx); err != nil {
		return err
	}
	opts := embedded.Options{
		InMemory:      cfg.InMemory,
		Logger:        s.log.With("component", "store"),
		Registerer:    s.reg,
		Fsync:         cfg.Fsync,
		FsyncInterval: cfg.FsyncInterval,
		MemoryLimit:   cfg.MemoryLimit,
	}
	if !cfg.InMemory {
		dir, err := filepath.Abs(cfg.DataDir)
		if err != nil {
			return fmt.Errorf("data dir: %w", err)
		}
		if s.lock, err = lockDataDir(dir); err != nil {
			return err
		}
		opts.Dir = filepath.Join(dir, storeSubdir)
		opts.ObjectsDir = filepath.Join(dir, objectsSubdir)
	}
	if err := s.openKeyring(cfg); err != nil {
		return err
	}
	opts.Keyring = s.keyring
	s.log.Info("opening store", "dir", opts.Dir, "in_memory", opts.InMemory)
	st, err := embedded.Open(opts)
	if err != nil {
		if opts.InMemory {
			return fmt.Errorf("open in-memory store: %w", err)
		}
		return fmt.Errorf("open store in %s: %w", opts.Dir, err)
	}
	s.store = st
	// The store could not be interrupted while opening; honour a
	// cancellation that arrived meanwhile now that it can be closed.
	if err := interrupted(ctx); err != nil {
		return err
	}
	return nil
}

// interrupted returns the error for a start abandoned because ctx ended,
// keeping ctx.Err() for errors.Is and the cause (a signal, say) for the log.
func interrupted(ctx context.Context) error {
	err := ctx.Err()
	if err == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause != nil && cause != err {
		return fmt.Errorf("start interrupted (%v): %w", cause, err)
	}
	return fmt.Errorf("start interrupted: %w", err)
}

// serve runs c's Serve in its own goroutine. A Serve that returns before
// Shutdown began is a failure of the whole server: see Done.
func (s *Server) serve(c *component) {
	c.started = true
	c.done = make(chan struct{})
	go func() {
		defer close(c.done)
		err := c.svc.Serve(c.ln)
		if s.state.Load() >= stateStopping {
			return
		}
		if err == nil {
			err = errors.New("stopped serving")
		}
		s.fail(fmt.Errorf("%s listener: %w", c.name, err))
	}()
}

func (s *Server) fail(err error) {
	s.errMu.Lock()
	first := s.err == nil
	if first {
		s.err = err
	}
	s.errMu.Unlock()
	if first {
		s.log.Error("server failed; shut it down", "err", err)
	}
	s.doneOnce.Do(func() { close(s.done) })
}

// Addrs returns the addresses the server listens on and advertises.
func (s *Server) Addrs() Addrs { return s.addrs }

// Done is closed when the server stops serving: when a listener fails (Err
// says why) or when Shutdown begins. After a failure the caller must still
// call Shutdown, which drains the other front ends and closes the store.
func (s *Server) Done() <-chan struct{} { return s.done }

// Err returns the failure that closed Done, or nil if there was none.
func (s *Server) Err() error {
	s.errMu.Lock()
	defer s.errMu.Unlock()
	return s.err
}

// readyErr is /readyz: nil only while every front end serves on an open store.
func (s *Server) readyErr() error {
	if err := s.Err(); err != nil {
		return fmt.Errorf("failed: %w", err)
	}
	switch s.state.Load() {
	case stateReady:
		return nil
	case stateStarting:
		return errors.New("starting")
	default:
		return errors.New("shutting down")
	}
}

// Shutdown stops the server gracefully and waits until it has stopped:
//  1. /readyz turns 503 and the Kafka and AWS ports stop accepting;
//  2. in-flight requests finish; when ctx is done first, the connections
//     still open are closed (logged as a warning, not returned: the server
//     is then down all the same);
//  3. the store is closed, and the data dir unlocked;
//  4. the admin port closes last, so /healthz and /metrics stay up while
//     the front ends drain.
//
// It returns an error only if the store or the data dir lock could not be
// released cleanly. Calling it again returns the first result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() { s.shutdownErr = s.stop(ctx) })
	return s.shutdownErr
}

// stop is Shutdown's body, also used to undo a failed Start; every step
// skips what was never set up.
func (s *Server) stop(ctx context.Context) error {
	s.doneOnce.Do(func() { close(s.done) })
	if s.state.Swap(stateStopping) == stateReady {
		attrs := []any{}
		if dl, ok := ctx.Deadline(); ok {
			attrs = append(attrs, "drain_timeout", time.Until(dl).Round(time.Millisecond).String())
		}
		s.log.Info("shutting down: no new connections, waiting for in-flight requests", attrs...)
	}

	var wg sync.WaitGroup
	for _, c := range append([]*component{s.aws}, s.kafka...) {
		wg.Go(func() { s.stopComponent(ctx, c) })
	}
	wg.Wait()

	var errs []error
	if s.store != nil {
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close store: %w", err))
			s.log.Error("closing the store failed", "err", err)
		}
	}
	if err := s.lock.release(); err != nil {
		errs = append(errs, fmt.Errorf("unlock data dir: %w", err))
	}
	s.stopComponent(ctx, s.admin)

	s.state.Store(stateStopped)
	s.log.Info("stopped")
	return errors.Join(errs...)
}

func (s *Server) stopComponent(ctx context.Context, c *component) {
	if c == nil {
		return
	}
	if !c.started {
		// Built but never served (a later start step failed): the
		// contract allows Shutdown before Serve, so whatever the
		// constructor started is released too.
		if c.svc != nil {
			_ = c.svc.Shutdown(ctx)
		}
		_ = c.ln.Close()
		return
	}
	if err := c.svc.Shutdown(ctx); err != nil {
		if ctx.Err() != nil {
			s.log.Warn("shutdown timeout reached; closed connections still in flight", "listener", c.name)
		} else {
			s.log.Warn("shutdown of listener failed", "listener", c.name, "err", err)
		}
	}
	select {
	case <-c.done:
	case <-ctx.Done():
		// The Service contract says Serve returns once Shutdown has; allow a
		// moment, then go on rather than hang the process.
		select {
		case <-c.done:
		case <-time.After(time.Second):
			s.log.Error("listener did not stop; continuing shutdown without it", "listener", c.name)
		}
	}
}

// Registerer is the registry behind the admin port's /metrics, for what
// runs beside the front ends (the embedded Connect worker).
func (s *Server) Registerer() prometheus.Registerer { return s.reg }
