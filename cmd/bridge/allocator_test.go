package main

import (
	"slices"
	"testing"
)

func TestAllocatorEnv(t *testing.T) {
	for _, tc := range []struct {
		name    string
		environ []string
		want    []string
		changed bool
	}{
		{"none set", []string{"PATH=/bin"},
			[]string{"PATH=/bin", "GODEBUG=madvdontneed=0", "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, true},
		{"appended to other settings", []string{"GODEBUG=http2client=0", "GLIBC_TUNABLES=glibc.malloc.arena_max=2"},
			[]string{"GODEBUG=http2client=0,madvdontneed=0", "GLIBC_TUNABLES=glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}, true},
		{"the user's choice kept", []string{"GODEBUG=gctrace=1,madvdontneed=1", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"},
			[]string{"GODEBUG=gctrace=1,madvdontneed=1", "GLIBC_TUNABLES=glibc.malloc.hugetlb=0"}, false},
		{"one of two missing", []string{"GODEBUG=madvdontneed=1"},
			[]string{"GODEBUG=madvdontneed=1", "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, true},
		{"the first of duplicates is the one read", []string{"GODEBUG=x=1", "GODEBUG=madvdontneed=1", "GLIBC_TUNABLES=glibc.malloc.hugetlb=2"},
			[]string{"GODEBUG=x=1,madvdontneed=0", "GODEBUG=madvdontneed=1", "GLIBC_TUNABLES=glibc.malloc.hugetlb=2"}, true},
		{"empty value", []string{"GODEBUG=", "GLIBC_TUNABLES="},
			[]string{"GODEBUG=madvdontneed=0", "GLIBC_TUNABLES=glibc.malloc.hugetlb=1"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.environ)
			got, changed := allocatorEnv(in)
			if !slices.Equal(got, tc.want) || changed != tc.changed {
				t.Fatalf("allocatorEnv(%q) = %q, %v; want %q, %v", tc.environ, got, changed, tc.want, tc.changed)
			}
			if !slices.Equal(in, tc.environ) {
				t.Fatalf("allocatorEnv changed its argument: %q", in)
			}
			// What the executed process sees asks for nothing more: one
			// execution, never a loop.
			if again, changed := allocatorEnv(got); changed || !slices.Equal(again, got) {
				t.Fatalf("allocatorEnv(%q) = %q, true; want it unchanged", got, again)
			}
		})
	}
}

func TestWantsAllocatorEnv(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"serve"}, true},
		{[]string{"serve", "--data-dir", "x"}, true},
		{[]string{"connect", "worker.properties"}, true},
		{[]string{"--help", "serve"}, true},
		{[]string{"help", "serve"}, false},
		{[]string{"bench", "kafka"}, false},
		{[]string{"bench", "connect", "--records", "10"}, true},
		{[]string{"bench"}, false},
		{[]string{"version"}, false},
		{nil, false},
	} {
		if got := wantsAllocatorEnv(tc.args); got != tc.want {
			t.Errorf("wantsAllocatorEnv(%q) = %v; want %v", tc.args, got, tc.want)
		}
	}
}

func TestSettingValue(t *testing.T) {
	for _, tc := range []struct{ list, want string }{
		{"", ""},
		{"disablethp=1", "1"},
		{"madvdontneed=0,disablethp=1", "1"},
		{"disablethp=1,disablethp=0", "0"}, // the last one, as the runtime reads it
		{" disablethp = 1 ", "1"},
		{"xdisablethp=1", ""},
	} {
		if got, _ := lookupSetting(tc.list, "disablethp", ","); got != tc.want {
			t.Errorf("lookupSetting(%q) = %q; want %q", tc.list, got, tc.want)
		}
	}
}
