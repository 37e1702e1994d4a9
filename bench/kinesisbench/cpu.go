package kinesisbench

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/bench/measure"
)

// The server's CPU time is read around each phase when Config.ServerCPU is
// set (measure.ProcessCPU of the server's pid): it is the figure that a
// noisy shared machine disturbs least, since time other processes take is
// not counted in it.

// PutCPUPerMB and GetCPUPerMB are the server's CPU milliseconds per MB of
// record data in each phase; negative when unknown.
func (r Result) PutCPUPerMB() float64 { return measure.CPUPerMB(r.PutServerCPU, r.PutBytes) }
func (r Result) GetCPUPerMB() float64 { return measure.CPUPerMB(r.GetServerCPU, r.GetBytes) }

// PutClientCPUPerMB and GetClientCPUPerMB are the load generator's CPU
// milliseconds per MB in each phase; negative when unknown.
func (r Result) PutClientCPUPerMB() float64 { return measure.CPUPerMB(r.PutClientCPU, r.PutBytes) }
func (r Result) GetClientCPUPerMB() float64 { return measure.CPUPerMB(r.GetClientCPU, r.GetBytes) }

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
