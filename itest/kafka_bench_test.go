package itest

import (
	"bytes"
	"context"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// `bridge bench kafka` runs end to end: against the bridge under test (and
// kfake, in a child process, in the same invocation), self-contained with
// --embedded (a child `bridge serve`), and with both servers in the bench's
// own process (--in-process). Short runs, to prove the command works; their
// figures are printed, never asserted.
func TestKafkaBenchCommand(t *testing.T) {
	k := startKafka(t)
	out := runBench(t, "--brokers", k.addr, "--name", "bridge", "--compare-kfake", "--topic", "bench-itest",
		"--records", "3000", "--record-size", "512", "--partitions", "2", "--producers", "2", "--consumers", "2",
		"--compression", "lz4")
	checkBenchTable(t, out, "bridge", "kfake", "bridge/kfake")
	var total int64
	for _, end := range k.endOffsets("bench-itest") {
		total += end
	}
	if total != 3000 {
		t.Errorf("the bench wrote %d records to the bridge, want 3000", total)
	}

	out = runBench(t, "--embedded", "--records", "1000", "--record-size", "100", "--repeat", "2", "--quiet")
	checkBenchTable(t, out, "bridge")
	if !strings.Contains(out, "median of 2 runs") {
		t.Errorf("--repeat 2: the output does not say it shows medians:\n%s", out)
	}
	// The --embedded bridge ran in a child process: its CPU time is known.
	if !strings.Contains(out, "server CPU ms/MB in") || !strings.Contains(out, "server CPU ms/MB out") {
		t.Errorf("--embedded: no server CPU rows:\n%s", out)
	}

	out = runBench(t, "--embedded", "--in-process", "--compare-kfake", "--records", "1000", "--record-size", "100", "--quiet")
	checkBenchTable(t, out, "bridge", "kfake", "bridge/kfake")
	if strings.Contains(out, "server CPU") {
		t.Errorf("--in-process: server CPU rows, but the servers share the bench's process:\n%s", out)
	}
}

func runBench(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bridgeBinary(t), append([]string{"bench", "kafka"}, args...)...)
	cmd.Env = cleanEnv()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bridge bench kafka %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), tail(stderr.String(), 4000))
	}
	t.Logf("bridge bench kafka %s:\n%s", strings.Join(args, " "), stdout.String())
	return stdout.String()
}

// checkBenchTable checks the table's header names the columns and every
// row has a figure in each.
func checkBenchTable(t *testing.T, out string, columns ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	header := ""
	for _, l := range lines {
		if strings.Contains(l, columns[0]) && !strings.Contains(l, "records of") {
			header = l
			break
		}
	}
	if got := strings.Fields(header); !slicesEqual(got, columns) {
		t.Errorf("table header %q, want columns %q", header, columns)
	}
	number := `\s+[0-9]+(\.[0-9]+)?`
	for _, row := range []string{"produce MB/s", "produce records/s", "produce p50 ms", "produce p99 ms", "consume MB/s", "consume records/s"} {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(row) + strings.Repeat(number, len(columns)) + `\s*$`)
		if !re.MatchString(out) {
			t.Errorf("no row %q with %d figures in:\n%s", row, len(columns), out)
		}
	}
}

func slicesEqual(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00")
}
