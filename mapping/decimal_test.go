package mapping

import (
	"math"
	"testing"
)

func TestAppendPadded(t *testing.T) {
	tests := []struct {
		v     uint64
		width int
		want  string
	}{
		{0, 1, "0"},
		{0, 3, "000"},
		{7, 3, "007"},
		{123, 3, "123"},
		{42, 40, "0000000000000000000000000000000000000042"},
		{math.MaxUint64, 20, "18446744073709551615"},
	}
	for _, tt := range tests {
		if got := string(appendPadded([]byte("x"), tt.v, tt.width)); got != "x"+tt.want {
			t.Errorf("appendPadded(%d, %d) = %q, want %q", tt.v, tt.width, got, "x"+tt.want)
		}
	}
}

func TestParseDigits(t *testing.T) {
	tests := []struct {
		s    string
		want uint64
		ok   bool
	}{
		{"0", 0, true},
		{"007", 7, true},
		{"9999999999999999999", 9999999999999999999, true},
		{"", 0, false},
		{"10000000000000000000", 0, false}, // 20 digits
		{"1a", 0, false},
		{"-1", 0, false},
		{"1 ", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseDigits(tt.s)
		if ok != tt.ok || got != tt.want {
			t.Errorf("parseDigits(%q) = %d, %v; want %d, %v", tt.s, got, ok, tt.want, tt.ok)
		}
	}
}

func TestDecimalDigits(t *testing.T) {
	tests := []struct {
		v    uint64
		want int
	}{{0, 1}, {9, 1}, {10, 2}, {999999999999, 12}, {1000000000000, 13}, {math.MaxUint64, 20}}
	for _, tt := range tests {
		if got := decimalDigits(tt.v); got != tt.want {
			t.Errorf("decimalDigits(%d) = %d, want %d", tt.v, got, tt.want)
		}
	}
}
