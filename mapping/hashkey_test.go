package mapping

import (
	"errors"
	"testing"
)

// Decimal constants quoted from AWS responses and from the definition.
const (
	maxHashKeyDecimal = "340282366920938463463374607431768211455" // 2^128-1
	twoPow127Decimal  = "170141183460469231731687303715884105728" // 2^127
	twoPow126Decimal  = "85070591730234615865843651857942052864"  // 2^126
	twoPow64Decimal   = "18446744073709551616"                    // 2^64
)

func TestParseHashKey(t *testing.T) {
	tests := []struct {
		in   string
		want HashKey
	}{
		{"0", HashKey{}},
		{"1", HashKey{Lo: 1}},
		{"9", HashKey{Lo: 9}},
		{"18446744073709551615", HashKey{Lo: ^uint64(0)}},
		{twoPow64Decimal, HashKey{Hi: 1}},
		{twoPow126Decimal, HashKey{Hi: 1 << 62}},
		{twoPow127Decimal, HashKey{Hi: 1 << 63}},
		{maxHashKeyDecimal, MaxHashKey},
		{"340282366920938463463374607431768211454", HashKey{Hi: ^uint64(0), Lo: ^uint64(0) - 1}},
	}
	for _, tt := range tests {
		got, err := ParseHashKey(tt.in)
		if err != nil {
			t.Errorf("ParseHashKey(%q): unexpected error %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("ParseHashKey(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseHashKey(%q).String() = %q", tt.in, s)
		}
	}
}

func TestParseHashKeyRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"plus sign", "+1"},
		{"minus sign", "-1"},
		{"minus zero", "-0"},
		{"leading space", " 1"},
		{"trailing space", "1 "},
		{"leading zero", "01"},
		{"double zero", "00"},
		{"2^128", "340282366920938463463374607431768211456"},
		{"overflow in last digit", "340282366920938463463374607431768211460"},
		{"overflow by multiply", "999999999999999999999999999999999999999"},
		{"40 digits", "1000000000000000000000000000000000000000"},
		{"hex", "0x10"},
		{"letter", "12a"},
		{"underscore", "1_000"},
		{"exponent", "1e10"},
		{"decimal point", "1.0"},
		{"arabic-indic digit", "١"},
		{"fullwidth digit", "１"},
		{"nul", "1\x00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := ParseHashKey(tt.in)
			if err == nil {
				t.Fatalf("ParseHashKey(%q) = %v, want error", tt.in, h)
			}
			if !errors.Is(err, ErrInvalidHashKey) {
				t.Errorf("error %v does not wrap ErrInvalidHashKey", err)
			}
		})
	}
}

func TestHashPartitionKey(t *testing.T) {
	// Expected values are the MD5 digests (RFC 1321 test suite) read as
	// big-endian 128-bit integers.
	tests := []struct {
		pk   string
		want HashKey
	}{
		{"", HashKey{Hi: 0xd41d8cd98f00b204, Lo: 0xe9800998ecf8427e}},
		{"a", HashKey{Hi: 0x0cc175b9c0f1b6a8, Lo: 0x31c399e269772661}},
		{"abc", HashKey{Hi: 0x900150983cd24fb0, Lo: 0xd6963f7d28e17f72}},
		{"message digest", HashKey{Hi: 0xf96b697d7cb7938d, Lo: 0x525a2f31aaf161d0}},
	}
	for _, tt := range tests {
		if got := HashPartitionKey(tt.pk); got != tt.want {
			t.Errorf("HashPartitionKey(%q) = %#x/%#x, want %#x/%#x", tt.pk, got.Hi, got.Lo, tt.want.Hi, tt.want.Lo)
		}
	}
}

func TestHashKeyCmp(t *testing.T) {
	tests := []struct {
		a, b HashKey
		want int
	}{
		{HashKey{}, HashKey{}, 0},
		{HashKey{Lo: 1}, HashKey{}, 1},
		{HashKey{}, HashKey{Lo: 1}, -1},
		{HashKey{Hi: 1}, HashKey{Lo: ^uint64(0)}, 1},
		{HashKey{Lo: ^uint64(0)}, HashKey{Hi: 1}, -1},
		{MaxHashKey, MaxHashKey, 0},
	}
	for _, tt := range tests {
		if got := tt.a.Cmp(tt.b); got != tt.want {
			t.Errorf("%v.Cmp(%v) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestHashKeyNextPrev(t *testing.T) {
	tests := []struct{ h, next HashKey }{
		{HashKey{}, HashKey{Lo: 1}},
		{HashKey{Lo: ^uint64(0)}, HashKey{Hi: 1}},
		{HashKey{Hi: 5, Lo: 7}, HashKey{Hi: 5, Lo: 8}},
		{MaxHashKey, HashKey{}}, // documented wrap-around
	}
	for _, tt := range tests {
		if got := tt.h.Next(); got != tt.next {
			t.Errorf("%v.Next() = %v, want %v", tt.h, got, tt.next)
		}
		if got := tt.next.Prev(); got != tt.h {
			t.Errorf("%v.Prev() = %v, want %v", tt.next, got, tt.h)
		}
	}
}

func TestHashKeyBytes(t *testing.T) {
	h := HashKey{Hi: 0x0102030405060708, Lo: 0x090a0b0c0d0e0f10}
	b := h.Bytes()
	for i := range b {
		if b[i] != byte(i+1) {
			t.Fatalf("Bytes() = %x", b)
		}
	}
	if HashKeyFromBytes(b) != h {
		t.Fatalf("HashKeyFromBytes(Bytes()) != h")
	}
}
