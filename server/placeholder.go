package server

// Stand-ins for the front ends that have not landed yet. Each keeps its
// port's contract honest in the meantime: a Kafka client gets a closed
// connection instead of a hang, an AWS client gets a protocol-shaped error
// instead of a 404 page. They remain the answer when a Config leaves
// NewKafka or NewAWS nil.

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/internal/netutil"
)

// closingKafka accepts Kafka connections and closes them at once. It replaces
// nothing and is replaced by gateway/kafka.
type closingKafka struct {
	log *slog.Logger

	mu     sync.Mutex
	ln     net.Listener
	closed bool
}

func newClosingKafka(log *slog.Logger) *closingKafka { return &closingKafka{log: log} }

func (k *closingKafka) Serve(ln net.Listener) error {
	k.mu.Lock()
	if k.closed {
		k.mu.Unlock()
		_ = ln.Close()
		return nil
	}
	k.ln = ln
	k.mu.Unlock()
	defer ln.Close()

	return netutil.AcceptLoop(ln, k.log, k.isClosed, func(c net.Conn) {
		k.log.Debug("kafka protocol not implemented yet; closing connection", "remote", c.RemoteAddr().String())
		_ = c.Close()
	})
}

func (k *closingKafka) Shutdown(context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.closed = true
	if k.ln != nil {
		_ = k.ln.Close()
	}
	// Connections are closed as soon as they are accepted: nothing in flight.
	return nil
}

func (k *closingKafka) isClosed() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.closed
}

// placeholderAWS answers every request on the AWS port the way AWS answers
// an operation it does not know, in the request's own protocol (awsapi's
// router with no API registered), so SDKs surface an error they can read
// instead of a parse error.
func placeholderAWS(log *slog.Logger) http.Handler { return awsapi.NewRouter(log) }
