package convert

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/streambridge/bridge/connect"
)

// The optional primitive schemas the simple converters report (Kafka's
// Schema.OPTIONAL_*_SCHEMA). Shared: never modify them.
var (
	OptionalStringSchema  = &connect.Schema{Type: connect.TypeString, Optional: true}
	OptionalBytesSchema   = &connect.Schema{Type: connect.TypeBytes, Optional: true}
	OptionalInt16Schema   = &connect.Schema{Type: connect.TypeInt16, Optional: true}
	OptionalInt32Schema   = &connect.Schema{Type: connect.TypeInt32, Optional: true}
	OptionalInt64Schema   = &connect.Schema{Type: connect.TypeInt64, Optional: true}
	OptionalFloat32Schema = &connect.Schema{Type: connect.TypeFloat32, Optional: true}
	OptionalFloat64Schema = &connect.Schema{Type: connect.TypeFloat64, Optional: true}
)

// EncodingConfig is StringConverter's converter.encoding.
const EncodingConfig = "converter.encoding"

// StringConfigDef is StringConverterConfig's definition.
var StringConfigDef = connect.ConfigDef{
	{Name: EncodingConfig, Type: connect.ConfigString, Default: "UTF-8", Importance: connect.High, Group: "Converter",
		DisplayName: "Encoding", Doc: "The name of the Java character set to use for encoding strings as byte arrays.",
		Check: func(v any) error {
			if charsetOf(v.(string)) == charsetUnknown {
				return fmt.Errorf("Unsupported encoding (UTF-8, US-ASCII and ISO-8859-1 are)")
			}
			return nil
		}},
}

type charset int

const (
	charsetUnknown charset = iota
	charsetUTF8
	charsetASCII
	charsetLatin1
)

func charsetOf(name string) charset {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "UTF-8", "UTF8":
		return charsetUTF8
	case "US-ASCII", "ASCII":
		return charsetASCII
	case "ISO-8859-1", "ISO8859-1", "ISO_8859_1", "LATIN1":
		return charsetLatin1
	}
	return charsetUnknown
}

// StringConverter is org.apache.kafka.connect.storage.StringConverter: any
// value is written as its string form (Java's toString), bytes are read as an
// optional string.
type StringConverter struct{ cs charset }

// Configure implements connect.Converter.
func (c *StringConverter) Configure(cfg connect.Config, isKey bool) error {
	vals, errs := StringConfigDef.Parse(cfg)
	if err := firstError(errs); err != nil {
		return err
	}
	c.cs = charsetOf(vals.String(EncodingConfig))
	return nil
}

// FromConnect implements connect.Converter.
func (c *StringConverter) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	if b, ok := value.([]byte); ok {
		return b, nil // already bytes: kept rather than printed as Java's "[B@…"
	}
	s := javaString(schema, value)
	switch c.cs {
	case charsetASCII, charsetLatin1:
		limit := rune(0x7f)
		if c.cs == charsetLatin1 {
			limit = 0xff
		}
		out := make([]byte, 0, len(s))
		for _, r := range s {
			if r > limit {
				r = '?' // Java's replacement for an unmappable character
			}
			out = append(out, byte(r))
		}
		return out, nil
	}
	return []byte(s), nil
}

// ToConnect implements connect.Converter.
func (c *StringConverter) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return OptionalStringSchema, nil, nil
	}
	switch c.cs {
	case charsetASCII, charsetLatin1:
		var sb strings.Builder
		for _, b := range data {
			if c.cs == charsetASCII && b > 0x7f {
				sb.WriteRune(utf8.RuneError)
			} else {
				sb.WriteRune(rune(b))
			}
		}
		return OptionalStringSchema, sb.String(), nil
	}
	return OptionalStringSchema, string(data), nil
}

// javaString is Java's toString of Connect data, which StringConverter writes.
func javaString(schema *connect.Schema, v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return x
	case bool:
		return strconv.FormatBool(x)
	case int8:
		return strconv.FormatInt(int64(x), 10)
	case int16:
		return strconv.FormatInt(int64(x), 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case int:
		return strconv.Itoa(x)
	case float32, float64:
		bits, f := 64, 0.0
		if f32, ok := x.(float32); ok {
			bits, f = 32, float64(f32)
		} else {
			f = x.(float64)
		}
		return FormatJavaDouble(f, bits)
	case []byte:
		return string(x)
	case *big.Int:
		scale := 0
		if schema != nil {
			scale, _ = strconv.Atoi(schema.Parameters["scale"])
		}
		return string(appendDecimal(nil, x, scale))
	case time.Time:
		return x.UTC().Format("Mon Jan 02 15:04:05 MST 2006")
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = javaString(nil, e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + javaString(nil, x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case *connect.Struct:
		var sb strings.Builder
		sb.WriteString("Struct{")
		first := true
		for i, f := range x.Schema.Fields {
			if i >= len(x.Values) || x.Values[i] == nil {
				continue
			}
			if !first {
				sb.WriteByte(',')
			}
			first = false
			sb.WriteString(f.Name + "=" + javaString(f.Schema, x.Values[i]))
		}
		sb.WriteByte('}')
		return sb.String()
	}
	return fmt.Sprint(v)
}

// ByteArrayConverter is org.apache.kafka.connect.converters.ByteArrayConverter:
// bytes pass through unchanged.
type ByteArrayConverter struct{}

// Configure implements connect.Converter.
func (ByteArrayConverter) Configure(connect.Config, bool) error { return nil }

// FromConnect implements connect.Converter.
func (ByteArrayConverter) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if schema != nil && schema.Type != connect.TypeBytes {
		return nil, fmt.Errorf("Invalid schema type for ByteArrayConverter: %s", upperType(schema.Type))
	}
	if value == nil {
		return nil, nil
	}
	b, ok := value.([]byte)
	if !ok {
		return nil, fmt.Errorf("ByteArrayConverter is not compatible with objects of type %s", javaClass(value))
	}
	return b, nil
}

// ToConnect implements connect.Converter.
func (ByteArrayConverter) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	return OptionalBytesSchema, data, nil
}

// NumberConverter is Kafka's NumberConverter family (IntegerConverter,
// LongConverter, ShortConverter, FloatConverter, DoubleConverter): one
// number in Kafka's serializers' big-endian form.
type NumberConverter struct {
	typeName string // "integer", as Kafka's messages name it
	class    string // "IntegerDeserializer"
	schema   *connect.Schema
	size     int
}

// The number converters.
func newIntegerConverter() connect.Converter {
	return &NumberConverter{"integer", "IntegerDeserializer", OptionalInt32Schema, 4}
}
func newLongConverter() connect.Converter {
	return &NumberConverter{"long", "LongDeserializer", OptionalInt64Schema, 8}
}
func newShortConverter() connect.Converter {
	return &NumberConverter{"short", "ShortDeserializer", OptionalInt16Schema, 2}
}
func newFloatConverter() connect.Converter {
	return &NumberConverter{"float", "FloatDeserializer", OptionalFloat32Schema, 4}
}
func newDoubleConverter() connect.Converter {
	return &NumberConverter{"double", "DoubleDeserializer", OptionalFloat64Schema, 8}
}

// Configure implements connect.Converter.
func (c *NumberConverter) Configure(connect.Config, bool) error { return nil }

// FromConnect implements connect.Converter.
func (c *NumberConverter) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if value == nil {
		return nil, nil
	}
	out := make([]byte, c.size)
	ok := true
	switch c.schema.Type {
	case connect.TypeInt16:
		var x int16
		x, ok = value.(int16)
		binary.BigEndian.PutUint16(out, uint16(x))
	case connect.TypeInt32:
		var x int32
		x, ok = value.(int32)
		binary.BigEndian.PutUint32(out, uint32(x))
	case connect.TypeInt64:
		var x int64
		x, ok = value.(int64)
		binary.BigEndian.PutUint64(out, uint64(x))
	case connect.TypeFloat32:
		var x float32
		x, ok = value.(float32)
		binary.BigEndian.PutUint32(out, math.Float32bits(x))
	case connect.TypeFloat64:
		var x float64
		x, ok = value.(float64)
		binary.BigEndian.PutUint64(out, math.Float64bits(x))
	}
	if !ok {
		return nil, fmt.Errorf("Failed to serialize to %s (was %s): ", c.typeName, javaClass(value))
	}
	return out, nil
}

// ToConnect implements connect.Converter.
func (c *NumberConverter) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if data == nil {
		return c.schema, nil, nil
	}
	if len(data) != c.size {
		return nil, nil, fmt.Errorf("Failed to deserialize %s: Size of data received by %s is not %d", c.typeName, c.class, c.size)
	}
	switch c.schema.Type {
	case connect.TypeInt16:
		return c.schema, int16(binary.BigEndian.Uint16(data)), nil
	case connect.TypeInt32:
		return c.schema, int32(binary.BigEndian.Uint32(data)), nil
	case connect.TypeInt64:
		return c.schema, int64(binary.BigEndian.Uint64(data)), nil
	case connect.TypeFloat32:
		return c.schema, math.Float32frombits(binary.BigEndian.Uint32(data)), nil
	}
	return c.schema, math.Float64frombits(binary.BigEndian.Uint64(data)), nil
}
