package main

// The TLS block of the Security option group: one certificate, key and
// client CA for every TLS listener, and which listeners use them. One set
// of files, as a Kafka broker has one keystore and truststore per
// listener-security setup, so an operator renews one certificate, and one
// Reloader, so every listener serves the renewed certificate together.

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/security/principal"
	"github.com/streambridge/bridge/security/tlsconfig"
)

type tlsOptions struct {
	certFile, keyFile, clientCAFile string
	clientAuth                      choice // tlsconfig.ParseClientAuth's names
	aws, admin                      bool   // which HTTP ports serve HTTPS
	principalMappingRules           string
	// rules are --ssl-principal-mapping-rules parsed, set by check; the
	// Kafka SSL listeners map client subjects with them.
	rules principal.Rules

	once   sync.Once
	loaded *tlsconfig.Reloader
	err    error
}

func (o *tlsOptions) addFlags(fs *pflag.FlagSet) {
	o.clientAuth = choice{value: "none", allowed: []string{"none", "requested", "required"}}
	fs.StringVar(&o.certFile, "tls-cert-file", "", "PEM server certificate (then any intermediates) for the TLS listeners; re-read when the file changes")
	fs.StringVar(&o.keyFile, "tls-key-file", "", "PEM private key of --tls-cert-file (PKCS#8, PKCS#1 or SEC 1, unencrypted)")
	fs.StringVar(&o.clientCAFile, "tls-client-ca-file", "", "PEM CA certificates that TLS client certificates must chain to")
	fs.Var(&o.clientAuth, "tls-client-auth", "ask TLS clients for a certificate, as Kafka's ssl.client.auth: "+o.clientAuth.list())
	fs.BoolVar(&o.aws, "aws-tls", false, "serve the AWS port over HTTPS (HTTP/2 and HTTP/1.1) with --tls-cert-file")
	fs.BoolVar(&o.admin, "admin-tls", false, "serve the admin port over HTTPS with --tls-cert-file")
	fs.StringVar(&o.principalMappingRules, "ssl-principal-mapping-rules", "DEFAULT", "Kafka's ssl.principal.mapping.rules: how a client certificate's subject becomes a principal name")
}

// check rejects combinations that would silently serve less security than
// asked for, such as a client CA file that nothing asks certificates for.
func (o *tlsOptions) check() error {
	var errs []error
	switch {
	case o.certFile != "" && o.keyFile == "":
		errs = append(errs, errors.New("--tls-cert-file needs --tls-key-file, the certificate's private key"))
	case o.certFile == "" && o.keyFile != "":
		errs = append(errs, errors.New("--tls-key-file needs --tls-cert-file, the certificate it is the key of"))
	}
	for _, l := range []struct {
		flag string
		on   bool
	}{{"--aws-tls", o.aws}, {"--admin-tls", o.admin}} {
		if l.on && (o.certFile == "" || o.keyFile == "") {
			errs = append(errs, fmt.Errorf("%s needs --tls-cert-file and --tls-key-file (bridge certs writes a development set)", l.flag))
		}
	}
	auth := o.clientAuth.value
	if auth != "none" && o.clientCAFile == "" {
		errs = append(errs, fmt.Errorf("--tls-client-auth %s needs --tls-client-ca-file, the CAs client certificates must chain to", auth))
	}
	if auth == "none" && o.clientCAFile != "" {
		errs = append(errs, errors.New("--tls-client-ca-file is set but --tls-client-auth is none, so no client certificate would be asked for: set --tls-client-auth required (or requested)"))
	}
	if auth != "none" && o.certFile == "" {
		errs = append(errs, fmt.Errorf("--tls-client-auth %s needs TLS: set --tls-cert-file and --tls-key-file", auth))
	}
	rules, err := principal.ParseRules(o.principalMappingRules)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("--ssl-principal-mapping-rules: %w", err))
	case rules.Len() == 0:
		errs = append(errs, fmt.Errorf("--ssl-principal-mapping-rules %q has no rules, so no client certificate would map to a principal: use DEFAULT", o.principalMappingRules))
	}
	o.rules = rules
	return errors.Join(errs...)
}

// unused reports certificate files that no listener serves, which is
// worth a warning: the operator probably forgot --aws-tls.
func (o *tlsOptions) unused() bool {
	return o.certFile != "" && !o.aws && !o.admin
}

// reloader loads the TLS files the first time it is called and returns the
// same Reloader after that, so every TLS listener shares one. It returns
// nil without error when no certificate is configured.
func (o *tlsOptions) reloader(log *slog.Logger) (*tlsconfig.Reloader, error) {
	o.once.Do(func() {
		if o.certFile == "" {
			return
		}
		auth, err := tlsconfig.ParseClientAuth(o.clientAuth.value)
		if err != nil {
			o.err = err
			return
		}
		o.loaded, o.err = tlsconfig.New(tlsconfig.Files{
			CertFile:     o.certFile,
			KeyFile:      o.keyFile,
			ClientCAFile: o.clientCAFile,
			ClientAuth:   auth,
		}, log.With("component", "tls"))
	})
	return o.loaded, o.err
}

// tlsReloader is the TLS listeners' shared Reloader, nil when no
// certificate is configured (see tlsOptions.reloader). Kafka SSL listeners
// take their config from it as the AWS and admin ports do.
func (o *securityOptions) tlsReloader(log *slog.Logger) (*tlsconfig.Reloader, error) {
	return o.tls.reloader(log)
}
