package sqs

import (
	"strconv"
	"strings"
)

// Limits of a Number attribute, from the developer guide: "up to 38 digits
// of precision, and it can be between 10^-128 and 10^+126". The range is
// read as signed, -10^128 to 10^126, as elasticmq reads it.
const (
	maxNumberDigits = 38
	// A value 0.d1d2...×10^e with d1 non-zero is at most 10^126 when e is
	// below 127, or e is 127 and the digits are just "1"; likewise for
	// -10^128 and 129.
	maxPositiveExponent = 127
	maxNegativeExponent = 129
)

// validNumber reports whether s is a Number SQS accepts: a decimal numeral
// (optional sign, digits with at most one point, an optional exponent) of
// at most 38 significant digits within the range. It works on the digits
// rather than parsing to a float so that no value is rounded on its way to
// a bound and a huge exponent costs nothing.
func validNumber(s string) bool {
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mantissa, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa = s[:i]
		e, ok := parseExponent(s[i+1:])
		if !ok {
			return false
		}
		exp = e
	}
	whole, frac, _ := strings.Cut(mantissa, ".")
	if whole == "" && frac == "" || !allDigits(whole) || !allDigits(frac) {
		return false
	}
	// Significant digits: the digits without leading and trailing zeros;
	// the position of the first one gives the decimal exponent.
	digits := whole + frac
	lead := len(digits) - len(strings.TrimLeft(digits, "0"))
	sig := strings.TrimRight(digits[lead:], "0")
	if sig == "" {
		return true // zero
	}
	if len(sig) > maxNumberDigits {
		return false
	}
	limit := maxPositiveExponent
	if neg {
		limit = maxNegativeExponent
	}
	// Exponents beyond ±10^9 were refused by parseExponent, so this sum
	// cannot overflow.
	e := len(whole) - lead + exp
	return e < limit || e == limit && sig == "1"
}

// parseExponent parses an exponent's optional sign and digits. An exponent
// of more than nine significant digits is refused: no Number within the
// range needs one, and it keeps the arithmetic on exponents in an int.
func parseExponent(s string) (int, bool) {
	digits := s
	if digits != "" && (digits[0] == '+' || digits[0] == '-') {
		digits = digits[1:]
	}
	if digits == "" || !allDigits(digits) {
		return 0, false
	}
	if digits = strings.TrimLeft(digits, "0"); digits == "" {
		return 0, true
	}
	if len(digits) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return 0, false
	}
	if strings.HasPrefix(s, "-") {
		n = -n
	}
	return n, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
