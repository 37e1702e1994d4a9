package kafkaclient

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/streambridge/bridge/security/tlsconfig"
)

// The ssl.* settings, Kafka's names.
const (
	SSLKeystoreType       = "ssl.keystore.type"
	SSLKeystoreLocation   = "ssl.keystore.location"
	SSLKeystorePassword   = "ssl.keystore.password"
	SSLKeystoreChain      = "ssl.keystore.certificate.chain"
	SSLKeystoreKey        = "ssl.keystore.key"
	SSLKeyPassword        = "ssl.key.password"
	SSLTruststoreType     = "ssl.truststore.type"
	SSLTruststoreLocation = "ssl.truststore.location"
	SSLTruststorePassword = "ssl.truststore.password"
	SSLTruststoreCerts    = "ssl.truststore.certificates"
	SSLEndpointAlgorithm  = "ssl.endpoint.identification.algorithm"
	SSLEnabledProtocols   = "ssl.enabled.protocols"
)

// Lookup returns a setting's value (trimmed) and whether it is set at all:
// an empty ssl.endpoint.identification.algorithm differs from an unset one.
type Lookup func(key string) (value string, set bool)

// Prefixed looks keys up in cfg under prefix (source., target.; "" for
// none).
func Prefixed(cfg map[string]string, prefix string) Lookup {
	return func(key string) (string, bool) {
		v, ok := cfg[prefix+key]
		return strings.TrimSpace(v), ok
	}
}

// Layered looks a key up in each of lookups in turn, the first that has it
// set answering: Layered(Prefixed(cfg, "listeners.https."), Prefixed(cfg, ""))
// is the REST listener's override before the worker's own setting.
func Layered(lookups ...Lookup) Lookup {
	return func(key string) (string, bool) {
		for _, l := range lookups {
			if v, ok := l(key); ok {
				return v, true
			}
		}
		return "", false
	}
}

// value is get's value of key, "" when unset.
func (get Lookup) value(key string) string {
	v, _ := get(key)
	return v
}

// storeType reads ssl.keystore.type or ssl.truststore.type. Kafka's default
// is JKS; here an unset type means PEM, the one format read, and JKS or
// PKCS12 named explicitly are refused with the way out.
func storeType(get Lookup, key string) error {
	switch t := strings.ToUpper(get.value(key)); t {
	case "", "PEM":
		return nil
	default:
		return fmt.Errorf("%s %s is not supported: convert the store to PEM files and set %s=PEM (keytool -exportcert / openssl pkcs12 -nodes do it)", key, t, key)
	}
}

// Keystore is the certificate and key of the ssl.keystore.* settings in
// Kafka's PEM form: ssl.keystore.location (one file with the private key
// and the certificate chain) or ssl.keystore.certificate.chain with
// ssl.keystore.key (the PEM text itself). It returns nil when none is set.
func Keystore(get Lookup) (*tls.Certificate, error) {
	if err := storeType(get, SSLKeystoreType); err != nil {
		return nil, err
	}
	loc, chain, key := get.value(SSLKeystoreLocation), get.value(SSLKeystoreChain), get.value(SSLKeystoreKey)
	if get.value(SSLKeystorePassword) != "" {
		return nil, fmt.Errorf("SSL key store password cannot be specified with PEM format, only key password may be specified (unset %s)", SSLKeystorePassword)
	}
	var certPEM, keyPEM []byte
	switch {
	case loc == "" && chain == "" && key == "":
		return nil, nil
	case loc != "" && (chain != "" || key != ""):
		return nil, fmt.Errorf("%s and %s/%s are both set: give the PEM key store one way", SSLKeystoreLocation, SSLKeystoreChain, SSLKeystoreKey)
	case loc != "":
		b, err := os.ReadFile(loc)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", SSLKeystoreLocation, err)
		}
		certPEM, keyPEM = b, b
	case chain == "" || key == "":
		return nil, fmt.Errorf("%s and %s go together: the certificate chain and its private key", SSLKeystoreChain, SSLKeystoreKey)
	default:
		certPEM, keyPEM = []byte(chain), []byte(key)
	}
	if encrypted(keyPEM) {
		return nil, fmt.Errorf("the PEM key store's private key is encrypted (%s): decrypt it (openssl pkcs8 -topk8 -nocrypt); encrypted keys are not supported", SSLKeyPassword)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		where := SSLKeystoreChain + "/" + SSLKeystoreKey
		if loc != "" {
			where = SSLKeystoreLocation + " " + loc
		}
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return &cert, nil
}

// encrypted says whether a PEM text holds an encrypted private key.
func encrypted(b []byte) bool {
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return false
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
			return true
		}
	}
}

// Truststore is the CA pool of the ssl.truststore.* settings in PEM form:
// ssl.truststore.location (a file of certificates) or
// ssl.truststore.certificates (the PEM text). It returns nil when neither
// is set: the system's roots then apply, as with Java's default trust
// store.
func Truststore(get Lookup) (*x509.CertPool, error) {
	if err := storeType(get, SSLTruststoreType); err != nil {
		return nil, err
	}
	if get.value(SSLTruststorePassword) != "" {
		return nil, fmt.Errorf("SSL trust store password cannot be specified for PEM format (unset %s)", SSLTruststorePassword)
	}
	loc, inline := get.value(SSLTruststoreLocation), get.value(SSLTruststoreCerts)
	var b []byte
	where := SSLTruststoreCerts
	switch {
	case loc == "" && inline == "":
		return nil, nil
	case loc != "" && inline != "":
		return nil, fmt.Errorf("%s and %s are both set: give the PEM trust store one way", SSLTruststoreLocation, SSLTruststoreCerts)
	case loc != "":
		var err error
		if b, err = os.ReadFile(loc); err != nil {
			return nil, fmt.Errorf("%s: %w", SSLTruststoreLocation, err)
		}
		where = SSLTruststoreLocation + " " + loc
	default:
		b = []byte(inline)
	}
	cas, err := tlsconfig.ReadCerts(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (JKS and PKCS12 trust stores are not read: export the CA certificates as PEM)", where, err)
	}
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	return pool, nil
}

// tlsVersions reads ssl.enabled.protocols (Kafka's default TLSv1.2,TLSv1.3)
// into the lowest and highest version allowed.
func tlsVersions(get Lookup) (minV, maxV uint16, err error) {
	list := get.value(SSLEnabledProtocols)
	if list == "" {
		return tls.VersionTLS12, tls.VersionTLS13, nil
	}
	for p := range strings.SplitSeq(list, ",") {
		var v uint16
		switch strings.TrimSpace(p) {
		case "TLSv1.2":
			v = tls.VersionTLS12
		case "TLSv1.3":
			v = tls.VersionTLS13
		case "":
			continue
		default:
			return 0, 0, fmt.Errorf("%s: %q is not supported: want TLSv1.2 and/or TLSv1.3", SSLEnabledProtocols, strings.TrimSpace(p))
		}
		if minV == 0 || v < minV {
			minV = v
		}
		maxV = max(maxV, v)
	}
	if minV == 0 {
		return 0, 0, fmt.Errorf("%s is empty: want TLSv1.2 and/or TLSv1.3", SSLEnabledProtocols)
	}
	return minV, maxV, nil
}

// ClientTLS is the TLS configuration of a client of an SSL or SASL_SSL
// listener: the trust store's CAs (the system's without one), the key
// store's certificate for mutual TLS, and host name verification unless
// ssl.endpoint.identification.algorithm is empty (Kafka's default is
// https: verify).
func ClientTLS(get Lookup) (*tls.Config, error) {
	var errs []error
	roots, err := Truststore(get)
	errs = append(errs, err)
	cert, err := Keystore(get)
	errs = append(errs, err)
	minV, maxV, err := tlsVersions(get)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &tls.Config{RootCAs: roots, MinVersion: minV, MaxVersion: maxV}
	if cert != nil {
		c.Certificates = []tls.Certificate{*cert}
	}
	switch alg := get.value(SSLEndpointAlgorithm); strings.ToLower(alg) {
	case "https":
	case "":
		// Only the value "" turns host name checks off, and only those:
		// the chain is still verified against the trust store.
		if _, set := get(SSLEndpointAlgorithm); set {
			c.InsecureSkipVerify = true
			c.VerifyConnection = verifyChainOnly(roots)
		}
	default:
		return nil, fmt.Errorf("%s %q: want https or an empty value", SSLEndpointAlgorithm, alg)
	}
	return c, nil
}

// verifyChainOnly checks the server's chain against roots without its host
// name, what Kafka's clients do with an empty
// ssl.endpoint.identification.algorithm.
func verifyChainOnly(roots *x509.CertPool) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("tls: the server sent no certificate")
		}
		opts := x509.VerifyOptions{Roots: roots, Intermediates: x509.NewCertPool()}
		for _, c := range cs.PeerCertificates[1:] {
			opts.Intermediates.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(opts)
		return err
	}
}
