package main

import (
	"errors"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/streambridge/bridge/store/embedded"
)

func TestMemoryLimitFlag(t *testing.T) {
	for _, c := range []struct {
		in   string
		want memoryLimitFlag
		str  string
	}{
		{"auto", memoryLimitFlag{auto: true}, "auto"},
		{"none", memoryLimitFlag{}, "none"},
		{"0", memoryLimitFlag{}, "none"},
		{"512MiB", memoryLimitFlag{bytes: 512 << 20}, "512MiB"},
		{"4GiB", memoryLimitFlag{bytes: 4 << 30}, "4GiB"}, // above sizeFlag's 2 GiB
		{"1GB", memoryLimitFlag{bytes: 1e9}, "1000000000"},
	} {
		var f memoryLimitFlag
		if err := f.Set(c.in); err != nil || f != c.want || f.String() != c.str {
			t.Errorf("Set(%q): %+v %q %v, want %+v %q", c.in, f, f.String(), err, c.want, c.str)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1.5GiB", "automatic"} {
		var f memoryLimitFlag
		if err := f.Set(bad); err == nil {
			t.Errorf("Set(%q) = %+v, want an error", bad, f)
		}
	}
}

func TestMemoryLimitResolve(t *testing.T) {
	cgroup := func(n uint64, err error) func() (uint64, error) {
		return func() (uint64, error) { return n, err }
	}
	broken := errors.New("unreadable mountinfo")
	for _, c := range []struct {
		name   string
		flag   memoryLimitFlag
		cgroup func() (uint64, error)
		want   int64
		from   string
		err    error
	}{
		{"cgroup limit", memoryLimitFlag{auto: true}, cgroup(512<<20, nil), 512 << 20, "cgroup", nil},
		{"cgroup without a limit", memoryLimitFlag{auto: true}, cgroup(0, memlimit.ErrNoLimit), 0, "cgroup", nil},
		{"no cgroup", memoryLimitFlag{auto: true}, cgroup(0, memlimit.ErrNoCgroup), 0, "cgroup", nil},
		{"unreadable", memoryLimitFlag{auto: true}, cgroup(0, broken), 0, "cgroup", broken},
		{"flag wins", memoryLimitFlag{bytes: 1 << 30}, cgroup(512<<20, nil), 1 << 30, "--memory-limit", nil},
		{"none", memoryLimitFlag{}, cgroup(512<<20, nil), 0, "--memory-limit", nil},
	} {
		got, from, err := c.flag.resolve(c.cgroup)
		if got != c.want || from != c.from || !errors.Is(err, c.err) {
			t.Errorf("%s: %d from %s, %v; want %d from %s, %v", c.name, got, from, err, c.want, c.from, c.err)
		}
	}
}

// The collector's limit leaves room for the store's memory outside the Go
// heap (cgo builds) and for the page cache, and never falls below a quarter.
func TestGoMemoryLimit(t *testing.T) {
	const MiB = 1 << 20
	for _, limit := range []int64{64 * MiB, 256 * MiB, 512 * MiB, 8 << 30} {
		plan := embedded.PlanMemory(limit)
		got := goMemoryLimit(limit, plan)
		if got < limit/4 || got+plan.OutsideGoHeap() > limit*2/3 && got != limit/4 {
			t.Errorf("limit %d MiB: Go limit %d MiB with %d MiB outside the Go heap", limit/MiB, got/MiB, plan.OutsideGoHeap()/MiB)
		}
	}
}
