package main

import "testing"

func TestSizeFlag(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
		str  string
	}{
		{"1024", 1024, "1KiB"}, {"10MiB", 10 << 20, "10MiB"}, {"1 GiB", 1 << 30, "1GiB"},
		{"1500", 1500, "1500"}, {"2MB", 2e6, "2000000"}, {"64kB", 64000, "64000"}, {"7B", 7, "7"},
	} {
		var n int
		f := sizeFlag{&n}
		if err := f.Set(c.in); err != nil || n != c.want || f.String() != c.str {
			t.Errorf("Set(%q): %d %q %v, want %d %q", c.in, n, f.String(), err, c.want, c.str)
		}
	}
	for _, bad := range []string{"", "x", "-1", "1.5MiB", "2GiB", "3TiB"} {
		var n int
		if err := (sizeFlag{&n}).Set(bad); err == nil {
			t.Errorf("Set(%q) = %d, want an error", bad, n)
		}
	}
}
