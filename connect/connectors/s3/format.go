package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/streambridge/bridge/connect"
)

// valueFormat writes one record's value to a file.
type valueFormat interface {
	// append adds the encoded value of rec to buf, or says why it cannot.
	append(buf []byte, rec *connect.Record) ([]byte, error)
}

// jsonFormat writes a value a line as Kafka's JsonConverter writes it
// without schemas: structs as objects in field order, bytes as base64,
// logical types as numbers, HTML characters unescaped (as Jackson).
type jsonFormat struct{}

func (jsonFormat) append(buf []byte, rec *connect.Record) ([]byte, error) {
	var b bytes.Buffer
	b.Write(buf)
	if err := writeJSON(&b, rec.ValueSchema, rec.Value); err != nil {
		return buf, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func writeJSON(b *bytes.Buffer, schema *connect.Schema, v any) error {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool, int8, int16, int32, int64, int, uint8, uint16, uint32, uint64:
		fmt.Fprint(b, x)
	case float32:
		return writeFloat(b, float64(x), 32)
	case float64:
		return writeFloat(b, x, 64)
	case string:
		return writeString(b, x)
	case []byte:
		return writeString(b, base64.StdEncoding.EncodeToString(x))
	case time.Time:
		fmt.Fprint(b, logicalTime(schema, x))
	case *big.Int:
		return writeString(b, base64.StdEncoding.EncodeToString(twosComplement(x)))
	case []any:
		var elem *connect.Schema
		if schema != nil {
			elem = schema.Value
		}
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeJSON(b, elem, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case map[string]any:
		var elem *connect.Schema
		if schema != nil {
			elem = schema.Value
		}
		b.WriteByte('{')
		for i, k := range slices.Sorted(mapKeys(x)) {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, k); err != nil {
				return err
			}
			b.WriteByte(':')
			if err := writeJSON(b, elem, x[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case *connect.Struct:
		if x == nil || x.Schema == nil {
			b.WriteString("null")
			return nil
		}
		b.WriteByte('{')
		for i, f := range x.Schema.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeString(b, f.Name); err != nil {
				return err
			}
			b.WriteByte(':')
			var fv any
			if f.Index < len(x.Values) {
				fv = x.Values[f.Index]
			}
			if err := writeJSON(b, f.Schema, fv); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot write a value of type %T as JSON", v)
	}
	return nil
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func writeFloat(b *bytes.Buffer, f float64, bits int) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("cannot write %v as JSON", f)
	}
	out, _ := json.Marshal(f)
	if bits == 32 {
		out, _ = json.Marshal(float32(f))
	}
	b.Write(out)
	return nil
}

func writeString(b *bytes.Buffer, s string) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // Encode's newline
	return nil
}

// logicalTime is a time as JsonConverter writes its logical type: days for
// Date, ms of the day for Time, epoch ms otherwise.
func logicalTime(s *connect.Schema, t time.Time) int64 {
	if s != nil {
		switch s.Name {
		case connect.LogicalDate:
			return t.UnixMilli() / 86_400_000
		case connect.LogicalTime:
			return t.UnixMilli() % 86_400_000
		}
	}
	return t.UnixMilli()
}

// twosComplement is Java's BigInteger.toByteArray.
func twosComplement(n *big.Int) []byte {
	if n.Sign() >= 0 {
		b := n.Bytes()
		if len(b) == 0 || b[0]&0x80 != 0 {
			b = append([]byte{0}, b...)
		}
		return b
	}
	// -n = ~(n-1): take the magnitude minus one and invert it.
	m := new(big.Int).Neg(n)
	m.Sub(m, big.NewInt(1))
	b := m.Bytes()
	for i := range b {
		b[i] = ^b[i]
	}
	if len(b) == 0 || b[0]&0x80 == 0 {
		b = append([]byte{0xff}, b...)
	}
	return b
}

// bytesFormat writes the raw value followed by a separator (Confluent's
// ByteArrayFormat).
type bytesFormat struct{ sep []byte }

func (f bytesFormat) append(buf []byte, rec *connect.Record) ([]byte, error) {
	switch x := rec.Value.(type) {
	case []byte:
		buf = append(buf, x...)
	case string:
		buf = append(buf, x...)
	default:
		return buf, errors.New("the bytes format writes bytes or string values only; use a ByteArrayConverter or StringConverter")
	}
	return append(buf, f.sep...), nil
}
