package netutil

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// scriptedListener returns its errors from Accept in order, then a
// connection, then net.ErrClosed forever.
type scriptedListener struct {
	errs []error
	conn net.Conn
}

func (l *scriptedListener) Accept() (net.Conn, error) {
	if len(l.errs) > 0 {
		err := l.errs[0]
		l.errs = l.errs[1:]
		return nil, err
	}
	if c := l.conn; c != nil {
		l.conn = nil
		return c, nil
	}
	return nil, net.ErrClosed
}
func (l *scriptedListener) Close() error   { return nil }
func (l *scriptedListener) Addr() net.Addr { return &net.TCPAddr{} }

func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept", errno)}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return false }

func TestTemporary(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{acceptErr(syscall.EMFILE), true},
		{acceptErr(syscall.ENFILE), true},
		{acceptErr(syscall.ENOBUFS), true},
		{acceptErr(syscall.ENOMEM), true},
		{acceptErr(syscall.ECONNABORTED), true},
		{timeoutErr{}, true},
		{acceptErr(syscall.EINVAL), false},
		{&net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}, false},
		{errors.New("something else"), false},
		{fmt.Errorf("wrapped: %w", acceptErr(syscall.EMFILE)), true},
	} {
		if got := Temporary(tc.err); got != tc.want {
			t.Errorf("Temporary(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestAcceptLoopRetriesTemporaryErrors(t *testing.T) {
	c1, c2 := net.Pipe()
	defer c2.Close()
	l := &scriptedListener{errs: []error{acceptErr(syscall.EMFILE), acceptErr(syscall.ENOBUFS)}, conn: c1}
	var stopped atomic.Bool
	var handled int
	start := time.Now()
	err := AcceptLoop(l, slog.New(slog.DiscardHandler), stopped.Load, func(c net.Conn) {
		handled++
		c.Close()
		stopped.Store(true) // the owner shuts down: the next failure is the close
	})
	if err != nil {
		t.Fatalf("AcceptLoop after stop = %v, want nil", err)
	}
	if handled != 1 {
		t.Fatalf("handled %d connections, want 1", handled)
	}
	// Two retries: 5ms then 10ms of backoff.
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Errorf("returned after %v: the retries did not back off", d)
	}
}

func TestAcceptLoopReturnsHardErrors(t *testing.T) {
	for _, err := range []error{acceptErr(syscall.EINVAL), &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}} {
		l := &scriptedListener{errs: []error{err}}
		got := AcceptLoop(l, slog.New(slog.DiscardHandler), func() bool { return false }, func(net.Conn) { t.Fatal("no connection expected") })
		if !errors.Is(got, err) {
			t.Errorf("AcceptLoop = %v, want %v", got, err)
		}
	}
}
