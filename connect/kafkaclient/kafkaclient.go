package kafkaclient

import (
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// SecurityProtocol is the setting that says how a client talks to the
// brokers, Kafka's security.protocol.
const SecurityProtocol = "security.protocol"

// The security protocols.
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
)

// Protocols are the security.protocol values.
var Protocols = []string{Plaintext, SSL, SASLPlaintext, SASLSSL}

// Keys are every setting this package reads, without prefix.
var Keys = []string{
	SecurityProtocol,
	SSLKeystoreType, SSLKeystoreLocation, SSLKeystorePassword, SSLKeystoreChain, SSLKeystoreKey, SSLKeyPassword,
	SSLTruststoreType, SSLTruststoreLocation, SSLTruststorePassword, SSLTruststoreCerts,
	SSLEndpointAlgorithm, SSLEnabledProtocols,
	SASLMechanism, SASLJAASConfig, SASLLoginCallback, SASLClientCallback,
}

// Options are the franz-go options of the security settings get reads: a
// TLS dialer for SSL and SASL_SSL, a SASL mechanism for SASL_PLAINTEXT and
// SASL_SSL, nothing for PLAINTEXT (the default). Settings of a protocol
// not in use are ignored, as Kafka's clients ignore them.
func Options(get Lookup) ([]kgo.Opt, error) {
	proto := strings.ToUpper(get.value(SecurityProtocol))
	if proto == "" {
		proto = Plaintext
	}
	var opts []kgo.Opt
	switch proto {
	case Plaintext:
		return nil, nil
	case SSL, SASLSSL:
		tc, err := ClientTLS(get)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	case SASLPlaintext:
	default:
		return nil, fmt.Errorf("Invalid value %s for configuration %s: String must be one of: %s", get.value(SecurityProtocol), SecurityProtocol, strings.Join(Protocols, ", "))
	}
	if proto == SASLPlaintext || proto == SASLSSL {
		m, err := Mechanism(get)
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// The prefixes of a Connect worker's per-client overrides.
const (
	ProducerPrefix = "producer."
	ConsumerPrefix = "consumer."
	AdminPrefix    = "admin."
)

// ForRole is the Lookup of one of a worker's clients: role's prefixed
// setting (producer.sasl.jaas.config) where set, else the worker's own
// (sasl.jaas.config), key by key, as Kafka Connect builds its producers',
// consumers' and admin clients' configurations.
func ForRole(props connect.Config, role string) Lookup {
	return Layered(Prefixed(props, role), Prefixed(props, ""))
}

// Check reads every client's settings of a worker's properties once, so a
// mistake fails the worker's start rather than its first task.
func Check(props connect.Config) error {
	var errs []error
	for _, role := range []string{"", ProducerPrefix, ConsumerPrefix, AdminPrefix} {
		if _, err := Options(ForRole(props, role)); err != nil {
			if role != "" {
				err = fmt.Errorf("%s clients: %w", strings.TrimSuffix(role, "."), err)
			}
			errs = append(errs, err)
			if role == "" {
				break // the roles would repeat the worker's error
			}
		}
	}
	return errors.Join(errs...)
}

// ConfigDef describes the settings under prefix for a connector's
// validate answer (the Kafka connectors' source. and target. clusters).
// Each is checked by Options as a whole; here only the enumerations.
func ConfigDef(prefix, cluster string) connect.ConfigDef {
	str := func(name, doc string) connect.ConfigKey {
		return connect.ConfigKey{Name: prefix + name, Type: connect.ConfigString, Importance: connect.Low, Group: "Security", Doc: doc}
	}
	pw := func(name, doc string) connect.ConfigKey {
		k := str(name, doc)
		k.Type = connect.ConfigPassword
		return k
	}
	protocol := str(SecurityProtocol, "How clients of "+cluster+" talk to its brokers.")
	protocol.Default, protocol.Importance, protocol.Recommended = Plaintext, connect.Medium, Protocols
	mech := str(SASLMechanism, "SASL mechanism for SASL_PLAINTEXT and SASL_SSL (Kafka's default GSSAPI is not supported).")
	mech.Importance = connect.Medium
	mech.Check = func(v any) error {
		if v.(string) == "" {
			return nil // unset: the protocol may need none
		}
		for _, m := range Mechanisms {
			if v.(string) == m {
				return nil
			}
		}
		return fmt.Errorf("want one of %s", strings.Join(Mechanisms, ", "))
	}
	algo := str(SSLEndpointAlgorithm, "https verifies the brokers' host names; empty turns only that check off.")
	algo.Default = "https"
	return connect.ConfigDef{
		protocol,
		mech,
		pw(SASLJAASConfig, "JAAS login module and options: PlainLoginModule or ScramLoginModule with username and password, IAMLoginModule or OAuthBearerLoginModule for MSK IAM."),
		str(SASLClientCallback, "software.amazon.msk.auth.iam.IAMClientCallbackHandler with AWS_MSK_IAM (optional)."),
		str(SASLLoginCallback, "software.amazon.msk.auth.iam.IAMOAuthBearerLoginCallbackHandler with OAUTHBEARER."),
		str(SSLTruststoreType, "PEM (the only format read; empty means PEM)."),
		str(SSLTruststoreLocation, "PEM file of the CA certificates the brokers' certificates chain to; unset: the system's."),
		str(SSLTruststoreCerts, "The CA certificates as PEM text, instead of a file."),
		pw(SSLTruststorePassword, "Not used with PEM; refused when set."),
		str(SSLKeystoreType, "PEM (the only format read; empty means PEM)."),
		str(SSLKeystoreLocation, "PEM file with the client's private key and certificate chain, for mutual TLS."),
		pw(SSLKeystoreChain, "The client's certificate chain as PEM text, with ssl.keystore.key."),
		pw(SSLKeystoreKey, "The client's private key as PEM text (unencrypted)."),
		pw(SSLKeystorePassword, "Not used with PEM; refused when set."),
		pw(SSLKeyPassword, "Encrypted keys are not supported; refused when the key is encrypted."),
		algo,
		str(SSLEnabledProtocols, "TLSv1.2 and/or TLSv1.3 (default both)."),
	}
}

// Validate is Options' error for a connector's validate answer, under
// the setting it names (prefix+security.protocol when it names none).
func Validate(cfg connect.Config, prefix string) map[string][]string {
	_, err := Options(Prefixed(cfg, prefix))
	if err == nil {
		return nil
	}
	field := SecurityProtocol
	for _, k := range Keys {
		// The longest key named wins: ssl.keystore.key before ssl.key...
		if strings.Contains(err.Error(), k) && len(k) > len(field) {
			field = k
		}
	}
	return map[string][]string{prefix + field: {err.Error()}}
}
