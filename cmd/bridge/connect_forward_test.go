package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder/herdertest"
	"github.com/streambridge/bridge/connect/restsec"
	"github.com/streambridge/bridge/security/tlsconfig"
)

// secureGroup is a Connect cluster whose workers serve https, require
// client certificates and Basic credentials, as a client of it sees it.
type secureGroup struct {
	setup      secureSetup
	cl         *http.Client // the operator's certificate
	user, pass string
	bases      []string      // https://127.0.0.1:PORT, one per worker
	logs       []*logWatcher // each worker's log lines
}

// send sends a JSON request with the group's credentials (user and pass
// when given) and retries while the worker answers Kafka's 409 for a
// rebalance under way.
func (g secureGroup) send(t *testing.T, method, url, user, pass, body string) (int, string, http.Header) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		var r io.Reader
		if body != "" {
			r = strings.NewReader(body)
		}
		req, err := http.NewRequest(method, url, r)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := g.cl.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !herdertest.Rebalancing(resp.StatusCode, string(b)) || time.Now().After(deadline) {
			return resp.StatusCode, string(b), resp.Header
		}
	}
}

// curl sends a JSON request with curl, as an operator types it, retrying
// Kafka's 409 for a rebalance under way.
func (g secureGroup) curl(t *testing.T, method, url, credentials, body string) (int, string) {
	t.Helper()
	args := []string{"--cacert", g.setup.ca, "--cert", g.setup.clientCert, "--key", g.setup.clientKey, "-u", credentials, "-X", method, url}
	if body != "" {
		args = append(args, "-H", "Content-Type: application/json", "-d", body)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		code, answer := curlREST(t, args...)
		if !herdertest.Rebalancing(code, answer) || time.Now().After(deadline) {
			return code, answer
		}
	}
}

// waitHealthy waits until every worker answers GET /health with 200: it
// joined its group.
func (g secureGroup) waitHealthy(t *testing.T) {
	t.Helper()
	for _, base := range g.bases {
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
			status, _, err := restCall(t, g.cl, "GET", base+"/health", g.user, g.pass, nil)
			if err == nil && status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s/health: %d %v", base, status, err)
			}
		}
	}
}

// lastAssignment is the newest "connect: assignment" line of a worker's
// log: its generation and the leader's advertised URL.
func lastAssignment(lw *logWatcher) (generation float64, leader string, ok bool) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	for i := len(lw.lines) - 1; i >= 0; i-- {
		l := lw.lines[i]
		if l["msg"] == "connect: assignment" {
			generation, _ = l["generation"].(float64)
			leader, _ = l["leader"].(string)
			return generation, leader, true
		}
	}
	return 0, "", false
}

// leader waits until every worker completed the same rebalance (so the
// group has them all) and returns the index of the leader, whose
// advertised URL every worker was given.
func (g secureGroup) leader(t *testing.T) int {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		gen0, leader0, ok0 := lastAssignment(g.logs[0])
		same := ok0
		for _, lw := range g.logs[1:] {
			gen, leader, ok := lastAssignment(lw)
			same = same && ok && gen == gen0 && leader == leader0
		}
		if i := slices.Index(g.bases, strings.TrimSuffix(leader0, "/")); same && i >= 0 {
			return i
		}
		if time.Now().After(deadline) {
			t.Fatalf("the workers never agreed on a leader among %v (worker 0 last saw %q)", g.bases, leader0)
		}
	}
}

// taskStarts counts the "task started" lines of a task in a worker's log.
func taskStarts(lw *logWatcher, connector string, task int) int {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	n := 0
	for _, l := range lw.lines {
		if l["msg"] == "task started" && l["connector"] == connector && l["task"] == float64(task) {
			n++
		}
	}
	return n
}

// status polls a connector's status on base until check accepts it.
func (g secureGroup) status(t *testing.T, base, name string, check func(connectorStatus) bool) connectorStatus {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		code, body, _ := g.send(t, "GET", base+"/connectors/"+name+"/status", g.user, g.pass, "")
		var st connectorStatus
		if code == 200 && json.Unmarshal([]byte(body), &st) == nil && check(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status of %s on %s: %d %s", name, base, code, body)
		}
	}
}

// checkForwarding drives a connector's whole life through a worker that is
// not the leader of a secure group, restarts its task through every worker
// that does not run it, and checks that wrong credentials are refused by
// the first worker, never forwarded.
func checkForwarding(t *testing.T, g secureGroup) {
	leader := g.leader(t)
	if !strings.HasPrefix(g.bases[leader], "https://") {
		t.Fatalf("leader %s", g.bases[leader])
	}
	via := (leader + 1) % len(g.bases)
	viaBase, leaderBase := g.bases[via], g.bases[leader]
	t.Logf("leader %s, requests through %s", leaderBase, viaBase)
	dir := t.TempDir()
	const name = "fwd-sink"
	config := func(file string) string {
		return `{"connector.class":"FileStreamSink","topics":"lines","tasks.max":"1","file":"` + filepath.Join(dir, file) + `"}`
	}
	create := `{"name":"` + name + `","config":` + config("first") + `}`

	// Wrong or missing credentials: 401 at the first worker, with Kafka's
	// body; nothing reaches the leader.
	for _, cred := range [][2]string{{g.user, "wrong"}, {"mallory", g.pass}, {"", ""}} {
		code, body, _ := g.send(t, "POST", viaBase+"/connectors", cred[0], cred[1], create)
		if code != 401 || body != restsec.Unauthorized {
			t.Fatalf("create with %q:%q: %d %q", cred[0], cred[1], code, body)
		}
	}
	if code, body := g.curl(t, "POST", viaBase+"/connectors", g.user+":nope", create); code != 401 || body != restsec.Unauthorized {
		t.Fatalf("curl with a wrong password: %d %q", code, body)
	}
	if code, body, _ := g.send(t, "GET", leaderBase+"/connectors", g.user, g.pass, ""); code != 200 || strings.TrimSpace(body) != "[]" {
		t.Fatalf("connectors after refused creates: %d %s", code, body)
	}

	// Create (curl), update and read through the non-leader.
	if code, body := g.curl(t, "POST", viaBase+"/connectors", g.user+":"+g.pass, create); code != 201 || !strings.Contains(body, `"name":"`+name+`"`) {
		t.Fatalf("create through %s: %d %s", viaBase, code, body)
	}
	code, body, header := g.send(t, "PUT", viaBase+"/connectors/"+name+"/config", g.user, g.pass, config("second"))
	if code != 200 || !strings.Contains(body, "second") {
		t.Fatalf("update through %s: %d %s", viaBase, code, body)
	}
	if loc := header.Get("Location"); loc != "" && !strings.HasPrefix(loc, viaBase) {
		t.Errorf("Location %q, want one on %s", loc, viaBase)
	}
	_, body, _ = g.send(t, "GET", leaderBase+"/connectors/"+name+"/config", g.user, g.pass, "")
	var got map[string]string
	if err := json.Unmarshal([]byte(body), &got); err != nil || got["file"] != filepath.Join(dir, "second") {
		t.Fatalf("config on the leader: %s", body)
	}

	// A task restart sent to a worker that does not run the task goes to
	// the one that does (directly, or through the leader).
	st := g.status(t, leaderBase, name, func(st connectorStatus) bool { return running(st) && st.Tasks[0].WorkerID != "" })
	owner := slices.Index(g.bases, "https://"+st.Tasks[0].WorkerID)
	if owner < 0 {
		t.Fatalf("task 0 runs on %s, not one of %v", st.Tasks[0].WorkerID, g.bases)
	}
	for i, base := range g.bases {
		if i == owner {
			continue
		}
		before := taskStarts(g.logs[owner], name, 0)
		if code, body, _ := g.send(t, "POST", base+"/connectors/"+name+"/tasks/0/restart", g.user, g.pass, ""); code != 204 {
			t.Fatalf("task restart through %s (leader %v) for %s: %d %s", base, i == leader, g.bases[owner], code, body)
		}
		for deadline := time.Now().Add(time.Minute); taskStarts(g.logs[owner], name, 0) <= before; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the restart through %s did not restart the task on %s", base, g.bases[owner])
			}
		}
	}

	// Delete through the non-leader.
	if code, body, _ := g.send(t, "DELETE", viaBase+"/connectors/"+name, g.user, g.pass, ""); code != 204 {
		t.Fatalf("delete through %s: %d %s", viaBase, code, body)
	}
	for _, base := range g.bases {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
			code, body, _ := g.send(t, "GET", base+"/connectors", g.user, g.pass, "")
			if code == 200 && strings.TrimSpace(body) == "[]" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("connectors on %s after the delete: %d %s", base, code, body)
			}
		}
	}
}

// workerProps are the properties of a distributed `bridge connect` worker
// behind https with required client certificates and Basic
// authentication, in a group with quick rebalances.
func (s secureSetup) workerProps(bootstrap, groupID string) string {
	return strings.Join([]string{
		"bootstrap.servers=" + bootstrap,
		"group.id=" + groupID,
		"session.timeout.ms=1000",
		"heartbeat.interval.ms=100",
		"rebalance.timeout.ms=10000",
		"scheduled.rebalance.max.delay.ms=0",
		"offset.flush.interval.ms=100",
		"listeners=https://127.0.0.1:0",
		"listeners.https.ssl.keystore.type=PEM",
		"listeners.https.ssl.keystore.location=" + s.keystore,
		"listeners.https.ssl.truststore.location=" + s.ca,
		"listeners.https.ssl.client.auth=required",
		"rest.extension.classes=" + restsec.BasicAuthExtension,
	}, "\n") + "\n"
}

// Three `bridge connect` workers of one group, each serving https with
// required client certificates and Basic authentication: a worker that is
// not the leader forwards creates, updates and deletes to the leader, and
// task restarts reach the worker running the task, with its certificate
// and the client's credentials; wrong credentials are refused by the
// first worker.
func TestDistributedForwardingOverHTTPS(t *testing.T) {
	s := newSecureSetup(t)
	srv := startServe(t, "--group-min-session-timeout", "100ms", "--group-initial-rebalance-delay", "0")
	props := s.workerProps(srv.Addrs().Kafka, "secure-group")
	g := secureGroup{setup: s, user: restUser, pass: restPassword,
		cl: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, true)}}}
	for range 3 {
		base, lw := startSecureConnect(t, props, "--rest-jaas-config", s.jaasFile)
		g.bases, g.logs = append(g.bases, base), append(g.logs, lw)
	}
	g.waitHealthy(t)
	checkForwarding(t, g)
}

// bridge serve's embedded worker (--connect-group-id with --connect-tls,
// client certificates required and --connect-basic-auth) and a `bridge
// connect` worker in its group forward to each other over https with
// serve's certificate and CA, and the worker's own key and trust stores.
func TestServeEmbeddedWorkerForwardsOverHTTPS(t *testing.T) {
	s := newSecureSetup(t)
	addr, kafka, serveLog, stop := startServeConnect(t, "--in-memory", "--connect-group-id", "serve-secure",
		"--group-min-session-timeout", "100ms", "--group-initial-rebalance-delay", "0",
		"--tls-cert-file", s.serverCert, "--tls-key-file", s.serverKey, "--tls-client-ca-file", s.ca, "--tls-client-auth", "required",
		"--sasl-users-file", s.usersFile, "--connect-tls", "--connect-basic-auth")
	defer stop()

	// The worker takes the bridge's Kafka user as its REST user, so the
	// same credentials pass both workers.
	creds := filepath.Join(s.dir, "kafka-user.properties")
	jaas := filepath.Join(s.dir, "kafka-user-jaas.conf")
	if err := os.WriteFile(creds, fmt.Appendf(nil, "%s: %s\n", kafkaUser, kafkaPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jaas, []byte("KafkaConnect {\n  "+restsec.PropertyFileLoginModule+" required\n  file=\""+creds+"\";\n};\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var props bytes.Buffer
	props.WriteString(s.workerProps(kafka, "serve-secure"))
	// The embedded worker's internal topics, serve's defaults.
	props.WriteString("config.storage.topic=connect-configs\noffset.storage.topic=connect-offsets\nstatus.storage.topic=connect-status\n")
	base, lw := startSecureConnect(t, props.String(), "--rest-jaas-config", jaas)

	g := secureGroup{setup: s, user: kafkaUser, pass: kafkaPassword, bases: []string{"https://" + addr, base}, logs: []*logWatcher{serveLog, lw},
		cl: &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: s.clientTLS(t, true)}}}
	g.waitHealthy(t)
	checkForwarding(t, g)
}

// A worker whose listener serve's --tls-* flags configure forwards with
// its own certificate and trusts --tls-client-ca-file, else the worker
// properties' trust store (the flags refuse a CA file without client
// authentication), else the system's CAs.
func TestForwardTLSFromFlags(t *testing.T) {
	s := newSecureSetup(t)
	r, err := tlsconfig.New(tlsconfig.Files{CertFile: s.serverCert, KeyFile: s.serverKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	caPEM, _ := os.ReadFile(s.ca)
	devCA, _ := tlsconfig.ReadCerts(caPEM)
	for _, tc := range []struct {
		name        string
		caFile      string
		props       connect.Config
		trustsDevCA bool
		systemRoots bool
		err         string
	}{
		{name: "client CA file", caFile: s.ca, trustsDevCA: true},
		{name: "the properties' listener trust store", props: connect.Config{"listeners.https.ssl.truststore.location": s.ca}, trustsDevCA: true},
		{name: "the properties' trust store", props: connect.Config{"ssl.truststore.location": s.ca}, trustsDevCA: true},
		{name: "neither: the system's CAs", systemRoots: true},
		{name: "missing CA file", caFile: filepath.Join(s.dir, "none.pem"), err: "--tls-client-ca-file"},
		{name: "bad trust store", props: connect.Config{"ssl.truststore.type": "PKCS12"}, err: "the REST client (forwarding to other workers): ssl.truststore.type PKCS12 is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := forwardTLSFromFlags(r, tc.caFile, tc.props)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.systemRoots != (c.RootCAs == nil) {
				t.Fatalf("RootCAs %v; want the system's: %v", c.RootCAs, tc.systemRoots)
			}
			if tc.trustsDevCA {
				if _, err := devCA[0].Verify(x509.VerifyOptions{Roots: c.RootCAs}); err != nil {
					t.Fatalf("the development CA is not trusted: %v", err)
				}
			}
			cert, err := c.GetClientCertificate(&tls.CertificateRequestInfo{})
			if err != nil || cert != r.Certificate() {
				t.Fatalf("client certificate %v, %v; want the listener's", cert, err)
			}
		})
	}
}
