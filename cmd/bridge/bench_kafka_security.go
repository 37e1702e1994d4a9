package main

// `bench kafka --security`: the same load over the Kafka security
// protocols MSK offers (PLAINTEXT on 9092, mutual TLS on 9094, SASL/SCRAM
// over TLS on 9096), against one embedded bridge with a listener for each.
// One process and one store serve every mode, so the turns differ in
// nothing but the listener the load generator connects to, and the ratios
// to PLAINTEXT are the cost of the security alone.

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streambridge/bridge/bench/kafkabench"
	"github.com/streambridge/bridge/security/certs"
)

// The values of --security, Kafka's security protocols in lower case.
const (
	securityPlaintext = "plaintext"
	securitySSL       = "ssl"
	securitySASLSSL   = "sasl_ssl"
)

var securityModes = []string{securityPlaintext, securitySSL, securitySASLSSL}

// benchUser is the SCRAM user the bench writes into the users file.
const benchUser = "bench"

// parseSecurityModes checks --security values: known, each once, in the
// order given (the order of the turns and of the table's columns).
func parseSecurityModes(values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		m := strings.ToLower(strings.TrimSpace(v))
		if !slices.Contains(securityModes, m) {
			return nil, fmt.Errorf("--security %q: want %s", v, strings.Join(securityModes, ", "))
		}
		if slices.Contains(out, m) {
			return nil, fmt.Errorf("--security lists %s twice", m)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.New("--security: give at least one of " + strings.Join(securityModes, ", "))
	}
	return out, nil
}

// kafkaBenchSecurity is what the embedded bridge and the load generator
// need for the modes of one invocation: a temporary directory with a
// development CA, the server's certificate, a client certificate (for
// mTLS) and a users file with a SCRAM-SHA-512 user.
type kafkaBenchSecurity struct {
	dir        string // "" when every mode is plaintext
	modes      []string
	serveArgs  []string // for bridge serve
	roots      *x509.CertPool
	clientCert tls.Certificate
	password   string
}

// newKafkaBenchSecurity writes what modes need. With plaintext alone it
// writes nothing and the bridge keeps its one default Kafka port, as
// before --security existed.
func newKafkaBenchSecurity(modes []string) (_ *kafkaBenchSecurity, err error) {
	s := &kafkaBenchSecurity{modes: modes}
	if slices.Equal(modes, []string{securityPlaintext}) {
		return s, nil
	}
	var listeners []string
	for _, m := range modes {
		listeners = append(listeners, strings.ToUpper(m)+"://127.0.0.1:0")
	}
	s.serveArgs = []string{"--kafka-listeners", strings.Join(listeners, ",")}
	if !slices.Contains(modes, securitySSL) && !slices.Contains(modes, securitySASLSSL) {
		return s, nil
	}
	if s.dir, err = os.MkdirTemp("", "bridge-bench-security-"); err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.cleanup())
		}
	}()
	if _, err := certs.Write(certs.Options{Dir: s.dir, Clients: []string{benchUser}}); err != nil {
		return nil, err
	}
	caPEM, err := os.ReadFile(filepath.Join(s.dir, certs.CAFile))
	if err != nil {
		return nil, err
	}
	s.roots = x509.NewCertPool()
	if !s.roots.AppendCertsFromPEM(caPEM) {
		return nil, errors.New("bench security: the CA written does not parse")
	}
	cf, kf := certs.ClientFiles(benchUser)
	if s.clientCert, err = tls.LoadX509KeyPair(filepath.Join(s.dir, cf), filepath.Join(s.dir, kf)); err != nil {
		return nil, err
	}
	s.serveArgs = append(s.serveArgs,
		"--tls-cert-file", filepath.Join(s.dir, certs.ServerFile), "--tls-key-file", filepath.Join(s.dir, certs.ServerKeyFile))
	if slices.Contains(modes, securitySSL) {
		// Client certificates required, as on MSK's mTLS port; SASL_SSL
		// listeners ignore this (KIP-684).
		s.serveArgs = append(s.serveArgs,
			"--tls-client-ca-file", filepath.Join(s.dir, certs.CAFile), "--tls-client-auth", "required")
	}
	if slices.Contains(modes, securitySASLSSL) {
		secret := make([]byte, 16)
		_, _ = rand.Read(secret)
		s.password = hex.EncodeToString(secret)
		path := filepath.Join(s.dir, "users.yaml")
		users := fmt.Sprintf("users:\n  - name: %s\n    password: %s\n    mechanisms: [SCRAM-SHA-512]\n", benchUser, s.password)
		if err := os.WriteFile(path, []byte(users), 0o600); err != nil {
			return nil, err
		}
		s.serveArgs = append(s.serveArgs, "--sasl-users-file", path)
	}
	return s, nil
}

// listener is the name the bridge's listening log line gives mode's port.
func (s *kafkaBenchSecurity) listener(mode string) string {
	if s.serveArgs == nil {
		return "kafka"
	}
	return "kafka " + strings.ToUpper(mode)
}

// listeners are the log names of every mode's port, in the modes' order.
func (s *kafkaBenchSecurity) listeners() []string {
	var out []string
	for _, m := range s.modes {
		out = append(out, s.listener(m))
	}
	return out
}

// client sets up cfg's clients for mode: for ssl, TLS with the client
// certificate; for sasl_ssl, TLS without one and SCRAM-SHA-512 as
// franz-go users connect to MSK.
func (s *kafkaBenchSecurity) client(mode string, cfg *kafkabench.Config) {
	switch mode {
	case securitySSL:
		cfg.TLS = &tls.Config{RootCAs: s.roots, Certificates: []tls.Certificate{s.clientCert}, MinVersion: tls.VersionTLS12}
	case securitySASLSSL:
		cfg.TLS = &tls.Config{RootCAs: s.roots, MinVersion: tls.VersionTLS12}
		cfg.SASL = scram.Auth{User: benchUser, Pass: s.password}.AsSha512Mechanism()
	}
}

// cleanup removes the temporary files.
func (s *kafkaBenchSecurity) cleanup() error {
	if s.dir == "" {
		return nil
	}
	return os.RemoveAll(s.dir)
}
