// Package tlsconfig builds the *tls.Config of a TLS listener (the AWS port,
// the admin port, Kafka SSL listeners) from PEM files, and keeps it current
// when the files are replaced: certificates are short-lived in most
// deployments (cert-manager, Vault, a cron job), and a bridge must not need
// a restart, which drops every Kafka connection and SubscribeToShard stream,
// to pick up a renewed one.
//
// Everything is loaded and checked once by New, so a bad file fails the
// start with the file's name. After that, a file that changes is re-read
// on a later handshake; a reload that fails (a half-written file, a key
// that does not match) is logged and the previous certificate and CA pool
// stay in use, so a botched renewal never stops the listener.
package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ClientAuth is whether a listener asks TLS clients for a certificate. The
// names are Kafka's ssl.client.auth values, so a Kafka operator's setting
// carries over unchanged.
type ClientAuth int

const (
	// ClientAuthNone asks for no client certificate.
	ClientAuthNone ClientAuth = iota
	// ClientAuthRequested asks for one; a client without one is let in
	// (anonymous), a client with one must present a certificate the client
	// CA file verifies.
	ClientAuthRequested
	// ClientAuthRequired refuses a client without a certificate the client
	// CA file verifies (mutual TLS).
	ClientAuthRequired
)

var clientAuthNames = [...]string{"none", "requested", "required"}

// ParseClientAuth reads none, requested or required.
func ParseClientAuth(s string) (ClientAuth, error) {
	for i, n := range clientAuthNames {
		if s == n {
			return ClientAuth(i), nil
		}
	}
	return 0, fmt.Errorf("client auth %q: want none, requested or required", s)
}

func (c ClientAuth) String() string {
	if c < 0 || int(c) >= len(clientAuthNames) {
		return fmt.Sprintf("ClientAuth(%d)", int(c))
	}
	return clientAuthNames[c]
}

// TLS returns the crypto/tls policy c stands for. Reloader.Config gets the
// same effect another way (see there), so this is for configs built
// without a Reloader.
func (c ClientAuth) TLS() tls.ClientAuthType {
	switch c {
	case ClientAuthRequested:
		return tls.VerifyClientCertIfGiven
	case ClientAuthRequired:
		return tls.RequireAndVerifyClientCert
	default:
		return tls.NoClientCert
	}
}

// Files are the PEM files of a listener's TLS identity.
type Files struct {
	// CertFile is the server certificate, followed by any intermediates
	// clients need to reach their root. KeyFile is its private key (PKCS#8,
	// PKCS#1 or SEC 1, unencrypted).
	CertFile, KeyFile string
	// ClientCAFile holds the CA certificates that client certificates must
	// chain to. Required unless ClientAuth is ClientAuthNone.
	ClientCAFile string
	ClientAuth   ClientAuth
}

// DefaultCheckInterval is how often, at most, a handshake looks at the
// files' modification times and sizes: often enough that a renewal is
// served within a second, rarely enough that a connection storm does not
// turn into a stat storm.
const DefaultCheckInterval = time.Second

// Reloader holds a listener's current TLS material and re-reads it when the
// files change. It is safe for concurrent use by any number of listeners.
type Reloader struct {
	files Files
	log   *slog.Logger

	// now and interval are the clock and the check period; tests set them
	// so that a reload can be provoked without sleeping.
	now      func() time.Time
	interval time.Duration

	mu      sync.Mutex
	checked time.Time // last look at the files
	seen    stamps    // the files as last looked at, loaded or not

	cur atomic.Pointer[material]
}

// material is one consistent load of the files.
type material struct {
	cert *tls.Certificate
	pool *x509.CertPool // nil without a client CA file
}

// stamp is what tells a file changed without reading it.
type stamp struct {
	mod  time.Time
	size int64
}

type stamps [3]stamp // cert, key, client CA

// New loads f and checks it: the certificate and key must parse and match,
// and the client CA file, which ClientAuthRequested and ClientAuthRequired
// need, must hold at least one certificate. log (nil: discard) gets the
// reloads and failed reloads.
func New(f Files, log *slog.Logger) (*Reloader, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if f.CertFile == "" || f.KeyFile == "" {
		return nil, errors.New("tls: a certificate file and a key file are both needed")
	}
	if f.ClientAuth != ClientAuthNone && f.ClientCAFile == "" {
		return nil, fmt.Errorf("tls: client auth %s needs a client CA file to verify client certificates with", f.ClientAuth)
	}
	if f.ClientAuth < ClientAuthNone || f.ClientAuth > ClientAuthRequired {
		return nil, fmt.Errorf("tls: unknown client auth %v", f.ClientAuth)
	}
	r := &Reloader{files: f, log: log, now: time.Now, interval: DefaultCheckInterval}
	// Loaded before the first look at the stamps: a file replaced in
	// between is then seen as changed and read again, never missed.
	m, err := r.load()
	if err != nil {
		return nil, err
	}
	st, err := r.stat()
	if err != nil {
		return nil, err
	}
	r.cur.Store(m)
	r.seen = st
	r.checked = r.now()
	return r, nil
}

// Config returns a new server config that serves the current certificate
// and verifies client certificates against the current CA pool, both as of
// each handshake. It sets MinVersion to TLS 1.2 (what Kafka, the AWS SDKs
// and browsers all speak; older versions are broken).
//
// Client certificates are verified by VerifyConnection against the
// reloaded pool rather than by crypto/tls against ClientCAs: ClientCAs is
// fixed in a Config, and swapping it through GetConfigForClient would need
// the Config being used, which a Clone (http.Server makes one; callers
// adding NextProtos make one) does not pass along. So every field of the
// returned Config, NextProtos included, may be set or cloned freely, and
// ClientAuth reads RequestClientCert or RequireAnyClientCert for
// ClientAuthRequested and ClientAuthRequired: a handshake that completes
// with a peer certificate has had that certificate verified all the same,
// but ConnectionState().VerifiedChains stays empty; use PeerCertificates.
// Since ClientCAs is nil, certificate requests name no acceptable CAs;
// clients then send the certificate they were given.
//
// VerifyConnection is therefore the client check: a caller that needs one
// of its own must call the one set here first, since replacing it turns
// client certificate verification off.
func (r *Reloader) Config() *tls.Config { return r.ConfigFor(r.files.ClientAuth) }

// ConfigFor is Config with another client auth policy, for listeners that
// authenticate clients otherwise: Kafka's SASL_SSL listeners ignore the
// broker-wide ssl.client.auth (KIP-684) and take ConfigFor(ClientAuthNone).
// A policy other than none needs the Reloader's client CA file.
func (r *Reloader) ConfigFor(auth ClientAuth) *tls.Config {
	c := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return r.material().cert, nil },
	}
	switch auth {
	case ClientAuthRequested:
		c.ClientAuth = tls.RequestClientCert
		c.VerifyConnection = r.verifyClient
	case ClientAuthRequired:
		c.ClientAuth = tls.RequireAnyClientCert
		c.VerifyConnection = r.verifyClient
	}
	return c
}

// ClientAuth returns the client auth policy the Reloader was made with.
func (r *Reloader) ClientAuth() ClientAuth { return r.files.ClientAuth }

// Certificate returns the certificate being served now, for logs and
// tests.
func (r *Reloader) Certificate() *tls.Certificate { return r.material().cert }

// verifyClient checks a client's certificate chain against the current CA
// pool. It runs on resumed sessions too, so a CA removed from the file
// also ends resumption of sessions it had verified.
func (r *Reloader) verifyClient(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		// RequireAnyClientCert has already refused this for ClientAuthRequired.
		return nil
	}
	m := r.material()
	opts := x509.VerifyOptions{
		Roots:         m.pool,
		Intermediates: x509.NewCertPool(),
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	for _, c := range cs.PeerCertificates[1:] {
		opts.Intermediates.AddCert(c)
	}
	if _, err := cs.PeerCertificates[0].Verify(opts); err != nil {
		return fmt.Errorf("client certificate %q: %w", cs.PeerCertificates[0].Subject.String(), err)
	}
	return nil
}

// material returns the current material, reloading it first if the files
// changed and it is time to look.
func (r *Reloader) material() *material {
	r.maybeReload()
	return r.cur.Load()
}

func (r *Reloader) maybeReload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if now.Sub(r.checked) < r.interval && !now.Before(r.checked) {
		return
	}
	r.checked = now
	st, err := r.stat()
	if err != nil {
		if st != r.seen {
			r.log.Warn("tls: cannot read the certificate files; still serving the previous certificate", "err", err)
		}
		r.seen = st
		return
	}
	if st == r.seen {
		return
	}
	// Remembered before loading: a failed load is reported once per change,
	// not once per interval, and retried when the files change again.
	r.seen = st
	m, err := r.load()
	if err != nil {
		r.log.Warn("tls: reloading the certificate files failed; still serving the previous certificate", "err", err)
		return
	}
	r.cur.Store(m)
	r.log.Info("tls: reloaded certificate files", r.describe(m)...)
}

func (r *Reloader) describe(m *material) []any {
	attrs := []any{"cert_file", r.files.CertFile}
	if leaf := m.cert.Leaf; leaf != nil {
		attrs = append(attrs, "subject", leaf.Subject.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return attrs
}

// stat looks at the files without reading them. A file that cannot be
// looked at gives a zero stamp and an error.
func (r *Reloader) stat() (stamps, error) {
	var st stamps
	var errs []error
	for i, name := range []string{r.files.CertFile, r.files.KeyFile, r.files.ClientCAFile} {
		if name == "" {
			continue
		}
		fi, err := os.Stat(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st[i] = stamp{fi.ModTime(), fi.Size()}
	}
	return st, errors.Join(errs...)
}

// load reads and checks every file. Errors name the file at fault.
func (r *Reloader) load() (*material, error) {
	f := r.files
	certPEM, err := os.ReadFile(f.CertFile)
	if err != nil {
		return nil, fmt.Errorf("tls certificate file: %w", err)
	}
	keyPEM, err := os.ReadFile(f.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls key file: %w", err)
	}
	if _, err := readCerts(certPEM); err != nil {
		return nil, fmt.Errorf("tls certificate file %s: %w", f.CertFile, err)
	}
	if b, _ := pem.Decode(keyPEM); b == nil {
		return nil, fmt.Errorf("tls key file %s: no PEM data", f.KeyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("tls certificate file %s with key file %s: %w", f.CertFile, f.KeyFile, err)
	}
	m := &material{cert: &cert}
	if f.ClientCAFile != "" {
		b, err := os.ReadFile(f.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls client CA file: %w", err)
		}
		cas, err := readCerts(b)
		if err != nil {
			return nil, fmt.Errorf("tls client CA file %s: %w", f.ClientCAFile, err)
		}
		m.pool = x509.NewCertPool()
		for _, c := range cas {
			m.pool.AddCert(c)
		}
	}
	return m, nil
}

// ReadCerts parses every CERTIFICATE block of a PEM text, skipping other
// blocks, and insists on at least one: how a CA file is read, for the
// Connect worker's PEM trust stores too.
func ReadCerts(pemText []byte) ([]*x509.Certificate, error) { return readCerts(pemText) }

// readCerts parses every CERTIFICATE block of a PEM file and insists on at
// least one; other blocks are skipped, as openssl does.
func readCerts(b []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("no PEM CERTIFICATE block")
	}
	return certs, nil
}
