package kinesisbench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The server's CPU time is read around each phase when Config.ServerCPU is
// set (kafkabench.ProcessCPU of the server's pid): it is the figure that a
// noisy shared machine disturbs least, since time other processes take is
// not counted in it.

// cpuPerMB is CPU milliseconds per MB (10^6 bytes), negative when unknown.
func cpuPerMB(seconds float64, bytes int64) float64 {
	if seconds < 0 || bytes == 0 {
		return -1
	}
	return seconds * 1e3 / (float64(bytes) / 1e6)
}

// PutCPUPerMB and GetCPUPerMB are the server's CPU milliseconds per MB of
// record data in each phase; negative when unknown.
func (r Result) PutCPUPerMB() float64 { return cpuPerMB(r.PutServerCPU, r.PutBytes) }
func (r Result) GetCPUPerMB() float64 { return cpuPerMB(r.GetServerCPU, r.GetBytes) }

// PutClientCPUPerMB and GetClientCPUPerMB are the load generator's CPU
// milliseconds per MB in each phase; negative when unknown.
func (r Result) PutClientCPUPerMB() float64 { return cpuPerMB(r.PutClientCPU, r.PutBytes) }
func (r Result) GetClientCPUPerMB() float64 { return cpuPerMB(r.GetClientCPU, r.GetBytes) }

// cpuSince reads a process's CPU time now and returns a function that
// gives the CPU seconds spent since, or -1 when it cannot be known.
func cpuSince(cpu func() (float64, error)) (since func() float64) {
	unknown := func() float64 { return -1 }
	if cpu == nil {
		return unknown
	}
	before, err := cpu()
	if err != nil {
		return unknown
	}
	return func() float64 {
		after, err := cpu()
		if err != nil {
			return -1
		}
		return after - before
	}
}

// Idle means using under idleShare of a core over idleWindow; waitIdle
// gives up waiting after idleMaxWait.
const (
	idleWindow  = 250 * time.Millisecond
	idleShare   = 0.05
	idleMaxWait = time.Minute
)

// waitIdle waits until the server's CPU use over a window drops under
// idleShare of a core, so that work the server defers after acknowledging
// puts (flushes, compactions, garbage collection) is charged to the put
// phase and does not slow the get phase. A server that never settles is
// waited for idleMaxWait, then the run goes on.
func waitIdle(ctx context.Context, cpu func() (float64, error)) error {
	if cpu == nil {
		return nil
	}
	deadline := time.Now().Add(idleMaxWait)
	prev, err := cpu()
	if err != nil {
		return nil // unknown: nothing to wait for
	}
	for time.Now().Before(deadline) {
		if err := sleep(ctx, idleWindow); err != nil {
			return err
		}
		now, err := cpu()
		if err != nil {
			return nil
		}
		if now-prev < idleShare*idleWindow.Seconds() {
			return nil
		}
		prev = now
	}
	return nil
}

// ListenerPID returns the pid of the process listening on TCP port on this
// machine, read from /proc (Linux; reading other users' processes needs
// root). `bridge bench kinesis` uses it to read the CPU time of emulators it
// did not start.
func ListenerPID(port int) (int, error) {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st ... inode: st 0A is LISTEN.
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" {
				continue
			}
			_, hexPort, ok := strings.Cut(fields[1], ":")
			if p, err := strconv.ParseUint(hexPort, 16, 16); ok && err == nil && int(p) == port {
				inodes[fields[9]] = true
			}
		}
		f.Close()
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no listener on port %d in /proc/net/tcp", port)
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			pidDir := filepath.Dir(filepath.Dir(fd))
			return strconv.Atoi(filepath.Base(pidDir))
		}
	}
	return 0, fmt.Errorf("port %d: listening socket found, its process not (not root?)", port)
}
