package convert

import (
	"encoding/base64"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// The appenders below write JSON the way Jackson does for Kafka's
// JsonConverter: compact, members in insertion order, strings escaped only
// where JSON requires it (no HTML escaping), doubles as Java prints them.

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Bytes that are not UTF-8 become
// U+FFFD so the output is always valid JSON.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendBytes writes bytes as Jackson's binary nodes: standard base64 with
// padding, in a string.
func appendBytes(b []byte, v []byte) []byte {
	b = append(b, '"')
	b = base64.StdEncoding.AppendEncode(b, v)
	return append(b, '"')
}

// appendJavaDouble writes f as Java's Double.toString (Float.toString for
// bits 32) does, which is what Jackson emits: "1.0" rather than "1", so that a
// schemaless reader sees a float again, and "1.0E10" outside [1e-3, 1e7).
// NaN and the infinities are not JSON numbers; Jackson quotes them.
func appendJavaDouble(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0.0"...)
		}
		return append(b, "0.0"...)
	}
	var scratch [32]byte
	sci := strconv.AppendFloat(scratch[:0], f, 'e', -1, bits) // -d.ddde±xx
	neg := sci[0] == '-'
	if neg {
		sci = sci[1:]
		b = append(b, '-')
	}
	ePos := 0
	for ePos < len(sci) && sci[ePos] != 'e' {
		ePos++
	}
	exp, _ := strconv.Atoi(string(sci[ePos+1:]))
	var digitBuf [24]byte
	digits := digitBuf[:0]
	for _, c := range sci[:ePos] {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	abs := math.Abs(f)
	if abs >= 1e-3 && abs < 1e7 {
		point := exp + 1
		switch {
		case point <= 0:
			b = append(b, '0', '.')
			for range -point {
				b = append(b, '0')
			}
			b = append(b, digits...)
		case point >= len(digits):
			b = append(b, digits...)
			for range point - len(digits) {
				b = append(b, '0')
			}
			b = append(b, '.', '0')
		default:
			b = append(b, digits[:point]...)
			b = append(b, '.')
			b = append(b, digits[point:]...)
		}
		return b
	}
	b = append(b, digits[0], '.')
	if len(digits) > 1 {
		b = append(b, digits[1:]...)
	} else {
		b = append(b, '0')
	}
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(exp), 10)
}

// appendDecimal writes unscaled×10^-scale as a JSON number: plainly where
// Java's BigDecimal.toString is plain, with an exponent where it would use
// one (a negative scale, or more than six zeros after the point), so a
// hostile scale cannot make the output huge.
func appendDecimal(b []byte, unscaled *big.Int, scale int) []byte {
	var scratch [48]byte
	s := unscaled.Append(scratch[:0], 10)
	digits := len(s)
	if s[0] == '-' {
		digits--
	}
	if scale < 0 || scale-digits > 6 {
		return appendExponent(b, s, scale)
	}
	return appendPlainDigits(b, s, scale)
}

// FormatJavaDouble is Java's Double.toString (Float.toString for bits 32),
// for the other packages that print numbers as Kafka does ("1.0", "1.0E10",
// NaN and Infinity unquoted).
func FormatJavaDouble(f float64, bits int) string {
	s := string(appendJavaDouble(nil, f, bits))
	if s[0] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}
