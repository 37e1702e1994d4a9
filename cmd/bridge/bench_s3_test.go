package main

import (
	"strings"
	"testing"
)

// TestBenchS3 runs a small load through the command against a bridge in
// this process and the two references in child processes (`bridge bench
// gofakes3-server` and `s3-floor-server`, this test binary standing in for
// the bridge), so that each takes its turn and has its ratio.
func TestBenchS3(t *testing.T) {
	var out, errOut strings.Builder
	args := []string{"bench", "s3", "--embedded", "--in-process", "--compare-gofakes3", "--compare-floor",
		"--objects", "6", "--object-size", "100003", "--warmup", "0", "--quiet"}
	if code := run(t.Context(), args, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("bridge %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
	}
	for _, want := range []string{"6 objects of 100003 bytes", "bridge/gofakes3", "bridge/floor", "put MB/s", "get MB/s", "put server CPU ms/MB"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
