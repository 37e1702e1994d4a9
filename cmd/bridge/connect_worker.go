package main

// A Connect worker: the herder, the runtime's worker and the REST API, as
// `bridge connect` runs it on its own and `bridge serve --connect-addr`
// runs it beside the bridge's front ends.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/plugins"
	"github.com/streambridge/bridge/connect/rest"
	"github.com/streambridge/bridge/connect/restsec"
	"github.com/streambridge/bridge/connect/runtime"
	"github.com/streambridge/bridge/internal/buildinfo"
)

// connectSettings say what a Connect worker talks to and where it keeps
// its state.
type connectSettings struct {
	bootstrap []string
	restAddr  string
	// restTLS, when set, serves the REST API over HTTPS; restAuth, when
	// set, asks every request for Basic credentials (connect_security.go).
	restTLS  *tls.Config
	restAuth restsec.Checker
	// forwardTLS is the TLS of requests forwarded to https workers of the
	// group (nil: the system's CAs, no client certificate).
	forwardTLS *tls.Config
	// stateDir holds connectors.json and offsets.json; empty keeps them in
	// memory.
	stateDir string
	// props are the worker properties (connect-standalone.properties).
	props connect.Config
	// groupID, when set, runs the worker in distributed mode: its state is
	// in the cluster's internal topics, stateDir is unused.
	groupID string
	// connectors are created (or updated) at start, as connect-standalone.sh
	// does with its connector files.
	connectors []connect.Config
	// registerer takes the per-connector and per-task metrics; nil keeps
	// them unregistered.
	registerer prometheus.Registerer
	log        *slog.Logger
}

// connectWorker is a running Connect worker.
type connectWorker struct {
	log    *slog.Logger
	herder workerHerder
	client *kgo.Client
	http   *http.Server
	ln     net.Listener
	served chan struct{} // closed when Serve has returned
	err    error         // Serve's result, once served is closed
}

// workerHerder is the standalone or the distributed herder.
type workerHerder interface {
	rest.Herder
	runtime.StatusListener
	Offsets() runtime.OffsetStore
	Start(herder.Worker) error
	Close()
}

// restRequestTimeout bounds a REST request's handling: Kafka's is 90 s.
const restRequestTimeout = 90 * time.Second

// startConnect starts a worker: its state is loaded, its stored connectors
// and those of s.connectors started, and its REST API served on s.restAddr.
func startConnect(ctx context.Context, s connectSettings, extraRoutes func(*http.ServeMux)) (_ *connectWorker, err error) {
	log := s.log.With("component", "connect")
	ln, err := net.Listen("tcp", s.restAddr)
	if err != nil {
		return nil, fmt.Errorf("connect REST listener %s: %w", s.restAddr, err)
	}
	defer func() {
		if err != nil {
			ln.Close()
		}
	}()
	if s.restTLS != nil {
		ln = tls.NewListener(ln, s.restTLS)
	}
	clients, err := newKafkaClients(s.bootstrap, s.props)
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(clients.admin...)
	if err != nil {
		return nil, fmt.Errorf("connect: kafka client: %w", err)
	}
	adm := kadm.NewClient(cl)
	reg := plugins.Registry()
	var h workerHerder
	if s.groupID != "" {
		var dcfg herder.DistributedConfig
		scheme := "http"
		if s.restTLS != nil {
			scheme = "https"
		}
		dcfg, err = distributedConfig(s.groupID, s.props, scheme, ln.Addr(), s.bootstrap, adm)
		if err == nil {
			dcfg.Registry, dcfg.Logger = reg, log
			dcfg.Client = clients.worker[1:] // past the seed brokers, which Brokers has
			h, err = herder.OpenDistributed(ctx, dcfg)
		}
	} else {
		warnStandaloneExactlyOnce(log, s.props)
		h, err = herder.New(herder.Config{
			StateDir: s.stateDir,
			Registry: reg,
			Groups:   herder.KafkaGroups{Admin: adm},
			WorkerID: ln.Addr().String(),
			ClusterID: func(ctx context.Context) (string, error) {
				m, err := adm.BrokerMetadata(ctx)
				return m.Cluster, err
			},
			Logger: log,
		})
	}
	if err != nil {
		cl.Close()
		return nil, err
	}
	flush, err := flushInterval(s.props)
	if err != nil {
		h.Close()
		cl.Close()
		return nil, err
	}
	wcfg := runtime.WorkerConfig{
		Registry:            reg,
		Kafka:               []kgo.Opt{kgo.SeedBrokers(s.bootstrap...)},
		Producer:            clients.producer[1:],
		Consumer:            clients.consumer[1:],
		Offsets:             h.Offsets(),
		Status:              h,
		Props:               s.props,
		OffsetFlushInterval: flush,
		Logger:              log,
	}
	if s.registerer != nil {
		wcfg.Metrics = runtime.NewMetrics(s.registerer)
	}
	if eos, ok := h.(interface {
		ExactlyOnce() *runtime.ExactlyOnceConfig
	}); ok {
		wcfg.ExactlyOnce = eos.ExactlyOnce() // nil unless enabled
	}
	w, err := runtime.NewWorker(wcfg)
	if err != nil {
		h.Close()
		cl.Close()
		return nil, err
	}
	if err := h.Start(w); err != nil {
		h.Close()
		cl.Close()
		return nil, err
	}
	c := &connectWorker{log: log, herder: h, client: cl, ln: ln, served: make(chan struct{})}
	defer func() {
		if err != nil {
			h.Close()
			cl.Close()
		}
	}()
	for _, cfg := range s.connectors {
		name := cfg[connect.NameConfig]
		if _, _, err := h.Put(ctx, name, cfg, true, ""); err != nil {
			return nil, fmt.Errorf("connector %s: %w", name, err)
		}
	}
	info := buildinfo.Read()
	mux := http.NewServeMux()
	if extraRoutes != nil {
		extraRoutes(mux)
	}
	mux.Handle("/", rest.New(rest.Config{Herder: h, Version: info.Version, Commit: info.Commit, Logger: log, ForwardClient: forwardClient(s.forwardTLS)}))
	var handler http.Handler = mux
	if s.restAuth != nil {
		handler = restsec.BasicAuth(mux, s.restAuth)
	}
	c.http = &http.Server{
		Handler:           http.TimeoutHandler(handler, restRequestTimeout, `{"error_code":500,"message":"Request timed out"}`),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		c.err = c.http.Serve(ln)
		close(c.served)
	}()
	log.Info("listening", "listener", "connect", "addr", ln.Addr().String(), "tls", s.restTLS != nil, "basic_auth", s.restAuth != nil, "bootstrap", strings.Join(s.bootstrap, ","), "state_dir", s.stateDir, "group_id", s.groupID)
	return c, nil
}

// forwardClient is the HTTP client of requests forwarded to other workers.
// It ignores HTTP(S)_PROXY, as Kafka's RestClient does: workers of a group
// reach one another directly, at the URLs they advertised.
func forwardClient(tlsConfig *tls.Config) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.TLSClientConfig = tlsConfig
	return &http.Client{Transport: t}
}

// flushInterval is offset.flush.interval.ms (0, the runtime's default, when
// unset).
func flushInterval(props connect.Config) (time.Duration, error) {
	v, ok := props["offset.flush.interval.ms"]
	if !ok {
		return 0, nil
	}
	ms, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil || ms <= 0 {
		return 0, fmt.Errorf("offset.flush.interval.ms %q: want a positive number of milliseconds", v)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Addr is the REST API's bound address.
func (c *connectWorker) Addr() string { return c.ln.Addr().String() }

// Shutdown stops serving the REST API, then stops every task (each makes
// its final commit) and connector, and closes the Kafka client. The stored
// state stays, so the next start resumes it.
func (c *connectWorker) Shutdown(ctx context.Context) error {
	err := c.http.Shutdown(ctx)
	c.herder.Close()
	c.client.Close()
	<-c.served
	if c.err != nil && !errors.Is(c.err, http.ErrServerClosed) {
		err = errors.Join(err, c.err)
	}
	c.log.Info("connect worker stopped")
	return err
}

// Done is closed when the REST API stops serving: after Shutdown, or
// when it failed (Err says why).
func (c *connectWorker) Done() <-chan struct{} { return c.served }

// Err is why the REST API stopped serving, once Done is closed.
func (c *connectWorker) Err() error { return c.err }
