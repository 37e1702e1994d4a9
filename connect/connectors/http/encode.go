package http

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
)

// encodeJSON appends v as JSON, the form each value takes inside a batch:
//
//   - strings are JSON strings; numbers and booleans JSON numbers and
//     booleans (NaN and infinities, which JSON lacks, as the strings "NaN",
//     "Infinity", "-Infinity"); null is null;
//   - bytes that are valid JSON (a JSON converter's output, most producers'
//     payloads) are embedded as that JSON, compacted so ndjson stays one
//     line per record; other bytes are a JSON string of their standard
//     base64;
//   - maps and arrays are objects and arrays; structs objects in field order;
//   - logical types as Kafka's JsonConverter writes them without schemas:
//     Timestamp milliseconds since the epoch, Date days since the epoch,
//     Time milliseconds since midnight, Decimal a JSON number with its scale.
func encodeJSON(buf *bytes.Buffer, schema *connect.Schema, v any) error {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case string:
		encodeString(buf, x)
	case []byte:
		if json.Valid(x) {
			return json.Compact(buf, x)
		}
		buf.WriteByte('"')
		buf.WriteString(base64.StdEncoding.EncodeToString(x))
		buf.WriteByte('"')
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case int8:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int16:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int32:
		buf.WriteString(strconv.FormatInt(int64(x), 10))
	case int64:
		buf.WriteString(strconv.FormatInt(x, 10))
	case int:
		buf.WriteString(strconv.Itoa(x))
	case float32:
		encodeFloat(buf, float64(x), 32)
	case float64:
		encodeFloat(buf, x, 64)
	case time.Time:
		encodeTime(buf, schema, x)
	case *big.Int:
		buf.Write(convert.AppendPlainDecimal(buf.AvailableBuffer(), x, convert.DecimalScale(schema)))
	case []any:
		var elem *connect.Schema
		if schema != nil {
			elem = schema.Value
		}
		buf.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				buf.WriteByte(',')
			}
			if err := encodeJSON(buf, elem, e); err != nil {
				return err
			}
		}
		buf.WriteByte(']')
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
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeString(buf, k)
			buf.WriteByte(':')
			if err := encodeJSON(buf, elem, x[k]); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	case *connect.Struct:
		if x == nil || x.Schema == nil {
			buf.WriteString("null")
			return nil
		}
		buf.WriteByte('{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				buf.WriteByte(',')
			}
			encodeString(buf, f.Name)
			buf.WriteByte(':')
			var val any
			if i < len(x.Values) {
				val = x.Values[i]
			}
			if err := encodeJSON(buf, f.Schema, val); err != nil {
				return err
			}
		}
		buf.WriteByte('}')
	default:
		return fmt.Errorf("cannot send a value of type %T as JSON", v)
	}
	return nil
}

// encodeString writes s as a JSON string, without encoding/json's escaping of
// <, > and &, which HTML needs and a function's input does not.
func encodeString(buf *bytes.Buffer, s string) {
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)           // a string always encodes (invalid UTF-8 becomes U+FFFD)
	buf.Truncate(buf.Len() - 1) // Encode's newline
}

func encodeFloat(buf *bytes.Buffer, f float64, bits int) {
	switch {
	case math.IsNaN(f):
		buf.WriteString(`"NaN"`)
	case math.IsInf(f, 1):
		buf.WriteString(`"Infinity"`)
	case math.IsInf(f, -1):
		buf.WriteString(`"-Infinity"`)
	default:
		buf.WriteString(strconv.FormatFloat(f, 'g', -1, bits))
	}
}

func encodeTime(buf *bytes.Buffer, schema *connect.Schema, t time.Time) {
	name := ""
	if schema != nil {
		name = schema.Name
	}
	t = t.UTC()
	switch name {
	case connect.LogicalDate:
		buf.WriteString(strconv.FormatInt(t.Unix()/86400-boolInt(t.Unix()%86400 < 0), 10))
	case connect.LogicalTime:
		midnight := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		buf.WriteString(strconv.FormatInt(t.Sub(midnight).Milliseconds(), 10))
	default:
		buf.WriteString(strconv.FormatInt(t.UnixMilli(), 10))
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// singleBody is a record's body with batch.format=single: a string as its
// text, bytes as they are, anything else as its JSON; and the Content-Type
// that says which.
func singleBody(schema *connect.Schema, v any) ([]byte, string, error) {
	switch x := v.(type) {
	case string:
		return []byte(x), "text/plain; charset=utf-8", nil
	case []byte:
		if json.Valid(x) {
			return x, "application/json", nil
		}
		return x, "application/octet-stream", nil
	}
	var buf bytes.Buffer
	if err := encodeJSON(&buf, schema, v); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), "application/json", nil
}
