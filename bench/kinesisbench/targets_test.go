package kinesisbench

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/gateway/kinesis"
	"github.com/streambridge/bridge/server"
)

// startBridgeKinesis starts the server `bridge serve` runs (server.Start)
// with the Kinesis handler on its AWS port, over an in-memory store on
// 127.0.0.1, and returns the AWS port's URL.
func startBridgeKinesis(t *testing.T, enforceLimits bool) string {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		InMemory:  true,
		KafkaAddr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		NewAWS: func(d server.Deps) (http.Handler, error) {
			return kinesis.New(kinesis.Config{Store: d.Store, Logger: d.Logger, EnforceLimits: enforceLimits})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + srv.Addrs().AWS
}

func TestRunAgainstBridge(t *testing.T) {
	url := startBridgeKinesis(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	port, _ := strconv.Atoi(url[strings.LastIndexByte(url, ':')+1:])
	if pid, err := ListenerPID(port); err != nil || pid != os.Getpid() {
		t.Errorf("ListenerPID(%d) = %d, %v; want this process, %d", port, pid, err, os.Getpid())
	}
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
	}{
		{"defaults of the command, fewer records", func(c *Config) { c.Records, c.RecordSize, c.Producers, c.Batch = 5000, 1024, 4, 500 }},
		{"one shard, big records, small get limit", func(c *Config) {
			c.Stream, c.Shards, c.RecordSize, c.Records, c.Producers, c.Batch, c.Limit = "big", 1, 150<<10, 40, 3, 500, 7 // 34 a call
		}},
		{"stream kept", func(c *Config) { c.Stream, c.KeepStream = "kept", true }},
		{"existing stream", func(c *Config) { c.Stream = "kept" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig(url)
			tc.cfg(&cfg)
			res := checkRun(t, ctx, cfg)
			if res.PutRetries != 0 || res.GetRetries != 0 {
				t.Errorf("retries without limits: put %d, get %d", res.PutRetries, res.GetRetries)
			}
		})
	}
}

// With --kinesis-enforce-limits a shard takes 1000 records/s and 5
// GetRecords calls/s: the run is throttled, retries, and still reads back
// everything.
func TestRunAgainstBridgeWithLimits(t *testing.T) {
	url := startBridgeKinesis(t, true)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := Config{Endpoint: url, Stream: "limited", Shards: 1, RecordSize: 100, Records: 2500, Producers: 2, Batch: 500, Limit: 300}
	res := checkRun(t, ctx, cfg)
	if res.PutRetries == 0 || res.PutThrottled == 0 || res.GetRetries == 0 {
		t.Errorf("throttled shard, yet retries: put %d (%d records), get %d", res.PutRetries, res.PutThrottled, res.GetRetries)
	}
}

// TestRunAgainstReferences starts kinesalite and kinesis-local with
// scripts/kinesis-references.sh (which installs them with npm ci) on free
// ports, and runs a small load against each. Without node and npm it is
// skipped, except under CI=true, where a missing tool fails.
func TestRunAgainstReferences(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node processes")
	}
	for _, tool := range []string{"node", "npm", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is not installed (CI=true: a missing tool fails the test)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	script, err := filepath.Abs("../../scripts/kinesis-references.sh")
	if err != nil {
		t.Fatal(err)
	}
	ports := freePorts(t, 3)
	env := append(os.Environ(),
		"KINESALITE_PORT="+strconv.Itoa(ports[0]),
		"KINESIS_LOCAL_PORT="+strconv.Itoa(ports[1]),
		"KINESIS_LOCAL_TLS_PORT="+strconv.Itoa(ports[2]),
		"KINESIS_REFERENCES_DIR="+t.TempDir(),
		"START_TIMEOUT=120")
	refs := func(ctx context.Context, verb string) string {
		cmd := exec.CommandContext(ctx, script, verb)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("kinesis-references.sh %s: %v\n%s", verb, err, out)
		}
		return string(out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	t.Cleanup(func() {
		out := refs(context.Background(), "stop")
		if !strings.Contains(out, "stopped kinesalite") || !strings.Contains(out, "stopped kinesis-local") {
			t.Errorf("stop said:\n%s", out)
		}
	})
	out := refs(ctx, "start")
	urls := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if name, url, ok := strings.Cut(line, "="); ok && strings.HasPrefix(url, "http://127.0.0.1:") {
			urls[name] = url
		}
	}
	if urls["kinesalite"] != "http://127.0.0.1:"+strconv.Itoa(ports[0]) || urls["kinesis-local"] != "http://127.0.0.1:"+strconv.Itoa(ports[1]) {
		t.Fatalf("start printed %q", out)
	}
	if status := refs(ctx, "status"); strings.Count(status, "pid ") != 2 {
		t.Errorf("status while running:\n%s", status)
	}
	for _, name := range []string{"kinesalite", "kinesis-local"} {
		t.Run(name, func(t *testing.T) {
			pid, err := ListenerPID(ports[map[string]int{"kinesalite": 0, "kinesis-local": 1}[name]])
			if err != nil {
				t.Logf("no server CPU figures: %v", err)
			}
			cfg := validConfig(urls[name])
			cfg.Records, cfg.Batch = 600, 200
			if pid > 0 {
				cfg.ServerCPU = measure.ProcessCPU(pid)
			}
			res := checkRun(t, ctx, cfg)
			if pid > 0 && (res.PutServerCPU < 0 || res.GetServerCPU < 0) {
				t.Errorf("server CPU put %v get %v, want both known", res.PutServerCPU, res.GetServerCPU)
			}
		})
	}
}

// freePorts returns n ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}
