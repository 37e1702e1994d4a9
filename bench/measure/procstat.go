package measure

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat times: 100 on
// every architecture Go supports.
const clockTicks = 100

// ProcessCPU returns a function reporting the CPU time (user + system) that
// process pid has used so far, read from /proc/<pid>/stat. On systems
// without /proc the function fails, and the bench leaves the server CPU
// figures out.
func ProcessCPU(pid int) func() (float64, error) {
	path := fmt.Sprintf("/proc/%d/stat", pid)
	return func() (float64, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		// The command name (field 2) is in parentheses and may hold
		// spaces: count fields after its closing parenthesis.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			return 0, fmt.Errorf("%s: no command field", path)
		}
		f := bytes.Fields(b[i+1:])
		// After the command: state (3), ..., utime (14), stime (15).
		if len(f) < 13 {
			return 0, fmt.Errorf("%s: %d fields", path, len(f)+2)
		}
		utime, err1 := strconv.ParseInt(string(f[11]), 10, 64)
		stime, err2 := strconv.ParseInt(string(f[12]), 10, 64)
		if err1 != nil || err2 != nil {
			return 0, fmt.Errorf("%s: bad utime/stime %q %q", path, f[11], f[12])
		}
		return float64(utime+stime) / clockTicks, nil
	}
}
