package uuid

import (
	"regexp"
	"testing"
)

var v4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewIsVersion4(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		s := NewString()
		if !v4.MatchString(s) {
			t.Fatalf("%q is not a version 4 UUID", s)
		}
		if seen[s] {
			t.Fatalf("%q twice", s)
		}
		seen[s] = true
	}
}

func TestString(t *testing.T) {
	u := UUID{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
	if got, want := u.String(), "01234567-89ab-cdef-fedc-ba9876543210"; got != want {
		t.Fatalf("String() = %q, want %q", got, want)
	}
}

func BenchmarkNewString(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewString()
	}
}
