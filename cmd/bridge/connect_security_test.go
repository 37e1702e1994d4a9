package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/streambridge/bridge/connect/restsec"
	"github.com/streambridge/bridge/security/certs"
	"github.com/streambridge/bridge/server"
)

// secureSetup is a development CA with server and client certificates, a
// users file for the bridge's SCRAM listener, and a Kafka Connect JAAS
// file with its credentials file for the REST API.
type secureSetup struct {
	dir, ca, serverCert, serverKey, keystore string
	clientCert, clientKey                    string
	usersFile, jaasFile                      string
}

const (
	kafkaUser, kafkaPassword = "connect", "connect-secret"
	restUser, restPassword   = "admin", "admin-secret"
)

func newSecureSetup(t *testing.T) secureSetup {
	t.Helper()
	dir := t.TempDir()
	if _, err := certs.Write(certs.Options{Dir: dir, Clients: []string{"operator"}}); err != nil {
		t.Fatal(err)
	}
	s := secureSetup{dir: dir, ca: filepath.Join(dir, certs.CAFile),
		serverCert: filepath.Join(dir, certs.ServerFile), serverKey: filepath.Join(dir, certs.ServerKeyFile)}
	cf, kf := certs.ClientFiles("operator")
	s.clientCert, s.clientKey = filepath.Join(dir, cf), filepath.Join(dir, kf)
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// Kafka's PEM key store: the key and the certificate chain in one file.
	key, _ := os.ReadFile(s.serverKey)
	cert, _ := os.ReadFile(s.serverCert)
	s.keystore = write("rest-keystore.pem", string(key)+string(cert))
	s.usersFile = write("users.yaml", fmt.Sprintf("users:\n  - name: %s\n    password: %s\n", kafkaUser, kafkaPassword))
	creds := write("rest-credentials.properties", restUser+": "+restPassword+"\nreadonly: other\n")
	s.jaasFile = write("rest-jaas.conf", "KafkaConnect {\n  "+restsec.PropertyFileLoginModule+" required\n  file=\""+creds+"\";\n};\n")
	return s
}

// clientTLS is a net/http client's TLS: the CA, and the operator's
// certificate when withCert.
func (s secureSetup) clientTLS(t *testing.T, withCert bool) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(s.ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if withCert {
		kp, err := tls.LoadX509KeyPair(s.clientCert, s.clientKey)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{kp}
	}
	return c
}

// restCall is one REST request: status and body, or the transport's error.
func restCall(t *testing.T, cl *http.Client, method, url, user, password string, body any) (int, string, error) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), nil
}

// curlREST runs curl as an operator would; curl must be there in CI.
func curlREST(t *testing.T, args ...string) (code int, body string) {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("curl is needed: %v", err)
		}
		t.Skip("no curl")
	}
	out, err := exec.Command(path, append([]string{"-sS", "-w", "\n%{http_code}"}, args...)...).CombinedOutput()
	if err != nil {
		return 0, string(out)
	}
	s := strings.TrimRight(string(out), "\n")
	i := strings.LastIndexByte(s, '\n')
	fmt.Sscan(s[i+1:], &code)
	return code, s[:i]
}

// runSecureConnect runs `bridge connect` with worker properties and
// returns the REST API's https base URL.
func runSecureConnect(t *testing.T, props string, args ...string) string {
	t.Helper()
	base, _ := startSecureConnect(t, props, args...)
	return base
}

// startSecureConnect is runSecureConnect that also returns the worker's
// log lines.
func startSecureConnect(t *testing.T, props string, args ...string) (string, *logWatcher) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "worker.properties")
	if err := os.WriteFile(path, []byte(props), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	lw := newLogWatcher()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"connect", "--log-format", "json", "--state-dir", t.TempDir()}, append(args, path)...), io.Discard, io.MultiWriter(lw.w, &stderr), noEnv)
	}()
	var base string
	select {
	case addr := <-lw.addrC:
		base = "https://" + addr
	case code := <-done:
		t.Fatalf("bridge connect exited with %d before serving: %s", code, stderr.String())
	case <-time.After(2 * time.Minute):
		t.Fatal("bridge connect did not start")
	}
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("bridge connect exited with %d", code)
		}
	})
	return base, lw
}

// A `bridge connect` worker against a bridge whose only Kafka listener is
// SASL_SSL with SCRAM: the worker's clients (admin, the runtime's
// producer) and the Kafka source connector's client of its source.
// cluster all log in with SASL_SSL and copy every record; the REST API
// serves HTTPS with required client certificates and Basic
// authentication, to net/http and to curl alike.
//
// In distributed mode (group.id) the internal topics' stores and the group
// member log in the same way.
func TestConnectWorkerSASLSSLAndSecureREST(t *testing.T) {
	t.Run("standalone", func(t *testing.T) { secureWorkerCopy(t, "") })
	t.Run("distributed", func(t *testing.T) { secureWorkerCopy(t, "secure-workers") })
}

func secureWorkerCopy(t *testing.T, groupID string) {
	s := newSecureSetup(t)
	srv := startServe(t, "--kafka-listeners", "SASL_SSL://127.0.0.1:0",
		"--tls-cert-file", s.serverCert, "--tls-key-file", s.serverKey, "--sasl-users-file", s.usersFile)
	bootstrap := srv.Addrs().KafkaListeners[0].Bound
	jaas := `org.apache.kafka.common.security.scram.ScramLoginModule required username="` + kafkaUser + `" password="` + kafkaPassword + `";`
	props := strings.Join([]string{
		"bootstrap.servers=" + bootstrap,
		"security.protocol=SASL_SSL",
		"sasl.mechanism=SCRAM-SHA-512",
		"sasl.jaas.config=" + jaas,
		"ssl.truststore.location=" + s.ca,
		"offset.flush.interval.ms=100",
		"listeners=https://127.0.0.1:0",
		"listeners.https.ssl.keystore.type=PEM",
		"listeners.https.ssl.keystore.location=" + s.keystore,
		"listeners.https.ssl.truststore.location=" + s.ca,
		"listeners.https.ssl.client.auth=required",
		"rest.extension.classes=" + restsec.BasicAuthExtension,
		"group.id=" + groupID,
	}, "\n") + "\n"
	base := runSecureConnect(t, props, "--rest-jaas-config", s.jaasFile)
	good := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, true)}}
	noCert := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, false)}}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		// A distributed worker is ready once it joined its group.
		status, _, err := restCall(t, good, "GET", base+"/health", restUser, restPassword, nil)
		if err == nil && status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/health: %d %v", status, err)
		}
	}

	// Records upstream, produced over SASL_SSL as any client would.
	producer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.AllowAutoTopicCreation(),
		kgo.DialTLSConfig(s.clientTLS(t, false)), kgo.SASL(scram.Auth{User: kafkaUser, Pass: kafkaPassword}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer producer.Close()
	const n = 20
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var want []string
	for i := range n {
		v := fmt.Sprintf("order-%02d", i)
		want = append(want, v)
		if err := producer.ProduceSync(ctx, &kgo.Record{Topic: "orders", Partition: 0, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	connector := map[string]any{"name": "mirror", "config": map[string]string{
		"connector.class":                              "io.streambridge.connect.kafka.KafkaSourceConnector",
		"tasks.max":                                    "1",
		"topics":                                       "orders",
		"topic.rename.format":                          "${topic}-copy",
		"source.bootstrap.servers":                     bootstrap,
		"source.security.protocol":                     "SASL_SSL",
		"source.sasl.mechanism":                        "SCRAM-SHA-256",
		"source.sasl.jaas.config":                      jaas,
		"source.ssl.truststore.location":               s.ca,
		"source.ssl.endpoint.identification.algorithm": "https",
	}}
	for _, tc := range []struct {
		name           string
		cl             *http.Client
		user, password string
		status         int
		body           string
	}{
		{"no credentials", good, "", "", 401, restsec.Unauthorized},
		{"wrong password", good, restUser, "wrong", 401, restsec.Unauthorized},
		{"unknown user", good, "mallory", restPassword, 401, restsec.Unauthorized},
		{"right credentials", good, restUser, restPassword, 200, `"version"`},
		{"no client certificate", noCert, restUser, restPassword, 0, ""},
	} {
		t.Run("net/http "+tc.name, func(t *testing.T) {
			status, body, err := restCall(t, tc.cl, "GET", base+"/", tc.user, tc.password, nil)
			switch {
			case tc.status == 0 && err == nil:
				t.Fatalf("a client without a certificate got %d %s", status, body)
			case tc.status != 0 && err != nil:
				t.Fatal(err)
			case status != tc.status || !strings.Contains(body, tc.body):
				t.Fatalf("got %d %q; want %d with %q", status, body, tc.status, tc.body)
			}
		})
	}
	// A bad source. setting is refused with a per-field error, not a
	// task failing later.
	bad := map[string]any{"name": "bad", "config": map[string]string{
		"connector.class": "io.streambridge.connect.kafka.KafkaSourceConnector", "source.bootstrap.servers": bootstrap,
		"source.security.protocol": "SASL_SSL", "source.sasl.mechanism": "GSSAPI"}}
	if status, body, err := restCall(t, good, "POST", base+"/connectors", restUser, restPassword, bad); err != nil || status != 400 || !strings.Contains(body, "source.sasl.mechanism") {
		t.Fatalf("bad source security: %d %s %v", status, body, err)
	}
	if status, body, err := restCall(t, good, "POST", base+"/connectors", restUser, restPassword, connector); err != nil || status != 201 {
		t.Fatalf("create: %d %s %v", status, body, err)
	}

	// curl, as an operator types it.
	curlBase := []string{"--cacert", s.ca, "--cert", s.clientCert, "--key", s.clientKey}
	if code, body := curlREST(t, append(curlBase, "-u", restUser+":"+restPassword, base+"/connectors")...); code != 200 || !strings.Contains(body, `"mirror"`) {
		t.Fatalf("curl with credentials: %d %s", code, body)
	}
	if code, body := curlREST(t, append(curlBase, "-u", restUser+":nope", base+"/connectors")...); code != 401 || body != restsec.Unauthorized {
		t.Fatalf("curl with a wrong password: %d %q", code, body)
	}
	if code, body := curlREST(t, "--cacert", s.ca, "-u", restUser+":"+restPassword, base+"/connectors"); code != 0 {
		t.Fatalf("curl without a client certificate: %d %q", code, body)
	}

	// Every record arrives in the copy, in order.
	consumer, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.ConsumeTopics("orders-copy"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DialTLSConfig(s.clientTLS(t, false)), kgo.SASL(scram.Auth{User: kafkaUser, Pass: kafkaPassword}.AsSha256Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer consumer.Close()
	var got []string
	for len(got) < n {
		fs := consumer.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("copied %d of %d records: %q", len(got), n, got)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("copy has %q; want %q", got, want)
	}
	status, body, err := restCall(t, good, "GET", base+"/connectors/mirror/status", restUser, restPassword, nil)
	if err != nil || status != 200 || strings.Contains(body, "FAILED") {
		t.Fatalf("status: %d %s %v", status, body, err)
	}
}

// startServeHooked is startServe with the embedded Connect worker started
// as serve starts it once the server is ready; it returns the REST API's
// address, or why serve did not start.
func startServeHooked(t *testing.T, args ...string) (*server.Server, string, error) {
	t.Helper()
	var srv *server.Server
	var stop func(context.Context) error
	lw := newLogWatcher()
	root := newRootCmd(noEnv, func(_ *cobra.Command, o *serveOptions, _ layered) error {
		log := newLogger(lw.w, "json", "info")
		cfg, err := o.serverConfig(log)
		if err != nil {
			return err
		}
		if srv, err = server.Start(t.Context(), cfg); err != nil {
			return err
		}
		stop, err = o.connectHook(log)(t.Context(), srv)
		return err
	})
	root.SetArgs(append([]string{"serve", "--in-memory", "--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", "--connect-addr", "127.0.0.1:0"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if stop != nil {
			_ = stop(ctx)
		}
		if srv != nil {
			_ = srv.Shutdown(ctx)
		}
	})
	if err := root.Execute(); err != nil {
		return srv, "", err
	}
	return srv, <-lw.addrC, nil
}

// bridge serve's embedded worker: its REST API serves HTTPS with serve's
// certificate and client authentication (--connect-tls), takes the
// bridge's own Kafka users for Basic authentication
// (--connect-basic-auth), and its clients reach a SASL_SSL-only Kafka
// port with the credentials of --connect-worker-properties.
func TestServeEmbeddedConnectSecurity(t *testing.T) {
	s := newSecureSetup(t)
	serveArgs := []string{"--kafka-listeners", "SASL_SSL://127.0.0.1:0",
		"--tls-cert-file", s.serverCert, "--tls-key-file", s.serverKey, "--tls-client-ca-file", s.ca, "--tls-client-auth", "required",
		"--sasl-users-file", s.usersFile, "--connect-tls", "--connect-basic-auth"}
	t.Run("no listener for the worker", func(t *testing.T) {
		_, _, err := startServeHooked(t, serveArgs...)
		if err == nil || !strings.Contains(err.Error(), "security.protocol is PLAINTEXT but no Kafka listener speaks it (listeners: SASL_SSL (SASL_SSL))") {
			t.Fatalf("serve = %v", err)
		}
	})
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"serve", "--connect-tls"}, "--connect-tls, --connect-basic-auth and --connect-worker-properties need --connect-addr"},
		{[]string{"serve", "--connect-addr", ":0", "--connect-tls"}, "--connect-tls needs --tls-cert-file and --tls-key-file"},
	} {
		_, _, err := resolve(t, tc.args[1:], nil, "")
		if err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%v: %v; want %q", tc.args, err, tc.err)
		}
	}

	props := filepath.Join(s.dir, "embedded.properties")
	jaas := `org.apache.kafka.common.security.scram.ScramLoginModule required username="` + kafkaUser + `" password="` + kafkaPassword + `";`
	if err := os.WriteFile(props, []byte("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\nsasl.jaas.config="+jaas+"\nssl.truststore.location="+s.ca+"\noffset.flush.interval.ms=100\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv, addr, err := startServeHooked(t, append(serveArgs, "--connect-worker-properties", props)...)
	if err != nil {
		t.Fatal(err)
	}
	base := "https://" + addr
	good := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, true)}}
	noCert := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, false)}}
	for _, tc := range []struct {
		name           string
		cl             *http.Client
		user, password string
		status         int
	}{
		{"kafka user", good, kafkaUser, kafkaPassword, 200},
		{"wrong password", good, kafkaUser, "nope", 401},
		{"no credentials", good, "", "", 401},
		{"no client certificate", noCert, kafkaUser, kafkaPassword, 0},
	} {
		status, body, err := restCall(t, tc.cl, "GET", base+"/", tc.user, tc.password, nil)
		switch {
		case tc.status == 0 && err == nil:
			t.Errorf("%s: got %d %s; want a refused handshake", tc.name, status, body)
		case tc.status != 0 && (err != nil || status != tc.status):
			t.Errorf("%s: got %d %s %v; want %d", tc.name, status, body, err, tc.status)
		case tc.status == 200 && !strings.Contains(body, `"kafka_cluster_id"`):
			t.Errorf("%s: %s", tc.name, body)
		}
	}
	curlBase := []string{"--cacert", s.ca, "--cert", s.clientCert, "--key", s.clientKey}
	if code, body := curlREST(t, append(curlBase, "-u", kafkaUser+":"+kafkaPassword, base+"/connector-plugins")...); code != 200 || !strings.Contains(body, "KafkaSourceConnector") {
		t.Fatalf("curl: %d %s", code, body)
	}
	if code, body := curlREST(t, append(curlBase, base+"/connectors")...); code != 401 || body != restsec.Unauthorized {
		t.Fatalf("curl without credentials: %d %q", code, body)
	}

	// The worker's producer writes over SASL_SSL: a Kafka source connector
	// copies a topic of the bridge into another.
	bootstrap := srv.Addrs().KafkaListeners[0].Bound
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(bootstrap), kgo.AllowAutoTopicCreation(), kgo.ConsumeTopics("events-copy"),
		kgo.DialTLSConfig(s.clientTLS(t, false)), kgo.SASL(scram.Auth{User: kafkaUser, Pass: kafkaPassword}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 5 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "events", Partition: 0, Value: fmt.Appendf(nil, "e%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	create := map[string]any{"name": "copy", "config": map[string]string{
		"connector.class": "io.streambridge.connect.kafka.KafkaSourceConnector", "topics": "events", "topic.rename.format": "${topic}-copy",
		"source.bootstrap.servers": bootstrap, "source.security.protocol": "SASL_SSL", "source.sasl.mechanism": "SCRAM-SHA-512",
		"source.sasl.jaas.config": jaas, "source.ssl.truststore.location": s.ca}}
	if status, body, err := restCall(t, good, "POST", base+"/connectors", kafkaUser, kafkaPassword, create); err != nil || status != 201 {
		t.Fatalf("create: %d %s %v", status, body, err)
	}
	var got []string
	for len(got) < 5 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("copied %q", got)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	if strings.Join(got, ",") != "e0,e1,e2,e3,e4" {
		t.Fatalf("copy has %q", got)
	}
}

// bridge connect refuses security settings it cannot honour before it
// serves anything, naming the setting.
func TestConnectRefusesBadSecurity(t *testing.T) {
	otherJAAS := filepath.Join(t.TempDir(), "client-jaas.conf")
	if err := os.WriteFile(otherJAAS, []byte("KafkaClient { x required; };\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, props string
		args        []string
		want        string
		kafkaOpts   string
	}{
		{"JAAS file from KAFKA_OPTS", "rest.extension.classes=" + restsec.BasicAuthExtension + "\n", nil, "client-jaas.conf: the JAAS file has no KafkaConnect section", "-Xmx256m -Djava.security.auth.login.config=" + otherJAAS},
		{"GSSAPI", "security.protocol=SASL_SSL\n", nil, "sasl.mechanism GSSAPI is not supported", ""},
		{"JKS trust store", "security.protocol=SSL\nssl.truststore.type=JKS\nssl.truststore.location=/x.jks\n", nil, "ssl.truststore.type JKS is not supported", ""},
		{"producer override", "producer.security.protocol=SASL_PLAINTEXT\nproducer.sasl.mechanism=PLAIN\n", nil, "producer clients: Could not find a 'KafkaClient' entry in the JAAS configuration", ""},
		{"https without a key store", "listeners=https://127.0.0.1:0\n", nil, "an https listener needs a key store", ""},
		{"basic auth without a JAAS file", "rest.extension.classes=" + restsec.BasicAuthExtension + "\n", nil, "no JAAS file is given: set --rest-jaas-config", ""},
		{"JAAS file without the section", "rest.extension.classes=" + restsec.BasicAuthExtension + "\n", []string{"--rest-jaas-config", otherJAAS}, "no KafkaConnect section", ""},
		{"unknown extension", "rest.extension.classes=com.example.Auth\n", nil, "com.example.Auth is not supported", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "worker.properties")
			if err := os.WriteFile(path, []byte("bootstrap.servers=127.0.0.1:1\n"+tc.props), 0o600); err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			args := append([]string{"connect", "--rest-addr", "127.0.0.1:0", "--state-dir", t.TempDir()}, tc.args...)
			env := func(k string) (string, bool) {
				if k == "KAFKA_OPTS" && tc.kafkaOpts != "" {
					return tc.kafkaOpts, true
				}
				return "", false
			}
			code := run(t.Context(), append(args, path), io.Discard, &stderr, env)
			if code == 0 || !strings.Contains(stderr.String(), tc.want) {
				t.Fatalf("exit %d, stderr %s; want an error with %q", code, stderr.String(), tc.want)
			}
		})
	}
}

// bridge connect's TLS flags (serve's names, here also set through the
// environment, as a container would) serve the REST API over HTTPS with
// required client certificates, and the JAAS file comes from KAFKA_OPTS.
func TestConnectTLSFlags(t *testing.T) {
	s := newSecureSetup(t)
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	path := filepath.Join(t.TempDir(), "worker.properties")
	if err := os.WriteFile(path, []byte("bootstrap.servers="+c.ListenAddrs()[0]+"\nrest.extension.classes="+restsec.BasicAuthExtension+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"BRIDGE_TLS_CERT_FILE": s.serverCert, "BRIDGE_TLS_KEY_FILE": s.serverKey,
		"KAFKA_OPTS": "-Djava.security.auth.login.config=" + s.jaasFile,
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	ctx, cancel := context.WithCancel(context.Background())
	lw := newLogWatcher()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"connect", "--log-format", "json", "--rest-addr", "127.0.0.1:0", "--state-dir", t.TempDir(),
			"--tls-client-ca-file", s.ca, "--tls-client-auth", "required", path}, io.Discard, lw.w, lookup)
	}()
	var base string
	select {
	case addr := <-lw.addrC:
		base = "https://" + addr
	case code := <-done:
		t.Fatalf("bridge connect exited with %d", code)
	}
	defer func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("exit %d", code)
		}
	}()
	good := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, true)}}
	noCert := &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, false)}}
	if status, body, err := restCall(t, good, "GET", base+"/connectors", restUser, restPassword, nil); err != nil || status != 200 {
		t.Fatalf("with certificate and credentials: %d %s %v", status, body, err)
	}
	if status, body, err := restCall(t, good, "GET", base+"/connectors", restUser, "x", nil); err != nil || status != 401 {
		t.Fatalf("wrong password: %d %s %v", status, body, err)
	}
	if _, _, err := restCall(t, noCert, "GET", base+"/connectors", restUser, restPassword, nil); err == nil {
		t.Fatal("a client without a certificate was served")
	}

	var stderr bytes.Buffer
	code := run(t.Context(), []string{"connect", "--rest-addr", "127.0.0.1:0", "--state-dir", t.TempDir(), "--tls-cert-file", s.serverCert, "--tls-key-file", s.serverKey, "--tls-client-auth", "required", path}, io.Discard, &stderr, noEnv)
	if code == 0 || !strings.Contains(stderr.String(), "--tls-client-auth required needs --tls-client-ca-file") {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}
