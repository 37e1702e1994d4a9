package convert

import (
	"math/big"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect"
)

func TestPlainDecimal(t *testing.T) {
	for _, c := range []struct {
		unscaled string
		scale    int
		want     string
	}{
		{"156", 2, "1.56"}, {"156", 3, "0.156"}, {"156", 4, "0.0156"}, {"-156", 4, "-0.0156"},
		{"156", 0, "156"}, {"156", -2, "15600"}, {"-156", -1, "-1560"}, {"0", 2, "0.00"},
		{"12345678901234567890123456789012345678901234567890123", 50, "123.45678901234567890123456789012345678901234567890123"},
		{"1", 0, "1"}, {"-1", 1, "-0.1"},
		// Beyond a thousand zeros of padding: the exponent form.
		{"156", -2000, "156E2000"}, {"-156", 1004, "-156E-1004"},
	} {
		u, _ := new(big.Int).SetString(c.unscaled, 10)
		if got := PlainDecimal(u, c.scale); got != c.want {
			t.Errorf("PlainDecimal(%s, %d) = %s, want %s", c.unscaled, c.scale, got, c.want)
		}
		if got := string(AppendPlainDecimal([]byte("x="), u, c.scale)); got != "x="+c.want {
			t.Errorf("AppendPlainDecimal appended %q", got)
		}
	}
	for _, c := range []struct {
		schema *connect.Schema
		want   int
	}{
		{nil, 0}, {&connect.Schema{}, 0}, {&connect.Schema{Parameters: map[string]string{"scale": "3"}}, 3},
		{&connect.Schema{Parameters: map[string]string{"scale": "x"}}, 0},
	} {
		if got := DecimalScale(c.schema); got != c.want {
			t.Errorf("DecimalScale(%+v) = %d, want %d", c.schema, got, c.want)
		}
	}
}

// FuzzPlainDecimal: whatever the unscaled value and scale, the text is a
// number whose exact value is unscaled×10^-scale, and it is short.
func FuzzPlainDecimal(f *testing.F) {
	f.Add([]byte{0x9c}, int16(2))
	f.Add([]byte{0xff, 0x01}, int16(-3))
	f.Add([]byte{}, int16(0))
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, int16(30000))
	f.Fuzz(func(t *testing.T, mag []byte, scale int16) {
		u := new(big.Int).SetBytes(mag)
		if len(mag) > 0 && mag[0]&1 == 1 {
			u.Neg(u)
		}
		got := PlainDecimal(u, int(scale))
		if len(got) > len(u.String())+maxPlainPadding+2 {
			t.Fatalf("%d chars for %s at scale %d", len(got), u, scale)
		}
		if strings.ContainsAny(got, "eE") != (int(scale) < -maxPlainPadding || int(scale)-len(u.Text(10)) > maxPlainPadding) && u.Sign() >= 0 {
			t.Fatalf("%s at scale %d: %s", u, scale, got)
		}
		r, ok := new(big.Rat).SetString(got)
		if !ok {
			t.Fatalf("%q is not a number", got)
		}
		want := new(big.Rat).SetInt(u)
		p := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(int(scale)))), nil))
		if scale > 0 {
			want.Quo(want, p)
		} else {
			want.Mul(want, p)
		}
		if r.Cmp(want) != 0 {
			t.Fatalf("%s at scale %d: %s", u, scale, got)
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
