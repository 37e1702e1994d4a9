package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchConnect runs every pipeline of bridge bench connect on a few
// records, its bridges in this process, and checks each has its row and
// each copy its CPU profile (--copy-cpu-profile), and that it waited for
// the bridges to settle before the timed phases (--settle).
func TestBenchConnect(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "copy")
	var out, errOut strings.Builder
	args := []string{"bench", "connect", "--in-process", "--records", "300", "--record-size", "100", "--partitions", "2",
		"--distinct-values", "--copy-cpu-profile", prof}
	if code := run(context.Background(), args, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("bridge %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	for _, want := range []string{"300 records of 100 bytes, 2 partitions, tasks.max 2", "direct MB/s", "kafka-kafka ", "kinesis-kafka ", "kafka-kinesis "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// Each pipeline loads its source, then runs the direct phase and the
	// copy, each after waiting for the bridges.
	if n := strings.Count(errOut.String(), "bridges idle after"); n != 9 {
		t.Errorf("stderr has %d lines on waiting for the bridges, want 9:\n%s", n, errOut.String())
	}
	for _, p := range []string{"kafka-kafka", "kinesis-kafka", "kafka-kinesis"} {
		st, err := os.Stat(prof + "." + p + ".1")
		if err != nil || st.Size() == 0 {
			t.Errorf("no CPU profile of the %s copy: %v", p, err)
		}
	}
}

// --warmup runs a pipeline before the measured runs and leaves it out of
// the medians: one pipeline, one warm-up and one measured run are two
// copies, each after loading its source and a direct phase.
func TestBenchConnectWarmup(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "copy")
	var out, errOut strings.Builder
	args := []string{"bench", "connect", "--in-process", "--records", "200", "--record-size", "100", "--partitions", "2",
		"--pipeline", "kafka-kinesis", "--warmup", "1", "--copy-cpu-profile", prof}
	if code := run(context.Background(), args, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("bridge %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	if want := "median of 1 after 1 warm-up runs"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, out.String())
	}
	if n := strings.Count(errOut.String(), "bridges idle after"); n != 6 {
		t.Errorf("stderr has %d lines on waiting for the bridges, want 6:\n%s", n, errOut.String())
	}
	for _, n := range []string{"1", "2"} {
		if _, err := os.Stat(prof + ".kafka-kinesis." + n); err != nil {
			t.Errorf("copy %s did not run: %v", n, err)
		}
	}
}

// --compare-floor copies kinesis-kafka's records a second time, from the
// Kinesis floor in a child process (its copy is timed until every record is
// in Kafka), and computes the bound; other pipelines' rows stay as they are.
func TestBenchConnectFloor(t *testing.T) {
	var out, errOut strings.Builder
	args := []string{"bench", "connect", "--in-process", "--records", "300", "--record-size", "100", "--partitions", "2",
		"--pipeline", "kinesis-kafka,kafka-kinesis", "--compare-floor"}
	if code := run(context.Background(), args, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("bridge %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	for _, want := range []string{"floor copy MB/s", "floor ratio", "bound"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	for _, l := range strings.Split(out.String(), "\n") {
		fields := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "kinesis-kafka "):
			if len(fields) != 9 || fields[7] == "0.00x" || fields[8] == "0.00x" {
				t.Errorf("kinesis-kafka row without the floor's copy and the bound: %q", l)
			}
		case strings.HasPrefix(l, "kafka-kinesis "):
			if len(fields) != 6 {
				t.Errorf("kafka-kinesis row with more than its own figures: %q", l)
			}
		}
	}
	if !strings.Contains(errOut.String(), "loading 300 records into stream connectbench-floor-stream-") {
		t.Errorf("the floor's stream was not loaded:\n%s", errOut.String())
	}
}

func TestBenchConnectArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pipeline", "kafka-s3"}, `unknown pipeline "kafka-s3"`},
		{[]string{"--cpu-profile", "a", "--copy-cpu-profile", "b"}, "--cpu-profile and --copy-cpu-profile cannot be used together"},
		{[]string{"--warmup", "-1"}, "--warmup -1: want 0 or more"},
		{[]string{"--pipeline", "kafka-kafka", "--compare-floor"}, "--compare-floor: the floor is a Kinesis source"},
	} {
		t.Chdir(t.TempDir()) // where a profile would land if the check came too late
		var out, errOut strings.Builder
		args := append([]string{"bench", "connect", "--in-process"}, tc.args...)
		if code := run(context.Background(), args, &out, &errOut, noEnv); code == 0 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("bridge %s: exit %d, stderr %q; want an error with %q", strings.Join(args, " "), code, errOut.String(), tc.want)
		}
	}
}
