package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streambridge/bridge/server"
)

func noEnv(string) (string, bool) { return "", false }

func TestVersionCommand(t *testing.T) {
	var out, errOut strings.Builder
	if code := run(t.Context(), []string{"version"}, &out, &errOut, noEnv); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	for _, want := range []string{"bridge ", "commit: ", "go:      go1."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("version output %q lacks %q", out.String(), want)
		}
	}
}

func TestRunErrorExitCode(t *testing.T) {
	var out, errOut strings.Builder
	code := run(t.Context(), []string{"serve", "--log-format", "xml"}, &out, &errOut, noEnv)
	if code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.HasPrefix(errOut.String(), "bridge: ") || !strings.Contains(errOut.String(), "want one of text|json") {
		t.Fatalf("stderr %q", errOut.String())
	}
}

func TestNewLogger(t *testing.T) {
	var b strings.Builder
	log := newLogger(&b, "json", "warn")
	log.Info("hidden")
	log.Warn("shown", "k", "v")
	var line map[string]any
	if err := json.Unmarshal([]byte(b.String()), &line); err != nil {
		t.Fatalf("json logger wrote %q: %v", b.String(), err)
	}
	if line["msg"] != "shown" || line["k"] != "v" || line["level"] != "WARN" {
		t.Fatalf("logged %v", line)
	}
	b.Reset()
	newLogger(&b, "text", "debug").Debug("visible")
	if !strings.Contains(b.String(), "level=DEBUG msg=visible") {
		t.Fatalf("text logger wrote %q", b.String())
	}
}

func testServerConfig(t *testing.T) server.Config {
	return server.Config{
		InMemory: true, KafkaAddr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
}

// serve with a fake signal channel: the first signal stops it cleanly, and
// the exit status is 0 (nil error).
func TestServeStopsOnSignal(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	done := make(chan error, 1)
	cfg := testServerConfig(t)
	go func() {
		done <- serve(t.Context(), cfg, 30*time.Second, cfg.Logger, sigs, func() { t.Error("forced exit on the first signal") })
	}()
	sigs <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve after SIGTERM = %v, want nil", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not return after SIGTERM")
	}
}

// A second signal must reach forceExit even while the shutdown is stuck.
func TestServeSecondSignalForcesExit(t *testing.T) {
	sigs := make(chan os.Signal, 2)
	forced := make(chan struct{})
	stuck := &stuckService{serving: make(chan struct{}), release: make(chan struct{}), stopped: make(chan struct{})}
	cfg := testServerConfig(t)
	cfg.NewKafka = func(server.Deps) (server.Service, error) { return stuck, nil }
	done := make(chan error, 1)
	go func() {
		done <- serve(context.Background(), cfg, time.Hour, cfg.Logger, sigs, func() { close(forced) })
	}()

	// Once Kafka serves, Start no longer looks at its context: the first
	// signal now means "shut down", not "abort the start".
	<-stuck.serving
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGINT
	select {
	case <-forced:
	case <-time.After(time.Minute):
		t.Fatal("second signal did not force an exit")
	}
	close(stuck.release)
	if err := <-done; err != nil {
		t.Fatalf("serve = %v", err)
	}
}

// stuckService is a Kafka front end whose shutdown hangs until released.
type stuckService struct {
	serving, release chan struct{}
	stopOnce         sync.Once
	stopped          chan struct{}
}

func (s *stuckService) Serve(l net.Listener) error {
	close(s.serving)
	<-s.stopped
	return l.Close()
}

func (s *stuckService) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.stopped) })
	select {
	case <-s.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
