package mapping

import (
	"math"
	"strconv"
)

// Sequence number layout. Every number is exactly 56 decimal digits, the
// length of the numbers AWS hands out, so that clients which store them in
// fixed-width columns or compare them as strings keep working:
//
//	49 SSSSSSSSSSSSSS OOOOOOOOOOOOOOOOOOOO RRRRRRRRRRRRRRRRRRRR
//	|  |              |                    reserved, 20 zeros
//	|  |              offset, 20 digits, 0..MaxInt64
//	|  shard index, 14 digits, 0..MaxShardIndex
//	version prefix "49", which also keeps the first digit non-zero
//
// Because the width is fixed and the fields are ordered most significant
// first, numeric order, string order and (shard index, offset) order agree.
// The reserved tail leaves room for a sub-sequence (KPL aggregation) or a
// later layout without making any number handed out so far invalid.
const (
	sequenceNumberLength = 56
	sequencePrefix       = "49"
	sequenceShardDigits  = 14
	sequenceOffsetDigits = 20
	sequenceTailDigits   = 20

	sequenceShardStart  = len(sequencePrefix)
	sequenceOffsetStart = sequenceShardStart + sequenceShardDigits
	sequenceTailStart   = sequenceOffsetStart + sequenceOffsetDigits
)

// SequenceNumber returns the Kinesis sequence number of the record at offset
// in the shard with index shardIndex.
//
// The encoding is reversible (see ParseSequenceNumber) so the embedded store
// needs no index from sequence numbers to offsets. It is a 56-digit decimal
// string matching the API pattern 0|([1-9]\d{0,128}); for a fixed shard it
// strictly increases with offset, and every number of a higher shard index is
// greater than every number of a lower one. The last property matters because
// child shards are created after their parents and clients that compare
// sequence numbers across a reshard expect the children's to be larger.
//
// SequenceNumber panics if shardIndex is outside [0, MaxShardIndex] or offset
// is negative: both come from the store, so such values are programming
// errors, not client input.
func SequenceNumber(shardIndex int, offset int64) string {
	var buf [sequenceNumberLength]byte
	return string(AppendSequenceNumber(buf[:0], shardIndex, offset))
}

// AppendSequenceNumber appends SequenceNumber(shardIndex, offset) to dst,
// for callers that build responses without intermediate strings. It panics
// under the same conditions as SequenceNumber.
func AppendSequenceNumber(dst []byte, shardIndex int, offset int64) []byte {
	if shardIndex < 0 || int64(shardIndex) > MaxShardIndex {
		panic("mapping: shard index " + strconv.Itoa(shardIndex) + " out of range [0, MaxShardIndex]")
	}
	if offset < 0 {
		panic("mapping: negative offset " + strconv.FormatInt(offset, 10))
	}
	dst = append(dst, sequencePrefix...)
	dst = appendPadded(dst, uint64(shardIndex), sequenceShardDigits)
	dst = appendPadded(dst, uint64(offset), sequenceOffsetDigits)
	return appendPadded(dst, 0, sequenceTailDigits)
}

// ParseSequenceNumber is the strict inverse of SequenceNumber: it accepts s
// exactly when s == SequenceNumber(shardIndex, offset) for some valid pair
// and returns that pair. Anything else, including well-formed AWS sequence
// numbers of a different layout, is rejected with an error wrapping
// ErrInvalidSequenceNumber.
func ParseSequenceNumber(s string) (shardIndex int, offset int64, err error) {
	if len(s) != sequenceNumberLength {
		return 0, 0, parseError(ErrInvalidSequenceNumber, s, "want 56 decimal digits")
	}
	if s[:sequenceShardStart] != sequencePrefix {
		return 0, 0, parseError(ErrInvalidSequenceNumber, s, `unknown layout, want prefix "49"`)
	}
	shard, ok := parseDigits(s[sequenceShardStart:sequenceOffsetStart])
	if !ok {
		return 0, 0, parseError(ErrInvalidSequenceNumber, s, "shard field is not all decimal digits")
	}
	if shard > math.MaxInt {
		// Only reachable where int is 32 bits wide.
		return 0, 0, parseError(ErrInvalidSequenceNumber, s, "shard index does not fit in an int on this platform")
	}
	// The offset field has 20 digits, one more than parseDigits takes; a
	// valid offset (at most MaxInt64, 19 digits) always has a leading zero.
	offsetField := s[sequenceOffsetStart:sequenceTailStart]
	if offsetField[0] != '0' {
		return 0, 0, parseError(ErrInvalidSequenceNumber, s, "offset exceeds MaxInt64")
	}
	off, ok := parseDigits(offsetField[1:])
	if !ok {
		return 0, 0, parseError(ErrInvalidSequenceNumber, s, "offset field is not all decimal digits")
	}
	if off > math.MaxInt64 {
		return 0, 0, parseError(ErrInvalidSequenceNumber, s, "offset exceeds MaxInt64")
	}
	for i := sequenceTailStart; i < len(s); i++ {
		if s[i] != '0' {
			return 0, 0, parseError(ErrInvalidSequenceNumber, s, "reserved digits are not zero")
		}
	}
	return int(shard), int64(off), nil
}
