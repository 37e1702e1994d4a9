package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startLocalAWSSQS starts the local-aws-sqs emulator with
// scripts/sqs-references.sh on a free port and returns its URL; the
// cleanup stops it. Without node or the package (itest/node, installed by
// .ci/run) the test is skipped, except under CI=true, where that fails it.
func startLocalAWSSQS(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	check := exec.Command("node", "-e", "require('local-aws-sqs')")
	check.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(root, "itest/node/node_modules"))
	if out, err := check.CombinedOutput(); err != nil {
		msg := "node with local-aws-sqs is not usable (install: apt-get install nodejs npm; cd itest/node && npm ci): " + err.Error() + ": " + strings.TrimSpace(string(out))
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing tool fails the test)")
		}
		t.Skip(msg)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	env := append(os.Environ(), "SQS_REFERENCES=local-aws-sqs", "LOCAL_AWS_SQS_PORT="+port, "SQS_REFERENCES_DIR="+t.TempDir())
	refs := func(verb string) string {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts/sqs-references.sh"), verb)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sqs-references.sh %s: %v\n%s", verb, err, out)
		}
		return string(out)
	}
	out := refs("start")
	url := "http://127.0.0.1:" + port
	t.Cleanup(func() {
		if out := refs("stop"); !strings.Contains(out, "stopped local-aws-sqs") {
			t.Errorf("sqs-references.sh stop said:\n%s", out)
		}
	})
	if !strings.Contains(out, "local-aws-sqs="+url+"\n") {
		t.Fatalf("sqs-references.sh start said:\n%s", out)
	}
	if status := refs("status"); !strings.Contains(status, "local-aws-sqs="+url+" (pid ") || !strings.Contains(status, "goaws: not running") {
		t.Errorf("sqs-references.sh status said:\n%s", status)
	}
	return url
}

// TestBenchSQS runs small loads through the command against local-aws-sqs
// (and a bridge in this process), so that the load generator is tested
// against a server it did not come with.
func TestBenchSQS(t *testing.T) {
	url := startLocalAWSSQS(t)
	// One receiver where concurrency is not the point: when a phase's
	// last message arrives, the other receivers' long polls run out
	// (--wait) before the next phase starts.
	small := []string{"--messages", "200", "--wait", "1", "--warmup", "0", "--quiet"}
	for _, tc := range []struct {
		name string
		args []string
		want []string // in the output
	}{
		{"standard", []string{"--endpoint", url, "--name", "las"}, []string{
			"200 messages of 1024 bytes a phase, standard queue", "las",
			"send msgs/s", "receive msgs/s", "delete msgs/s", "pipeline msgs/s", "pipeline MB/s",
			"  SendMessageBatch p99 ms", "  ReceiveMessage p50 ms", "  DeleteMessageBatch p50 ms",
			"server CPU us/msg pipeline", "bench CPU us/msg send", // the emulator is a process on 127.0.0.1
		}},
		{"FIFO, 64 KiB", []string{"--endpoint", url, "--fifo", "--groups", "3", "--body-size", "65536", "--messages", "30", "--receivers", "1"}, []string{
			"30 messages of 65536 bytes a phase, FIFO queue (3 message groups)", "target",
			"receive+delete msgs/s", "pipeline msgs/s",
		}},
		{"compared with itself, twice", []string{"--endpoint", url, "--name", "a", "--compare-endpoint", "b=" + url, "--repeat", "2", "--phases", "pipeline", "--receivers", "1"}, []string{
			"median of 2 runs per target", "a/b", "pipeline msgs/s",
		}},
		{"the bridge in this process against local-aws-sqs", []string{"--embedded", "--in-process", "--compare-endpoint", "local-aws-sqs=" + url, "--receivers", "1"}, []string{
			"bridge/local-aws-sqs", "pipeline msgs/s",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			args := append(append([]string{"bench", "sqs"}, small...), tc.args...)
			if code := run(t.Context(), args, &out, &errOut, noEnv); code != 0 {
				t.Fatalf("bridge %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			if t.Failed() {
				t.Logf("stderr:\n%s", errOut.String())
			}
		})
	}
}

// TestBenchSQSFloor runs the floors (`bridge bench sqs-floor-server` and
// `sqs-floor-fsync-server`, this test binary standing in for the bridge)
// next to a bridge in this process.
func TestBenchSQSFloor(t *testing.T) {
	var out, errOut strings.Builder
	args := []string{"bench", "sqs", "--embedded", "--in-process", "--compare-floor", "--messages", "300", "--wait", "1",
		"--receivers", "1", "--phases", "pipeline", "--warmup", "0", "--quiet"}
	if code := run(t.Context(), args, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("bridge %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	for _, want := range []string{"bridge/floor ", "bridge/floor-fsync", "pipeline msgs/s", "server CPU us/msg pipeline"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBenchSQSArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give either --endpoint URL or --embedded"},
		{[]string{"--embedded", "--endpoint", "http://127.0.0.1:1"}, "give either --endpoint URL or --embedded"},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--repeat", "0"}, "--repeat 0"},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--warmup", "-1"}, "--warmup -1"},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--compare-endpoint", "x=127.0.0.1:2"}, "want [NAME=]http://HOST:PORT"},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--name", "x", "--compare-endpoint", "x=http://127.0.0.1:2"}, `two targets named "x"`},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--batch", "11", "--warmup", "0"}, "batch 11"},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--phases", "receive", "--warmup", "0"}, "receiving needs the send phase"},
		{[]string{"--endpoint", "http://127.0.0.1:1", "--fifo", "--compare-floor"}, "the floor serves standard queues only"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(t.Context(), append([]string{"bench", "sqs", "--quiet"}, tc.args...), &out, &errOut, noEnv)
			if code != 1 || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut.String(), tc.want)
			}
		})
	}
}
