package mapping

import (
	"math"
	"strconv"
)

// MaxShardIndex is the largest shard index this package encodes, 10^14-1.
// The bound comes from the 14-digit shard field of SequenceNumber; ShardID
// uses the same bound so that every shard that has an id also has sequence
// numbers.
const MaxShardIndex = 99_999_999_999_999

// shardIDPrefix and shardIDDigits give the AWS shard id shape,
// e.g. shardId-000000000007.
const (
	shardIDPrefix = "shardId-"
	shardIDDigits = 12
)

// ShardID returns the Kinesis shard id for a shard index:
// "shardId-" followed by the index in decimal, zero-padded to 12 digits,
// e.g. ShardID(7) == "shardId-000000000007". Indexes of 10^12 and above get
// as many digits as they need (the padding is a minimum width, as in AWS).
//
// ShardID panics if index is negative or greater than MaxShardIndex: shard
// indexes are allocated by the store, so such a value is a programming error.
func ShardID(index int) string {
	if index < 0 || int64(index) > MaxShardIndex {
		panic("mapping: shard index " + strconv.Itoa(index) + " out of range [0, MaxShardIndex]")
	}
	var buf [len(shardIDPrefix) + 14]byte
	b := append(buf[:0], shardIDPrefix...)
	digits := decimalDigits(uint64(index))
	if digits < shardIDDigits {
		digits = shardIDDigits
	}
	return string(appendPadded(b, uint64(index), digits))
}

// ParseShardID is the strict inverse of ShardID: it accepts s exactly when
// s == ShardID(i) for some i in [0, MaxShardIndex] and returns that i.
// Anything else (another prefix or case, fewer than 12 digits, extra leading
// zeros, signs, spaces, an index beyond MaxShardIndex) is rejected with an
// error wrapping ErrInvalidShardID.
func ParseShardID(s string) (int, error) {
	if len(s) < len(shardIDPrefix) || s[:len(shardIDPrefix)] != shardIDPrefix {
		return 0, parseError(ErrInvalidShardID, s, `want "shardId-" followed by 12 digits`)
	}
	digits := s[len(shardIDPrefix):]
	switch {
	case len(digits) < shardIDDigits:
		return 0, parseError(ErrInvalidShardID, s, "fewer than 12 digits")
	case len(digits) > shardIDDigits && digits[0] == '0':
		return 0, parseError(ErrInvalidShardID, s, "zero padding beyond 12 digits")
	case len(digits) > 14:
		return 0, parseError(ErrInvalidShardID, s, "index exceeds MaxShardIndex")
	}
	v, ok := parseDigits(digits)
	if !ok {
		return 0, parseError(ErrInvalidShardID, s, "index is not all decimal digits")
	}
	if v > math.MaxInt {
		// Only reachable where int is 32 bits wide.
		return 0, parseError(ErrInvalidShardID, s, "index does not fit in an int on this platform")
	}
	return int(v), nil
}
