package main

// Servers under load run in their own processes by default, as they do in
// production: the load generator's allocations, garbage collection and page
// faults are then not charged to the server, and the server's CPU time can
// be read on its own (/proc/<pid>/stat).

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
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/bench/kafkabench"
	"github.com/streambridge/bridge/bench/measure"
)

// benchServer is a server the bench loads.
type benchServer struct {
	addr string
	// addrs are the addresses of the listeners the bench asked for, by
	// the name the listening log line gives them ("aws", "kafka",
	// "kafka SSL"); addr is the first one's. Nil for servers with one
	// address.
	addrs map[string]string
	// cpu reports the server's CPU seconds so far; nil when the server
	// shares this process.
	cpu  func() (float64, error)
	stop func() error
}

// startChildBridge runs `bridge serve` (this executable) with its default
// settings, then serveArgs, on 127.0.0.1 ports the kernel picks and a data
// dir that is temporary unless dataDir is set, and waits until each of
// listeners (as the listening log lines name them: "aws", "kafka", "kafka
// SSL") has logged its address. Its warnings and errors go to stderr.
func startChildBridge(ctx context.Context, dataDir string, serveArgs, listeners []string, stderr io.Writer) (benchServer, error) {
	cleanup := func() error { return nil }
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "bridge-bench-")
		if err != nil {
			return benchServer{}, err
		}
		dataDir = dir
		cleanup = func() error { return os.RemoveAll(dir) }
	}
	exe, err := os.Executable()
	if err != nil {
		return benchServer{}, errors.Join(err, cleanup())
	}
	cmd := exec.Command(exe, append([]string{"serve", "--data-dir", dataDir,
		"--kafka-addr", "127.0.0.1:0", "--aws-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0",
		"--log-format", "json", "--log-level", "info"}, serveArgs...)...)
	// Called by one goroutine, line by line; addrs is read once the last
	// listener was found, which the channel in startChild orders after.
	addrs := map[string]string{}
	_, exited, err := startChild(ctx, cmd, func(line []byte) (string, bool) {
		var l struct{ Level, Msg, Listener, Addr string }
		if json.Unmarshal(line, &l) != nil {
			fmt.Fprintf(stderr, "bridge: %s\n", line) // not a log line: a crash, say
			return "", false
		}
		if l.Msg == "listening" && slices.Contains(listeners, l.Listener) && len(addrs) < len(listeners) {
			addrs[l.Listener] = l.Addr
			return l.Addr, len(addrs) == len(listeners)
		}
		if l.Level == "WARN" || l.Level == "ERROR" {
			fmt.Fprintf(stderr, "bridge: %s\n", line)
		}
		return "", false
	})
	if err != nil {
		return benchServer{}, errors.Join(fmt.Errorf("bridge serve: %w", err), cleanup())
	}
	return benchServer{
		addr:  addrs[listeners[0]],
		addrs: addrs,
		cpu:   measure.ProcessCPU(cmd.Process.Pid),
		stop:  func() error { return errors.Join(stopChild(cmd, exited), cleanup()) },
	}, nil
}

// startChild starts cmd and waits until listening finds the address in a
// line of its stderr (bridge serve logs there) or stdout. Later lines keep
// being passed to listening, whose result is then ignored. exited receives
// the process's end.
func startChild(ctx context.Context, cmd *exec.Cmd, listening func([]byte) (string, bool)) (addr string, exited <-chan error, err error) {
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	ended := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); ended <- err }()
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		sent := false
		for sc.Scan() {
			if addr, ok := listening(sc.Bytes()); ok && !sent {
				found <- addr
				sent = true
			}
		}
		_, _ = io.Copy(io.Discard, pr)
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case addr := <-found:
		return addr, ended, nil
	case err := <-ended:
		return "", nil, fmt.Errorf("exited before listening: %v", err)
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-ended
		return "", nil, fmt.Errorf("not listening: %w", ctx.Err())
	}
}

// stopChild asks the process to stop (SIGTERM) and waits for it; after 30 s
// it is killed.
func stopChild(cmd *exec.Cmd, exited <-chan error) error {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
		return nil
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		return errors.New("did not stop within 30s of SIGTERM; killed")
	}
}

// newBenchKfakeServerCmd is the hidden `bridge bench kfake-server`: an
// in-memory kfake cluster that prints "listening ADDR" and runs until
// SIGINT or SIGTERM. `bench kafka --compare-kfake` starts it.
func newBenchKfakeServerCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "kfake-server",
		Short:  "Run franz-go's in-memory fake Kafka cluster (the bench reference) until interrupted",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			addr, stop, err := kafkabench.StartKfake()
			if err != nil {
				return err
			}
			defer stop()
			fmt.Fprintf(cmd.OutOrStdout(), "listening %s\n", addr)
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			<-ctx.Done()
			return nil
		},
	}
}

// startChildReference runs `bridge bench NAME` (kfake-server, or one of the
// hidden commands newBenchReferenceServerCmd makes) as a reference server
// in a child process, so that its CPU is measured apart from the load
// generator's.
func startChildReference(ctx context.Context, name string) (benchServer, error) {
	exe, err := os.Executable()
	if err != nil {
		return benchServer{}, err
	}
	cmd := exec.Command(exe, "bench", name)
	addr, exited, err := startChild(ctx, cmd, func(line []byte) (string, bool) {
		return strings.CutPrefix(string(line), "listening ")
	})
	if err != nil {
		return benchServer{}, fmt.Errorf("%s: %w", name, err)
	}
	return benchServer{addr: addr, cpu: measure.ProcessCPU(cmd.Process.Pid), stop: func() error { return stopChild(cmd, exited) }}, nil
}

// benchReference is a reference server an AWS bench can compare with: the
// target's name in the table, and the hidden `bridge bench` command that
// serves it.
type benchReference struct{ name, command string }

// startReferenceTargets starts each reference in a child process
// (startChildReference) and returns them as targets, and stop, which ends
// them all.
func startReferenceTargets(ctx context.Context, refs []benchReference) (targets []benchTarget, stop func() error, err error) {
	var stops []func() error
	stop = func() error {
		var errs []error
		for _, s := range stops {
			errs = append(errs, s())
		}
		return errors.Join(errs...)
	}
	for _, ref := range refs {
		srv, err := startChildReference(ctx, ref.command)
		if err != nil {
			return nil, nil, errors.Join(err, stop())
		}
		stops = append(stops, func() error {
			if err := srv.stop(); err != nil {
				return fmt.Errorf("stopping %s: %w", ref.name, err)
			}
			return nil
		})
		targets = append(targets, benchTarget{name: ref.name, endpoint: "http://" + srv.addr, cpu: srv.cpu})
	}
	return targets, stop, nil
}

// newBenchReferenceServerCmd makes a hidden `bridge bench NAME`: it serves
// the handler newHandler returns over HTTP on 127.0.0.1 (a port of the
// system's choosing), prints "listening ADDR", and on SIGINT or SIGTERM
// stops and calls the handler's cleanup.
func newBenchReferenceServerCmd(name, short string, newHandler func() (http.Handler, func() error, error)) *cobra.Command {
	return &cobra.Command{
		Use:    name,
		Short:  short,
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			handler, cleanup, err := newHandler()
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				return errors.Join(err, cleanup())
			}
			srv := &http.Server{Handler: handler}
			go func() { _ = srv.Serve(ln) }()
			fmt.Fprintf(cmd.OutOrStdout(), "listening %s\n", ln.Addr())
			ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer cancel()
			<-ctx.Done()
			return errors.Join(srv.Close(), cleanup())
		},
	}
}
