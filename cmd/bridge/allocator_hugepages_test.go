//go:build linux && (amd64 || arm64)

package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestAdviseHugePageHeap checks the two things the server relies on: the
// advised range carries the huge-page flag, and memory the heap hands out
// afterwards comes from it in huge pages (where the kernel gives them). It
// runs in a process of its own, whose heap has freed nothing yet, as a
// server's has not when main calls adviseHugePageHeap.
func TestAdviseHugePageHeap(t *testing.T) {
	if os.Getenv("BRIDGE_TEST_HUGE_PAGE_HEAP") == "" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestAdviseHugePageHeap$", "-test.v")
		cmd.Env = append(os.Environ(), "BRIDGE_TEST_HUGE_PAGE_HEAP=1")
		out, err := cmd.CombinedOutput()
		t.Logf("%s", out)
		if err != nil {
			t.Fatal(err)
		}
		return
	}
	const n = 64 << 20
	addr, got, err := adviseHugePageHeap(n)
	if err != nil {
		t.Fatal(err)
	}
	if got < n-2*hugePageSize || got > n || got%hugePageSize != 0 || addr%hugePageSize != 0 {
		t.Fatalf("advised %d bytes of %d at %#x; want all the 2 MiB pages inside them", got, n, addr)
	}
	if flagged := flaggedBytes(t, addr, addr+uintptr(got), "hg"); flagged != int64(got) {
		t.Fatalf("%d of the %d bytes advised are in mappings flagged for huge pages", flagged, got)
	}

	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		t.Fatalf("the kernel's THP mode: %v", err)
	}
	if bytes.Contains(mode, []byte("[never]")) {
		t.Logf("THP is off on this machine (%s): the heap cannot get huge pages", bytes.TrimSpace(mode))
		return
	}
	hugeBefore := anonHugePages(t)
	b := make([]byte, 32<<20)
	for i := 0; i < len(b); i += 4096 {
		b[i] = 1
	}
	huge := anonHugePages(t) - hugeBefore
	t.Logf("advised %#x+%d; a 32 MiB slice at %p brought %d bytes of huge pages", addr, got, &b[0], huge)
	if huge < 16<<20 {
		t.Fatalf("touching a new 32 MiB slice added %d bytes of huge pages; want most of it", huge)
	}
}

// flaggedBytes returns how many bytes of [from, to) are in mappings of this
// process whose VmFlags include flag.
func flaggedBytes(t *testing.T, from, to uintptr, flag string) int64 {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var total int64
	var overlap uintptr // of the mapping whose lines are being read
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		if lo, hi, ok := strings.Cut(fields[0], "-"); ok && !strings.HasSuffix(fields[0], ":") {
			start, err1 := strconv.ParseUint(lo, 16, 64)
			end, err2 := strconv.ParseUint(hi, 16, 64)
			if err1 == nil && err2 == nil {
				overlap = max(0, min(uintptr(end), to)-max(uintptr(start), from))
				if uintptr(end) <= from || uintptr(start) >= to {
					overlap = 0
				}
				continue
			}
		}
		if fields[0] == "VmFlags:" && slices.Contains(fields[1:], flag) {
			total += int64(overlap)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return total
}

// anonHugePages returns AnonHugePages of /proc/self/smaps_rollup in bytes.
func anonHugePages(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no AnonHugePages in smaps_rollup")
	return 0
}
