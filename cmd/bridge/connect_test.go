package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect/restsec"
)

// logWatcher collects a command's JSON log lines and finds the Connect
// REST address in them.
type logWatcher struct {
	mu    sync.Mutex
	lines []map[string]any
	w     *io.PipeWriter
	addrC chan string
}

func newLogWatcher() *logWatcher {
	r, w := io.Pipe()
	lw := &logWatcher{w: w, addrC: make(chan string, 1)}
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var l map[string]any
			if json.Unmarshal(sc.Bytes(), &l) != nil {
				continue
			}
			lw.mu.Lock()
			lw.lines = append(lw.lines, l)
			lw.mu.Unlock()
			if l["msg"] == "listening" && l["listener"] == "connect" {
				lw.addrC <- l["addr"].(string)
			}
		}
	}()
	return lw
}

// runConnectCmd runs `bridge connect args...` until the returned stop is
// called; it returns the REST API's base URL.
func runConnectCmd(t *testing.T, args ...string) (base string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	lw := newLogWatcher()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"connect", "--log-format", "json", "--rest-addr", "127.0.0.1:0"}, args...), io.Discard, lw.w, noEnv)
	}()
	select {
	case addr := <-lw.addrC:
		base = "http://" + addr
	case code := <-done:
		t.Fatalf("bridge connect exited with %d before serving", code)
	case <-time.After(2 * time.Minute):
		t.Fatal("bridge connect did not start")
	}
	return base, func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("bridge connect exited with %d", code)
		}
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

// bridge connect runs a worker properties file and a connector file as
// connect-standalone.sh does, against a Kafka cluster it did not start
// (kfake); the connector copies records to its file, and a second run
// without the connector file finds it again in --state-dir.
func TestConnectCommand(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "lines"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	worker := filepath.Join(dir, "worker.properties")
	connector := filepath.Join(dir, "file-sink.properties")
	write := func(path, content string) {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(worker, "# worker\nbootstrap.servers="+c.ListenAddrs()[0]+"\n"+
		"key.converter=org.apache.kafka.connect.storage.StringConverter\n"+
		"value.converter=org.apache.kafka.connect.storage.StringConverter\n"+
		"offset.flush.interval.ms=100\n")
	write(connector, "name=file-sink\nconnector.class=FileStreamSink\ntasks.max=1\ntopics=lines\nfile="+out+"\n")
	state := filepath.Join(dir, "state")

	base, stop := runConnectCmd(t, "--state-dir", state, worker, connector)
	var names []string
	getJSON(t, base+"/connectors", &names)
	if len(names) != 1 || names[0] != "file-sink" {
		t.Fatalf("connectors = %q", names)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 5 {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "lines", Value: fmt.Appendf(nil, "line-%d", i)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		b, _ := os.ReadFile(out)
		if strings.Count(string(b), "\n") >= 5 {
			if want := "line-0\nline-1\nline-2\nline-3\nline-4\n"; string(b) != want {
				t.Fatalf("file has %q, want %q", b, want)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("file has %q", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var info struct{ Version, Commit, KafkaClusterID string }
	getJSON(t, base+"/", &info)
	stop()

	base, stop = runConnectCmd(t, "--state-dir", state, "--bootstrap-servers", c.ListenAddrs()[0])
	defer stop()
	var status struct {
		Name      string
		Connector struct{ State string }
		Type      string
	}
	getJSON(t, base+"/connectors/file-sink/status", &status)
	if status.Name != "file-sink" || status.Connector.State != "RUNNING" || status.Type != "sink" {
		t.Errorf("status after a restart without the connector file: %+v", status)
	}
}

func TestConnectFiles(t *testing.T) {
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w1, w2 := file("w1", "bootstrap.servers=a:1\n"), file("w2", "listeners=http://:1\n")
	noName := file("c0", "connector.class=X\n")
	if _, _, err := connectFiles([]string{w1, w2}); err == nil {
		t.Error("two worker files accepted")
	}
	if _, _, err := connectFiles([]string{noName}); err == nil {
		t.Error("a connector without a name accepted")
	}
	if _, _, err := connectFiles([]string{filepath.Join(dir, "missing")}); err == nil {
		t.Error("a missing file accepted")
	}
	for in, want := range map[string]restsec.Listener{
		"http://:8083":                   {Scheme: "http", Addr: ":8083"},
		"HTTPS://h:1,http://127.0.0.1:9": {Scheme: "https", Addr: "h:1"},
		" , http://127.0.0.1:9":          {Scheme: "http", Addr: "127.0.0.1:9"},
	} {
		if got, err := restsec.ParseListeners(in); err != nil || got != want {
			t.Errorf("ParseListeners(%q) = %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"ftp://h:1", "h:1", ""} {
		if _, err := restsec.ParseListeners(bad); err == nil {
			t.Errorf("listeners %q accepted", bad)
		}
	}
}
