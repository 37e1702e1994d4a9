package server

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestAdvertisedKafkaAddr(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4zero, Port: 41234}
	tests := []struct {
		name       string
		configured string
		bind       string
		want       string
		wantLocal  bool
		wantErr    string
	}{
		{"empty host", "", ":9092", "localhost:41234", true, ""},
		{"ipv4 any", "", "0.0.0.0:0", "localhost:41234", true, ""},
		{"ipv6 any", "", "[::]:9092", "localhost:41234", true, ""},
		{"loopback keeps host, takes bound port", "", "127.0.0.1:0", "127.0.0.1:41234", false, ""},
		{"hostname kept", "", "broker.example:9092", "broker.example:41234", false, ""},
		{"ipv6 host", "", "[::1]:0", "[::1]:41234", false, ""},
		{"configured wins", "kafka.internal:19092", ":9092", "kafka.internal:19092", false, ""},
		{"configured unspecified", "0.0.0.0:9092", ":9092", "", false, "unspecified host"},
		{"configured empty host", ":9092", ":9092", "", false, "unspecified host"},
		{"configured port 0", "host:0", ":9092", "", false, "port from 1 to 65535"},
		{"configured no port", "host", ":9092", "", false, "want host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, local, err := advertisedKafkaAddr(tt.configured, tt.bind, bound)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || local != tt.wantLocal {
				t.Fatalf("= %q, local %v; want %q, local %v", got, local, tt.want, tt.wantLocal)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	ok := Config{KafkaAddr: "127.0.0.1:0", AWSAddr: ":4566", AdminAddr: "localhost:8080", DataDir: "x"}
	tests := []struct {
		name    string
		edit    func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"in-memory needs no dir", func(c *Config) { c.DataDir = ""; c.InMemory = true }, ""},
		{"no data dir", func(c *Config) { c.DataDir = "" }, "--data-dir is empty"},
		{"empty addr", func(c *Config) { c.KafkaAddr = "" }, "--kafka-addr is empty"},
		{"no port", func(c *Config) { c.AWSAddr = "localhost" }, "--aws-addr"},
		{"bad port", func(c *Config) { c.AdminAddr = ":http-alt" }, "--admin-addr"},
		{"port too big", func(c *Config) { c.AdminAddr = ":70000" }, "0 to 65535"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.edit(&c)
			err := c.validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

// freePort returns a loopback address that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestListenAllConflictReleasesEverything(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	first := freePort(t)

	_, err = listenAll([]listenSpec{
		{"kafka", "--kafka-addr", first},
		{"aws", "--aws-addr", taken.Addr().String()},
	})
	if err == nil {
		t.Fatal("listenAll bound a port that is taken")
	}
	for _, want := range []string{"aws listener", "--aws-addr " + taken.Addr().String(), "address already in use", "another bridge"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	// The port bound before the conflict must be free again.
	ln, err := net.Listen("tcp", first)
	if err != nil {
		t.Fatalf("first port still bound after a failed listenAll: %v", err)
	}
	ln.Close()
}

func TestDataDirLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	l1, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, lockFileName))
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Fatalf("lock file holds %q, %v; want this pid", b, err)
	}

	_, err = lockDataDir(dir)
	if err == nil {
		t.Fatal("second lock on the same data dir succeeded")
	}
	want := "in use by another bridge (pid " + strconv.Itoa(os.Getpid()) + ")"
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "--data-dir") {
		t.Fatalf("error %q, want it to contain %q and name --data-dir", err, want)
	}

	if err := l1.release(); err != nil {
		t.Fatal(err)
	}
	l2, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.release()
}

func TestDataDirLockOnFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if l, err := lockDataDir(file); err == nil {
		l.release()
		t.Fatal("lockDataDir on a regular file succeeded")
	} else if !strings.Contains(err.Error(), "create data dir") {
		t.Fatalf("err = %v, want it to say the data dir could not be created", err)
	}
}
