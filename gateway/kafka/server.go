package kafka

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/internal/netutil"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/security/users"
	"github.com/streambridge/bridge/store"
)

// Config configures New.
type Config struct {
	// Store holds the topics. Required.
	Store store.Store
	// Logger receives connection and request problems; nil discards them.
	Logger *slog.Logger
	// Registerer takes the bridge_kafka_* collectors; nil registers none.
	Registerer prometheus.Registerer
	// AdvertisedAddr is node 0's host:port in Metadata and DescribeCluster
	// responses: what clients connect to after bootstrapping. Required
	// unless every listener has an AdvertisedAddr of its own.
	AdvertisedAddr string
	// Listeners are the named listeners Serve may be handed (see Serve).
	// Empty means one PLAINTEXT listener advertising AdvertisedAddr.
	Listeners []Listener
	// SASL authenticates clients of SASL_PLAINTEXT and SASL_SSL listeners;
	// required when there is one.
	SASL *sasl.Authenticator
	// SASLSessionLifetime is Kafka's connections.max.reauth.ms: a SASL
	// session ends this long after authentication, or when its credential
	// expires if that is sooner; clients re-authenticate on the same
	// connection (KIP-368) and connections that do not are closed. Zero
	// means sessions last as long as their connection.
	SASLSessionLifetime time.Duration
	// SSLPrincipal names the principal of a client certificate on SSL
	// listeners (Kafka's ssl.principal.mapping.rules apply here). Nil uses
	// the certificate subject's distinguished name.
	SSLPrincipal func(*x509.Certificate) (string, error)
	// Authorizer decides what each principal may do; nil allows
	// everything. The ACL APIs (CreateAcls, DescribeAcls, DeleteAcls)
	// manage the bindings of an Authorizer that is also an ACLStore (an
	// *acl.Authorizer) and answer SECURITY_DISABLED otherwise, as a broker
	// without authorizer.class.name does.
	Authorizer Authorizer
	// SASLAuthorizers, by SASL mechanism name, replace Authorizer for the
	// principals that logged in with that mechanism: MSK IAM principals
	// (AWS_MSK_IAM, OAUTHBEARER) are decided by their IAM policies and
	// not by Kafka ACLs, as on MSK. A mechanism not named here uses
	// Authorizer.
	SASLAuthorizers map[string]Authorizer
	// Audit receives control-plane calls, failed authentications and
	// denied requests; nil records nothing.
	Audit *audit.Log
	// Users holds the SCRAM credentials DescribeUserScramCredentials and
	// AlterUserScramCredentials read and change; nil answers those APIs
	// with an error.
	Users *users.Store
	// AutoCreateTopics creates unknown topics on Metadata and Produce, with
	// DefaultPartitions partitions (1 when zero).
	AutoCreateTopics  bool
	DefaultPartitions int
	// Offload keeps records over a topic's offload threshold as objects
	// and restores them on Fetch (gateway/payloads); nil offloads nothing
	// and hands stored pointers to consumers as they are.
	Offload *payloads.Offloader
	// MaxRequestBytes bounds a request frame; 0 means 101 MiB, room for a
	// 100 MiB record batch and the request around it.
	MaxRequestBytes int32
	// MaxConnections bounds open connections; 0 means 10000. Connections
	// over the limit are closed at once.
	MaxConnections int
	// FetchSessionSlots bounds the fetch sessions (KIP-227) kept, Kafka's
	// max.incremental.fetch.session.cache.slots: 0 means 1000, a negative
	// value none (every fetch is then answered without a session).
	FetchSessionSlots int
	// Groups are the group coordinator's settings; zero fields take
	// Kafka's defaults.
	Groups GroupSettings
	// Transactions are the transaction coordinator's settings
	// (txn_expiry.go); zero fields take Kafka's defaults.
	Transactions TxnSettings
}

// Server is the Kafka protocol server. Handlers reach the store, the
// configuration and the logger through it; its methods are safe for
// concurrent use.
type Server struct {
	store store.Store
	cfg   Config
	log   *slog.Logger
	m     *metrics

	// clusterID is stable for the store's life (kept in its state area),
	// so clients that cache it across restarts see the same cluster.
	clusterID string

	users     *users.Store    // SCRAM credentials (Config.Users or the store's own)
	producers *producerStates // idempotent producer state, by partition
	pids      pidAllocator

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	shutdown  bool
	// draining is closed when Shutdown starts: readers stop taking new
	// requests and long polls answer at once with what they have.
	draining chan struct{}
	// forced is closed when Shutdown gives up waiting: every connection is
	// closed and its context canceled.
	forced chan struct{}
	wg     sync.WaitGroup // connection goroutines

	sessions *fetchSessions // fetch sessions (fetchsession.go)
	// readahead reads the payloads of the batch after what a fetch
	// restored, into pooled frames (nil without Config.Offload).
	readahead *payloads.Readahead
}

// readaheadBytes bounds the payloads read ahead for fetches at once.
const readaheadBytes = 64 << 20

// New checks cfg and builds a server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("kafka: Config.Store is nil")
	}
	if err := checkListeners(&cfg); err != nil {
		return nil, err
	}
	if err := cfg.Groups.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	if err := cfg.Transactions.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 101 << 20
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 10000
	}
	s := &Server{
		store:     withInternalTopics(cfg.Store), // internaltopic.go
		cfg:       cfg,
		log:       cfg.Logger,
		listeners: make(map[net.Listener]struct{}),
		conns:     make(map[*conn]struct{}),
		draining:  make(chan struct{}),
		forced:    make(chan struct{}),
	}
	s.producers = newProducerStates(s)
	s.pids.s = s
	if cfg.Offload != nil {
		s.readahead = cfg.Offload.NewReadahead(getFrame, putFrame, readaheadBytes)
	}
	var err error
	if s.users = cfg.Users; s.users == nil {
		if s.users, err = users.Open(context.Background(), cfg.Store, nil); err != nil {
			return nil, err
		}
	}
	if s.clusterID, err = LoadClusterID(context.Background(), cfg.Store); err != nil {
		return nil, err
	}
	if s.m, err = newMetrics(cfg.Registerer); err != nil {
		return nil, err
	}
	if s.sessions, err = newFetchSessions(cfg.FetchSessionSlots, cfg.Registerer); err != nil {
		return nil, err
	}
	if err := startTxnCoordinator(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Serve accepts Kafka connections on l until Shutdown, then returns nil. It
// closes l when it returns. Any other return is a failure of the listener.
// l serves the listener of Config.Listeners it names when it is a
// NamedListener, else the first one.
func (s *Server) Serve(l net.Listener) error {
	lc, err := s.listenerFor(l)
	if err != nil {
		l.Close()
		return err
	}
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners[l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, l)
		s.mu.Unlock()
		l.Close()
	}()

	return netutil.AcceptLoop(l, s.log, s.isShutdown, func(nc net.Conn) { s.accept(nc, lc) })
}

// accept starts a connection, or closes it at once when the server is at
// its connection limit or shutting down.
func (s *Server) accept(nc net.Conn, lc *Listener) {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if len(s.conns) >= s.cfg.MaxConnections {
		s.mu.Unlock()
		s.m.rejected.Inc()
		s.log.Warn("kafka connection limit reached; closing new connection",
			"remote", nc.RemoteAddr().String(), "limit", s.cfg.MaxConnections)
		nc.Close()
		return
	}
	c := newConn(s, nc, lc)
	s.conns[c] = struct{}{}
	s.wg.Add(2)
	s.mu.Unlock()
	s.m.open.Inc()
	go c.readLoop()
	go c.writeLoop()
}

// closed is called by a connection once both its goroutines are done.
func (s *Server) closed(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.m.open.Dec()
}

func (s *Server) isShutdown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.shutdown
}

// Shutdown stops accepting, stops reading new requests, lets the requests
// already read finish (long-poll fetches answer at once with what they
// have) and returns nil once every connection is closed. When ctx ends
// first it closes every connection, cancels what is still running and
// returns ctx.Err(). It may be called before Serve.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.shutdown {
		s.shutdown = true
		close(s.draining)
		for l := range s.listeners {
			l.Close()
		}
		for c := range s.conns {
			c.stopReading()
		}
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	select {
	case <-s.forced:
	default:
		close(s.forced)
	}
	for c := range s.conns {
		c.kill()
	}
	s.mu.Unlock()
	// Connection goroutines finish quickly now (pending appends still
	// complete, which the store needs); wait so the caller may close the
	// store after we return.
	<-done
	return ctx.Err()
}

// LoadClusterID returns the cluster id from the store's state area, making
// one on first use. It is exported so that what is built before the
// server (MSK IAM resource ARNs name the cluster by it) names the id the
// server will answer with.
func LoadClusterID(ctx context.Context, st store.State) (string, error) {
	const ns, key = "kafka", "cluster.id"
	v, err := st.Get(ctx, ns, key)
	if err == nil && len(v) > 0 {
		return string(v), nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	// The same shape as Kafka's: a UUID in base64url, 22 characters.
	cid := encodeClusterID(uuid.New())
	if err := st.Update(ctx, store.KV{Namespace: ns, Key: key, Value: []byte(cid)}); err != nil {
		return "", err
	}
	return cid, nil
}

func encodeClusterID(id [16]byte) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

// splitHostPort checks an advertised address: clients connect to it, so it
// must name a host and a real port.
func splitHostPort(addr string) (string, int32, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("kafka: AdvertisedAddr %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port <= 0 || port > 65535 {
		return "", 0, fmt.Errorf("kafka: AdvertisedAddr %q: want a port from 1 to 65535", addr)
	}
	if host == "" {
		return "", 0, fmt.Errorf("kafka: AdvertisedAddr %q: no host", addr)
	}
	return host, int32(port), nil
}
