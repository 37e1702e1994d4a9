package server

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/security/kms"
	"github.com/streambridge/bridge/store"
)

// Service is a front end that owns one listener: the Kafka protocol server
// implements it, and so does every HTTP front end through its http.Server.
//
// The contract is the one http.Server keeps, so the lifecycle can treat every
// port alike:
//   - Serve accepts on l until Shutdown is called, then returns nil (or
//     http.ErrServerClosed / net.ErrClosed). Any return before Shutdown is a
//     failure and stops the whole server. Serve closes l when it returns.
//   - Shutdown stops accepting, lets in-flight requests finish and returns
//     nil. When ctx is done first, it closes what is left and returns
//     ctx.Err(). It is called once, possibly before Serve has started.
type Service interface {
	Serve(l net.Listener) error
	Shutdown(ctx context.Context) error
}

// Deps is what a front end is built from. Front ends are built after the
// store is open and every port is bound, so they see real addresses (ports
// may be :0 in tests) and never an unopened store.
type Deps struct {
	// Store is the open store (the embedded one today). It stays open until
	// every front end has returned from Shutdown.
	Store store.Store
	// Keyring is the KMS keyring that wraps the data keys of encrypted
	// streams; the KMS API serves it.
	Keyring *kms.Keyring
	// Logger is already tagged with the front end's name.
	Logger *slog.Logger
	// Registerer takes the front end's Prometheus collectors; they appear on
	// the admin port's /metrics. Metric names start with bridge_.
	Registerer prometheus.Registerer
	// Addrs are the bound addresses, and the Kafka address to advertise in
	// Metadata and FindCoordinator responses.
	Addrs Addrs
}

// Addrs are the addresses a running server listens on.
type Addrs struct {
	Kafka string // bound Kafka listener, host:port
	// AdvertisedKafka is what Kafka clients are told to connect to: the
	// --advertised-kafka-addr setting, or derived from Kafka (see Config).
	AdvertisedKafka string
	// KafkaListeners are every Kafka port (the first is Kafka and
	// AdvertisedKafka), by name.
	KafkaListeners []KafkaListenerAddrs
	AWS            string // bound AWS-style HTTP listener (Kinesis, SQS, S3)
	Admin          string // bound admin listener (/healthz, /readyz, /metrics)
}

// KafkaListenerAddrs are the addresses of one named Kafka port.
type KafkaListenerAddrs struct {
	Name       string
	Bound      string
	Advertised string
}

// namedListener tells the Kafka service which of its listeners a port is
// (kafka.NamedListener).
type namedListener struct {
	net.Listener
	name string
}

func (l namedListener) ListenerName() string { return l.name }

// NewHTTPService wraps an http.Server so it keeps the Service contract:
// Serve returns nil after Shutdown, and a Shutdown whose ctx expires closes
// the connections still open instead of leaving them behind.
func NewHTTPService(srv *http.Server) Service { return httpService{srv} }

type httpService struct{ srv *http.Server }

func (h httpService) Serve(l net.Listener) error {
	err := h.srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

func (h httpService) Shutdown(ctx context.Context) error {
	err := h.srv.Shutdown(ctx)
	if err != nil {
		_ = h.srv.Close()
	}
	return err
}

// awsService is the AWS port: an http.Server whose handler may want to hear
// about the shutdown while the server drains (see Config.NewAWS).
type awsService struct {
	httpService
	handler interface {
		Shutdown(context.Context) error
	}
}

func newAWSService(srv *http.Server, h http.Handler) Service {
	hs, ok := h.(interface {
		Shutdown(context.Context) error
	})
	if !ok {
		return httpService{srv}
	}
	return awsService{httpService{srv}, hs}
}

func (a awsService) Shutdown(ctx context.Context) error {
	handlerErr := make(chan error, 1)
	go func() { handlerErr <- a.handler.Shutdown(ctx) }()
	err := a.httpService.Shutdown(ctx)
	return errors.Join(err, <-handlerErr)
}

// newHTTPServer returns an http.Server with the timeouts every bridge port
// needs: a client that never finishes its headers must not hold a connection
// (or a graceful shutdown) forever. There is deliberately no ReadTimeout or
// WriteTimeout: large uploads and long polls (SQS WaitTimeSeconds, Kinesis
// SubscribeToShard) are legitimate, and handlers bound their own work.
func newHTTPServer(h http.Handler, log *slog.Logger, h2c bool) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// net/http's own complaints (bad TLS handshakes, handler panics) go
		// through slog, so a JSON log stays all JSON.
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	if h2c {
		// The AWS SDK for JavaScript v3 talks HTTP/2 to Kinesis even on
		// http:// endpoints (prior knowledge, no Upgrade), so the AWS port
		// speaks both. HTTP/2 over TLS is on too, for when the port serves
		// HTTPS (Config.AWSTLS): without it a client that negotiated h2
		// with ALPN would get an HTTP/1 server.
		var p http.Protocols
		p.SetHTTP1(true)
		p.SetHTTP2(true)
		p.SetUnencryptedHTTP2(true)
		srv.Protocols = &p
	}
	return srv
}
