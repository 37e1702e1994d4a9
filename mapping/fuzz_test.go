package mapping

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets for everything that parses client input. Each checks that
// parsing never panics, that every rejection wraps the right sentinel with a
// bounded message, and that every acceptance round-trips exactly, which is
// what makes the parsers strict inverses.

// maxErrorLength bounds error messages; see maxQuotedInput.
const maxErrorLength = 256

func checkRejection(t *testing.T, err, sentinel error) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %v does not wrap %v", err, sentinel)
	}
	if len(err.Error()) > maxErrorLength {
		t.Fatalf("error message is %d bytes long", len(err.Error()))
	}
}

func FuzzParseHashKey(f *testing.F) {
	for _, s := range []string{
		"", "0", "1", "00", "01", "-0", "+1", " 1", "1 ", "1e3", "0x1",
		"18446744073709551615", twoPow64Decimal, twoPow126Decimal, twoPow127Decimal,
		maxHashKeyDecimal, "340282366920938463463374607431768211456",
		"999999999999999999999999999999999999999", "1000000000000000000000000000000000000000",
		"١", "１",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHashKey(s)
		if err != nil {
			checkRejection(t, err, ErrInvalidHashKey)
			return
		}
		if got := h.String(); got != s {
			t.Fatalf("ParseHashKey(%q).String() = %q", s, got)
		}
	})
}

func FuzzHashKeyString(f *testing.F) {
	f.Add(uint64(0), uint64(0))
	f.Add(uint64(0), ^uint64(0))
	f.Add(uint64(1), uint64(0))
	f.Add(^uint64(0), ^uint64(0))
	f.Add(uint64(0x8000000000000000), uint64(0))
	f.Fuzz(func(t *testing.T, hi, lo uint64) {
		h := HashKey{Hi: hi, Lo: lo}
		s := h.String()
		back, err := ParseHashKey(s)
		if err != nil || back != h {
			t.Fatalf("ParseHashKey(%q) = %v, %v; want %v", s, back, err, h)
		}
	})
}

func FuzzParseSequenceNumber(f *testing.F) {
	f.Add("")
	f.Add("0")
	f.Add(SequenceNumber(0, 0))
	f.Add(SequenceNumber(7, 42))
	f.Add(SequenceNumber(MaxShardIndex, 1<<63-1))
	f.Add("49" + "00000000000000" + "09223372036854775808" + strings.Repeat("0", 20))
	f.Add("49" + "00000000000000" + "99999999999999999999" + strings.Repeat("0", 20))
	f.Add("49590338271490256608559692538361571095921575989136588898")
	f.Add(strings.Repeat("4", 56))
	f.Fuzz(func(t *testing.T, s string) {
		shard, offset, err := ParseSequenceNumber(s)
		if err != nil {
			checkRejection(t, err, ErrInvalidSequenceNumber)
			return
		}
		if got := SequenceNumber(shard, offset); got != s {
			t.Fatalf("ParseSequenceNumber(%q) = %d, %d, which encodes as %q", s, shard, offset, got)
		}
	})
}

func FuzzSequenceNumber(f *testing.F) {
	f.Add(0, int64(0))
	f.Add(MaxShardIndex, int64(1<<63-1))
	f.Add(-1, int64(-1))
	f.Fuzz(func(t *testing.T, shard int, offset int64) {
		if shard < 0 || shard > MaxShardIndex || offset < 0 {
			return // documented to panic
		}
		s := SequenceNumber(shard, offset)
		gotShard, gotOffset, err := ParseSequenceNumber(s)
		if err != nil || gotShard != shard || gotOffset != offset {
			t.Fatalf("ParseSequenceNumber(%q) = %d, %d, %v", s, gotShard, gotOffset, err)
		}
	})
}

func FuzzParseShardID(f *testing.F) {
	for _, s := range []string{
		"", "shardId-", "shardId-000000000000", "shardId-000000000007",
		"shardId-999999999999", "shardId-1000000000000", "shardId-0000000000007",
		"shardId-99999999999999", "shardId-100000000000000", "shardId--00000000001",
		"shardId-00000000000a", "shardid-000000000001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		index, err := ParseShardID(s)
		if err != nil {
			checkRejection(t, err, ErrInvalidShardID)
			return
		}
		if got := ShardID(index); got != s {
			t.Fatalf("ParseShardID(%q) = %d, which formats as %q", s, index, got)
		}
	})
}

func FuzzPartitionKeyForKafkaKey(f *testing.F) {
	f.Add([]byte(nil), true)
	f.Add([]byte{}, false)
	f.Add([]byte("order-42"), false)
	f.Add([]byte("kafka-null-key"), false)
	f.Add([]byte{0xff, 0xfe}, false)
	f.Add([]byte{0xed, 0xa0, 0x80}, false)
	f.Add([]byte(strings.Repeat("é", 256)), false)
	f.Add([]byte(strings.Repeat("é", 257)), false)
	f.Add([]byte(strings.Repeat("🔑", 256)), false)
	f.Add([]byte(strings.Repeat("k", 257)), false)
	f.Fuzz(func(t *testing.T, key []byte, isNil bool) {
		if isNil {
			key = nil
		}
		pk := PartitionKeyForKafkaKey(key)
		if err := ValidPartitionKey(pk); err != nil {
			t.Fatalf("PartitionKeyForKafkaKey(%q) = %q, invalid: %v", key, pk, err)
		}
		if again := PartitionKeyForKafkaKey(key); again != pk {
			t.Fatalf("not deterministic: %q then %q", pk, again)
		}
		usable := len(key) > 0 && utf8.Valid(key) && utf8.RuneCount(key) <= MaxPartitionKeyLength
		switch {
		case key == nil:
			if pk != NullKeyPartitionKey {
				t.Fatalf("nil key -> %q", pk)
			}
		case len(key) == 0:
			if pk != EmptyKeyPartitionKey {
				t.Fatalf("empty key -> %q", pk)
			}
		case usable:
			if pk != string(key) {
				t.Fatalf("usable key %q -> %q", key, pk)
			}
			if back := KafkaKeyForPartitionKey(pk); string(back) != string(key) {
				t.Fatalf("KafkaKeyForPartitionKey(%q) = %q", pk, back)
			}
		default:
			if want := HashedKeyPartitionKeyPrefix + md5Hex(string(key)); pk != want {
				t.Fatalf("unusable key %q -> %q, want %q", key, pk, want)
			}
		}
		if (ValidPartitionKey(string(key)) == nil) != usable {
			t.Fatalf("ValidPartitionKey(%q) disagrees with usable = %v", key, usable)
		}
	})
}
