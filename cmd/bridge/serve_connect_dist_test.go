package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/connect/herder/herdertest"
	"github.com/streambridge/bridge/server"
)

// runServeConnect runs `bridge serve args...` with its embedded Connect
// worker, on loopback ports, until the returned stop sends it SIGTERM; it
// returns the worker's REST base URL and the Kafka listener's address.
func runServeConnect(t *testing.T, args ...string) (base, kafka string, stop func()) {
	t.Helper()
	addr, kafka, _, stop := startServeConnect(t, args...)
	base = "http://" + addr
	waitHealthy(t, base)
	return base, kafka, stop
}

// startServeConnect is runServeConnect for any listener: it returns the
// worker's REST address as soon as it serves, and serve's log lines.
func startServeConnect(t *testing.T, args ...string) (addr, kafka string, lw *logWatcher, stop func()) {
	t.Helper()
	lw = newLogWatcher()
	sigs := make(chan os.Signal, 1)
	kafkaC := make(chan string, 1)
	done := make(chan error, 1)
	root := newRootCmd(noEnv, func(_ *cobra.Command, o *serveOptions, _ layered) error {
		log := newLogger(lw.w, "json", "info")
		cfg, err := o.serverConfig(log)
		if err != nil {
			return err
		}
		connectHook := o.connectHook(log)
		hook := func(ctx context.Context, srv *server.Server) (func(context.Context) error, error) {
			kafkaC <- srv.Addrs().Kafka
			return connectHook(ctx, srv)
		}
		return serve(context.Background(), cfg, 30*time.Second, log, sigs, func() { t.Error("forced exit") }, hook)
	})
	root.SetArgs(append([]string{"serve", "--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0",
		"--admin-addr", "127.0.0.1:0", "--connect-addr", "127.0.0.1:0"}, args...))
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	go func() { done <- root.Execute() }()
	select {
	case addr = <-lw.addrC:
	case err := <-done:
		t.Fatalf("bridge serve returned before its Connect worker served: %v", err)
	case <-time.After(2 * time.Minute):
		t.Fatal("bridge serve's Connect worker did not start")
	}
	kafka = <-kafkaC
	return addr, kafka, lw, func() {
		sigs <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("bridge serve: %v", err)
		}
	}
}

// waitHealthy polls a worker's GET /health until it answers 200 (joined).
func waitHealthy(t *testing.T, base string) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(base + "/health")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s/health still %d", base, resp.StatusCode)
		}
	}
}

// sendRetrying sends a JSON request, again while the worker answers 409
// for a rebalance under way (as Kafka Connect answers it), and returns the
// final status and body.
func sendRetrying(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		code, answer, err := herdertest.Send(context.Background(), method, url, body)
		if err != nil {
			t.Fatal(err)
		}
		if !herdertest.Rebalancing(code, answer) || time.Now().After(deadline) {
			return code, answer
		}
	}
}

// connectorStatus is the part of GET /connectors/{name}/status the tests
// look at.
type connectorStatus struct {
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"tasks"`
}

// waitStatus polls a connector's status on base until check accepts it.
func waitStatus(t *testing.T, base, name string, check func(connectorStatus) bool) connectorStatus {
	t.Helper()
	var st connectorStatus
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(base + "/connectors/" + name + "/status")
		if err != nil {
			t.Fatal(err)
		}
		st = connectorStatus{}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusOK && check(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("status of %s on %s: %d %+v", name, base, resp.StatusCode, st)
		}
	}
}

func running(st connectorStatus) bool {
	if st.Connector.State != "RUNNING" || len(st.Tasks) == 0 {
		return false
	}
	for _, task := range st.Tasks {
		if task.State != "RUNNING" {
			return false
		}
	}
	return true
}

// bridge serve --connect-group-id makes the embedded worker a distributed
// one: a `bridge connect` worker of the same group pointed at the bridge
// joins its Connect cluster, a connector created through either is seen
// and run by the cluster, and after both stop and serve starts again on
// the same data dir, the connectors are still there (the state is in the
// bridge's internal topics, not DATA_DIR/connect) and run again.
func TestServeConnectDistributed(t *testing.T) {
	dataDir := t.TempDir()
	serveArgs := []string{"--data-dir", dataDir, "--connect-group-id", "serve-cluster",
		"--connect-config-topic", "my-configs", "--group-min-session-timeout", "100ms", "--group-initial-rebalance-delay", "0"}
	serveBase, kafka, stopServe := runServeConnect(t, serveArgs...)

	props := filepath.Join(t.TempDir(), "worker.properties")
	if err := os.WriteFile(props, []byte("config.storage.topic=my-configs\nsession.timeout.ms=1000\nheartbeat.interval.ms=100\n"+
		"rebalance.timeout.ms=10000\nscheduled.rebalance.max.delay.ms=0\nrest.advertised.host.name=127.0.0.1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	workerBase, stopWorker := runConnectCmd(t, "--group-id", "serve-cluster", "--bootstrap-servers", kafka, props)
	waitHealthy(t, workerBase)

	out := t.TempDir()
	create := func(base, name string) {
		t.Helper()
		body := `{"name":"` + name + `","config":{"connector.class":"FileStreamSink","topics":"lines","tasks.max":"1","file":"` + filepath.Join(out, name) + `"}}`
		if code, resp := sendRetrying(t, "POST", base+"/connectors", body); code != http.StatusCreated {
			t.Fatalf("create %s through %s: %d %s", name, base, code, resp)
		}
	}
	create(workerBase, "via-worker")
	create(serveBase, "via-serve")
	if code, resp := sendRetrying(t, "POST", workerBase+"/connectors", `{"name":"via-serve","config":{"connector.class":"FileStreamSink","topics":"lines"}}`); code != http.StatusConflict {
		t.Errorf("creating via-serve again through the other worker: %d %s", code, resp)
	}
	for _, base := range []string{serveBase, workerBase} {
		for _, name := range []string{"via-worker", "via-serve"} {
			waitStatus(t, base, name, running)
		}
	}
	if _, err := os.Stat(filepath.Join(dataDir, connectStateSubdir)); !os.IsNotExist(err) {
		t.Errorf("distributed mode wrote DATA_DIR/connect: %v", err)
	}

	stopWorker()
	stopServe()

	serveBase, _, stopServe = runServeConnect(t, serveArgs...)
	defer stopServe()
	var names []string
	getJSON(t, serveBase+"/connectors", &names)
	if strings.Join(names, ",") != "via-serve,via-worker" {
		t.Fatalf("connectors after the restart: %q", names)
	}
	// Only the restarted worker is left: it runs everything (the status
	// topic still holds the statuses of before, with the old worker ids).
	self := strings.TrimPrefix(serveBase, "http://")
	for _, name := range names {
		waitStatus(t, serveBase, name, func(st connectorStatus) bool {
			return running(st) && st.Connector.WorkerID == self && st.Tasks[0].WorkerID == self
		})
	}
}
