package main

import (
	"log/slog"
	"os"
	"slices"
	"strings"
)

// A server that moves hundreds of megabytes a second through freshly
// allocated memory spends a fifth of its CPU in page faults on a VM where a
// fault costs about 11 µs, unless two settings of its memory allocators say
// otherwise. Both are read once, from the environment, when a process
// starts, so `bridge serve` and `bridge connect` (and `bridge bench
// connect`, whose process runs the worker it measures) execute themselves
// again, once, with them added (reexecWithAllocatorEnv), unless the
// environment already chooses a value:
//
//   - GODEBUG=madvdontneed=0: the Go runtime hands the heap pages its
//     scavenger releases back with MADV_FREE instead of MADV_DONTNEED. After
//     MADV_DONTNEED every released page the heap takes again (a request
//     frame, a fetch buffer, pebble's memtables in a static build) faults and
//     is zeroed by the kernel; after MADV_FREE the kernel takes a page only
//     when it needs the memory (a cgroup at its limit reclaims such pages
//     before anything else), and taking it again is free. The price is that
//     released pages count in the resident size until the kernel takes them.
//   - GLIBC_TUNABLES=glibc.malloc.hugetlb=1: C's malloc asks for transparent
//     huge pages (madvise) where the kernel gives them on request, the
//     default of Debian and most distributions. In cgo builds pebble's
//     memtables (64 MiB each) and block cache come from malloc: a new
//     memtable then faults in 32 huge pages instead of 16,384 small ones. A
//     static build (the container image) ignores it.
//
// What it saved, two bridges taking turns under `bridge bench kafka` (README,
// "Allocator settings"): about a fifth of the server's CPU per record of 1 KiB
// and of 10 MiB, with minor faults per run falling from tens of thousands
// to a few thousand or none.
//
// Those spare the faults of memory used a second time. The first use of
// each page of the Go heap still faults, 4 KiB at a time, until a fresh
// server's heap has grown to its working size (several hundred megabytes
// and over a second of CPU): with BRIDGE_HUGE_PAGE_HEAP=1 the same commands
// advise the heap's first gibibyte for transparent huge pages (setUpHeap,
// adviseHugePageHeap), which the kernel then faults in 2 MiB at a time.

// allocatorSettings are the settings added, each as the variable, the
// setting's name within it, its value and the variable's separator.
var allocatorSettings = []struct {
	env, name, value, sep string
}{
	{"GODEBUG", "madvdontneed", "0", ","},
	{"GLIBC_TUNABLES", "glibc.malloc.hugetlb", "1", ":"},
}

// reexecCommands are the command paths that run a server: `bench connect`
// runs the Connect worker it measures in its own process, so it runs with
// the settings `bridge connect` has.
var reexecCommands = [][]string{{"serve"}, {"connect"}, {"bench", "connect"}}

// wantsAllocatorEnv reports whether a command line (without the program's
// name) runs a server: its arguments that are not flags start with one of
// reexecCommands.
func wantsAllocatorEnv(args []string) bool {
	var words []string
	for _, a := range args {
		if !strings.HasPrefix(a, "-") {
			words = append(words, a)
		}
	}
	for _, c := range reexecCommands {
		if len(words) >= len(c) && slices.Equal(words[:len(c)], c) {
			return true
		}
	}
	return false
}

// allocatorEnv returns environ with allocatorSettings added to it, and
// whether it added any. A setting the environment already names is kept
// as it is, whatever its value: GODEBUG=madvdontneed=1 turns the first off.
func allocatorEnv(environ []string) ([]string, bool) {
	out := append([]string(nil), environ...)
	changed := false
	for _, s := range allocatorSettings {
		i, cur := lookupEnviron(out, s.env)
		if _, named := lookupSetting(cur, s.name, s.sep); named {
			continue
		}
		setting := s.name + "=" + s.value
		if cur != "" {
			setting = cur + s.sep + setting
		}
		if i < 0 {
			out = append(out, s.env+"="+setting)
		} else {
			out[i] = s.env + "=" + setting
		}
		changed = true
	}
	return out, changed
}

// lookupEnviron returns the index and value of the first entry of environ
// for key (the one getenv, Go's and C's, sees), or -1.
func lookupEnviron(environ []string, key string) (int, string) {
	for i := range environ {
		if v, ok := strings.CutPrefix(environ[i], key+"="); ok {
			return i, v
		}
	}
	return -1, ""
}

// lookupSetting returns the value list, name=value pairs separated by sep,
// gives name (the last one, as the Go runtime reads GODEBUG) and whether
// it names it at all.
func lookupSetting(list, name, sep string) (value string, ok bool) {
	for kv := range strings.SplitSeq(list, sep) {
		if k, v, _ := strings.Cut(kv, "="); strings.TrimSpace(k) == name {
			value, ok = strings.TrimSpace(v), true
		}
	}
	return value, ok
}

// hugePageHeap is the heap's address space setUpHeap advised for
// transparent huge pages, for the start's log line.
var hugePageHeap struct {
	bytes int
	err   error
}

// hugePageHeapEnv, set to 1, turns the huge-page heap on.
const hugePageHeapEnv = "BRIDGE_HUGE_PAGE_HEAP"

// setUpHeap advises the heap's first gibibyte for transparent huge pages
// (adviseHugePageHeap) in the commands that run a server, when
// BRIDGE_HUGE_PAGE_HEAP=1 asks for it and GODEBUG=disablethp=1, the
// runtime's own switch against huge pages for the heap, does not forbid it.
//
// It is off by default: a fault in an advised range may make the kernel
// compact memory first when free 2 MiB blocks are short (THP defrag
// "madvise", the usual default), a stall of the faulting thread. On the
// 2-core CI machine, with dozens of servers started and stopped among
// gigabytes of test data, the first full test run with it on took more than
// half as long again as the run before it and a distributed Connect test
// saw its workers miss 4 s heartbeats. That was not traced to the advice,
// but it leaves it a choice for machines that run one long-lived server
// (README, "Allocator settings").
func setUpHeap(args []string) {
	if !wantsAllocatorEnv(args) || os.Getenv(hugePageHeapEnv) != "1" {
		return
	}
	if v, _ := lookupSetting(os.Getenv("GODEBUG"), "disablethp", ","); v == "1" {
		return
	}
	_, hugePageHeap.bytes, hugePageHeap.err = adviseHugePageHeap(hugePageHeapSize())
}

// logAllocatorEnv logs the allocator settings the process runs with.
func logAllocatorEnv(log *slog.Logger) {
	attrs := make([]any, 0, 2*len(allocatorSettings)+4)
	for _, s := range allocatorSettings {
		attrs = append(attrs, s.env, os.Getenv(s.env))
	}
	attrs = append(attrs, "huge_page_heap_bytes", hugePageHeap.bytes)
	if hugePageHeap.err != nil {
		attrs = append(attrs, "huge_page_heap_error", hugePageHeap.err.Error())
	}
	log.Info("allocator settings", attrs...)
}
