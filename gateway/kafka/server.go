package kafka

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/store/embedded"
)

// Config configures New.
type Config struct {
	// Store holds the topics. Required.
	Store *embedded.Store
	// Logger receives connection and request problems; nil discards them.
	Logger *slog.Logger
	// Registerer takes the bridge_kafka_* collectors; nil registers none.
	Registerer prometheus.Registerer
	// AdvertisedAddr is node 0's host:port in Metadata and DescribeCluster
	// responses: what clients connect to after bootstrapping. Required.
	AdvertisedAddr string
	// AutoCreateTopics creates unknown topics on Metadata and Produce, with
	// DefaultPartitions partitions (1 when zero).
	AutoCreateTopics  bool
	DefaultPartitions int
	// MaxRequestBytes bounds a request frame; 0 means 100 MiB.
	MaxRequestBytes int32
	// MaxConnections bounds open connections; 0 means 10000. Connections
	// over the limit are closed at once.
	MaxConnections int
}

// Server is the Kafka protocol server. Handlers reach the store, the
// configuration and the logger through it.
type Server struct {
	store *embedded.Store
	cfg   Config
	log   *slog.Logger
}

// New checks cfg and builds a server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("kafka: Config.Store is nil")
	}
	if cfg.AdvertisedAddr == "" {
		return nil, errors.New("kafka: Config.AdvertisedAddr is empty")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.DefaultPartitions <= 0 {
		cfg.DefaultPartitions = 1
	}
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 100 << 20
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = 10000
	}
	return &Server{store: cfg.Store, cfg: cfg, log: cfg.Logger}, nil
}
