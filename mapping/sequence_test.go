package mapping

import (
	"errors"
	"math"
	"strings"
	"testing"
)

func TestSequenceNumber(t *testing.T) {
	tests := []struct {
		shard  int
		offset int64
		want   string
	}{
		{0, 0, "49" + "00000000000000" + "00000000000000000000" + "00000000000000000000"},
		{7, 42, "49" + "00000000000007" + "00000000000000000042" + "00000000000000000000"},
		{MaxShardIndex, math.MaxInt64, "49" + "99999999999999" + "09223372036854775807" + "00000000000000000000"},
	}
	for _, tt := range tests {
		got := SequenceNumber(tt.shard, tt.offset)
		if got != tt.want {
			t.Errorf("SequenceNumber(%d, %d) = %q, want %q", tt.shard, tt.offset, got, tt.want)
		}
		if len(got) != 56 {
			t.Errorf("SequenceNumber(%d, %d) has %d digits, want 56", tt.shard, tt.offset, len(got))
		}
		shard, offset, err := ParseSequenceNumber(got)
		if err != nil || shard != tt.shard || offset != tt.offset {
			t.Errorf("ParseSequenceNumber(%q) = %d, %d, %v", got, shard, offset, err)
		}
	}
}

func TestSequenceNumberOrder(t *testing.T) {
	// Sequence numbers are same-length digit strings, so string order is
	// numeric order.
	pairs := []struct {
		shard  int
		offset int64
	}{
		{0, 0}, {0, 1}, {0, 9}, {0, 10}, {0, math.MaxInt64},
		{1, 0}, {1, 1}, {9, 0}, {10, 0}, {MaxShardIndex, 0}, {MaxShardIndex, math.MaxInt64},
	}
	for i := 1; i < len(pairs); i++ {
		a := SequenceNumber(pairs[i-1].shard, pairs[i-1].offset)
		b := SequenceNumber(pairs[i].shard, pairs[i].offset)
		if a >= b {
			t.Errorf("SequenceNumber%v = %s is not below SequenceNumber%v = %s", pairs[i-1], a, pairs[i], b)
		}
	}
}

func TestSequenceNumberPanics(t *testing.T) {
	for _, tt := range []struct {
		shard  int
		offset int64
	}{{-1, 0}, {MaxShardIndex + 1, 0}, {0, -1}, {0, math.MinInt64}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("SequenceNumber(%d, %d) did not panic", tt.shard, tt.offset)
				}
			}()
			SequenceNumber(tt.shard, tt.offset)
		}()
	}
}

func TestParseSequenceNumberRejects(t *testing.T) {
	valid := SequenceNumber(3, 5)
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"zero", "0"},
		{"real AWS layout", "49590338271490256608559692538361571095921575989136588898"},
		{"too short", valid[:55]},
		{"too long", valid + "0"},
		{"wrong prefix", "48" + valid[2:]},
		{"letter in shard", valid[:5] + "a" + valid[6:]},
		{"letter in offset", valid[:20] + "x" + valid[21:]},
		{"sign in offset", valid[:16] + "+" + valid[17:]},
		{"offset above MaxInt64", "49" + "00000000000000" + "09223372036854775808" + strings.Repeat("0", 20)},
		{"offset 20 digits", "49" + "00000000000000" + "10000000000000000000" + strings.Repeat("0", 20)},
		{"reserved non-zero", valid[:55] + "1"},
		{"reserved letter", valid[:40] + "z" + valid[41:]},
		{"space", " " + valid[1:]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shard, offset, err := ParseSequenceNumber(tt.in)
			if err == nil {
				t.Fatalf("ParseSequenceNumber(%q) = %d, %d, want error", tt.in, shard, offset)
			}
			if !errors.Is(err, ErrInvalidSequenceNumber) {
				t.Errorf("error %v does not wrap ErrInvalidSequenceNumber", err)
			}
		})
	}
}
