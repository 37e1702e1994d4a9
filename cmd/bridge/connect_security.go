package main

// Security of a Connect worker: its REST listener (listeners=https://...,
// ssl.* in Kafka's PEM form, ssl.client.auth, Basic authentication as
// BasicAuthSecurityRestExtension does it) and its Kafka clients
// (security.protocol, ssl.*, sasl.* with producer., consumer. and admin.
// overrides), for `bridge connect` and the embedded worker of
// `bridge serve --connect-addr`.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
	"github.com/streambridge/bridge/connect/restsec"
	"github.com/streambridge/bridge/security/tlsconfig"
)

// restSecurity is how a worker serves its REST API.
type restSecurity struct {
	listener restsec.Listener
	tls      *tls.Config     // nil: plain HTTP
	auth     restsec.Checker // nil: no authentication
	// client is the TLS of requests forwarded to other workers of a
	// distributed worker's group; nil: the system's CAs, no certificate.
	client *tls.Config
}

// restSecurity reads the worker properties' listeners, TLS and REST
// extension settings.
func (o *connectCmdOptions) restSecurity(props connect.Config, l layered, log *slog.Logger) (restSecurity, error) {
	var rs restSecurity
	listeners := props[restsec.ListenersConfig]
	if listeners == "" || l.sources["rest-addr"] != "default" {
		rs.listener = restsec.Listener{Scheme: "http", Addr: o.restAddr}
	}
	if listeners != "" {
		li, err := restsec.ParseListeners(listeners)
		if err != nil {
			return rs, err
		}
		if rs.listener.Addr == "" {
			rs.listener = li
		}
		rs.listener.Scheme = li.Scheme
	}
	if o.tlsFlagsSet() {
		// serve's flags, which win over the worker properties' ssl.*.
		o.tls.principalMappingRules = "DEFAULT"
		if err := o.tls.check(); err != nil {
			return rs, err
		}
		if o.tls.certFile == "" {
			return rs, errors.New("--tls-client-ca-file and --tls-client-auth need --tls-cert-file and --tls-key-file")
		}
		r, err := o.tls.reloader(log)
		if err != nil {
			return rs, err
		}
		rs.listener.Scheme, rs.tls = "https", r.Config()
		if rs.client, err = forwardTLSFromFlags(r, o.tls.clientCAFile, props); err != nil {
			return rs, err
		}
	} else if rs.listener.Scheme == "https" {
		var err error
		if rs.tls, err = restsec.ServerTLS(props, log.With("component", "tls")); err != nil {
			return rs, fmt.Errorf("REST listener %s: %w", listeners, err)
		}
		if rs.client, err = restsec.ClientTLS(props, log.With("component", "tls")); err != nil {
			return rs, err
		}
	} else if c, err := restsec.ClientTLS(props, log.With("component", "tls")); err == nil {
		// An http listener may still forward to https workers (a mixed
		// group, or workers behind a TLS proxy): Kafka's RestClient reads
		// the same settings then, and fails only when it needs them.
		rs.client = c
	} else {
		log.Warn("connect: requests forwarded to https workers will use the system's CAs and no client certificate", "err", err)
	}
	on, err := restsec.WantsBasicAuth(props)
	if err != nil || !on {
		return rs, err
	}
	path := o.restJAASConfig
	if path == "" && o.lookupEnv != nil {
		if v, ok := o.lookupEnv("KAFKA_OPTS"); ok {
			path = restsec.JAASPathFromKafkaOpts(v)
		}
	}
	if path == "" {
		return rs, fmt.Errorf("%s has BasicAuthSecurityRestExtension but no JAAS file is given: set --rest-jaas-config (or -Djava.security.auth.login.config=FILE in KAFKA_OPTS)", restsec.RestExtensionsConfig)
	}
	rs.auth, err = basicAuthFromJAAS(path)
	return rs, err
}

// forwardTLSFromFlags is the TLS a worker whose listener the --tls-* flags
// configure forwards requests with: its own certificate (reloaded as the
// listener's is) and --tls-client-ca-file's CAs; without that file (no
// client certificates asked for), the worker properties' trust store
// (listeners.https.ssl.truststore.*, else ssl.truststore.*), else the
// system's CAs.
func forwardTLSFromFlags(r *tlsconfig.Reloader, caFile string, props connect.Config) (*tls.Config, error) {
	roots, err := restsec.ClientTruststore(props)
	if err != nil {
		return nil, err
	}
	if caFile != "" {
		b, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca-file: %w", err)
		}
		cas, err := tlsconfig.ReadCerts(b)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca-file %s: %w", caFile, err)
		}
		roots = x509.NewCertPool()
		for _, c := range cas {
			roots.AddCert(c)
		}
	}
	return restsec.ClientTLSFromReloader(r, roots), nil
}

// addTLSFlags adds serve's TLS flags, for the REST listener.
func (o *connectCmdOptions) addTLSFlags(fs *pflag.FlagSet) {
	o.tls.clientAuth = choice{value: "none", allowed: []string{"none", "requested", "required"}}
	fs.StringVar(&o.tls.certFile, "tls-cert-file", "", "PEM certificate (then any intermediates) of the REST API, which then serves HTTPS, as serve's --tls-cert-file; re-read when the file changes. Unset: the worker properties' listeners and ssl.keystore.*")
	fs.StringVar(&o.tls.keyFile, "tls-key-file", "", "PEM private key of --tls-cert-file (PKCS#8, PKCS#1 or SEC 1, unencrypted)")
	fs.StringVar(&o.tls.clientCAFile, "tls-client-ca-file", "", "PEM CA certificates that REST clients' certificates must chain to, and, in distributed mode, the other workers' certificates when this one forwards a request to them")
	fs.Var(&o.tls.clientAuth, "tls-client-auth", "ask REST clients for a certificate, as Kafka's ssl.client.auth: "+o.tls.clientAuth.list())
}

// tlsFlagsSet says whether any of the TLS flags is set.
func (o *connectCmdOptions) tlsFlagsSet() bool {
	return o.tls.certFile != "" || o.tls.keyFile != "" || o.tls.clientCAFile != "" || o.tls.clientAuth.value != "none"
}

// basicAuthFromJAAS reads the JAAS file's KafkaConnect section and the
// credentials file it names (a properties file of user: password).
func basicAuthFromJAAS(path string) (restsec.Checker, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("REST Basic authentication: %w", err)
	}
	file, err := restsec.CredentialsFile(string(b))
	if err != nil {
		return nil, fmt.Errorf("REST Basic authentication: %s: %w", path, err)
	}
	users, err := readProperties(file)
	if err != nil {
		return nil, fmt.Errorf("REST Basic authentication: credentials file: %w", err)
	}
	if len(users) == 0 {
		return nil, fmt.Errorf("REST Basic authentication: credentials file %s has no user", file)
	}
	return restsec.PasswordChecker(users), nil
}

// kafkaClients are the franz-go options of each of a worker's Kafka
// clients: seed brokers, then the security settings of the worker's
// properties with their role's overrides.
type kafkaClients struct {
	worker, producer, consumer, admin []kgo.Opt
}

func newKafkaClients(bootstrap []string, props connect.Config) (kafkaClients, error) {
	var kc kafkaClients
	if err := kafkaclient.Check(props); err != nil {
		return kc, fmt.Errorf("worker Kafka clients: %w", err)
	}
	seeds := kgo.SeedBrokers(bootstrap...)
	for _, c := range []struct {
		role string
		to   *[]kgo.Opt
	}{{"", &kc.worker}, {kafkaclient.ProducerPrefix, &kc.producer}, {kafkaclient.ConsumerPrefix, &kc.consumer}, {kafkaclient.AdminPrefix, &kc.admin}} {
		opts, err := kafkaclient.Options(kafkaclient.ForRole(props, c.role))
		if err != nil {
			return kc, fmt.Errorf("worker Kafka clients (%s): %w", strings.TrimSuffix(c.role, "."), err)
		}
		*c.to = append([]kgo.Opt{seeds}, opts...)
	}
	return kc, nil
}
