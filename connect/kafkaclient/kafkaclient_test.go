package kafkaclient

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/security/certs"
)

// devCerts writes a development CA, a server certificate for 127.0.0.1 and
// a client certificate, and returns the directory.
func devCerts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Write(certs.Options{Dir: dir, Clients: []string{"worker"}}); err != nil {
		t.Fatal(err)
	}
	return dir
}

// keystoreFile joins a certificate and its key into one PEM file, Kafka's
// PEM key store form.
func keystoreFile(t *testing.T, dir, cert, key string) string {
	t.Helper()
	c, err := os.ReadFile(filepath.Join(dir, cert))
	if err != nil {
		t.Fatal(err)
	}
	k, err := os.ReadFile(filepath.Join(dir, key))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "keystore-"+cert)
	if err := os.WriteFile(path, append(k, c...), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestOptionsErrors(t *testing.T) {
	dir := devCerts(t)
	ca := filepath.Join(dir, certs.CAFile)
	cf, kf := certs.ClientFiles("worker")
	ks := keystoreFile(t, dir, cf, kf)
	keyPEM, _ := os.ReadFile(filepath.Join(dir, kf))
	certPEM, _ := os.ReadFile(filepath.Join(dir, cf))
	scram := `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`
	for _, tc := range []struct {
		name  string
		props connect.Config
		opts  int    // options returned when no error
		err   string // in the error
	}{
		{name: "default plaintext", props: connect.Config{}},
		{name: "plaintext ignores sasl", props: connect.Config{"security.protocol": "PLAINTEXT", "sasl.mechanism": "NOPE"}},
		{name: "lower-case protocol", props: connect.Config{"security.protocol": "ssl"}, opts: 1},
		{name: "ssl with PEM trust and key stores", props: connect.Config{"security.protocol": "SSL", "ssl.truststore.location": ca, "ssl.keystore.type": "PEM", "ssl.keystore.location": ks}, opts: 1},
		{name: "ssl with inline PEM", props: connect.Config{"security.protocol": "SSL", "ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": string(certPEM), "ssl.keystore.key": string(keyPEM), "ssl.truststore.certificates": string(certPEM)}, opts: 1},
		{name: "sasl_ssl scram", props: connect.Config{"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": scram, "ssl.truststore.location": ca}, opts: 2},
		{name: "sasl_plaintext plain", props: connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.jaas.config": `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`}, opts: 1},
		{name: "msk iam", props: connect.Config{"security.protocol": "SASL_SSL", "sasl.mechanism": "AWS_MSK_IAM", "sasl.jaas.config": IAMLoginModule + " required;", "sasl.client.callback.handler.class": IAMClientCallback}, opts: 2},
		{name: "unknown protocol", props: connect.Config{"security.protocol": "TLS"}, err: "Invalid value TLS for configuration security.protocol: String must be one of: PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"},
		{name: "jks", props: connect.Config{"security.protocol": "SSL", "ssl.truststore.type": "JKS", "ssl.truststore.location": ca}, err: "ssl.truststore.type JKS is not supported"},
		{name: "pem trust store password", props: connect.Config{"security.protocol": "SSL", "ssl.truststore.location": ca, "ssl.truststore.password": "x"}, err: "SSL trust store password cannot be specified for PEM format"},
		{name: "pem key store password", props: connect.Config{"security.protocol": "SSL", "ssl.keystore.location": ks, "ssl.keystore.password": "x"}, err: "SSL key store password cannot be specified with PEM format"},
		{name: "trust store not PEM", props: connect.Config{"security.protocol": "SSL", "ssl.truststore.location": filepath.Join(dir, kf)}, err: "no PEM CERTIFICATE block"},
		{name: "missing trust store", props: connect.Config{"security.protocol": "SSL", "ssl.truststore.location": filepath.Join(dir, "nope.pem")}, err: "ssl.truststore.location: open"},
		{name: "chain without key", props: connect.Config{"security.protocol": "SSL", "ssl.keystore.certificate.chain": string(certPEM)}, err: "ssl.keystore.certificate.chain and ssl.keystore.key go together"},
		{name: "encrypted key", props: connect.Config{"security.protocol": "SSL", "ssl.keystore.certificate.chain": string(certPEM), "ssl.keystore.key": "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"}, err: "encrypted keys are not supported"},
		{name: "bad endpoint algorithm", props: connect.Config{"security.protocol": "SSL", "ssl.endpoint.identification.algorithm": "ldap"}, err: `ssl.endpoint.identification.algorithm "ldap"`},
		{name: "old tls", props: connect.Config{"security.protocol": "SSL", "ssl.enabled.protocols": "TLSv1.1"}, err: `ssl.enabled.protocols: "TLSv1.1" is not supported`},
		{name: "gssapi default", props: connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.jaas.config": scram}, err: "sasl.mechanism GSSAPI is not supported"},
		{name: "no jaas", props: connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN"}, err: "Could not find a 'KafkaClient' entry in the JAAS configuration"},
		{name: "wrong module", props: connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN", "sasl.jaas.config": scram}, err: "PLAIN logs in with " + PlainLoginModule},
		{name: "no password", props: connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256", "sasl.jaas.config": ScramLoginModule + ` required username="u";`}, err: "needs username and password"},
		{name: "two modules", props: connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256", "sasl.jaas.config": scram + scram}, err: "JAAS config property contains 2 login modules, should be 1 module"},
		{name: "jaas syntax", props: connect.Config{"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256", "sasl.jaas.config": ScramLoginModule + ` required username="u"`}, err: "sasl.jaas.config: JAAS config entry not terminated by semi-colon"},
		{name: "role arn", props: connect.Config{"security.protocol": "SASL_SSL", "sasl.mechanism": "AWS_MSK_IAM", "sasl.jaas.config": IAMLoginModule + ` required awsRoleArn="arn:aws:iam::1:role/r";`}, err: "awsRoleArn is not supported"},
		{name: "oauth without the msk handler", props: connect.Config{"security.protocol": "SASL_SSL", "sasl.mechanism": "OAUTHBEARER", "sasl.jaas.config": OAuthBearerLoginModule + " required;"}, err: "OIDC token endpoints are not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
			t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
			t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
			opts, err := Options(Prefixed(tc.props, ""))
			switch {
			case tc.err == "" && err != nil:
				t.Fatal(err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v; want one with %q", err, tc.err)
			case tc.err == "" && len(opts) != tc.opts:
				t.Fatalf("%d options; want %d", len(opts), tc.opts)
			}
		})
	}
}

// The prefixed settings of a role replace the worker's key by key, and a
// connector's source./target. settings are read under their prefix.
func TestPrefixes(t *testing.T) {
	props := connect.Config{
		"security.protocol":          "SASL_SSL",
		"sasl.mechanism":             "PLAIN",
		"producer.sasl.mechanism":    "SCRAM-SHA-512",
		"consumer.security.protocol": "PLAINTEXT",
		"target.security.protocol":   "SSL",
	}
	for _, tc := range []struct {
		get       Lookup
		key, want string
	}{
		{ForRole(props, ""), "sasl.mechanism", "PLAIN"},
		{ForRole(props, ProducerPrefix), "sasl.mechanism", "SCRAM-SHA-512"},
		{ForRole(props, ProducerPrefix), "security.protocol", "SASL_SSL"},
		{ForRole(props, ConsumerPrefix), "security.protocol", "PLAINTEXT"},
		{ForRole(props, AdminPrefix), "security.protocol", "SASL_SSL"},
		{Prefixed(props, "target."), "security.protocol", "SSL"},
		{Prefixed(props, "target."), "sasl.mechanism", ""},
	} {
		if got := tc.get.value(tc.key); got != tc.want {
			t.Errorf("%s = %q; want %q", tc.key, got, tc.want)
		}
	}
	err := Check(connect.Config{"security.protocol": "SSL", "producer.security.protocol": "SASL_SSL"})
	if err == nil || !strings.Contains(err.Error(), "producer clients: sasl.mechanism GSSAPI is not supported") {
		t.Fatalf("Check: %v", err)
	}
	errs := Validate(connect.Config{"source.security.protocol": "SSL", "source.ssl.truststore.type": "JKS"}, "source.")
	if len(errs["source.ssl.truststore.type"]) != 1 {
		t.Fatalf("Validate: %v", errs)
	}
	if errs := ConfigDef("source.", "the source cluster").Validate(connect.Config{"source.security.protocol": "TLS"}); len(errs["source.security.protocol"]) != 1 {
		t.Fatalf("ConfigDef: %v", errs)
	}
}

// ClientTLS against a TLS server on loopback: the trust store verifies the
// server, the key store's certificate reaches a server that requires one,
// a host name the certificate lacks fails unless endpoint identification
// is turned off, and a server the trust store does not know fails even
// then.
func TestClientTLSHandshakes(t *testing.T) {
	dir := devCerts(t)
	other := devCerts(t)
	serverCert, err := tls.LoadX509KeyPair(filepath.Join(dir, certs.ServerFile), filepath.Join(dir, certs.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	caPool, err := Truststore(Prefixed(connect.Config{SSLTruststoreLocation: filepath.Join(dir, certs.CAFile)}, ""))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: caPool})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _ = c.(*tls.Conn).Handshake(); _, _ = c.Write([]byte("x")); c.Close() }()
		}
	}()
	cf, kf := certs.ClientFiles("worker")
	ks := keystoreFile(t, dir, cf, kf)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, tc := range []struct {
		name  string
		host  string
		props connect.Config
		ok    bool
	}{
		{"mutual TLS", "127.0.0.1", connect.Config{SSLTruststoreLocation: filepath.Join(dir, certs.CAFile), SSLKeystoreLocation: ks}, true},
		{"no client certificate", "127.0.0.1", connect.Config{SSLTruststoreLocation: filepath.Join(dir, certs.CAFile)}, false},
		{"unknown CA", "127.0.0.1", connect.Config{SSLTruststoreLocation: filepath.Join(other, certs.CAFile), SSLKeystoreLocation: ks}, false},
		{"host not in the certificate", "127.0.0.2", connect.Config{SSLTruststoreLocation: filepath.Join(dir, certs.CAFile), SSLKeystoreLocation: ks}, false},
		{"host check off", "127.0.0.2", connect.Config{SSLTruststoreLocation: filepath.Join(dir, certs.CAFile), SSLKeystoreLocation: ks, SSLEndpointAlgorithm: ""}, true},
		{"host check off, unknown CA", "127.0.0.2", connect.Config{SSLTruststoreLocation: filepath.Join(other, certs.CAFile), SSLKeystoreLocation: ks, SSLEndpointAlgorithm: ""}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ClientTLS(Prefixed(tc.props, ""))
			if err != nil {
				t.Fatal(err)
			}
			cfg.ServerName = tc.host
			c, err := tls.Dial("tcp", net.JoinHostPort("127.0.0.1", port), cfg)
			if err == nil {
				// TLS 1.3 reports a refused client certificate on the
				// first read.
				_, err = c.Read(make([]byte, 1))
				c.Close()
			}
			if (err == nil) != tc.ok {
				t.Fatalf("handshake error %v; want ok=%v", err, tc.ok)
			}
		})
	}
}
