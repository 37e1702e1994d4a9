package main

// The embedded Connect worker of `bridge serve --connect-addr`: started once
// the server is ready, pointed at the bridge's own Kafka listener, its
// state in DATA_DIR/connect (in memory with --in-memory), its metrics on the
// admin port's /metrics; stopped before the server, so its tasks make their
// final commits while the Kafka port still serves.
//
// With --connect-group-id it is a distributed worker instead: its state is
// in the compacted internal topics on the bridge itself (so it survives a
// restart without DATA_DIR/connect, and with --in-memory only as long as
// the store), and `bridge connect` workers of the same group id, pointed
// at this bridge, join its Connect cluster.

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"path/filepath"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/server"
)

// connectStateSubdir is the embedded worker's directory in the data dir.
const connectStateSubdir = "connect"

// afterStart is something started on a ready server; the stop it returns
// runs before the server shuts down.
type afterStart func(ctx context.Context, srv *server.Server) (stop func(context.Context) error, err error)

// connectHook returns the afterStart of --connect-addr, or nil when it is
// empty.
func (o *serveOptions) connectHook(log *slog.Logger) afterStart {
	if o.connect.addr == "" {
		return nil
	}
	return func(ctx context.Context, srv *server.Server) (func(context.Context) error, error) {
		stateDir := ""
		if !o.store.inMemory && o.connect.groupID == "" {
			stateDir = filepath.Join(o.store.dataDir, connectStateSubdir)
		}
		sec, err := o.embeddedConnectSecurity(srv, log)
		if err != nil {
			return nil, err
		}
		w, err := startConnect(ctx, connectSettings{
			bootstrap:  sec.bootstrap,
			restAddr:   o.connect.addr,
			restTLS:    sec.rest.tls,
			restAuth:   sec.rest.auth,
			forwardTLS: sec.rest.client,
			stateDir:   stateDir,
			groupID:    o.connect.groupID,
			props:      o.connect.withDistributedProps(sec.props),
			registerer: srv.Registerer(),
			log:        log,
		}, nil)
		if err != nil {
			return nil, err
		}
		return w.Shutdown, nil
	}
}

// dialable turns a bound address into one to dial: an unspecified host
// (0.0.0.0, ::) becomes the loopback address.
func dialable(bound string) string {
	host, port, err := net.SplitHostPort(bound)
	if err != nil {
		return bound
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// workerProps are the worker properties the flags stand for: the internal
// topics' names in distributed mode, nothing in standalone mode.
func (o *connectOptions) withDistributedProps(props connect.Config) connect.Config {
	if o.groupID == "" {
		return props
	}
	out := maps.Clone(props)
	if out == nil {
		out = connect.Config{}
	}
	out["config.storage.topic"] = o.configTopic
	out["offset.storage.topic"] = o.offsetTopic
	out["status.storage.topic"] = o.statusTopic
	return out
}
