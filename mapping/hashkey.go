package mapping

import (
	"crypto/md5"
	"encoding/binary"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// HashKey is an unsigned 128-bit Kinesis hash key: Hi holds the most
// significant 64 bits, Lo the least significant. The zero value is hash key 0.
//
// HashKey is comparable with == and ordered by Cmp, which agrees with the
// numeric order Kinesis uses for hash key ranges.
type HashKey struct{ Hi, Lo uint64 }

// MaxHashKey is 2^128-1, the largest hash key and the end of the last shard's
// range in every stream.
var MaxHashKey = HashKey{Hi: ^uint64(0), Lo: ^uint64(0)}

// maxHashKeyDigits is the number of decimal digits of 2^128-1
// (340282366920938463463374607431768211455).
const maxHashKeyDigits = 39

// HashPartitionKey returns the hash key Kinesis assigns to a partition key:
// the MD5 digest of its UTF-8 bytes read as a big-endian unsigned 128-bit
// integer. It does not validate the partition key; see ValidPartitionKey.
func HashPartitionKey(partitionKey string) HashKey {
	// md5.Sum takes a []byte. A plain conversion allocates for keys over 32
	// bytes, so copy into a stack buffer that holds any valid partition key
	// (256 characters of at most 4 bytes); only invalid, longer keys pay for
	// an allocation.
	var buf [utf8.UTFMax * MaxPartitionKeyLength]byte
	if len(partitionKey) <= len(buf) {
		n := copy(buf[:], partitionKey)
		return HashKeyFromBytes(md5.Sum(buf[:n]))
	}
	return HashKeyFromBytes(md5.Sum([]byte(partitionKey)))
}

// HashKeyFromBytes reads b as a big-endian unsigned 128-bit integer.
func HashKeyFromBytes(b [16]byte) HashKey {
	return HashKey{
		Hi: binary.BigEndian.Uint64(b[:8]),
		Lo: binary.BigEndian.Uint64(b[8:]),
	}
}

// Bytes returns h as 16 big-endian bytes. Byte-wise comparison of the result
// agrees with Cmp, which makes it suitable as part of an ordered storage key.
func (h HashKey) Bytes() [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], h.Hi)
	binary.BigEndian.PutUint64(b[8:], h.Lo)
	return b
}

// ParseHashKey parses the decimal form of a hash key as the Kinesis API
// writes it (pattern 0|([1-9]\d{0,38})) and checks that it is at most
// 2^128-1. Signs, spaces, leading zeros, non-ASCII digits and values that
// overflow 128 bits are rejected with an error wrapping ErrInvalidHashKey.
//
// ParseHashKey(h.String()) == h for every h.
func ParseHashKey(s string) (HashKey, error) {
	switch {
	case s == "":
		return HashKey{}, parseError(ErrInvalidHashKey, s, "empty")
	case len(s) > maxHashKeyDigits:
		return HashKey{}, parseError(ErrInvalidHashKey, s, "more than 39 digits, exceeds 2^128-1")
	case s[0] == '0' && len(s) > 1:
		return HashKey{}, parseError(ErrInvalidHashKey, s, "leading zero")
	}
	var h HashKey
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return HashKey{}, parseError(ErrInvalidHashKey, s, "not a decimal digit at byte "+strconv.Itoa(i))
		}
		var ok bool
		if h, ok = h.mulAdd(10, uint64(c-'0')); !ok {
			return HashKey{}, parseError(ErrInvalidHashKey, s, "exceeds 2^128-1")
		}
	}
	return h, nil
}

// mulAdd returns h*m + a and whether the result fits in 128 bits.
func (h HashKey) mulAdd(m, a uint64) (HashKey, bool) {
	loCarry, lo := bits.Mul64(h.Lo, m)
	hiOverflow, hi := bits.Mul64(h.Hi, m)
	hi, c1 := bits.Add64(hi, loCarry, 0)
	lo, c2 := bits.Add64(lo, a, 0)
	hi, c3 := bits.Add64(hi, 0, c2)
	return HashKey{Hi: hi, Lo: lo}, hiOverflow == 0 && c1 == 0 && c3 == 0
}

// divMod returns h/d and h%d for a non-zero 64-bit divisor d.
func (h HashKey) divMod(d uint64) (HashKey, uint64) {
	qHi, r := h.Hi/d, h.Hi%d
	// r < d, so bits.Div64 cannot overflow or panic here.
	qLo, r := bits.Div64(r, h.Lo, d)
	return HashKey{Hi: qHi, Lo: qLo}, r
}

// String returns h in decimal with no leading zeros, the form the Kinesis API
// uses for StartingHashKey, EndingHashKey and ExplicitHashKey.
func (h HashKey) String() string {
	var buf [maxHashKeyDigits]byte
	return string(h.appendDecimal(buf[:0]))
}

// AppendDecimal appends the decimal form of h (as String returns it) to dst,
// for callers that build responses without intermediate strings.
func (h HashKey) AppendDecimal(dst []byte) []byte {
	return h.appendDecimal(dst)
}

func (h HashKey) appendDecimal(dst []byte) []byte {
	if h.Hi == 0 {
		return strconv.AppendUint(dst, h.Lo, 10)
	}
	// Peel off 19-digit chunks (10^19 is the largest power of ten in a
	// uint64); 2^128-1 has 39 digits, so at most two full chunks plus a head.
	const chunk = 1e19
	var chunks [2]uint64
	n := 0
	for h.Hi != 0 {
		h, chunks[n] = h.divMod(chunk)
		n++
	}
	dst = strconv.AppendUint(dst, h.Lo, 10)
	for n > 0 {
		n--
		dst = appendPadded(dst, chunks[n], 19)
	}
	return dst
}

// Cmp returns -1, 0 or +1 as h is less than, equal to or greater than o.
func (h HashKey) Cmp(o HashKey) int {
	switch {
	case h.Hi < o.Hi:
		return -1
	case h.Hi > o.Hi:
		return +1
	case h.Lo < o.Lo:
		return -1
	case h.Lo > o.Lo:
		return +1
	}
	return 0
}

// Next returns h+1. MaxHashKey.Next() wraps to 0; callers walking ranges
// must stop at MaxHashKey rather than rely on the result growing.
func (h HashKey) Next() HashKey {
	lo, carry := bits.Add64(h.Lo, 1, 0)
	return HashKey{Hi: h.Hi + carry, Lo: lo}
}

// Prev returns h-1. HashKey{}.Prev() wraps to MaxHashKey.
func (h HashKey) Prev() HashKey {
	lo, borrow := bits.Sub64(h.Lo, 1, 0)
	return HashKey{Hi: h.Hi - borrow, Lo: lo}
}

// add returns h+o modulo 2^128.
func (h HashKey) add(o HashKey) HashKey {
	lo, carry := bits.Add64(h.Lo, o.Lo, 0)
	return HashKey{Hi: h.Hi + o.Hi + carry, Lo: lo}
}
