package mapping

import "testing"

func mustHashKey(t testing.TB, s string) HashKey {
	t.Helper()
	h, err := ParseHashKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// TestEvenSplitMatchesAWS compares against the ranges AWS reports from
// DescribeStream for freshly created streams.
func TestEvenSplitMatchesAWS(t *testing.T) {
	tests := []struct {
		n      int
		ranges [][2]string
	}{
		{1, [][2]string{{"0", maxHashKeyDecimal}}},
		{2, [][2]string{
			{"0", "170141183460469231731687303715884105727"},
			{"170141183460469231731687303715884105728", maxHashKeyDecimal},
		}},
		{3, [][2]string{
			{"0", "113427455640312821154458202477256070484"},
			{"113427455640312821154458202477256070485", "226854911280625642308916404954512140969"},
			{"226854911280625642308916404954512140970", maxHashKeyDecimal},
		}},
		{4, [][2]string{
			{"0", "85070591730234615865843651857942052863"},
			{"85070591730234615865843651857942052864", "170141183460469231731687303715884105727"},
			{"170141183460469231731687303715884105728", "255211775190703847597530955573826158591"},
			{"255211775190703847597530955573826158592", maxHashKeyDecimal},
		}},
	}
	for _, tt := range tests {
		got := EvenSplit(tt.n)
		if len(got) != len(tt.ranges) {
			t.Fatalf("EvenSplit(%d) has %d ranges", tt.n, len(got))
		}
		for i, want := range tt.ranges {
			if s := got[i].Start.String(); s != want[0] {
				t.Errorf("EvenSplit(%d)[%d].Start = %s, want %s", tt.n, i, s, want[0])
			}
			if e := got[i].End.String(); e != want[1] {
				t.Errorf("EvenSplit(%d)[%d].End = %s, want %s", tt.n, i, e, want[1])
			}
		}
	}
}

func TestEvenSplitPanics(t *testing.T) {
	for _, n := range []int{0, -1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("EvenSplit(%d) did not panic", n)
				}
			}()
			EvenSplit(n)
		}()
	}
}

func TestShardForHashKey(t *testing.T) {
	ranges := EvenSplit(4)
	tests := []struct {
		h    string
		want int
	}{
		{"0", 0},
		{"85070591730234615865843651857942052863", 0},
		{"85070591730234615865843651857942052864", 1},
		{"170141183460469231731687303715884105727", 1},
		{"170141183460469231731687303715884105728", 2},
		{"255211775190703847597530955573826158592", 3},
		{maxHashKeyDecimal, 3},
	}
	for _, tt := range tests {
		if got := ShardForHashKey(ranges, mustHashKey(t, tt.h)); got != tt.want {
			t.Errorf("ShardForHashKey(%s) = %d, want %d", tt.h, got, tt.want)
		}
	}
}

func TestShardForHashKeyGaps(t *testing.T) {
	ranges := []HashRange{
		{Start: HashKey{Lo: 10}, End: HashKey{Lo: 19}},
		{Start: HashKey{Lo: 30}, End: HashKey{Lo: 39}},
	}
	tests := []struct {
		h    uint64
		want int
	}{
		{0, -1}, {9, -1}, {10, 0}, {19, 0}, {20, -1}, {29, -1}, {30, 1}, {39, 1}, {40, -1},
	}
	for _, tt := range tests {
		if got := ShardForHashKey(ranges, HashKey{Lo: tt.h}); got != tt.want {
			t.Errorf("ShardForHashKey(%d) = %d, want %d", tt.h, got, tt.want)
		}
	}
	if got := ShardForHashKey(nil, HashKey{}); got != -1 {
		t.Errorf("ShardForHashKey(nil) = %d, want -1", got)
	}
}
