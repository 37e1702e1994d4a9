package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestServeAllocatorSettings checks that bridge serve runs with the
// allocator settings it adds to its environment (cmd/bridge/allocator.go)
// and keeps a value the environment chose, and that it advised the heap's
// first gibibyte (or quarter of the machine) for transparent huge pages
// when BRIDGE_HUGE_PAGE_HEAP=1 and GODEBUG=disablethp=1 do not forbid it.
func TestServeAllocatorSettings(t *testing.T) {
	for _, tc := range []struct {
		name      string
		env       []string
		want      map[string]string
		hugePages bool
	}{
		{"added", nil, map[string]string{
			"GODEBUG": "madvdontneed=0", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}, false},
		{"the environment's kept", []string{"GODEBUG=madvdontneed=1"}, map[string]string{
			"GODEBUG": "madvdontneed=1", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}, false},
		{"huge-page heap", []string{"BRIDGE_HUGE_PAGE_HEAP=1"}, map[string]string{
			"GODEBUG": "madvdontneed=0", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}, true},
		{"huge-page heap forbidden", []string{"BRIDGE_HUGE_PAGE_HEAP=1", "GODEBUG=disablethp=1"}, map[string]string{
			"GODEBUG": "disablethp=1,madvdontneed=0", "GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}, false},
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
			advised, _ := logged["huge_page_heap_bytes"].(float64)
			if tc.hugePages != (advised >= 64<<20) {
				t.Errorf("logged huge_page_heap_bytes=%v (error %q); want it %v", logged["huge_page_heap_bytes"], logged.str("huge_page_heap_error"), map[bool]string{true: "at least 64 MiB", false: "0"}[tc.hugePages])
			}
			// glibc's malloc (glibc.malloc.hugetlb=1: pebble's memtables in
			// this cgo build) and the runtime's GC metadata flag some of
			// their own, far less than a server with huge pages on advises
			// (a gibibyte on a machine of 4 GiB or more).
			if flagged := hugePageFlagged(t, b.proc.cmd.Process.Pid); flagged < int64(advised) || !tc.hugePages && flagged >= 512<<20 {
				t.Errorf("the server's mappings flagged for huge pages add up to %d bytes; it advised %v", flagged, advised)
			}
		})
	}
}

// hugePageFlagged returns the size of the mappings of process pid flagged
// for transparent huge pages (MADV_HUGEPAGE: "hg" in VmFlags).
func hugePageFlagged(t *testing.T, pid int) int64 {
	t.Helper()
	smaps, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	var total, size int64
	for line := range strings.SplitSeq(string(smaps), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 2 && fields[0] == "Size:":
			kb, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				t.Fatalf("smaps: %q: %v", line, err)
			}
			size = kb << 10
		case len(fields) >= 1 && fields[0] == "VmFlags:" && slices.Contains(fields[1:], "hg"):
			total += size
		}
	}
	return total
}
