package convert

// The logical types (Decimal, Date, Time, Timestamp) both ways.

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// appendLogical handles the four logical types; done is false for any other
// schema name.
func (c *JSONConverter) appendLogical(b []byte, s *connect.Schema, v any) (_ []byte, done bool, _ error) {
	switch s.Name {
	case connect.LogicalDecimal:
		x, ok := v.(*big.Int)
		if !ok || x == nil {
			return nil, true, fmt.Errorf("Invalid type for Decimal, expected BigDecimal but was %s", javaClass(v))
		}
		scale, err := decimalScale(s)
		if err != nil {
			return nil, true, err
		}
		if c.decimalNumeric {
			return appendDecimal(b, x, scale), true, nil
		}
		return appendBytes(b, twosComplement(x)), true, nil
	case connect.LogicalDate:
		t, ok := v.(time.Time)
		if !ok {
			return nil, true, fmt.Errorf("Invalid type for Date, expected Date but was %s", javaClass(v))
		}
		ms := t.UnixMilli()
		if ms%msPerDay != 0 || t.Nanosecond()%int(time.Millisecond) != 0 {
			return nil, true, errors.New("Kafka Connect Date type should not have any time fields set to non-zero values.")
		}
		return strconv.AppendInt(b, ms/msPerDay, 10), true, nil
	case connect.LogicalTime:
		t, ok := v.(time.Time)
		if !ok {
			return nil, true, fmt.Errorf("Invalid type for Time, expected Date but was %s", javaClass(v))
		}
		ms := t.UnixMilli()
		if ms < 0 || ms >= msPerDay {
			return nil, true, errors.New("Kafka Connect Time type should not have any date fields set to non-zero values.")
		}
		return strconv.AppendInt(b, ms, 10), true, nil
	case connect.LogicalTimestamp:
		t, ok := v.(time.Time)
		if !ok {
			return nil, true, fmt.Errorf("Invalid type for Timestamp, expected Date but was %s", javaClass(v))
		}
		return strconv.AppendInt(b, t.UnixMilli(), 10), true, nil
	}
	return b, false, nil
}

const msPerDay = 24 * 60 * 60 * 1000

func decimalScale(s *connect.Schema) (int, error) {
	raw, ok := s.Parameters["scale"]
	if !ok {
		return 0, errors.New("Invalid Decimal schema: scale parameter not found.")
	}
	scale, err := strconv.Atoi(raw)
	if err != nil {
		return 0, fmt.Errorf("Invalid Decimal schema: scale parameter %q is not an integer.", raw)
	}
	return scale, nil
}

// twosComplement is Java's BigInteger.toByteArray: the shortest big-endian
// two's complement form, the bytes of Decimal's schema.
func twosComplement(x *big.Int) []byte {
	if x.Sign() >= 0 {
		n := x.BitLen()/8 + 1
		return x.FillBytes(make([]byte, n))
	}
	m := new(big.Int).Not(x) // -x-1, non-negative
	n := m.BitLen()/8 + 1
	v := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
	v.Add(v, x)
	return v.FillBytes(make([]byte, n))
}

// fromTwosComplement is new BigInteger(byte[]).
func fromTwosComplement(b []byte) (*big.Int, error) {
	if len(b) == 0 {
		return nil, errors.New("Zero length BigInteger")
	}
	x := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	return x, nil
}

func toConnectLogical(s *connect.Schema, node any) (_ any, done bool, _ error) {
	switch s.Name {
	case connect.LogicalDecimal:
		scale, err := decimalScale(s)
		if err != nil {
			return nil, true, err
		}
		switch x := node.(type) {
		case number:
			v, err := parseDecimal(string(x), scale)
			return v, true, err
		case string:
			b, err := decodeBase64(x)
			if err != nil {
				return nil, true, fmt.Errorf("Invalid bytes for Decimal field: %w", err)
			}
			v, err := fromTwosComplement(b)
			if err != nil {
				return nil, true, fmt.Errorf("Invalid bytes for Decimal field: %w", err)
			}
			return v, true, nil
		}
		return nil, true, fmt.Errorf("Invalid type for Decimal, underlying representation should be numeric or bytes but was %s", nodeType(node))
	case connect.LogicalDate:
		days, ok := intNode(node, math.MinInt32, math.MaxInt32)
		if !ok {
			return nil, true, fmt.Errorf("Invalid type for Date, underlying representation should be integer but was %s", nodeType(node))
		}
		return time.UnixMilli(days * msPerDay).UTC(), true, nil
	case connect.LogicalTime:
		ms, ok := intNode(node, math.MinInt32, math.MaxInt32)
		if !ok {
			return nil, true, fmt.Errorf("Invalid type for Time, underlying representation should be integer but was %s", nodeType(node))
		}
		return time.UnixMilli(ms).UTC(), true, nil
	case connect.LogicalTimestamp:
		ms, ok := intNode(node, math.MinInt64, math.MaxInt64)
		if !ok {
			return nil, true, fmt.Errorf("Invalid type for Timestamp, underlying representation should be integral but was %s", nodeType(node))
		}
		return time.UnixMilli(ms).UTC(), true, nil
	}
	return nil, false, nil
}

// intNode is Jackson's isInt/isIntegralNumber: an integral literal in range.
func intNode(node any, lo, hi int64) (int64, bool) {
	n, ok := node.(number)
	if !ok || strings.ContainsAny(string(n), ".eE") {
		return 0, false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return i, err == nil && i >= lo && i <= hi
}

// parseDecimal reads a JSON number as a Decimal of the schema's scale: the
// unscaled value. Digits beyond the scale must be zeros (1.5600 at scale 2);
// anything else would silently change the value.
func parseDecimal(lit string, scale int) (*big.Int, error) {
	mant, exp := lit, 0
	if i := strings.IndexAny(lit, "eE"); i >= 0 {
		e, err := strconv.Atoi(lit[i+1:])
		if err != nil {
			return nil, fmt.Errorf("Invalid value %s for Decimal", lit)
		}
		mant, exp = lit[:i], e
	}
	litScale := 0
	if i := strings.IndexByte(mant, '.'); i >= 0 {
		litScale = len(mant) - i - 1
		mant = mant[:i] + mant[i+1:]
	}
	litScale -= exp
	x, ok := new(big.Int).SetString(mant, 10)
	if !ok {
		return nil, fmt.Errorf("Invalid value %s for Decimal", lit)
	}
	switch diff := scale - litScale; {
	case diff > 10000 || diff < -10000:
		return nil, fmt.Errorf("Invalid value %s for Decimal: scale out of range", lit)
	case diff > 0:
		x.Mul(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(diff)), nil))
	case diff < 0:
		q, r := new(big.Int).QuoRem(x, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-diff)), nil), new(big.Int))
		if r.Sign() != 0 {
			return nil, fmt.Errorf("Invalid value %s for Decimal with scale %d: it has more digits after the point", lit, scale)
		}
		x = q
	}
	return x, nil
}
