// Package netutil holds the accept loop the bridge's TCP servers share, so
// every port reacts alike to a machine running out of file descriptors or
// to its listener being closed.
package netutil

import (
	"errors"
	"log/slog"
	"net"
	"syscall"
	"time"
)

// The backoff after a failed Accept, as net/http's: short enough that a
// passing shortage costs little, capped so a lasting one does not spin.
const (
	minBackoff = 5 * time.Millisecond
	maxBackoff = time.Second
)

// AcceptLoop accepts connections on l and hands each to handle, which must
// not block for long (it starts the connection's goroutines). When Accept
// fails and stopped reports true, the owner closed l on purpose: AcceptLoop
// returns nil. A temporary failure (out of file descriptors or buffers, a
// connection aborted before it was accepted, a timeout) is logged and
// retried after a backoff of 5ms doubling to 1s, rather than taking the
// whole server down under load. Any other failure, a listener closed by
// someone else included, is returned.
func AcceptLoop(l net.Listener, log *slog.Logger, stopped func() bool, handle func(net.Conn)) error {
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if stopped() {
				return nil
			}
			if !Temporary(err) {
				return err
			}
			backoff = min(max(2*backoff, minBackoff), maxBackoff)
			log.Warn("accept failed; retrying", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		handle(c)
	}
}

// Temporary reports whether an Accept error is a passing condition rather
// than a dead listener. net.Error's Temporary is deprecated because it is
// vague for reads and writes; for Accept it still says what net/http relies
// on (EMFILE, ENFILE, ECONNABORTED, EAGAIN, ...). Buffer and memory
// shortages are added, and a closed listener never counts.
func Temporary(err error) bool {
	if errors.Is(err, net.ErrClosed) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var t interface{ Temporary() bool }
	if errors.As(err, &t) && t.Temporary() {
		return true
	}
	for _, e := range []error{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
