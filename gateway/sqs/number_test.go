package sqs

import (
	"strings"
	"testing"
)

func TestValidNumber(t *testing.T) {
	digits38 := strings.Repeat("9", 38)
	tests := []struct {
		s    string
		want bool
	}{
		{"0", true},
		{"-0", true},
		{"+1", true},
		{"1.5", true},
		{".5", true},
		{"5.", true},
		{"-12.75e-3", true},
		{"1E10", true},
		{"000123", true},
		{"0.000", true},
		{digits38, true},
		{digits38 + "9", false},
		{"1" + strings.Repeat("0", 60), true}, // one significant digit
		{"1" + strings.Repeat("0", 37) + "1", false},
		{"0.000" + digits38, true},
		{"1e126", true},
		{"1" + strings.Repeat("0", 126), true},
		{"1.0000000000000000000000000000000000001e126", false},
		{"1e127", false},
		{"10e125", true},
		{"-1e128", true},
		{"-1.1e128", false},
		{"-1e129", false},
		{"1e-128", true},
		{"1e-999999999", true},
		{"1e9999999999", false},
		{"0e9999999999", false},
		{"1e0000000000000001", true},
		{"", false},
		{"-", false},
		{".", false},
		{"e5", false},
		{"1e", false},
		{"1e+", false},
		{"--1", false},
		{"+-1", false},
		{"1.2.3", false},
		{"0x10", false},
		{"1_000", false},
		{" 1", false},
		{"Inf", false},
		{"NaN", false},
	}
	for _, tt := range tests {
		if got := validNumber(tt.s); got != tt.want {
			t.Errorf("validNumber(%q) = %v, want %v", tt.s, got, tt.want)
		}
	}
}
