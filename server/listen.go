package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"syscall"
)

// listenSpec names a port the way an operator configured it, so a bind error
// points at the setting to change.
type listenSpec struct {
	name string // kafka, aws, admin
	flag string // --kafka-addr, ...
	addr string
}

// listenAll binds every port before anything is served: a port conflict
// fails the start in milliseconds, before the store is opened and before any
// client saw a half-started server. On error nothing stays bound.
func listenAll(specs []listenSpec) ([]net.Listener, error) {
	lns := make([]net.Listener, 0, len(specs))
	for _, s := range specs {
		ln, err := net.Listen("tcp", s.addr)
		if err != nil {
			for _, l := range lns {
				_ = l.Close()
			}
			hint := ""
			if errors.Is(err, syscall.EADDRINUSE) {
				hint = " (is another bridge or broker running? stop it or choose another " + s.flag + ")"
			}
			return nil, fmt.Errorf("%s listener: cannot listen on %s %s: %w%s", s.name, s.flag, s.addr, err, hint)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// checkAddr rejects addresses net.Listen would misread. An empty address is an
// error rather than "any port on every interface".
func checkAddr(flag, addr string) error {
	if addr == "" {
		return fmt.Errorf("%s is empty; want host:port, e.g. :9092 or 127.0.0.1:0", flag)
	}
	if _, port, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s %q: %w; want host:port", flag, addr, err)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("%s %q: port %q is not a number from 0 to 65535", flag, addr, port)
	}
	return nil
}

// advertisedKafkaAddr decides what Kafka clients are told to connect to.
//
// Kafka clients connect to the bootstrap address only once; after that they
// use the address in the Metadata response. Advertising the bind address
// verbatim would send them to 0.0.0.0 or to port 0, so:
//   - a configured address is used as given (it must name a host and a port);
//   - otherwise the bound port is used with the bind host, and an unspecified
//     bind host (":9092", "0.0.0.0", "::") becomes "localhost", which is right
//     for clients on this machine. Remote clients need the setting, and the
//     server logs that.
func advertisedKafkaAddr(configured, bindAddr string, bound net.Addr) (addr string, local bool, err error) {
	if configured != "" {
		host, port, err := net.SplitHostPort(configured)
		if err != nil {
			return "", false, fmt.Errorf("--advertised-kafka-addr %q: %w; want host:port", configured, err)
		}
		if host == "" || isUnspecified(host) {
			return "", false, fmt.Errorf("--advertised-kafka-addr %q: clients cannot connect to an unspecified host; name this machine", configured)
		}
		if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 {
			return "", false, fmt.Errorf("--advertised-kafka-addr %q: want a port from 1 to 65535", configured)
		}
		return configured, false, nil
	}
	host, _, err := net.SplitHostPort(bindAddr)
	if err != nil {
		return "", false, err
	}
	tcp, ok := bound.(*net.TCPAddr)
	if !ok {
		return "", false, fmt.Errorf("kafka listener has a %T address, want TCP", bound)
	}
	port := strconv.Itoa(tcp.Port)
	if host == "" || isUnspecified(host) {
		return net.JoinHostPort("localhost", port), true, nil
	}
	return net.JoinHostPort(host, port), false, nil
}

func isUnspecified(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

func logListening(log *slog.Logger, name string, ln net.Listener, extra ...any) {
	attrs := []any{"listener", name, "addr", ln.Addr().String()}
	if _, ok := ln.(tlsListener); ok {
		attrs = append(attrs, "tls", true)
	}
	log.Info("listening", append(attrs, extra...)...)
}

// tlsListener is a listener withTLS wrapped, so that the log can say which
// ports speak TLS.
type tlsListener struct{ net.Listener }

// withTLS wraps ln to handshake TLS with cfg, or returns it as is for a nil
// cfg. The handshake itself happens in the serving goroutine of each
// connection (http.Server bounds it by its ReadHeaderTimeout), so a slow
// or failing client never holds up Accept.
func withTLS(ln net.Listener, cfg *tls.Config) net.Listener {
	if cfg == nil {
		return ln
	}
	cfg = cfg.Clone()
	if len(cfg.NextProtos) == 0 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	return tlsListener{tls.NewListener(ln, cfg)}
}
