package main

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime/debug"
	"strings"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/streambridge/bridge/store/embedded"
)

// memoryLimitFlag is --memory-limit: auto (the memory limit of the cgroup
// the process runs in, as a container's), none, or a size.
type memoryLimitFlag struct {
	auto  bool
	bytes int64 // when not auto; 0 is none
}

func (f *memoryLimitFlag) String() string {
	switch {
	case f.auto:
		return "auto"
	case f.bytes == 0:
		return "none"
	}
	return formatSize(f.bytes)
}

func (f *memoryLimitFlag) Set(s string) error {
	switch strings.TrimSpace(s) {
	case "auto":
		*f = memoryLimitFlag{auto: true}
		return nil
	case "none", "0":
		*f = memoryLimitFlag{}
		return nil
	}
	v, err := parseSize(s, math.MaxInt64)
	if err != nil {
		return fmt.Errorf("%w, or auto, or none", err)
	}
	*f = memoryLimitFlag{bytes: v}
	return nil
}

func (*memoryLimitFlag) Type() string { return "size" }

// resolve returns the limit in bytes (0: none) and where it comes from.
// cgroupLimit reads the cgroup's limit (memlimit.FromCgroup); a process
// outside a cgroup, or in one without a limit, has none.
func (f *memoryLimitFlag) resolve(cgroupLimit func() (uint64, error)) (int64, string, error) {
	if !f.auto {
		return f.bytes, "--memory-limit", nil
	}
	n, err := cgroupLimit()
	switch {
	case errors.Is(err, memlimit.ErrNoLimit), errors.Is(err, memlimit.ErrNoCgroup):
		return 0, "cgroup", nil
	case err != nil:
		return 0, "cgroup", err
	}
	return int64(min(n, math.MaxInt64)), "cgroup", nil
}

// goMemoryLimit is the Go collector's limit for a process limited to limit
// bytes whose store follows plan: two thirds of the limit, less what the
// store allocates outside the Go heap, and never under a quarter of the
// limit. The third left over is for C's allocator's own overhead, the
// binary, and the kernel's page cache of the process's files, which a
// cgroup counts too. Measured in a 512 MiB cgroup with 800 MB produced
// and consumed through Kafka, the process peaked at 514 MiB resident with
// nine tenths (the page cache squeezed to nothing), 440-464 MiB with three
// quarters and 403-441 MiB with two thirds (README, "Memory").
func goMemoryLimit(limit int64, plan embedded.MemoryPlan) int64 {
	return max(limit/3*2-plan.OutsideGoHeap(), limit/4)
}

// applyMemoryLimit resolves --memory-limit, sets the Go collector's limit
// unless GOMEMLIMIT does, logs what it chose, and returns the limit for the
// store to size its caches by (0: none).
func applyMemoryLimit(f *memoryLimitFlag, log *slog.Logger) int64 {
	limit, from, err := f.resolve(memlimit.FromCgroup)
	if err != nil {
		log.Warn("memory limit: cannot read the cgroup's; running without one (set --memory-limit)", "err", err)
		return 0
	}
	if limit == 0 {
		log.Debug("memory limit: none", "from", from)
		return 0
	}
	plan := embedded.PlanMemory(limit)
	attrs := []any{"limit_bytes", limit, "from", from,
		"block_cache_bytes", plan.BlockCache, "tail_cache_bytes", plan.TailCache, "memtable_bytes", plan.MemTable}
	if env := os.Getenv("GOMEMLIMIT"); env != "" {
		attrs = append(attrs, "go_memory_limit", "GOMEMLIMIT="+env)
	} else {
		goLimit := goMemoryLimit(limit, plan)
		debug.SetMemoryLimit(goLimit)
		attrs = append(attrs, "go_memory_limit_bytes", goLimit)
	}
	log.Info("memory limit", attrs...)
	return limit
}
