package mapping

import (
	"errors"
	"testing"
)

func TestShardID(t *testing.T) {
	tests := []struct {
		index int
		want  string
	}{
		{0, "shardId-000000000000"},
		{7, "shardId-000000000007"},
		{123456789012 - 1, "shardId-123456789011"},
		{999999999999, "shardId-999999999999"},
		{1000000000000, "shardId-1000000000000"},
		{MaxShardIndex, "shardId-99999999999999"},
	}
	for _, tt := range tests {
		got := ShardID(tt.index)
		if got != tt.want {
			t.Errorf("ShardID(%d) = %q, want %q", tt.index, got, tt.want)
		}
		back, err := ParseShardID(got)
		if err != nil || back != tt.index {
			t.Errorf("ParseShardID(%q) = %d, %v; want %d", got, back, err, tt.index)
		}
	}
}

func TestShardIDPanics(t *testing.T) {
	for _, index := range []int{-1, MaxShardIndex + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("ShardID(%d) did not panic", index)
				}
			}()
			ShardID(index)
		}()
	}
}

func TestParseShardIDRejects(t *testing.T) {
	for _, in := range []string{
		"",
		"shardId-",
		"shardId-7",
		"shardId-00000000007",     // 11 digits
		"shardId-0000000000007",   // 13 digits, padded too far
		"shardid-000000000007",    // wrong case
		"ShardId-000000000007",    // wrong case
		"shardId_000000000007",    // wrong separator
		" shardId-000000000007",   // space
		"shardId-000000000007 ",   // space
		"shardId--00000000007",    // sign
		"shardId-+00000000007",    // sign
		"shardId-00000000000a",    // letter
		"shardId-100000000000000", // beyond MaxShardIndex
		"shardId-99999999999999999999999",
		"000000000007",
	} {
		i, err := ParseShardID(in)
		if err == nil {
			t.Errorf("ParseShardID(%q) = %d, want error", in, i)
			continue
		}
		if !errors.Is(err, ErrInvalidShardID) {
			t.Errorf("ParseShardID(%q) error %v does not wrap ErrInvalidShardID", in, err)
		}
	}
}
