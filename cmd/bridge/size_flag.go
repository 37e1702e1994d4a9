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
	n := int64(*f.n)
	for i := 2; i >= 0; i-- { // the largest binary unit that divides it
		if u := sizeUnits[i]; n >= u.factor && n%u.factor == 0 {
			return strconv.FormatInt(n/u.factor, 10) + u.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

func (f sizeFlag) Set(s string) error {
	s = strings.TrimSpace(s)
	factor := int64(1)
	for _, u := range sizeUnits {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			s, factor = strings.TrimSpace(v), u.factor
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > math.MaxInt32/factor {
		return fmt.Errorf("%q is not a size: want a whole number of bytes, optionally with a unit (KiB, MiB, GiB, kB, MB, GB), below 2 GiB", s)
	}
	*f.n = int(v * factor)
	return nil
}

func (f sizeFlag) Type() string { return "size" }
