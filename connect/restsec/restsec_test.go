package restsec

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/security/certs"
)

func TestBasicAuth(t *testing.T) {
	h := BasicAuth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "ok") }),
		PasswordChecker(map[string]string{"admin": "secret", "colon": "a:b"}))
	for _, tc := range []struct {
		name, method, path, auth string
		status                   int
	}{
		{"right", "GET", "/connectors", "admin:secret", 200},
		{"password with a colon", "GET", "/", "colon:a:b", 200},
		{"wrong password", "GET", "/connectors", "admin:nope", 401},
		{"unknown user", "GET", "/", "eve:secret", 401},
		{"empty user", "GET", "/", ":secret", 401},
		{"no header", "DELETE", "/connectors/x", "", 401},
		{"not basic", "GET", "/", "Bearer abc", 401},
		// Workers forward task configurations without credentials, as
		// Kafka's filter lets them.
		{"internal task configs", "POST", "/connectors/x/tasks", "", 200},
		{"task list is not internal", "GET", "/connectors/x/tasks", "", 401},
		{"task restart is not internal", "POST", "/connectors/x/tasks/0/restart", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, tc.path, nil)
			switch {
			case strings.HasPrefix(tc.auth, "Bearer"):
				r.Header.Set("Authorization", tc.auth)
			case tc.auth != "":
				u, p, _ := strings.Cut(tc.auth, ":")
				r.SetBasicAuth(u, p)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.status {
				t.Fatalf("status %d; want %d", w.Code, tc.status)
			}
			if tc.status == 401 && w.Body.String() != Unauthorized {
				t.Fatalf("body %q", w.Body.String())
			}
		})
	}
}

func TestCredentialsFile(t *testing.T) {
	for _, tc := range []struct {
		name, jaas, want, err string
	}{
		{name: "kafka's example", jaas: "KafkaConnect {\n  " + PropertyFileLoginModule + " required\n  file=\"/opt/kafka/config/connect.password\";\n};\n", want: "/opt/kafka/config/connect.password"},
		{name: "with other sections", jaas: "KafkaClient { x required; };\nKafkaConnect{" + PropertyFileLoginModule + " required file='/p';};", want: "/p"},
		{name: "no section", jaas: "KafkaClient { x required; };", err: "no KafkaConnect section"},
		{name: "other module", jaas: "KafkaConnect { com.example.Ldap required; };", err: "only " + PropertyFileLoginModule},
		{name: "no file", jaas: "KafkaConnect { " + PropertyFileLoginModule + " required; };", err: "has no file option"},
		{name: "unclosed", jaas: "KafkaConnect { " + PropertyFileLoginModule + " required file=x;", err: "not closed"},
		{name: "no semicolon after }", jaas: "KafkaConnect { " + PropertyFileLoginModule + " required file=x; }", err: "want ; after }"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := CredentialsFile(tc.jaas)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if p := JAASPathFromKafkaOpts(`-Xmx1g -Djava.security.auth.login.config="/etc/connect_jaas.conf" -Dx=y`); p != "/etc/connect_jaas.conf" {
		t.Errorf("KAFKA_OPTS: %q", p)
	}
}

func TestWantsBasicAuth(t *testing.T) {
	for in, want := range map[string]bool{"": false, BasicAuthExtension: true, " , " + BasicAuthExtension + " ": true} {
		if got, err := WantsBasicAuth(connect.Config{RestExtensionsConfig: in}); err != nil || got != want {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	if _, err := WantsBasicAuth(connect.Config{RestExtensionsConfig: "com.example.Ext"}); err == nil {
		t.Error("an unknown extension was accepted")
	}
}

func TestServerTLS(t *testing.T) {
	ks, ca, key, cert := devKeyStore(t)
	for _, tc := range []struct {
		name  string
		props connect.Config
		auth  tls.ClientAuthType
		err   string
	}{
		{name: "file key store", props: connect.Config{"ssl.keystore.location": ks}, auth: tls.NoClientCert},
		{name: "https prefix wins", props: connect.Config{"ssl.keystore.location": "/missing", "listeners.https.ssl.keystore.location": ks}},
		{name: "required", props: connect.Config{"ssl.keystore.location": ks, "ssl.truststore.location": ca, "ssl.client.auth": "required"}, auth: tls.RequireAnyClientCert},
		{name: "inline, requested", props: connect.Config{"ssl.keystore.type": "PEM", "ssl.keystore.certificate.chain": string(cert), "ssl.keystore.key": string(key),
			"ssl.truststore.certificates": string(cert), "ssl.client.auth": "requested"}, auth: tls.VerifyClientCertIfGiven},
		{name: "no key store", props: connect.Config{}, err: "an https listener needs a key store"},
		{name: "required without trust store", props: connect.Config{"ssl.keystore.location": ks, "ssl.client.auth": "required"}, err: "ssl.client.auth=required needs a trust store"},
		{name: "bad client auth", props: connect.Config{"ssl.keystore.location": ks, "ssl.client.auth": "always"}, err: "Invalid value always for configuration ssl.client.auth"},
		{name: "jks", props: connect.Config{"ssl.keystore.type": "JKS", "ssl.keystore.location": ks}, err: "ssl.keystore.type JKS is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ServerTLS(tc.props, nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ClientAuth != tc.auth {
				t.Fatalf("client auth %v; want %v", c.ClientAuth, tc.auth)
			}
		})
	}
}

// FuzzCredentialsFile: any JAAS file text gives a path or an error.
func FuzzCredentialsFile(f *testing.F) {
	f.Add("KafkaConnect {\n  " + PropertyFileLoginModule + " required\n  file=\"/p\";\n};\n")
	f.Add("a { b required; }; KafkaConnect { c optional x=\"\\7\"; };")
	f.Add("{ } ; = ' \"")
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = CredentialsFile(s)
	})
}

// devKeyStore writes a development certificate set (bridge certs) and a
// PEM key store of the server's key and certificate; it returns the key
// store's and the CA's paths, and the server's key and certificate.
func devKeyStore(t *testing.T) (keyStore, ca string, key, cert []byte) {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Write(certs.Options{Dir: dir}); err != nil {
		t.Fatal(err)
	}
	key, _ = os.ReadFile(filepath.Join(dir, certs.ServerKeyFile))
	cert, _ = os.ReadFile(filepath.Join(dir, certs.ServerFile))
	keyStore = filepath.Join(dir, "ks.pem")
	if err := os.WriteFile(keyStore, append(key, cert...), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyStore, filepath.Join(dir, certs.CAFile), key, cert
}
