package server

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streambridge/bridge/security/certs"
	"github.com/streambridge/bridge/security/tlsconfig"
)

// tlsFiles writes a development CA and server certificate for 127.0.0.1
// and returns a Reloader's config for them and a pool trusting the CA.
func tlsFiles(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Write(certs.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	r, err := tlsconfig.New(tlsconfig.Files{
		CertFile: filepath.Join(dir, certs.ServerFile),
		KeyFile:  filepath.Join(dir, certs.ServerKeyFile),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(filepath.Join(dir, certs.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	return r.Config(), pool
}

// With AWSTLS and AdminTLS set, both ports serve HTTPS, the AWS port to
// HTTP/2 and HTTP/1.1 clients alike, and refuse plain HTTP.
func TestTLSPorts(t *testing.T) {
	cfg := testConfig(t)
	serverTLS, roots := tlsFiles(t)
	cfg.AWSTLS, cfg.AdminTLS = serverTLS, serverTLS
	s := start(t, cfg)
	a := s.Addrs()

	for _, tc := range []struct {
		name      string
		url       string
		h2        bool
		wantProto string
		wantCode  int
	}{
		{"aws http/2", "https://" + a.AWS + "/", true, "HTTP/2.0", http.StatusBadRequest},
		{"aws http/1.1", "https://" + a.AWS + "/", false, "HTTP/1.1", http.StatusBadRequest},
		{"admin http/1.1", "https://" + a.Admin + "/healthz", false, "HTTP/1.1", http.StatusOK},
		{"admin http/2", "https://" + a.Admin + "/readyz", true, "HTTP/2.0", http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}
			var p http.Protocols
			p.SetHTTP1(!tc.h2)
			p.SetHTTP2(tc.h2)
			tr.Protocols = &p
			defer tr.CloseIdleConnections()
			req, _ := http.NewRequest("GET", tc.url, nil)
			if strings.Contains(tc.url, a.AWS) {
				req, _ = http.NewRequest("POST", tc.url, strings.NewReader(`{}`))
				req.Header.Set("X-Amz-Target", "Kinesis_20131202.NoSuchOperation")
				req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.Proto != tc.wantProto || resp.StatusCode != tc.wantCode {
				t.Errorf("%s %d %s, want %s %d", resp.Proto, resp.StatusCode, body, tc.wantProto, tc.wantCode)
			}
		})
	}

	// Plain HTTP to a TLS port gets net/http's 400, not an answer.
	for _, addr := range []string{a.AWS, a.Admin} {
		if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusBadRequest || !strings.Contains(body, "HTTPS") {
			t.Errorf("plain HTTP to %s: %d %q", addr, code, body)
		}
	}
}
