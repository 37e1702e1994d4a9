package main

import (
	"strings"
	"testing"
)

// --help lists each flag once, under its group's heading, groups in order.
func TestServeHelpGroupsFlags(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"serve", "--help"}, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	help := out.String()
	at := 0
	for _, want := range []string{
		"\nGeneral:\n", "--config", "--help",
		"\nStore:\n", "--data-dir", "--in-memory",
		"\nKafka:\n", "--kafka-addr", "--default-partitions",
		"\nAWS APIs (Kinesis, SQS, KMS, S3):\n", "--aws-addr", "--kinesis-state-delay",
		"\nSecurity:\n", "--tls-cert-file", "--ssl-principal-mapping-rules",
		"\nAdmin, logging and process:\n", "--admin-addr", "--shutdown-timeout",
	} {
		i := strings.Index(help[at:], want)
		if i < 0 {
			t.Fatalf("help lacks %q after offset %d:\n%s", want, at, help)
		}
		at += i + len(want)
	}
	for _, flag := range []string{"--data-dir string", "--region string", "--log-level string"} {
		if n := strings.Count(help, flag); n != 1 {
			t.Errorf("help lists %s %d times", flag, n)
		}
	}
}

// Every group's problems are reported together.
func TestServeChecksEveryGroup(t *testing.T) {
	_, _, err := resolve(t, []string{"--default-partitions", "0", "--account", "x", "--kinesis-state-delay", "-1s", "--shutdown-timeout", "0s", "--fsync-interval", "0s"}, nil, "")
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"--default-partitions", "--account", "--kinesis-state-delay", "--shutdown-timeout", "--fsync-interval"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
