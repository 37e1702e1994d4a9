package convert

import (
	"math/big"
	"strconv"

	"github.com/streambridge/bridge/connect"
)

// AppendPlainDecimal appends unscaled×10^-scale as Java's
// BigDecimal.toPlainString writes it: no exponent (156 at scale 2 is 1.56,
// at scale 4 0.0156, at scale -2 15600), so that the text is a JSON number
// and a string any reader parses the same; only a scale that would pad
// with more than maxPlainPadding zeros gets an exponent (156E-2000). It is what connectors
// that write Decimals as text share (the file sink, the HTTP and Kinesis
// sinks' JSON); the JsonConverter writes BigDecimal.toString instead
// (appendDecimal), which uses an exponent for very small or negative
// scales, as Kafka's does.
func AppendPlainDecimal(b []byte, unscaled *big.Int, scale int) []byte {
	var scratch [48]byte
	return appendPlainDigits(b, unscaled.Append(scratch[:0], 10), scale)
}

// PlainDecimal is AppendPlainDecimal as a string.
func PlainDecimal(unscaled *big.Int, scale int) string {
	return string(AppendPlainDecimal(nil, unscaled, scale))
}

// DecimalScale is the scale parameter of a Decimal schema, 0 for a missing
// schema or a scale that is not a number (a schemaless value has none).
func DecimalScale(schema *connect.Schema) int {
	if schema == nil {
		return 0
	}
	scale, _ := strconv.Atoi(schema.Parameters["scale"])
	return scale
}

// maxPlainPadding bounds the zeros a plain decimal is padded with: beyond
// it the exponent form is written, so that a hostile scale in a schema
// cannot make the text huge.
const maxPlainPadding = 1000

// appendExponent writes s×10^-scale as digits and an exponent (156E-10),
// a JSON number.
func appendExponent(b []byte, s []byte, scale int) []byte {
	b = append(b, s...)
	b = append(b, 'E')
	return strconv.AppendInt(b, int64(-scale), 10)
}

// appendPlainDigits writes s, an integer's decimal digits with an optional
// leading '-', with its decimal point scale digits from the right.
func appendPlainDigits(b []byte, s []byte, scale int) []byte {
	digits := len(s)
	if s[0] == '-' {
		digits--
	}
	if -scale > maxPlainPadding || scale-digits > maxPlainPadding {
		return appendExponent(b, s, scale)
	}
	if s[0] == '-' {
		b = append(b, '-')
		s = s[1:]
	}
	switch {
	case scale <= 0:
		b = append(b, s...)
		for range -scale {
			b = append(b, '0')
		}
		return b
	case len(s) <= scale:
		b = append(b, '0', '.')
		for range scale - len(s) {
			b = append(b, '0')
		}
		return append(b, s...)
	}
	b = append(b, s[:len(s)-scale]...)
	b = append(b, '.')
	return append(b, s[len(s)-scale:]...)
}
