package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeAllocatorSettings checks that bridge serve runs with the
// allocator settings it adds to its environment (cmd/bridge/allocator.go)
// and keeps a value the environment chose.
func TestServeAllocatorSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		want map[string]string
	}{
		{"added", nil, map[string]string{
			"GODEBUG": "madvdontneed=0", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}},
		{"the environment's kept", []string{"GODEBUG=madvdontneed=1"}, map[string]string{
			"GODEBUG": "madvdontneed=1", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBridge(t, tc.env, loopbackArgs(t.TempDir())...)
			environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", b.proc.cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for kv := range strings.SplitSeq(string(environ), "\x00") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					if _, seen := got[k]; !seen {
						got[k] = v
					}
				}
			}
			// Executed again, it keeps its name: what ps, pgrep and killall match.
			comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", b.proc.cmd.Process.Pid))
			if err != nil {
				t.Fatal(err)
			}
			if name := filepath.Base(bridgeBinary(t)); strings.TrimSpace(string(comm)) != name[:min(len(name), 15)] {
				t.Errorf("the server's process name is %q; want %q", strings.TrimSpace(string(comm)), name)
			}
			ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
			defer cancel()
			logged := b.waitLog(ctx, "allocator settings", msgIs("allocator settings"))
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("the server's environment has %s=%q; want %q", k, got[k], v)
				}
				if logged.str(k) != v {
					t.Errorf("logged %s=%q; want %q", k, logged.str(k), v)
				}
			}
		})
	}
}
