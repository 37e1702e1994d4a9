// Package restsec secures a Connect worker's REST listener as Kafka Connect
// does: the listeners setting (http:// or https://), the listener's TLS
// identity and client authentication from the worker's ssl.* settings (in
// Kafka's PEM form, optionally under the listeners.https. prefix), and
// HTTP Basic authentication as Kafka's BasicAuthSecurityRestExtension
// does it (a JAAS KafkaConnect section naming PropertyFileLoginModule and
// its credentials file). The same settings make the worker's REST client
// (client.go): a distributed worker forwards requests to the other
// workers of its group with its listener's trust store and certificate.
//
// Invariants:
//   - An https listener without a key store is an error, never plain HTTP.
//   - With Basic authentication on, every request but the workers' own
//     task configuration forwarding (POST /connectors/NAME/tasks, which
//     Kafka exempts too) needs a user and password the checker accepts;
//     anything else gets 401 with Kafka's body.
package restsec

import (
	"crypto/subtle"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/kafkaclient"
	"github.com/streambridge/bridge/security/tlsconfig"
)

// The worker settings read here, Kafka Connect's names.
const (
	ListenersConfig      = "listeners"
	SSLClientAuthConfig  = "ssl.client.auth"
	RestExtensionsConfig = "rest.extension.classes"
	// HTTPSPrefix is the prefix of ssl.* settings for the https listener
	// only, which Kafka Connect reads before the unprefixed ones.
	HTTPSPrefix = "listeners.https."
	// BasicAuthExtension is the REST extension class that turns Basic
	// authentication on.
	BasicAuthExtension = "org.apache.kafka.connect.rest.basic.auth.extension.BasicAuthSecurityRestExtension"
	// PropertyFileLoginModule is the JAAS login module of the extension;
	// its file option names the credentials file (user: password lines).
	PropertyFileLoginModule = "org.apache.kafka.connect.rest.basic.auth.extension.PropertyFileLoginModule"
	// JAASSection is the JAAS file's section the extension reads.
	JAASSection = "KafkaConnect"
	// Unauthorized is Kafka's 401 body (JaasBasicAuthFilter).
	Unauthorized = "User cannot access the resource."
)

// Listener is the REST listener a listeners setting names.
type Listener struct {
	Scheme string // http or https
	Addr   string // host:port to bind
}

// ParseListeners reads Kafka Connect's listeners setting
// (http://:8083,https://host:8443) and returns its first listener: this
// worker serves one. Kafka's default is http://:8083.
func ParseListeners(s string) (Listener, error) {
	for l := range strings.SplitSeq(s, ",") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		u, err := url.Parse(l)
		scheme := ""
		if err == nil {
			scheme = strings.ToLower(u.Scheme)
		}
		if err != nil || u.Host == "" || (scheme != "http" && scheme != "https") {
			return Listener{}, fmt.Errorf("Invalid value %s for configuration %s: want http://HOST:PORT or https://HOST:PORT", l, ListenersConfig)
		}
		return Listener{Scheme: scheme, Addr: u.Host}, nil
	}
	return Listener{}, fmt.Errorf("Invalid value %s for configuration %s: no listener", s, ListenersConfig)
}

// lookup reads a TLS setting of the https listener: listeners.https.X,
// else X.
func lookup(props connect.Config) kafkaclient.Lookup {
	return kafkaclient.Layered(kafkaclient.Prefixed(props, HTTPSPrefix), kafkaclient.Prefixed(props, ""))
}

// ServerTLS is the https listener's TLS configuration: the key store's
// certificate, and ssl.client.auth (none, the default; requested;
// required) checking client certificates against the trust store. Key
// and trust stores given as files (ssl.keystore.location,
// ssl.truststore.location) are re-read when they change, as the bridge's
// other listeners re-read theirs.
func ServerTLS(props connect.Config, log *slog.Logger) (*tls.Config, error) {
	get := lookup(props)
	value := func(k string) string { v, _ := get(k); return v }
	authName := strings.ToLower(value(SSLClientAuthConfig))
	if authName == "" {
		authName = "none"
	}
	auth, err := tlsconfig.ParseClientAuth(authName)
	if err != nil {
		return nil, fmt.Errorf("Invalid value %s for configuration %s: String must be one of: required, requested, none", value(SSLClientAuthConfig), SSLClientAuthConfig)
	}
	// Both read first: their errors (JKS, passwords, bad PEM) are the
	// same whichever way the files are then served.
	cert, err := kafkaclient.Keystore(get)
	if err != nil {
		return nil, err
	}
	if cert == nil {
		return nil, fmt.Errorf("an https listener needs a key store: set ssl.keystore.location (a PEM file with the key and certificate chain) or ssl.keystore.certificate.chain and ssl.keystore.key, with ssl.keystore.type=PEM")
	}
	pool, err := kafkaclient.Truststore(get)
	if err != nil {
		return nil, err
	}
	if auth != tlsconfig.ClientAuthNone && pool == nil {
		return nil, fmt.Errorf("%s=%s needs a trust store to verify client certificates: set ssl.truststore.location or ssl.truststore.certificates", SSLClientAuthConfig, authName)
	}
	loc, trust := value(kafkaclient.SSLKeystoreLocation), value(kafkaclient.SSLTruststoreLocation)
	if loc != "" && (pool == nil || trust != "") {
		r, err := tlsconfig.New(tlsconfig.Files{CertFile: loc, KeyFile: loc, ClientCAFile: trust, ClientAuth: auth}, log)
		if err != nil {
			return nil, err
		}
		return r.Config(), nil
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{*cert},
		ClientCAs:    pool,
		ClientAuth:   auth.TLS(),
	}, nil
}

// Checker says whether a user and password may use the REST API.
type Checker func(user, password string) bool

// PasswordChecker accepts the users and passwords of a credentials file,
// comparing passwords in constant time.
func PasswordChecker(passwords map[string]string) Checker {
	return func(user, password string) bool {
		want, ok := passwords[user]
		// Compared even for an unknown user, so timing tells nothing.
		eq := subtle.ConstantTimeCompare([]byte(want), []byte(password)) == 1
		return ok && eq
	}
}

// internalTaskRequest is the request Kafka's filter lets through without
// credentials: a worker forwarding a connector's task configurations to
// the leader (signed with the session key in Kafka's distributed mode).
var internalTaskRequest = regexp.MustCompile(`^/?connectors/[^/]+/tasks/?$`)

// BasicAuth answers 401 with Kafka's body to a request without an
// Authorization: Basic header that check accepts, and hands every other
// request to next.
func BasicAuth(next http.Handler, check Checker) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && internalTaskRequest.MatchString(r.URL.Path) {
			next.ServeHTTP(w, r)
			return
		}
		user, password, ok := r.BasicAuth()
		// Kafka refuses a user name that is empty (no colon at 1 or later).
		if !ok || user == "" || !check(user, password) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(Unauthorized))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// WantsBasicAuth says whether rest.extension.classes turns Basic
// authentication on; any other extension class is an error, since the
// worker cannot load Java classes.
func WantsBasicAuth(props connect.Config) (bool, error) {
	on := false
	for c := range strings.SplitSeq(props[RestExtensionsConfig], ",") {
		switch c = strings.TrimSpace(c); c {
		case "":
		case BasicAuthExtension:
			on = true
		default:
			return false, fmt.Errorf("%s: %s is not supported: only %s is built in", RestExtensionsConfig, c, BasicAuthExtension)
		}
	}
	return on, nil
}

// CredentialsFile reads a JAAS file's KafkaConnect section and returns the
// file option of its PropertyFileLoginModule: the credentials file.
func CredentialsFile(jaas string) (string, error) {
	sections, err := kafkaclient.ParseJAASFile(jaas)
	if err != nil {
		return "", err
	}
	entries, ok := sections[JAASSection]
	if !ok {
		return "", fmt.Errorf("the JAAS file has no %s section (%s { %s required file=\"/path/to/credentials\"; };)", JAASSection, JAASSection, PropertyFileLoginModule)
	}
	for _, e := range entries {
		if e.Module != PropertyFileLoginModule {
			return "", fmt.Errorf("the JAAS file's %s section names %s: only %s is built in", JAASSection, e.Module, PropertyFileLoginModule)
		}
		if f := e.Options["file"]; f != "" {
			return f, nil
		}
	}
	return "", fmt.Errorf("the JAAS file's %s section has no file option: %s required file=\"/path/to/credentials\";", JAASSection, PropertyFileLoginModule)
}

// JAASPathFromKafkaOpts finds -Djava.security.auth.login.config=PATH in a
// KAFKA_OPTS value, where Kafka's scripts take the JAAS file from.
func JAASPathFromKafkaOpts(opts string) string {
	const flag = "-Djava.security.auth.login.config="
	for f := range strings.FieldsSeq(opts) {
		if p, ok := strings.CutPrefix(f, flag); ok {
			return strings.Trim(p, `"'`)
		}
	}
	return ""
}
