package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
)

// SecurityProtocol is a listener's security.protocol, as Kafka names them:
// whether the connection is TLS and whether clients must authenticate with
// SASL before anything else.
type SecurityProtocol uint8

const (
	Plaintext SecurityProtocol = iota
	SSL
	SASLPlaintext
	SASLSSL
)

var securityProtocolNames = [...]string{"PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"}

func (p SecurityProtocol) String() string {
	if int(p) < len(securityProtocolNames) {
		return securityProtocolNames[p]
	}
	return fmt.Sprintf("SecurityProtocol(%d)", p)
}

// ParseSecurityProtocol reads a protocol name, case-insensitively as Kafka
// does.
func ParseSecurityProtocol(s string) (SecurityProtocol, error) {
	for i, name := range securityProtocolNames {
		if strings.EqualFold(s, name) {
			return SecurityProtocol(i), nil
		}
	}
	return 0, fmt.Errorf("unknown security protocol %q; want one of %s", s, strings.Join(securityProtocolNames[:], ", "))
}

// TLS says whether connections are TLS.
func (p SecurityProtocol) TLS() bool { return p == SSL || p == SASLSSL }

// SASL says whether clients must authenticate with SASL first.
func (p SecurityProtocol) SASL() bool { return p == SASLPlaintext || p == SASLSSL }

// Listener is one named Kafka listener, the way Kafka's listeners,
// listener.security.protocol.map and advertised.listeners describe it.
// Clients are told, in Metadata, FindCoordinator and DescribeCluster, the
// advertised address of the listener they came in on, so a client of the
// TLS port is never sent to the plaintext one.
type Listener struct {
	Name           string
	Protocol       SecurityProtocol
	AdvertisedAddr string
	// TLS serves SSL and SASL_SSL listeners. Its ClientAuth decides
	// whether clients present certificates (mTLS); their principal comes
	// from Config.SSLPrincipal.
	TLS *tls.Config

	host string
	port int32
}

// NamedListener is a net.Listener that says which of Config.Listeners it
// serves; see Server.Serve.
type NamedListener interface {
	net.Listener
	ListenerName() string
}

// checkListeners fills in the advertised host and port of each listener
// and checks that what each protocol needs is configured.
func checkListeners(cfg *Config) error {
	if len(cfg.Listeners) == 0 {
		cfg.Listeners = []Listener{{Name: "PLAINTEXT", Protocol: Plaintext, AdvertisedAddr: cfg.AdvertisedAddr}}
	}
	seen := map[string]bool{}
	for i := range cfg.Listeners {
		l := &cfg.Listeners[i]
		if l.Name == "" || seen[l.Name] {
			return fmt.Errorf("kafka: listener %d: name %q is empty or used twice", i, l.Name)
		}
		seen[l.Name] = true
		if l.AdvertisedAddr == "" {
			l.AdvertisedAddr = cfg.AdvertisedAddr
		}
		host, port, err := splitHostPort(l.AdvertisedAddr)
		if err != nil {
			return fmt.Errorf("kafka: listener %s: %w", l.Name, err)
		}
		l.host, l.port = host, port
		if l.Protocol.TLS() && l.TLS == nil {
			return fmt.Errorf("kafka: listener %s is %s but has no TLS configuration", l.Name, l.Protocol)
		}
		if l.Protocol.SASL() && cfg.SASL == nil {
			return fmt.Errorf("kafka: listener %s is %s but no SASL mechanism is enabled", l.Name, l.Protocol)
		}
	}
	return nil
}

// listenerFor returns the configuration of the listener l serves: the one
// it names, or the first.
func (s *Server) listenerFor(l net.Listener) (*Listener, error) {
	nl, ok := l.(NamedListener)
	if !ok {
		return &s.cfg.Listeners[0], nil
	}
	for i := range s.cfg.Listeners {
		if s.cfg.Listeners[i].Name == nl.ListenerName() {
			return &s.cfg.Listeners[i], nil
		}
	}
	return nil, fmt.Errorf("kafka: no listener named %q is configured", nl.ListenerName())
}

// sslPrincipal names the user of a client certificate: Config.SSLPrincipal,
// or the subject's distinguished name.
func (s *Server) sslPrincipal(cert *x509.Certificate) (string, error) {
	if s.cfg.SSLPrincipal != nil {
		return s.cfg.SSLPrincipal(cert)
	}
	return cert.Subject.String(), nil
}
