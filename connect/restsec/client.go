package restsec

// The worker's side as a REST client: a distributed worker forwards a
// request it may not serve to another worker of its group (the leader, or
// the worker running a task), as Kafka's RestClient does. It reaches that
// worker at the URL the worker advertised, whose scheme is its listener's
// (rest.advertised.listener), and, for an https URL, with the TLS settings
// of its own https listener: Kafka's SSLUtils.createClientSideSslContextFactory
// reads the same listeners.https.ssl.* (else ssl.*) settings the server
// side reads, so the trust store that checks REST clients' certificates
// also checks the other workers', and the key store's certificate is what
// this worker presents when another asks for one (ssl.client.auth).

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
	"github.com/streambridge/bridge/security/tlsconfig"
)

// The advertised URL's settings, Kafka Connect's names
// (RestServerConfig).
const (
	AdvertisedListenerConfig = "rest.advertised.listener"
	AdvertisedHostConfig     = "rest.advertised.host.name"
	AdvertisedPortConfig     = "rest.advertised.port"
)

// AdvertisedScheme is the scheme of the URL this worker gives the other
// workers of its group: rest.advertised.listener (http or https, any
// case), else the scheme of the listener it serves, as Kafka's
// RestServer.determineAdvertisedProtocol. A different value can be right:
// an http listener behind a proxy that terminates TLS advertises https.
func AdvertisedScheme(props connect.Config, served string) (string, error) {
	v := strings.TrimSpace(props[AdvertisedListenerConfig])
	if v == "" {
		return served, nil
	}
	switch s := strings.ToLower(v); s {
	case "http", "https":
		return s, nil
	default:
		return "", fmt.Errorf("Invalid value %s for configuration %s: String must be one of: http, https", v, AdvertisedListenerConfig)
	}
}

// ClientTLS is the TLS configuration this worker forwards requests to
// https workers with, from its https listener's settings: the trust store
// (the system's CAs without one), the key store's certificate as the
// client certificate, ssl.endpoint.identification.algorithm (https, the
// default, checks the worker's host name; empty checks only the chain)
// and ssl.enabled.protocols. A key store given as a file is re-read when
// it changes, as the listener re-reads it; the trust store is read once.
func ClientTLS(props connect.Config, log *slog.Logger) (*tls.Config, error) {
	get := lookup(props)
	c, err := kafkaclient.ClientTLS(get)
	if err != nil {
		return nil, fmt.Errorf("the REST client (forwarding to other workers): %w", err)
	}
	if loc, _ := get(kafkaclient.SSLKeystoreLocation); loc != "" {
		r, err := tlsconfig.New(tlsconfig.Files{CertFile: loc, KeyFile: loc}, log)
		if err != nil {
			return nil, fmt.Errorf("the REST client (forwarding to other workers): %s: %w", kafkaclient.SSLKeystoreLocation, err)
		}
		c.Certificates = nil
		c.GetClientCertificate = ReloadingClientCertificate(r)
	}
	return c, nil
}

// ClientTruststore is the trust store of ClientTLS alone (nil: the
// system's CAs), for a listener whose certificate comes from elsewhere.
func ClientTruststore(props connect.Config) (*x509.CertPool, error) {
	pool, err := kafkaclient.Truststore(lookup(props))
	if err != nil {
		return nil, fmt.Errorf("the REST client (forwarding to other workers): %w", err)
	}
	return pool, nil
}

// ReloadingClientCertificate presents the certificate r serves now, so a
// renewed certificate is used from the next connection on.
func ReloadingClientCertificate(r *tlsconfig.Reloader) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return r.Certificate(), nil }
}

// ClientTLSFromReloader is ClientTLS for a listener configured from PEM
// files by flags (bridge serve's and bridge connect's --tls-*): r's
// certificate as the client certificate, roots (nil: the system's CAs) to
// check the other workers' certificates and host names.
func ClientTLSFromReloader(r *tlsconfig.Reloader, roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion:           tls.VersionTLS12,
		RootCAs:              roots,
		GetClientCertificate: ReloadingClientCertificate(r),
	}
}
