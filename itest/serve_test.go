// Package itest drives a real bridge binary the way users and their clients
// do: as a child process on 127.0.0.1 ports chosen at run time.
package itest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// The bridge binary is built once per run of this package, on first use, into
// a directory TestMain removes at the end.
var (
	binDir    string
	buildOnce sync.Once
	bridgeBin string
	buildErr  error
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

func runTests(m *testing.M) int {
	dir, err := os.MkdirTemp("", "bridge-itest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "itest:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binDir = dir
	code := m.Run()
	if err := removeTestImage(); err != nil {
		fmt.Fprintln(os.Stderr, "itest: removing the test image:", err)
		code = max(code, 1)
	}
	return code
}

// bridgeBinary returns the path of the bridge binary, building it the first
// time. It runs inside the tests, not in TestMain, so that the source files
// it reads count as the tests' inputs: `go test` then reruns this package
// when the bridge's code changes, instead of replaying a cached pass for a
// binary it never saw.
func bridgeBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() { bridgeBin, buildErr = buildBridge() })
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return bridgeBin
}

func buildBridge() (string, error) {
	const pkg = "github.com/streambridge/bridge/cmd/bridge"
	if err := readSources(pkg); err != nil {
		return "", err
	}
	bin := filepath.Join(binDir, "bridge")
	args := []string{"build", "-o", bin}
	if raceEnabled() {
		// The child gets the race detector too: the lifecycle is where
		// goroutines meet.
		args = append(args, "-race")
	}
	args = append(args, pkg)
	out, err := exec.Command(goTool, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bin, nil
}

// readSources reads go.mod, go.sum and every file of this module that pkg is
// built from; see bridgeBinary for why.
func readSources(pkg string) error {
	out, err := exec.Command(goTool, "list", "-deps", "-f",
		`{{if .Module}}{{if .Module.Main}}{{$d := .Dir}}{{range .GoFiles}}{{$d}}/{{.}}
{{end}}{{range .CgoFiles}}{{$d}}/{{.}}
{{end}}{{range .EmbedFiles}}{{$d}}/{{.}}
{{end}}{{end}}{{end}}`, pkg).Output()
	if err != nil {
		return fmt.Errorf("go list -deps %s: %w", pkg, err)
	}
	gomod, err := exec.Command(goTool, "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(gomod))
	files := append(strings.Split(string(out), "\n"), mod, filepath.Join(filepath.Dir(mod), "go.sum"))
	for _, f := range files {
		if f == "" {
			continue
		}
		if _, err := os.ReadFile(f); err != nil {
			return err
		}
	}
	return nil
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" && s.Value == "true" {
			return true
		}
	}
	return false
}

// goTool is the go command of the toolchain running the tests: `go test`
// puts its own GOROOT/bin first on the test binary's PATH.
const goTool = "go"

// Generous bounds for a loaded CI machine; they catch hangs, not slowness.
const (
	startTimeout = 2 * time.Minute
	stopTimeout  = 2 * time.Minute
)

// loopbackArgs are the serve flags every test uses: 127.0.0.1 only, ports
// the kernel picks, JSON logs the harness can read.
func loopbackArgs(dataDir string) []string {
	return []string{"serve",
		"--kafka-addr", "127.0.0.1:0",
		"--aws-addr", "127.0.0.1:0",
		"--admin-addr", "127.0.0.1:0",
		"--data-dir", dataDir,
		"--log-format", "json",
	}
}

// logLine is one JSON log record from the child's stderr.
type logLine map[string]any

func (l logLine) str(key string) string { s, _ := l[key].(string); return s }

// proc is a running (or finished) bridge child process.
type proc struct {
	t   *testing.T
	cmd *exec.Cmd

	mu      sync.Mutex
	changed chan struct{} // closed and replaced whenever lines or exit change
	lines   []logLine
	raw     []string // every stderr line, for failure reports
	notJSON []string
	exited  bool
	exitErr error
	stdout  strings.Builder
}

// launch starts `bridge args...` without waiting for it to be ready.
func launch(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(bridgeBinary(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	p := &proc{t: t, cmd: cmd, changed: make(chan struct{})}
	cmd.Stdout = &lockedWriter{mu: &p.mu, w: &p.stdout}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go p.read(stderr)
	t.Cleanup(func() {
		if !p.hasExited() {
			_ = cmd.Process.Kill()
			p.waitExit(context.Background())
		}
		if t.Failed() {
			p.mu.Lock()
			t.Logf("bridge %s (pid %d) stderr:\n%s", strings.Join(args, " "), cmd.Process.Pid, strings.Join(p.raw, "\n"))
			p.mu.Unlock()
		}
	})
	return p
}

// cleanEnv is this process's environment without BRIDGE_* settings and
// the allocator settings bridge serve adds (TestServeAllocatorSettings),
// so a developer's shell cannot change what a test runs.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "BRIDGE_") && !strings.HasPrefix(kv, "GODEBUG=") && !strings.HasPrefix(kv, "GLIBC_TUNABLES=") {
			env = append(env, kv)
		}
	}
	return env
}

func (p *proc) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		text := sc.Text()
		var l logLine
		jsonErr := json.Unmarshal([]byte(text), &l)
		p.mu.Lock()
		p.raw = append(p.raw, text)
		if jsonErr != nil {
			p.notJSON = append(p.notJSON, text)
		} else {
			p.lines = append(p.lines, l)
		}
		p.notifyLocked()
		p.mu.Unlock()
	}
	err := p.cmd.Wait() // only after stderr is drained, as os/exec requires
	p.mu.Lock()
	p.exited, p.exitErr = true, err
	p.notifyLocked()
	p.mu.Unlock()
}

func (p *proc) notifyLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *proc) hasExited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// waitLog returns the first log line, from the start, that match accepts.
// It fails the test if the process exits or ctx ends first.
func (p *proc) waitLog(ctx context.Context, what string, match func(logLine) bool) logLine {
	p.t.Helper()
	for {
		p.mu.Lock()
		for _, l := range p.lines {
			if match(l) {
				p.mu.Unlock()
				return l
			}
		}
		exited, changed := p.exited, p.changed
		p.mu.Unlock()
		if exited {
			p.t.Fatalf("bridge exited (%v) before logging %s", p.exitErr, what)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			p.t.Fatalf("no log line %s: %v", what, ctx.Err())
		}
	}
}

func msgIs(msg string) func(logLine) bool {
	return func(l logLine) bool { return l.str("msg") == msg }
}

// waitExit waits for the process to end and returns its exit status.
func (p *proc) waitExit(ctx context.Context) (int, error) {
	for {
		p.mu.Lock()
		exited, err, changed := p.exited, p.exitErr, p.changed
		p.mu.Unlock()
		if exited {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode(), nil
			}
			if err != nil {
				return -1, err
			}
			return 0, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return -1, fmt.Errorf("bridge still running: %w", ctx.Err())
		}
	}
}

// mustExit waits for the exit and checks its status and that every stderr
// line was a JSON record.
func (p *proc) mustExit(want int) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	code, err := p.waitExit(ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	if code != want {
		p.t.Fatalf("bridge exit status %d, want %d", code, want)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.notJSON) > 0 {
		p.t.Errorf("with --log-format json, stderr had %d non-JSON lines, first: %q", len(p.notJSON), p.notJSON[0])
	}
}

// kill9 SIGKILLs the process and waits for it to be gone.
func (p *proc) kill9() {
	p.t.Helper()
	if err := p.cmd.Process.Kill(); err != nil {
		p.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	if _, err := p.waitExit(ctx); err != nil {
		p.t.Fatal(err)
	}
}

func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// bridge is a started, ready bridge with its bound addresses.
type bridge struct {
	*proc
	kafka, aws, admin string
	// kafkaListeners are the bound Kafka ports by listener name, when
	// --kafka-listeners named them (kafka is then the first).
	kafkaListeners map[string]string
}

// startBridge starts `bridge args...` and waits until it logs "ready".
func startBridge(t *testing.T, env []string, args ...string) *bridge {
	t.Helper()
	p := launch(t, env, args...)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	b := &bridge{proc: p}
	for _, l := range []struct {
		name string
		addr *string
	}{{"kafka", &b.kafka}, {"aws", &b.aws}, {"admin", &b.admin}} {
		line := p.waitLog(ctx, "listening "+l.name, func(x logLine) bool {
			return x.str("msg") == "listening" && (x.str("listener") == l.name || strings.HasPrefix(x.str("listener"), l.name+" "))
		})
		*l.addr = line.str("addr")
		host, port, err := net.SplitHostPort(*l.addr)
		if err != nil || host != "127.0.0.1" || port == "0" {
			t.Fatalf("%s listener logged addr %q; want 127.0.0.1 and the bound port", l.name, *l.addr)
		}
	}
	p.waitLog(ctx, "ready", msgIs("ready"))
	b.kafkaListeners = map[string]string{}
	p.mu.Lock()
	for _, l := range p.lines {
		if name, ok := strings.CutPrefix(l.str("listener"), "kafka "); ok && l.str("msg") == "listening" {
			b.kafkaListeners[name] = l.str("addr")
		}
	}
	p.mu.Unlock()
	return b
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestVersion(t *testing.T) {
	out, err := exec.Command(bridgeBinary(t), "version").Output()
	if err != nil {
		t.Fatalf("bridge version: %v", err)
	}
	for _, want := range []string{"bridge ", "commit: ", "go:      go1."} {
		if !strings.Contains(string(out), want) {
			t.Errorf("bridge version printed %q, lacking %q", out, want)
		}
	}
}

func TestServeLifecycle(t *testing.T) {
	dataDir := t.TempDir()
	b := startBridge(t, nil, loopbackArgs(dataDir)...)
	admin := "http://" + b.admin

	if code, body := httpGet(t, admin+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q, want 200 ok", code, body)
	}
	if code, body := httpGet(t, admin+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q, want 200", code, body)
	}
	code, metrics := httpGet(t, admin+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{"go_goroutines ", "process_open_fds ", `bridge_build_info{goversion="go1.`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// The store registers its own bridge_ metrics; require some without
	// depending on their names, which are the store's to choose.
	var bridgeMetrics []string
	for _, line := range strings.Split(metrics, "\n") {
		if strings.HasPrefix(line, "bridge_") && !strings.HasPrefix(line, "bridge_build_info") {
			bridgeMetrics = append(bridgeMetrics, strings.Fields(line)[0])
		}
	}
	if len(bridgeMetrics) == 0 {
		t.Error("/metrics has no bridge_ series besides bridge_build_info: the store's collectors are not registered")
	}

	// AWS port: it answers an operation the API lacks in AWS's JSON
	// error shape (the operations themselves are kinesis_*_test.go's).
	req, _ := http.NewRequest("POST", "http://"+b.aws+"/", strings.NewReader(`{"StreamName":"s"}`))
	req.Header.Set("X-Amz-Target", "Kinesis_20131202."+unknownAWSOperation)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var awsErr struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	decErr := json.NewDecoder(resp.Body).Decode(&awsErr)
	resp.Body.Close()
	// AWS sends no message with this type.
	if resp.StatusCode != 400 || decErr != nil || awsErr.Type != "UnknownOperationException" {
		t.Errorf("AWS port answered %d %+v (%v), want 400 UnknownOperationException", resp.StatusCode, awsErr, decErr)
	}

	// Kafka port: a Kafka client gets the broker we advertise.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.kafka))
	if err != nil {
		t.Fatal(err)
	}
	brokers, err := kadm.NewClient(cl).ListBrokers(context.Background())
	cl.Close()
	if err != nil || len(brokers) != 1 || fmt.Sprintf("%s:%d", brokers[0].Host, brokers[0].Port) != b.kafka {
		t.Errorf("kafka port: brokers %+v, %v; want one at %s", brokers, err, b.kafka)
	}

	t.Run("second instance on the same ports", func(t *testing.T) {
		second := launch(t, nil, "serve",
			"--kafka-addr", b.kafka, "--aws-addr", b.aws, "--admin-addr", b.admin,
			"--data-dir", t.TempDir(), "--log-format", "json")
		second.mustExit(1)
		l := second.waitLog(context.Background(), "an error", func(l logLine) bool { return l.str("level") == "ERROR" })
		for _, want := range []string{"--kafka-addr " + b.kafka, "address already in use"} {
			if !strings.Contains(l.str("err"), want) {
				t.Errorf("error %q lacks %q", l.str("err"), want)
			}
		}
	})
	t.Run("second instance on the same data dir", func(t *testing.T) {
		second := launch(t, nil, loopbackArgs(dataDir)...)
		second.mustExit(1)
		l := second.waitLog(context.Background(), "an error", func(l logLine) bool { return l.str("level") == "ERROR" })
		want := "in use by another bridge (pid " + strconv.Itoa(b.cmd.Process.Pid) + ")"
		if !strings.Contains(l.str("err"), want) {
			t.Errorf("error %q lacks %q", l.str("err"), want)
		}
	})
	// The failed instances must not have disturbed the first.
	if code, _ := httpGet(t, admin+"/readyz"); code != 200 {
		t.Errorf("/readyz after the failed second instances = %d", code)
	}

	b.signal(syscall.SIGTERM)
	b.mustExit(0)
	b.waitLog(context.Background(), "stopped", msgIs("stopped"))

	// Same data dir again: the lock was released and the store reopens.
	again := startBridge(t, nil, loopbackArgs(dataDir)...)
	if code, body := httpGet(t, "http://"+again.admin+"/readyz"); code != 200 {
		t.Errorf("/readyz after restart = %d %q", code, body)
	}
	again.signal(syscall.SIGINT)
	again.mustExit(0)
}

// unknownAWSOperation is an operation name the Kinesis API does not have:
// the AWS port answers it with UnknownOperationException whatever
// operations the front end implements.
const unknownAWSOperation = "NoSuchOperationForTheTests"

// holdRequest opens an AWS-port request that stays in flight until the
// returned finish is called: the body is announced with Expect: 100-continue
// and the server's "100 Continue" proves the handler is reading it. The
// request is a ListStreams, an operation that reads its body (an unknown
// one is answered before that).
func holdRequest(t *testing.T, awsAddr string) (finish func() (*http.Response, error)) {
	t.Helper()
	c, err := net.Dial("tcp", awsAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(stopTimeout))
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: %s\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"+
		"Content-Type: application/x-amz-json-1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n", awsAddr)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusContinue {
		t.Fatalf("got %s, want 100 Continue", resp.Status)
	}
	return func() (*http.Response, error) {
		if _, err := io.WriteString(c, "{}"); err != nil {
			return nil, err
		}
		return http.ReadResponse(br, nil)
	}
}

func TestServeDrainsInFlightRequest(t *testing.T) {
	b := startBridge(t, nil, loopbackArgs(t.TempDir())...)
	finish := holdRequest(t, b.aws)

	b.signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	b.waitLog(ctx, "shutting down", func(l logLine) bool { return strings.HasPrefix(l.str("msg"), "shutting down") })

	// Draining: the admin port still answers and says not ready.
	if code, body := httpGet(t, "http://"+b.admin+"/readyz"); code != 503 || !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while draining = %d %q, want 503 shutting down", code, body)
	}
	if b.hasExited() {
		t.Fatal("bridge exited with a request in flight")
	}

	resp, err := finish()
	if err != nil {
		t.Fatalf("in-flight request was cut: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || !strings.Contains(string(body), `"StreamNames"`) {
		t.Errorf("in-flight ListStreams got %s %q (%v), want 200 and the stream list", resp.Status, body, err)
	}
	b.mustExit(0)
}

func TestServeSecondSignalForcesExit(t *testing.T) {
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()), "--shutdown-timeout", "1h")...)
	holdRequest(t, b.aws) // never finished: the graceful shutdown cannot end

	b.signal(syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(context.Background(), stopTimeout)
	defer cancel()
	b.waitLog(ctx, "shutting down", func(l logLine) bool { return strings.HasPrefix(l.str("msg"), "shutting down") })
	b.signal(syscall.SIGTERM)
	b.mustExit(2)
	b.waitLog(ctx, "second signal", func(l logLine) bool { return strings.HasPrefix(l.str("msg"), "second signal") })
}

// Settings reach the binary from a config file and the environment, the
// flag winning over both.
func TestServeConfigLayers(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "bridge.yaml")
	os.WriteFile(cfg, []byte("kafka-addr: 127.0.0.1:0\naws-addr: 127.0.0.1:0\nadmin-addr: overridden-by-the-flag\nlog-format: text\n"), 0o644)
	b := startBridge(t,
		[]string{"BRIDGE_CONFIG=" + cfg, "BRIDGE_LOG_FORMAT=json", "BRIDGE_DATA_DIR=" + filepath.Join(dir, "data")},
		"serve", "--admin-addr", "127.0.0.1:0")
	if _, err := os.Stat(filepath.Join(dir, "data", "bridge.lock")); err != nil {
		t.Errorf("data dir from BRIDGE_DATA_DIR not used: %v", err)
	}
	b.signal(syscall.SIGTERM)
	b.mustExit(0)
}

func TestServeRejectsUnknownConfigKey(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "bridge.yaml")
	os.WriteFile(cfg, []byte("data_dir: ./x\n"), 0o644)
	cmd := exec.Command(bridgeBinary(t), "serve", "--config", cfg)
	cmd.Env = cleanEnv()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("bridge serve with an unknown key: %v, want exit status 1\n%s", err, out)
	}
	for _, want := range []string{cfg + ":1", `unknown key "data_dir"`, "did you mean data-dir?"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output %q lacks %q", out, want)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
