// Package certs writes a local development CA and certificates signed by it
// (`bridge certs`), so that the TLS examples in README.md work with nothing
// but the bridge binary: no openssl recipes that differ between versions,
// no keytool. They are meant for laptops and CI, not for production, where
// the certificates come from the organisation's own CA.
//
// Keys are ECDSA P-256 in PKCS#8 PEM ("PRIVATE KEY"), the one key format
// Go, Python's ssl module, librdkafka, openssl and Java (once converted)
// all read.
package certs

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// File names in the directory.
const (
	CAFile        = "ca.pem"
	CAKeyFile     = "ca-key.pem"
	ServerFile    = "server.pem"
	ServerKeyFile = "server-key.pem"
)

// ClientFiles returns the certificate and key file names of client name.
func ClientFiles(name string) (cert, key string) {
	return "client-" + name + ".pem", "client-" + name + "-key.pem"
}

// Default validities: 825 days is the longest leaf lifetime Apple's TLS
// clients accept, so the same server certificate works in every client;
// the CA lives long enough that nobody has to redistribute it.
const (
	DefaultValidity   = 825 * 24 * time.Hour
	DefaultCAValidity = 10 * 365 * 24 * time.Hour
)

// DefaultHosts are the server certificate's names when none are given:
// what a client on the same machine connects to.
var DefaultHosts = []string{"localhost", "127.0.0.1", "::1"}

// Options say what to write.
type Options struct {
	// Dir is created if missing. A CA already in it (ca.pem and
	// ca-key.pem) is reused, so that certificates written earlier stay
	// valid; leaf certificates are written anew.
	Dir string
	// Hosts are the server certificate's DNS names and IP addresses;
	// empty means DefaultHosts.
	Hosts []string
	// Clients are the client certificates to write, one per name, each
	// with subject CN=name (the principal Kafka derives from it). Names are
	// limited to letters, digits and ._@- since they are file names too.
	Clients []string
	// Validity is the leaf certificates' lifetime (0: DefaultValidity);
	// CAValidity the new CA's (0: DefaultCAValidity).
	Validity, CAValidity time.Duration
	// Now is the clock (nil: time.Now); tests move it.
	Now func() time.Time
}

// Written is one file Write wrote or reused.
type Written struct {
	Path string
	What string // e.g. "CA certificate (reused)"
}

var clientName = regexp.MustCompile(`^[A-Za-z0-9._@-]+$`)

// Write writes the CA (unless reused), the server certificate and the
// client certificates into o.Dir, and returns what it wrote in that order.
// Key files are mode 0600. Every file is written to a temporary name and
// renamed, so a bridge reloading them never reads half a file.
func Write(o Options) ([]Written, error) {
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if o.Validity == 0 {
		o.Validity = DefaultValidity
	}
	if o.CAValidity == 0 {
		o.CAValidity = DefaultCAValidity
	}
	if o.Validity < 0 || o.CAValidity < 0 {
		return nil, errors.New("certs: validity must be positive")
	}
	if len(o.Hosts) == 0 {
		o.Hosts = DefaultHosts
	}
	for _, c := range o.Clients {
		if !clientName.MatchString(c) || c == "." || c == ".." {
			return nil, fmt.Errorf("certs: client name %q: use letters, digits and ._@- only", c)
		}
	}
	if o.Dir == "" {
		return nil, errors.New("certs: no directory")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("certs: %w", err)
	}

	var out []Written
	ca, caKey, reused, err := loadCA(o.Dir)
	if err != nil {
		return nil, err
	}
	if reused {
		out = append(out,
			Written{filepath.Join(o.Dir, CAFile), "CA certificate (reused)"},
			Written{filepath.Join(o.Dir, CAKeyFile), "CA key (reused)"})
	} else {
		ca, caKey, err = newCA(now(), o.CAValidity)
		if err != nil {
			return nil, err
		}
		w, err := writePair(o.Dir, CAFile, CAKeyFile, ca.Raw, caKey)
		if err != nil {
			return nil, err
		}
		out = append(out, Written{w[0], "CA certificate"}, Written{w[1], "CA key"})
	}

	// The server certificate may also authenticate as a client: a Connect
	// worker presents its listener's certificate to the other workers of
	// its group when they ask for one (ssl.client.auth), as a Kafka
	// broker's certificate does on an mTLS inter-broker listener.
	server := &x509.Certificate{
		Subject:     pkix.Name{CommonName: o.Hosts[0], Organization: []string{"StreamBridge development"}},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			server.IPAddresses = append(server.IPAddresses, ip)
		} else {
			server.DNSNames = append(server.DNSNames, h)
		}
	}
	w, err := writeLeaf(o.Dir, ServerFile, ServerKeyFile, server, ca, caKey, now(), o.Validity)
	if err != nil {
		return nil, err
	}
	out = append(out, Written{w[0], "server certificate for " + fmt.Sprint(o.Hosts)}, Written{w[1], "server key"})

	for _, name := range o.Clients {
		client := &x509.Certificate{
			Subject:     pkix.Name{CommonName: name},
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		}
		cf, kf := ClientFiles(name)
		w, err := writeLeaf(o.Dir, cf, kf, client, ca, caKey, now(), o.Validity)
		if err != nil {
			return nil, err
		}
		out = append(out, Written{w[0], "client certificate CN=" + name}, Written{w[1], "client key"})
	}
	return out, nil
}

// loadCA reads the CA in dir, if there is one. Half a CA (one file of the
// two) is an error rather than silently replaced: replacing it would
// invalidate every certificate it signed.
func loadCA(dir string) (*x509.Certificate, crypto.Signer, bool, error) {
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	certPEM, certErr := os.ReadFile(certPath)
	keyPEM, keyErr := os.ReadFile(keyPath)
	switch {
	case errors.Is(certErr, os.ErrNotExist) && errors.Is(keyErr, os.ErrNotExist):
		return nil, nil, false, nil
	case certErr != nil:
		return nil, nil, false, fmt.Errorf("certs: %w (remove %s too to start a new CA)", certErr, keyPath)
	case keyErr != nil:
		return nil, nil, false, fmt.Errorf("certs: %w (remove %s too to start a new CA)", keyErr, certPath)
	}
	b, _ := pem.Decode(certPEM)
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, nil, false, fmt.Errorf("certs: %s: no PEM CERTIFICATE", certPath)
	}
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, nil, false, fmt.Errorf("certs: %s: %w", certPath, err)
	}
	if !ca.IsCA {
		return nil, nil, false, fmt.Errorf("certs: %s is not a CA certificate", certPath)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, nil, false, fmt.Errorf("certs: %s: no PEM data", keyPath)
	}
	key, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, false, fmt.Errorf("certs: %s: %w", keyPath, err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, false, fmt.Errorf("certs: %s: a %T cannot sign", keyPath, key)
	}
	if !publicKeysEqual(signer.Public(), ca.PublicKey) {
		return nil, nil, false, fmt.Errorf("certs: %s is not the key of %s", keyPath, certPath)
	}
	return ca, signer, true, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}

func newCA(now time.Time, validity time.Duration) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		Subject: pkix.Name{
			CommonName:   "StreamBridge development CA",
			Organization: []string{"StreamBridge development"},
		},
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := sign(tmpl, tmpl, key.Public(), key, now, validity)
	if err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	return ca, key, err
}

// writeLeaf signs tmpl with the CA for a new key and writes both. The leaf
// never outlives the CA, which would only make it fail later and more
// confusingly.
func writeLeaf(dir, certName, keyName string, tmpl, ca *x509.Certificate, caKey crypto.Signer, now time.Time, validity time.Duration) ([2]string, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return [2]string{}, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.BasicConstraintsValid = true
	if end := now.Add(validity); end.After(ca.NotAfter) {
		validity = ca.NotAfter.Sub(now)
	}
	der, err := sign(tmpl, ca, key.Public(), caKey, now, validity)
	if err != nil {
		return [2]string{}, err
	}
	return writePair(dir, certName, keyName, der, key)
}

func sign(tmpl, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer, now time.Time, validity time.Duration) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	// An hour of slack for clocks behind this one (a VM, a container).
	tmpl.NotBefore = now.Add(-time.Hour).UTC()
	tmpl.NotAfter = now.Add(validity).UTC()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		return nil, fmt.Errorf("certs: sign %s: %w", tmpl.Subject.CommonName, err)
	}
	return der, nil
}

// writePair writes a certificate (0644) and its key (0600, PKCS#8) and
// returns their paths.
func writePair(dir, certName, keyName string, der []byte, key crypto.Signer) ([2]string, error) {
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return [2]string{}, err
	}
	paths := [2]string{filepath.Join(dir, certName), filepath.Join(dir, keyName)}
	if err := writeFile(paths[1], pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}), 0o600); err != nil {
		return [2]string{}, err
	}
	if err := writeFile(paths[0], pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return [2]string{}, err
	}
	return paths, nil
}

// writeFile replaces path atomically with data in mode perm.
func writeFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("certs: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	err = errors.Join(err, f.Chmod(perm), f.Close())
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("certs: write %s: %w", path, err)
	}
	return nil
}
