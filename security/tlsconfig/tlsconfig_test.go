package tlsconfig

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streambridge/bridge/security/certs"
)

// pki is a directory written by certs.Write.
type pki struct{ dir string }

func newPKI(t *testing.T, clients ...string) pki {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Write(certs.Options{Dir: dir, Clients: clients}); err != nil {
		t.Fatal(err)
	}
	return pki{dir}
}

func (p pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p pki) files(auth ClientAuth) Files {
	return Files{CertFile: p.path(certs.ServerFile), KeyFile: p.path(certs.ServerKeyFile), ClientCAFile: p.path(certs.CAFile), ClientAuth: auth}
}

func (p pki) roots(t *testing.T) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(p.path(certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(b)
	return pool
}

func (p pki) client(t *testing.T, name string) tls.Certificate {
	t.Helper()
	cf, kf := certs.ClientFiles(name)
	c, err := tls.LoadX509KeyPair(p.path(cf), p.path(kf))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serveTLS accepts TLS connections on 127.0.0.1 with cfg until the test
// ends. Each connection that completes its handshake gets "ok" and is
// closed; one that fails is closed at once.
func serveTLS(t *testing.T, cfg *tls.Config) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				if c.(*tls.Conn).Handshake() == nil {
					_, _ = c.Write([]byte("ok"))
				}
			})
		}
	})
	return ln.Addr().String()
}

// dial handshakes with the server and reads its "ok": with TLS 1.3 a
// refused client certificate shows only after the client's handshake.
func dial(addr string, cfg *tls.Config) (tls.ConnectionState, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer c.Close()
	b, err := io.ReadAll(c)
	if err == nil && string(b) != "ok" {
		err = io.ErrUnexpectedEOF
	}
	return c.ConnectionState(), err
}

// The client auth modes, with real handshakes and a caller's NextProtos.
func TestClientAuthModes(t *testing.T) {
	p := newPKI(t, "alice")
	other := newPKI(t, "mallory")
	for _, tc := range []struct {
		auth   ClientAuth
		client string // "", "alice" (signed by the CA), "mallory" (another CA)
		ok     bool
	}{
		{ClientAuthNone, "", true},
		{ClientAuthNone, "alice", true},
		{ClientAuthRequested, "", true},
		{ClientAuthRequested, "alice", true},
		{ClientAuthRequested, "mallory", false},
		{ClientAuthRequired, "", false},
		{ClientAuthRequired, "alice", true},
		{ClientAuthRequired, "mallory", false},
	} {
		t.Run(tc.auth.String()+"/"+tc.client, func(t *testing.T) {
			r, err := New(p.files(tc.auth), nil)
			if err != nil {
				t.Fatal(err)
			}
			cfg := r.Config()
			cfg.NextProtos = []string{"h2", "http/1.1"}
			addr := serveTLS(t, cfg.Clone())
			ccfg := &tls.Config{RootCAs: p.roots(t), ServerName: "localhost", NextProtos: []string{"h2", "http/1.1"}}
			switch tc.client {
			case "alice":
				ccfg.Certificates = []tls.Certificate{p.client(t, "alice")}
			case "mallory":
				ccfg.Certificates = []tls.Certificate{other.client(t, "mallory")}
			}
			cs, err := dial(addr, ccfg)
			if tc.ok != (err == nil) {
				t.Fatalf("handshake error %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && cs.NegotiatedProtocol != "h2" {
				t.Errorf("negotiated %q, want h2", cs.NegotiatedProtocol)
			}
		})
	}
}

func TestParseClientAuth(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want ClientAuth
		tls  tls.ClientAuthType
		err  bool
	}{
		{"none", ClientAuthNone, tls.NoClientCert, false},
		{"requested", ClientAuthRequested, tls.VerifyClientCertIfGiven, false},
		{"required", ClientAuthRequired, tls.RequireAndVerifyClientCert, false},
		{"Required", 0, 0, true},
		{"", 0, 0, true},
	} {
		got, err := ParseClientAuth(tc.in)
		if (err != nil) != tc.err || got != tc.want || !tc.err && (got.TLS() != tc.tls || got.String() != tc.in) {
			t.Errorf("ParseClientAuth(%q) = %v (%v), %v", tc.in, got, got.TLS(), err)
		}
	}
}

// clock is a settable time for the Reloader's checks.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// touch gives the file a modification time that cannot collide with its
// previous one, whatever the file system's time resolution.
func touch(t *testing.T, path string, n int) {
	t.Helper()
	mt := time.Date(2030, 1, 1, 0, 0, n, 0, time.UTC)
	if err := os.Chtimes(path, mt, mt); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// syncBuf is a log sink the handshake goroutines and the test share.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// Rewritten files are served from the first handshake after the check
// interval; a broken rewrite keeps the previous material.
func TestReload(t *testing.T) {
	first := newPKI(t, "alice")
	live := pki{t.TempDir()}
	for _, f := range []string{certs.ServerFile, certs.ServerKeyFile, certs.CAFile} {
		copyFile(t, first.path(f), live.path(f))
	}
	var logs syncBuf
	r, err := New(live.files(ClientAuthRequired), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Unix(1e9, 0)}
	r.now = clk.now
	addr := serveTLS(t, r.Config())

	// served returns the serial of the certificate a client gets, or the
	// handshake's error.
	served := func(p pki, client pki, name string) (string, error) {
		var serial string
		cfg := &tls.Config{
			RootCAs: p.roots(t), ServerName: "localhost",
			Certificates: []tls.Certificate{client.client(t, name)},
			VerifyConnection: func(cs tls.ConnectionState) error {
				serial = cs.PeerCertificates[0].SerialNumber.String()
				return nil
			},
		}
		_, err := dial(addr, cfg)
		return serial, err
	}
	s1, err := served(first, first, "alice")
	if err != nil {
		t.Fatal(err)
	}

	second := newPKI(t, "bob")
	for i, f := range []string{certs.ServerFile, certs.ServerKeyFile, certs.CAFile} {
		copyFile(t, second.path(f), live.path(f))
		touch(t, live.path(f), i)
	}
	if s, err := served(first, first, "alice"); err != nil || s != s1 {
		t.Fatalf("within the check interval: serial %s, %v; want the old %s", s, err, s1)
	}
	clk.add(DefaultCheckInterval)
	s2, err := served(second, second, "bob")
	if err != nil || s2 == s1 {
		t.Fatalf("after the interval: serial %s, %v; want a new certificate", s2, err)
	}
	if _, err := served(second, first, "alice"); err == nil {
		t.Error("a client of the replaced CA was accepted")
	}
	if !strings.Contains(logs.String(), "reloaded") {
		t.Errorf("no reload logged:\n%s", logs.String())
	}

	// A half-written certificate: the previous material stays.
	if err := os.WriteFile(live.path(certs.ServerFile), []byte("-----BEGIN CERT"), 0o600); err != nil {
		t.Fatal(err)
	}
	touch(t, live.path(certs.ServerFile), 10)
	clk.add(DefaultCheckInterval)
	if s, err := served(second, second, "bob"); err != nil || s != s2 {
		t.Fatalf("after a bad rewrite: serial %s, %v; want the previous %s", s, err, s2)
	}
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), certs.ServerFile) {
		t.Errorf("bad rewrite not logged with the file's name:\n%s", logs.String())
	}
	// Once the file is whole again it is taken.
	third := newPKI(t)
	copyFile(t, third.path(certs.ServerFile), live.path(certs.ServerFile))
	copyFile(t, third.path(certs.ServerKeyFile), live.path(certs.ServerKeyFile))
	touch(t, live.path(certs.ServerFile), 11)
	touch(t, live.path(certs.ServerKeyFile), 12)
	clk.add(DefaultCheckInterval)
	if s, err := served(third, second, "bob"); err != nil || s == s2 {
		t.Fatalf("after the repair: serial %s, %v; want a new certificate", s, err)
	}
}

func TestNewErrors(t *testing.T) {
	p := newPKI(t)
	other := newPKI(t)
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not PEM\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "missing.pem")
	good := p.files(ClientAuthRequired)
	for _, tc := range []struct {
		name string
		edit func(f *Files)
		want string // in the error
	}{
		{"no cert", func(f *Files) { f.CertFile = "" }, "both needed"},
		{"no key", func(f *Files) { f.KeyFile = "" }, "both needed"},
		{"missing cert", func(f *Files) { f.CertFile = missing }, missing},
		{"missing key", func(f *Files) { f.KeyFile = missing }, missing},
		{"garbage cert", func(f *Files) { f.CertFile = garbage }, garbage},
		{"garbage key", func(f *Files) { f.KeyFile = garbage }, garbage},
		{"key of another cert", func(f *Files) { f.KeyFile = other.path(certs.ServerKeyFile) }, "does not match"},
		{"key as cert", func(f *Files) { f.CertFile = p.path(certs.ServerKeyFile) }, "no PEM CERTIFICATE"},
		{"garbage CA", func(f *Files) { f.ClientCAFile = garbage }, garbage},
		{"missing CA", func(f *Files) { f.ClientCAFile = missing }, missing},
		{"required without CA", func(f *Files) { f.ClientCAFile = "" }, "needs a client CA file"},
		{"requested without CA", func(f *Files) { f.ClientCAFile = ""; f.ClientAuth = ClientAuthRequested }, "needs a client CA file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := good
			tc.edit(&f)
			_, err := New(f, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one with %q", err, tc.want)
			}
		})
	}
	if _, err := New(good, nil); err != nil {
		t.Errorf("good files: %v", err)
	}
}

// The listener's own config reaches the handshake unchanged apart from the
// certificate: a caller-built server with NextProtos still negotiates.
func TestConfigIsCloneSafe(t *testing.T) {
	p := newPKI(t)
	r, err := New(p.files(ClientAuthNone), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := r.Config().Clone()
	cfg.NextProtos = []string{"http/1.1"}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion %x", cfg.MinVersion)
	}
	addr := serveTLS(t, cfg)
	cs, err := dial(addr, &tls.Config{RootCAs: p.roots(t), ServerName: "127.0.0.1", NextProtos: []string{"h2", "http/1.1"}})
	if err != nil || cs.NegotiatedProtocol != "http/1.1" {
		t.Errorf("negotiated %q, %v; want http/1.1", cs.NegotiatedProtocol, err)
	}
	// A client offering only TLS 1.1 is refused.
	_, err = dial(addr, &tls.Config{RootCAs: p.roots(t), ServerName: "127.0.0.1", MaxVersion: tls.VersionTLS11})
	if err == nil {
		t.Error("a TLS 1.1 client was accepted")
	}
}
