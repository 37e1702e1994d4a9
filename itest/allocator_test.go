package itest

import (
	"context"
	"fmt"
	"os"
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
