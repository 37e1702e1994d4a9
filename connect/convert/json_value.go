package convert

import (
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// appendValue writes v under schema s (nil: schemaless) as
// JsonConverter.convertToJson does.
func (c *JSONConverter) appendValue(b []byte, s *connect.Schema, v any) ([]byte, error) {
	if v == nil {
		switch {
		case s == nil:
			return append(b, "null"...), nil
		case s.Default != nil && c.replaceNullWithDefault:
			return c.appendValue(b, s, s.Default)
		case s.Optional:
			return append(b, "null"...), nil
		}
		return nil, errors.New("Conversion error: null value for field that is required and has no default value")
	}
	if s == nil {
		return c.appendSchemaless(b, v)
	}
	if s.Name != "" {
		if b, done, err := c.appendLogical(b, s, v); done {
			return b, err
		}
	}
	bad := func() ([]byte, error) {
		return nil, fmt.Errorf("Invalid type for %s: %s", upperType(s.Type), javaClass(v))
	}
	switch s.Type {
	case connect.TypeInt8:
		x, ok := v.(int8)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case connect.TypeInt16:
		x, ok := v.(int16)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case connect.TypeInt32:
		x, ok := v.(int32)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case connect.TypeInt64:
		x, ok := v.(int64)
		if !ok {
			return bad()
		}
		return strconv.AppendInt(b, x, 10), nil
	case connect.TypeFloat32:
		x, ok := v.(float32)
		if !ok {
			return bad()
		}
		return appendJavaDouble(b, float64(x), 32), nil
	case connect.TypeFloat64:
		x, ok := v.(float64)
		if !ok {
			return bad()
		}
		return appendJavaDouble(b, x, 64), nil
	case connect.TypeBoolean:
		x, ok := v.(bool)
		if !ok {
			return bad()
		}
		return strconv.AppendBool(b, x), nil
	case connect.TypeString:
		x, ok := v.(string)
		if !ok {
			return bad()
		}
		return appendString(b, x), nil
	case connect.TypeBytes:
		x, ok := v.([]byte)
		if !ok {
			return nil, fmt.Errorf("Invalid type for bytes type: %s", javaClass(v))
		}
		return appendBytes(b, x), nil
	case connect.TypeArray:
		list, ok := v.([]any)
		if !ok {
			return bad()
		}
		b = append(b, '[')
		var err error
		for i, e := range list {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendValue(b, s.Value, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case connect.TypeMap:
		m, ok := v.(map[string]any)
		if !ok {
			return bad()
		}
		return c.appendMap(b, s, m)
	case connect.TypeStruct:
		st, ok := v.(*connect.Struct)
		if !ok {
			return bad()
		}
		if !schemasEqual(st.Schema, s) {
			return nil, errors.New("Mismatching schema.")
		}
		b = append(b, '{')
		var err error
		for i := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s.Fields[i].Name)
			b = append(b, ':')
			var fv any
			if i < len(st.Values) {
				fv = st.Values[i]
			}
			if b, err = c.appendValue(b, s.Fields[i].Schema, fv); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	}
	return nil, fmt.Errorf("Couldn't convert %v to JSON.", v)
}

// appendMap writes a map as a JSON object when its keys are strings, else as
// an array of [key, value] pairs (Kafka's encoding of other key types). Keys
// are sorted so the same map always gives the same bytes.
func (c *JSONConverter) appendMap(b []byte, s *connect.Schema, m map[string]any) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	objectMode := s == nil || s.Key == nil || s.Key.Type == connect.TypeString
	var err error
	if objectMode {
		b = append(b, '{')
	} else {
		b = append(b, '[')
	}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		var valueSchema *connect.Schema
		if s != nil {
			valueSchema = s.Value
		}
		if objectMode {
			b = appendString(b, k)
			b = append(b, ':')
		} else {
			key, err := parseMapKey(s.Key, k)
			if err != nil {
				return nil, err
			}
			b = append(b, '[')
			if b, err = c.appendValue(b, s.Key, key); err != nil {
				return nil, err
			}
			b = append(b, ',')
		}
		if b, err = c.appendValue(b, valueSchema, m[k]); err != nil {
			return nil, err
		}
		if !objectMode {
			b = append(b, ']')
		}
	}
	if objectMode {
		return append(b, '}'), nil
	}
	return append(b, ']'), nil
}

// appendSchemaless writes a value without a schema, its type taken from its
// Go type as ConnectSchema.schemaType does from a Java class.
func (c *JSONConverter) appendSchemaless(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int8:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case float32:
		return appendJavaDouble(b, float64(x), 32), nil
	case float64:
		return appendJavaDouble(b, x, 64), nil
	case string:
		return appendString(b, x), nil
	case []byte:
		return appendBytes(b, x), nil
	case []any:
		b = append(b, '[')
		var err error
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchemaless(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, e)
		}
		return append(b, ']'), nil
	case map[string]any:
		return c.appendMap(b, nil, x)
	case map[string]string:
		m := make(map[string]any, len(x))
		for k, v := range x {
			m[k] = v
		}
		return c.appendMap(b, nil, m)
	case *connect.Struct:
		return nil, errors.New("Mismatching schema.")
	}
	return nil, fmt.Errorf("Java class %s does not have corresponding schema type.", javaClass(v))
}

// toConnectValue reads a parsed node (parser.raw form) under schema s as
// JsonConverter.convertToConnect does. Where Kafka's Jackson calls coerce
// silently (intValue of a string is 0), this refuses with an error.
func (c *JSONConverter) toConnectValue(s *connect.Schema, node any) (any, error) {
	if s == nil {
		return schemaless(node), nil
	}
	if node == nil {
		switch {
		case s.Default != nil && c.replaceNullWithDefault:
			return s.Default, nil
		case s.Optional:
			return nil, nil
		}
		return nil, fmt.Errorf("Invalid null value for required %s field", upperType(s.Type))
	}
	if s.Name != "" {
		if v, done, err := toConnectLogical(s, node); done {
			return v, err
		}
	}
	switch s.Type {
	case connect.TypeInt8:
		n, err := integer(s, node, math.MinInt8, math.MaxInt8)
		return int8(n), err
	case connect.TypeInt16:
		n, err := integer(s, node, math.MinInt16, math.MaxInt16)
		return int16(n), err
	case connect.TypeInt32:
		n, err := integer(s, node, math.MinInt32, math.MaxInt32)
		return int32(n), err
	case connect.TypeInt64:
		return integer(s, node, math.MinInt64, math.MaxInt64)
	case connect.TypeFloat32:
		f, err := float(s, node, 32)
		return float32(f), err
	case connect.TypeFloat64:
		return float(s, node, 64)
	case connect.TypeBoolean:
		x, ok := node.(bool)
		if !ok {
			return nil, mismatch(s, node)
		}
		return x, nil
	case connect.TypeString:
		x, ok := node.(string)
		if !ok {
			return nil, mismatch(s, node)
		}
		return x, nil
	case connect.TypeBytes:
		x, ok := node.(string)
		if !ok {
			return nil, mismatch(s, node)
		}
		b, err := decodeBase64(x)
		if err != nil {
			return nil, fmt.Errorf("Invalid bytes field: %w", err)
		}
		return b, nil
	case connect.TypeArray:
		list, ok := node.([]any)
		if !ok {
			return nil, mismatch(s, node)
		}
		out := make([]any, len(list))
		for i, e := range list {
			v, err := c.toConnectValue(s.Value, e)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case connect.TypeMap:
		return c.toConnectMap(s, node)
	case connect.TypeStruct:
		obj, ok := node.(jsonObject)
		if !ok {
			return nil, fmt.Errorf("Structs should be encoded as JSON objects, but found %s", nodeType(node))
		}
		st := connect.NewStruct(s)
		for i := range s.Fields {
			fnode, _ := obj.get(s.Fields[i].Name)
			v, err := c.toConnectValue(s.Fields[i].Schema, fnode)
			if err != nil {
				return nil, err
			}
			st.Values[i] = v
		}
		return st, nil
	}
	return nil, fmt.Errorf("Unknown schema type: %s", s.Type)
}

func (c *JSONConverter) toConnectMap(s *connect.Schema, node any) (any, error) {
	if s.Key == nil || s.Key.Type == connect.TypeString {
		obj, ok := node.(jsonObject)
		if !ok {
			return nil, fmt.Errorf("Maps with string fields should be encoded as JSON objects, but found %s", nodeType(node))
		}
		out := make(map[string]any, len(obj))
		for _, m := range obj {
			v, err := c.toConnectValue(s.Value, m.val)
			if err != nil {
				return nil, err
			}
			out[m.key] = v
		}
		return out, nil
	}
	list, ok := node.([]any)
	if !ok {
		return nil, fmt.Errorf("Maps with non-string fields should be encoded as JSON array of tuples, but found %s", nodeType(node))
	}
	out := make(map[string]any, len(list))
	for _, e := range list {
		pair, ok := e.([]any)
		if !ok {
			return nil, fmt.Errorf("Found invalid map entry instead of array tuple: %s", nodeType(e))
		}
		if len(pair) != 2 {
			return nil, fmt.Errorf("Found invalid map entry, expected length 2 but found :%d", len(pair))
		}
		k, err := c.toConnectValue(s.Key, pair[0])
		if err != nil {
			return nil, err
		}
		key, err := mapKeyString(k)
		if err != nil {
			return nil, err
		}
		v, err := c.toConnectValue(s.Value, pair[1])
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
	return out, nil
}

// mapKeyString turns a primitive map key into the string key Connect maps
// have in Go (connect.Type's rule); parseMapKey is its inverse.
func mapKeyString(k any) (string, error) {
	switch x := k.(type) {
	case string:
		return x, nil
	case bool:
		return strconv.FormatBool(x), nil
	case int8:
		return strconv.FormatInt(int64(x), 10), nil
	case int16:
		return strconv.FormatInt(int64(x), 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	}
	return "", fmt.Errorf("Unsupported map key %s: Connect maps in Go have string keys", javaClass(k))
}

func parseMapKey(s *connect.Schema, k string) (any, error) {
	fail := func(err error) (any, error) {
		return nil, fmt.Errorf("Invalid map key %q for key schema %s: %v", k, upperType(s.Type), err)
	}
	switch s.Type {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64:
		bits := map[connect.Type]int{connect.TypeInt8: 8, connect.TypeInt16: 16, connect.TypeInt32: 32, connect.TypeInt64: 64}[s.Type]
		n, err := strconv.ParseInt(k, 10, bits)
		if err != nil {
			return fail(err)
		}
		switch s.Type {
		case connect.TypeInt8:
			return int8(n), nil
		case connect.TypeInt16:
			return int16(n), nil
		case connect.TypeInt32:
			return int32(n), nil
		}
		return n, nil
	case connect.TypeFloat32:
		f, err := strconv.ParseFloat(k, 32)
		if err != nil {
			return fail(err)
		}
		return float32(f), nil
	case connect.TypeFloat64:
		f, err := strconv.ParseFloat(k, 64)
		if err != nil {
			return fail(err)
		}
		return f, nil
	case connect.TypeBoolean:
		v, err := strconv.ParseBool(k)
		if err != nil {
			return fail(err)
		}
		return v, nil
	case connect.TypeString:
		return k, nil
	}
	return fail(errors.New("only primitive key types are supported"))
}

func mismatch(s *connect.Schema, node any) error {
	return fmt.Errorf("Invalid value for %s field: found JSON %s", upperType(s.Type), nodeType(node))
}

// integer reads a number node as Jackson's intValue/longValue: integral
// literals exactly, others truncated toward zero. Out-of-range values are
// refused (Jackson would wrap them).
func integer(s *connect.Schema, node any, lo, hi int64) (int64, error) {
	n, ok := node.(number)
	if !ok {
		return 0, mismatch(s, node)
	}
	if !strings.ContainsAny(string(n), ".eE") {
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err == nil && i >= lo && i <= hi {
			return i, nil
		}
	} else if f, err := strconv.ParseFloat(string(n), 64); err == nil && f >= float64(lo) && f <= float64(hi) {
		return int64(f), nil
	}
	return 0, fmt.Errorf("Numeric value (%s) out of range of %s", n, upperType(s.Type))
}

// float reads a number node; the quoted "NaN", "Infinity" and "-Infinity"
// Jackson writes for non-finite doubles are read back as such.
func float(s *connect.Schema, node any, bits int) (float64, error) {
	switch x := node.(type) {
	case number:
		f, _ := strconv.ParseFloat(string(x), bits)
		return f, nil
	case string:
		switch x {
		case "NaN":
			return math.NaN(), nil
		case "Infinity":
			return math.Inf(1), nil
		case "-Infinity":
			return math.Inf(-1), nil
		}
	}
	return 0, mismatch(s, node)
}

// decodeBase64 reads Jackson's binary text: standard base64, padding optional.
func decodeBase64(s string) ([]byte, error) {
	if strings.HasSuffix(s, "=") || len(s)%4 == 0 {
		return base64.StdEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// schemaless turns a raw parsed node into schemaless Connect data.
func schemaless(node any) any {
	switch x := node.(type) {
	case number:
		return schemalessNumber(string(x), !strings.ContainsAny(string(x), ".eE"))
	case jsonObject:
		m := make(map[string]any, len(x))
		for _, e := range x {
			m[e.key] = schemaless(e.val)
		}
		return m
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = schemaless(e)
		}
		return out
	}
	return node
}

// javaClass names a Go value's type as Kafka's messages name Java classes
// ("class java.lang.Integer"), so errors read the same.
func javaClass(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case int8:
		return "class java.lang.Byte"
	case int16:
		return "class java.lang.Short"
	case int32:
		return "class java.lang.Integer"
	case int64:
		return "class java.lang.Long"
	case float32:
		return "class java.lang.Float"
	case float64:
		return "class java.lang.Double"
	case bool:
		return "class java.lang.Boolean"
	case string:
		return "class java.lang.String"
	case []byte:
		return "class [B"
	case []any:
		return "class java.util.ArrayList"
	case map[string]any:
		return "class java.util.HashMap"
	case *connect.Struct:
		return "class org.apache.kafka.connect.data.Struct"
	case *big.Int:
		return "class java.math.BigDecimal"
	case time.Time:
		return "class java.util.Date"
	}
	return fmt.Sprintf("class %T", v)
}
