package certs

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(b)
	if p == nil || p.Type != "CERTIFICATE" {
		t.Fatalf("%s: no CERTIFICATE block", path)
	}
	c, err := x509.ParseCertificate(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func readKey(t *testing.T, path string) any {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("%s: mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	p, _ := pem.Decode(b)
	if p == nil || p.Type != "PRIVATE KEY" {
		t.Fatalf("%s: want a PKCS#8 PRIVATE KEY block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestWriteVerifies(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 12, 4, 5, 0, 0, 0, time.UTC)
	written, err := Write(Options{Dir: dir, Clients: []string{"alice", "bob"}, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != 8 {
		t.Errorf("wrote %d files, want 8: %v", len(written), written)
	}
	ca := readCert(t, filepath.Join(dir, CAFile))
	readKey(t, filepath.Join(dir, CAKeyFile))
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	if !ca.IsCA || ca.NotAfter.Sub(now) < DefaultCAValidity-time.Minute {
		t.Errorf("CA: IsCA %v, not after %v", ca.IsCA, ca.NotAfter)
	}

	server := readCert(t, filepath.Join(dir, ServerFile))
	readKey(t, filepath.Join(dir, ServerKeyFile))
	if got := server.NotAfter.Sub(now); got != DefaultValidity {
		t.Errorf("server validity %v, want %v", got, DefaultValidity)
	}
	for _, host := range DefaultHosts {
		_, err := server.Verify(x509.VerifyOptions{
			DNSName: host, Roots: roots, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if err != nil {
			t.Errorf("server certificate for %s: %v", host, err)
		}
	}
	// A worker presents it to the workers it forwards requests to.
	if _, err := server.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("server certificate as a client certificate: %v", err)
	}
	if _, err := server.Verify(x509.VerifyOptions{DNSName: "example.com", Roots: roots, CurrentTime: now}); err == nil {
		t.Error("server certificate verifies for example.com")
	}

	for _, name := range []string{"alice", "bob"} {
		cf, kf := ClientFiles(name)
		c := readCert(t, filepath.Join(dir, cf))
		readKey(t, filepath.Join(dir, kf))
		if c.Subject.String() != "CN="+name {
			t.Errorf("client %s: subject %q", name, c.Subject)
		}
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Errorf("client %s: %v", name, err)
		}
		_, err = c.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: now, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
		if err == nil {
			t.Errorf("client %s certificate verifies as a server certificate", name)
		}
	}
}

// A second run reuses the CA, so the first run's certificates stay valid
// and a client added later is signed by the same CA.
func TestWriteReusesCA(t *testing.T) {
	dir := t.TempDir()
	if _, err := Write(Options{Dir: dir, Clients: []string{"alice"}}); err != nil {
		t.Fatal(err)
	}
	caBefore, _ := os.ReadFile(filepath.Join(dir, CAFile))
	written, err := Write(Options{Dir: dir, Hosts: []string{"bridge.test"}, Clients: []string{"carol"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(written[0].What, "reused") {
		t.Errorf("first file %+v, want the reused CA", written[0])
	}
	caAfter, _ := os.ReadFile(filepath.Join(dir, CAFile))
	if !bytes.Equal(caBefore, caAfter) {
		t.Fatal("the CA was replaced")
	}
	roots := x509.NewCertPool()
	roots.AddCert(readCert(t, filepath.Join(dir, CAFile)))
	for _, name := range []string{"alice", "carol"} {
		cf, _ := ClientFiles(name)
		_, err := readCert(t, filepath.Join(dir, cf)).Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		if err != nil {
			t.Errorf("client %s: %v", name, err)
		}
	}
	_, err = readCert(t, filepath.Join(dir, ServerFile)).Verify(x509.VerifyOptions{Roots: roots, DNSName: "bridge.test"})
	if err != nil {
		t.Errorf("server: %v", err)
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(dir string) // before Write
		opts  Options
		want  string
	}{
		{name: "bad client name", opts: Options{Clients: []string{"../x"}}, want: "client name"},
		{name: "empty client name", opts: Options{Clients: []string{""}}, want: "client name"},
		{name: "negative validity", opts: Options{Validity: -time.Hour}, want: "validity"},
		{
			name:  "half a CA",
			setup: func(dir string) { _ = os.WriteFile(filepath.Join(dir, CAFile), []byte("x"), 0o644) },
			want:  CAKeyFile,
		},
		{
			name: "CA key of another CA",
			setup: func(dir string) {
				other := t.TempDir()
				if _, err := Write(Options{Dir: other}); err != nil {
					t.Fatal(err)
				}
				if _, err := Write(Options{Dir: dir}); err != nil {
					t.Fatal(err)
				}
				k, _ := os.ReadFile(filepath.Join(other, CAKeyFile))
				_ = os.WriteFile(filepath.Join(dir, CAKeyFile), k, 0o600)
			},
			want: "is not the key of",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.setup != nil {
				tc.setup(dir)
			}
			tc.opts.Dir = dir
			_, err := Write(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}
