package main

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestMain lets this test binary stand in for the bridge binary: the
// benches start their servers as children running `os.Executable() serve
// ...` or `os.Executable() bench NAME-server`, which under go test is this
// binary, so that path is tested too.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" || len(os.Args) > 2 && os.Args[1] == "bench" && strings.HasSuffix(os.Args[2], "-server") {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, noEnv))
	}
	os.Exit(m.Run())
}

// TestBenchKafkaSecurity runs tiny loads over each Kafka security mode of
// the embedded bridge, in a child process and in this one, and checks that
// every mode took its turns and has its column and its ratio to plaintext.
// The SSL listener requires a client certificate and the SASL_SSL one a
// SCRAM login, so a run that completes there went through both.
func TestBenchKafkaSecurity(t *testing.T) {
	small := []string{"bench", "kafka", "--embedded", "--records", "300", "--record-size", "100", "--quiet"}
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string // in the output
		notWant []string
		turns   []string // progress lines on stderr
	}{
		{"child process, every mode, twice", []string{"--security", "plaintext,ssl,sasl_ssl", "--repeat", "2"}, []string{
			"median of 2 runs per target, taking turns", "300 records of 100 bytes",
			"plaintext", "ssl/plaintext", "sasl_ssl/plaintext",
			"produce MB/s", "consume MB/s", "server CPU ms/MB in", "server CPU ms/MB out",
		}, nil, []string{
			"bench kafka: plaintext at 127.0.0.1:", "bench kafka: ssl at 127.0.0.1:", "bench kafka: sasl_ssl at 127.0.0.1:", "(run 2 of 2)",
		}},
		{"in this process, secured modes only", []string{"--in-process", "--security", "SASL_SSL", "--security", "ssl"}, []string{
			"sasl_ssl", "ssl", "consume MB/s",
		}, []string{"/plaintext", "server CPU"}, []string{
			"bench kafka: sasl_ssl at 127.0.0.1:", "bench kafka: ssl at 127.0.0.1:",
		}},
		{"in this process, ssl and plaintext with kfake after a warm-up", []string{"--in-process", "--security", "ssl,plaintext", "--compare-kfake", "--warmup", "1"}, []string{
			"after 1 unmeasured warm-up run(s) per target", "ssl/plaintext", "plaintext/kfake",
		}, nil, []string{
			"bench kafka: kfake at 127.0.0.1:", "(warm-up run 1 of 1, not measured)",
		}},
		{"one secured mode is named after it", []string{"--in-process", "--security", "sasl_ssl"}, []string{
			" sasl_ssl\n", "produce p99 ms",
		}, []string{"bridge"}, []string{"bench kafka: sasl_ssl at 127.0.0.1:"}},
		{"or as --name says", []string{"--in-process", "--security", "ssl", "--name", "b"}, []string{
			" b\n", "produce p99 ms",
		}, []string{"ssl"}, []string{"bench kafka: b at 127.0.0.1:"}},
		{"with the disk's and the loopback's ceilings", []string{"--in-process", "--compare-disk", "--compare-loopback"}, []string{
			"disk write ceiling", "loopback ceiling", "bridge produce ", " x the disk's sequential write speed",
		}, nil, []string{"bench kafka: disk at ", "bench kafka: loopback at 127.0.0.1"}},
		{"a server named like a ceiling is loaded", []string{"--in-process", "--name", "disk"}, []string{
			" disk\n", "produce MB/s",
		}, []string{"ceiling"}, []string{"bench kafka: disk at 127.0.0.1:"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			args := append(append([]string{}, small...), tc.args...)
			if code := run(t.Context(), args, &out, &errOut, noEnv); code != 0 {
				t.Fatalf("bridge %s: exit %d\n%s%s", strings.Join(args, " "), code, out.String(), errOut.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
			for _, not := range tc.notWant {
				if strings.Contains(out.String(), not) {
					t.Errorf("output has %q:\n%s", not, out.String())
				}
			}
			for _, want := range tc.turns {
				if !strings.Contains(errOut.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut.String())
				}
			}
		})
	}
}

func TestBenchKafkaArguments(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "give either --brokers host:port or --embedded"},
		{[]string{"--embedded", "--repeat", "0"}, "--repeat 0"},
		{[]string{"--embedded", "--warmup", "-1"}, "--warmup -1"},
		{[]string{"--embedded", "--security", "tls"}, `--security "tls": want plaintext, ssl, sasl_ssl`},
		{[]string{"--embedded", "--security", "ssl,SSL"}, "--security lists ssl twice"},
		{[]string{"--brokers", "127.0.0.1:1", "--security", "plaintext,sasl_ssl"}, "needs --embedded"},
		{[]string{"--embedded", "--in-process", "--name", "kfake", "--compare-kfake"}, `two targets named "kfake"`},
		{[]string{"--embedded", "--fsync", "never"}, `--fsync: fsync mode "never": want always or os`},
		{[]string{"--embedded", "--fsync", "os,os"}, "--fsync: os twice"},
		{[]string{"--brokers", "127.0.0.1:1", "--fsync", "os"}, "--fsync needs --embedded"},
		{[]string{"--embedded", "--fsync", "always,os", "--security", "plaintext,ssl"}, "several --fsync modes start a bridge each"},
		{[]string{"--embedded", "--fsync", "always,os", "--encryption"}, "several --fsync modes start a bridge each"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(t.Context(), append([]string{"bench", "kafka", "--quiet"}, tc.args...), &out, &errOut, noEnv)
			if code != 1 || !strings.Contains(errOut.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 1 and %q", code, errOut.String(), tc.want)
			}
		})
	}
}
