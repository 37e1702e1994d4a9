package file

import (
	"bufio"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// writeJavaString writes v as Java's String.valueOf writes a Connect value,
// which is what FileStreamSinkTask's println prints: strings as they are,
// numbers and booleans as Java prints them (1.0, 1.0E10), null as "null",
// lists as [a, b], maps as {k=v, k2=v2} (keys sorted; Java's HashMap order
// is unspecified), structs as Struct{f=v,g=w} without null fields. Bytes are
// written as they are, where Java would print an array's identity ([B@1b6d3586),
// useless to anyone reading the file.
func writeJavaString(w *bufio.Writer, schema *connect.Schema, v any) error {
	var sb strings.Builder
	javaString(&sb, schema, v)
	_, err := w.WriteString(sb.String())
	return err
}

func javaString(sb *strings.Builder, schema *connect.Schema, v any) {
	switch x := v.(type) {
	case nil:
		sb.WriteString("null")
	case string:
		sb.WriteString(x)
	case []byte:
		sb.Write(x)
	case bool:
		sb.WriteString(strconv.FormatBool(x))
	case int8:
		sb.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		sb.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		sb.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		sb.WriteString(strconv.FormatInt(x, 10))
	case int:
		sb.WriteString(strconv.Itoa(x))
	case float32:
		sb.WriteString(javaDouble(float64(x), 32))
	case float64:
		sb.WriteString(javaDouble(x, 64))
	case time.Time:
		// java.util.Date.toString, in UTC (the worker's zone in Java).
		sb.WriteString(x.UTC().Format("Mon Jan 02 15:04:05 MST 2006"))
	case *big.Int:
		scale := 0
		if schema != nil {
			scale, _ = strconv.Atoi(schema.Parameters["scale"])
		}
		sb.WriteString(decimalString(x, scale))
	case []any:
		var elem *connect.Schema
		if schema != nil {
			elem = schema.Value
		}
		sb.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				sb.WriteString(", ")
			}
			javaString(sb, elem, e)
		}
		sb.WriteByte(']')
	case map[string]any:
		var elem *connect.Schema
		if schema != nil {
			elem = schema.Value
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		sb.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(k)
			sb.WriteByte('=')
			javaString(sb, elem, x[k])
		}
		sb.WriteByte('}')
	case *connect.Struct:
		sb.WriteString("Struct{")
		first := true
		for i, val := range x.Values {
			if val == nil || x.Schema == nil || i >= len(x.Schema.Fields) {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			f := x.Schema.Fields[i]
			sb.WriteString(f.Name)
			sb.WriteByte('=')
			javaString(sb, f.Schema, val)
		}
		sb.WriteByte('}')
	default:
		fmt.Fprint(sb, x)
	}
}

// javaDouble formats f as Java's Double.toString (Float.toString for 32
// bits): decimal between 10^-3 and 10^7, computerized scientific notation
// outside, always with a fractional digit.
func javaDouble(f float64, bits int) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	if abs := math.Abs(f); abs >= 1e-3 && abs < 1e7 {
		s := strconv.FormatFloat(f, 'f', -1, bits)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	s := strconv.FormatFloat(f, 'E', -1, bits) // 1.2345E+10
	mant, exp, _ := strings.Cut(s, "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	exp = strings.TrimPrefix(exp, "+")
	if neg := strings.HasPrefix(exp, "-"); neg {
		exp = "-" + strings.TrimLeft(exp[1:], "0")
	} else {
		exp = strings.TrimLeft(exp, "0")
	}
	return mant + "E" + exp
}

// decimalString is BigDecimal.toPlainString of unscaled×10^-scale.
func decimalString(unscaled *big.Int, scale int) string {
	s := new(big.Int).Abs(unscaled).String()
	if scale > 0 {
		if len(s) <= scale {
			s = strings.Repeat("0", scale-len(s)+1) + s
		}
		s = s[:len(s)-scale] + "." + s[len(s)-scale:]
	} else if scale < 0 {
		s += strings.Repeat("0", -scale)
	}
	if unscaled.Sign() < 0 {
		s = "-" + s
	}
	return s
}
