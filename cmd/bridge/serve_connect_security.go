package main

// Security of the embedded Connect worker of `bridge serve --connect-addr`:
// its REST API serves HTTPS with the certificate every TLS listener of
// serve shares (--connect-tls, as --aws-tls and --admin-tls), asks for
// HTTP Basic credentials of the bridge's own Kafka users
// (--connect-basic-auth: --sasl-users-file and AlterUserScramCredentials),
// and its Kafka clients dial the bridge's Kafka listener whose protocol the
// worker properties' security.protocol names (--connect-worker-properties;
// PLAINTEXT without one).

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
	"github.com/streambridge/bridge/server"
)

func (o *connectOptions) addSecurityFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.tls, "connect-tls", false, "serve the embedded worker's REST API over HTTPS with --tls-cert-file, asking for client certificates as --tls-client-auth says")
	fs.BoolVar(&o.basicAuth, "connect-basic-auth", false, "ask REST API requests for HTTP Basic credentials: a Kafka user's name and password (--sasl-users-file, or set with AlterUserScramCredentials); 401 otherwise, as Kafka's BasicAuthSecurityRestExtension")
	fs.StringVar(&o.workerProps, "connect-worker-properties", "", "worker properties of the embedded worker (connect-standalone.properties: key.converter, value.converter, offset.flush.interval.ms, and security.protocol, ssl.*, sasl.* to reach an SSL or SASL Kafka listener of this bridge); its bootstrap.servers and listeners are ignored")
}

// checkConnectSecurity refuses embedded worker security flags that
// nothing would use or that lack what they need.
func (o *serveOptions) checkConnectSecurity() error {
	c := o.connect
	var errs []error
	if c.addr == "" && (c.tls || c.basicAuth || c.workerProps != "") {
		errs = append(errs, errors.New("--connect-tls, --connect-basic-auth and --connect-worker-properties need --connect-addr"))
	}
	if c.tls && (o.security.tls.certFile == "" || o.security.tls.keyFile == "") {
		errs = append(errs, errors.New("--connect-tls needs --tls-cert-file and --tls-key-file (bridge certs writes a development set)"))
	}
	return errors.Join(errs...)
}

// embeddedConnect is what the embedded worker needs besides its state.
type embeddedConnect struct {
	bootstrap []string
	props     connect.Config
	rest      restSecurity
}

// embeddedConnectSecurity reads --connect-worker-properties and picks the
// Kafka listener the worker dials: the first whose security protocol is the
// properties' security.protocol (PLAINTEXT by default).
func (o *serveOptions) embeddedConnectSecurity(srv *server.Server, log *slog.Logger) (embeddedConnect, error) {
	var ec embeddedConnect
	if o.connect.workerProps != "" {
		var err error
		if ec.props, err = readProperties(o.connect.workerProps); err != nil {
			return ec, fmt.Errorf("--connect-worker-properties: %w", err)
		}
	}
	want := strings.ToUpper(strings.TrimSpace(ec.props[kafkaclient.SecurityProtocol]))
	if want == "" {
		want = kafkaclient.Plaintext
	}
	var names []string
	for _, l := range srv.Addrs().KafkaListeners {
		p := o.kafka.listeners.protocol(l.Name).String()
		names = append(names, l.Name+" ("+p+")")
		if p == want && ec.bootstrap == nil {
			ec.bootstrap = []string{dialable(l.Bound)}
		}
	}
	if ec.bootstrap == nil {
		return ec, fmt.Errorf("the embedded Connect worker's security.protocol is %s but no Kafka listener speaks it (listeners: %s): set security.protocol and its credentials in --connect-worker-properties", want, strings.Join(names, ", "))
	}
	if o.connect.tls {
		r, err := o.security.tlsReloader(log)
		if err != nil {
			return ec, err
		}
		ec.rest.tls = r.Config()
		// The worker forwards to the others of its group (--connect-group-id)
		// with the same certificate, trusting --tls-client-ca-file's CAs.
		if ec.rest.client, err = forwardTLSFromFlags(r, o.security.tls.clientCAFile, ec.props); err != nil {
			return ec, err
		}
	}
	if o.connect.basicAuth {
		u := o.security.sasl.store
		if u == nil {
			return ec, errors.New("--connect-basic-auth: the Kafka users are not loaded")
		}
		ec.rest.auth = u.CheckPassword
	}
	return ec, nil
}
