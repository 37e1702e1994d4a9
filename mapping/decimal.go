package mapping

// Fixed-width decimal helpers shared by the hash key, shard id and sequence
// number encodings. They work on uint64 and byte slices so that formatting
// and parsing stay allocation-free.

// appendPadded appends v in decimal, left-padded with zeros to width digits.
// v must have at most width digits.
func appendPadded(dst []byte, v uint64, width int) []byte {
	start := len(dst)
	for width > len(zeros) {
		dst = append(dst, zeros...)
		width -= len(zeros)
	}
	dst = append(dst, zeros[:width]...)
	// Write digits from the right; the loop ends early for small values,
	// which are the common case (low shard indexes, young offsets).
	for i := len(dst) - 1; i >= start && v != 0; i-- {
		dst[i] = byte('0' + v%10)
		v /= 10
	}
	return dst
}

// zeros is the padding appendPadded copies in bulk.
const zeros = "00000000000000000000000000000000"

// parseDigits parses s, which must be 1 to 19 ASCII decimal digits (leading
// zeros allowed), so that the value always fits in a uint64 without overflow
// checks. It reports false if s is empty, too long or has a non-digit.
func parseDigits(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// decimalDigits returns the number of decimal digits of v (1 for 0).
func decimalDigits(v uint64) int {
	n := 1
	for v >= 10 {
		v /= 10
		n++
	}
	return n
}
