package main

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// sizeFlag is a byte count flag that takes a unit: 1024, 64KiB, 10MiB,
// 1GiB (powers of 1024), or kB, MB, GB (powers of 1000).
type sizeFlag struct{ n *int }

var sizeUnits = []struct {
	suffix string
	factor int64
}{
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1},
}

func (f sizeFlag) String() string {
	if f.n == nil {
		return "0"
	}
	return formatSize(int64(*f.n))
}

func (f sizeFlag) Set(s string) error {
	v, err := parseSize(s, math.MaxInt32)
	if err != nil {
		return fmt.Errorf("%w, below 2 GiB", err)
	}
	*f.n = int(v)
	return nil
}

// formatSize writes n in the largest binary unit that divides it.
func formatSize(n int64) string {
	for i := 2; i >= 0; i-- {
		if u := sizeUnits[i]; n >= u.factor && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// parseSize reads a byte count with an optional unit, at most limit bytes.
func parseSize(s string, limit int64) (int64, error) {
	s = strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range sizeUnits {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, factor = strings.TrimSpace(v), u.factor
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > limit/factor {
		return 0, fmt.Errorf("%q is not a size: want a whole number of bytes, optionally with a unit (KiB, MiB, GiB, kB, MB, GB)", s)
	}
	return v * factor, nil
}

func (f sizeFlag) Type() string { return "size" }
