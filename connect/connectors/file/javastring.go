package file

import (
	"bufio"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
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
		sb.WriteString(convert.FormatJavaDouble(float64(x), 32))
	case float64:
		sb.WriteString(convert.FormatJavaDouble(x, 64))
	case time.Time:
		// java.util.Date.toString, in UTC (the worker's zone in Java).
		sb.WriteString(x.UTC().Format("Mon Jan 02 15:04:05 MST 2006"))
	case *big.Int:
		sb.Write(convert.AppendPlainDecimal(nil, x, convert.DecimalScale(schema)))
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
