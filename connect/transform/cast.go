package transform

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
)

var castDef = connect.ConfigDef{
	{Name: "spec", Type: connect.ConfigList, Required: true, Importance: connect.High,
		Doc: "List of fields and the type to cast them to of the form field1:type,field2:type to cast fields of Maps or Structs. A single type to cast the entire value. Valid types are int8, int16, int32, int64, float32, float64, boolean, and string. Note that binary fields can only be cast to string.",
		Check: func(v any) error {
			if err := connect.NonEmpty(v); err != nil {
				return err
			}
			_, _, err := parseCastSpec(v.([]string))
			return err
		}},
	replaceNullKey,
}

var castOutputTypes = []connect.Type{connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64,
	connect.TypeFloat32, connect.TypeFloat64, connect.TypeBoolean, connect.TypeString}

var castInputTypes = append(append([]connect.Type(nil), castOutputTypes...), connect.TypeBytes)

// typeList prints types as Java prints an EnumSet: [INT8, INT16, …].
func typeList(ts []connect.Type) string {
	names := make([]string, len(ts))
	for i, t := range ts {
		names[i] = strings.ToUpper(string(t))
	}
	return "[" + strings.Join(names, ", ") + "]"
}

func validCastType(t connect.Type, output bool) error {
	list, dir := castInputTypes, "from"
	if output {
		list, dir = castOutputTypes, "to"
	}
	for _, x := range list {
		if x == t {
			return nil
		}
	}
	return fmt.Errorf("Cast transformation does not support casting %s %s; supported types are %s", dir, strings.ToUpper(string(t)), typeList(list))
}

// parseCastSpec reads "field:type" pairs, or one bare type for the whole
// value. whole is "" when fields are cast.
func parseCastSpec(specs []string) (casts map[string]connect.Type, whole connect.Type, err error) {
	casts = make(map[string]connect.Type)
	for _, spec := range specs {
		parts := strings.Split(spec, ":")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		switch len(parts) {
		case 1:
			t := connect.Type(strings.ToLower(strings.TrimSpace(parts[0])))
			if !knownType(t) {
				return nil, "", fmt.Errorf("Invalid type found in casting spec: %s", strings.TrimSpace(parts[0]))
			}
			if err := validCastType(t, true); err != nil {
				return nil, "", err
			}
			whole = t
		case 2:
			t := connect.Type(strings.ToLower(strings.TrimSpace(parts[1])))
			if !knownType(t) {
				return nil, "", fmt.Errorf("Invalid type found in casting spec: %s", strings.TrimSpace(parts[1]))
			}
			if err := validCastType(t, true); err != nil {
				return nil, "", err
			}
			casts[strings.TrimSpace(parts[0])] = t
		default:
			return nil, "", fmt.Errorf("Invalid rename mapping: %s", spec)
		}
	}
	if whole != "" && len(specs) > 1 {
		return nil, "", fmt.Errorf("Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec")
	}
	return casts, whole, nil
}

func knownType(t connect.Type) bool {
	switch t {
	case connect.TypeInt8, connect.TypeInt16, connect.TypeInt32, connect.TypeInt64, connect.TypeFloat32, connect.TypeFloat64,
		connect.TypeBoolean, connect.TypeString, connect.TypeBytes, connect.TypeArray, connect.TypeMap, connect.TypeStruct:
		return true
	}
	return false
}

// cast is org.apache.kafka.connect.transforms.Cast$Key/$Value.
type cast struct {
	side        side
	casts       map[string]connect.Type
	whole       connect.Type
	replaceNull bool
	cache       schemaCache
}

const castPurpose = "cast types"

func (t *cast) Configure(cfg connect.Config) error {
	vals, err := parseConfig(castDef, cfg)
	if err != nil {
		return err
	}
	t.casts, t.whole, _ = parseCastSpec(vals.List("spec"))
	t.replaceNull = vals.Bool(replaceNullConfig)
	return nil
}

func (t *cast) Apply(r *connect.Record) (*connect.Record, error) {
	v := t.side.value(r)
	if v == nil {
		return r, nil
	}
	schema := t.side.schema(r)
	if schema == nil {
		if t.whole != "" {
			out, err := castValue(nil, v, t.whole)
			if err != nil {
				return nil, err
			}
			t.side.set(r, nil, out)
			return r, nil
		}
		m, err := requireMap(v, castPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[k] = x
		}
		for field, to := range t.casts {
			if out[field], err = castValue(nil, m[field], to); err != nil {
				return nil, err
			}
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	updated, err := t.cache.get(schema, t.buildSchema)
	if err != nil {
		return nil, err
	}
	if t.whole != "" {
		out, err := castValue(schema, v, t.whole)
		if err != nil {
			return nil, err
		}
		t.side.set(r, updated, out)
		return r, nil
	}
	st, err := requireStruct(v, castPurpose)
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(updated)
	for i, f := range st.Schema.Fields {
		x := fieldValue(st, i, t.replaceNull)
		if to, ok := t.casts[f.Name]; ok {
			if x, err = castValue(f.Schema, x, to); err != nil {
				return nil, err
			}
		}
		out.Values[updated.Field(f.Name).Index] = x
	}
	t.side.set(r, updated, out)
	return r, nil
}

func (t *cast) buildSchema(in *connect.Schema) (*connect.Schema, error) {
	var out *connect.Schema
	if t.whole != "" {
		out = copySchemaBasics(in)
		out.Type = t.whole
	} else {
		if in.Type != connect.TypeStruct {
			return nil, fmt.Errorf("Only Struct objects supported for [%s], found: %s", castPurpose, strings.ToUpper(string(in.Type)))
		}
		out = copySchemaBasics(in)
		for _, f := range in.Fields {
			to, ok := t.casts[f.Name]
			if !ok {
				if err := addField(out, f.Name, f.Schema); err != nil {
					return nil, err
				}
				continue
			}
			fs := &connect.Schema{Type: to, Optional: f.Schema.Optional}
			if f.Schema.Default != nil {
				d, err := castValue(f.Schema, f.Schema.Default, to)
				if err != nil {
					return nil, err
				}
				fs.Default = d
			}
			if err := addField(out, f.Name, fs); err != nil {
				return nil, err
			}
		}
	}
	out.Optional = in.Optional
	if in.Default != nil {
		d, err := castValue(in, in.Default, out.Type)
		if err != nil {
			return nil, err
		}
		out.Default = d
	}
	return out, nil
}

// schemaType is ConnectSchema.schemaType: a Go value's Connect type.
func schemaType(v any) (connect.Type, bool) {
	switch v.(type) {
	case int8:
		return connect.TypeInt8, true
	case int16:
		return connect.TypeInt16, true
	case int32:
		return connect.TypeInt32, true
	case int64:
		return connect.TypeInt64, true
	case float32:
		return connect.TypeFloat32, true
	case float64:
		return connect.TypeFloat64, true
	case bool:
		return connect.TypeBoolean, true
	case string:
		return connect.TypeString, true
	case []byte:
		return connect.TypeBytes, true
	case []any:
		return connect.TypeArray, true
	case map[string]any:
		return connect.TypeMap, true
	case *connect.Struct:
		return connect.TypeStruct, true
	}
	return "", false
}

// castValue is Cast.castValueToType.
func castValue(schema *connect.Schema, v any, to connect.Type) (any, error) {
	if v == nil {
		return nil, nil
	}
	var from connect.Type
	if schema != nil {
		from = schema.Type
	} else {
		var ok bool
		if from, ok = schemaType(v); !ok {
			return nil, fmt.Errorf("Cast transformation was passed a value of type class %s which is not supported by Connect's data API", className(v))
		}
	}
	if err := validCastType(from, false); err != nil {
		return nil, err
	}
	if to == connect.TypeString {
		return castToString(schema, v), nil
	}
	if schema != nil {
		v = encodeLogical(schema, v)
	}
	switch to {
	case connect.TypeBoolean:
		switch x := v.(type) {
		case bool:
			return x, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(x)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
			return nil, fmt.Errorf("Unable to convert %q to BOOLEAN", x)
		}
		if n, ok := asNumber(v); ok {
			return n.i != 0, nil
		}
	case connect.TypeFloat32, connect.TypeFloat64:
		bits := 64
		if to == connect.TypeFloat32 {
			bits = 32
		}
		var f float64
		switch x := v.(type) {
		case bool:
			if x {
				f = 1
			}
		case string:
			var err error
			if f, err = strconv.ParseFloat(strings.TrimSpace(x), bits); err != nil {
				return nil, fmt.Errorf("For input string: %q", x)
			}
		default:
			n, ok := asNumber(v)
			if !ok {
				return nil, fmt.Errorf("Unexpected type in Cast transformation: class %s", className(v))
			}
			f = n.f
		}
		if bits == 32 {
			return float32(f), nil
		}
		return f, nil
	default: // the integer types
		var i int64
		switch x := v.(type) {
		case bool:
			if x {
				i = 1
			}
		case string:
			bits := map[connect.Type]int{connect.TypeInt8: 8, connect.TypeInt16: 16, connect.TypeInt32: 32, connect.TypeInt64: 64}[to]
			var err error
			if i, err = strconv.ParseInt(x, 10, bits); err != nil {
				return nil, fmt.Errorf("For input string: %q", x)
			}
		default:
			n, ok := asNumber(v)
			if !ok {
				return nil, fmt.Errorf("Unexpected type in Cast transformation: class %s", className(v))
			}
			i = n.i
		}
		switch to {
		case connect.TypeInt8:
			return int8(i), nil
		case connect.TypeInt16:
			return int16(i), nil
		case connect.TypeInt32:
			return int32(i), nil
		}
		return i, nil
	}
	return nil, fmt.Errorf("Unexpected type in Cast transformation: class %s", className(v))
}

// numberValue is a Java Number's longValue and doubleValue.
type numberValue struct {
	i int64
	f float64
}

func asNumber(v any) (numberValue, bool) {
	switch x := v.(type) {
	case int8:
		return numberValue{int64(x), float64(x)}, true
	case int16:
		return numberValue{int64(x), float64(x)}, true
	case int32:
		return numberValue{int64(x), float64(x)}, true
	case int64:
		return numberValue{x, float64(x)}, true
	case float32:
		return numberValue{javaLong(float64(x)), float64(x)}, true
	case float64:
		return numberValue{javaLong(x), x}, true
	case decimalValue:
		f, _ := new(big.Float).SetRat(x.rat()).Float64()
		q := new(big.Int).Quo(x.unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(max(x.scale, 0))), nil))
		return numberValue{q.Int64(), f}, true
	}
	return numberValue{}, false
}

// javaLong is Java's (long) cast of a double: truncation, saturating, NaN 0.
func javaLong(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// decimalValue is a Decimal with its scale, once taken from its schema.
type decimalValue struct {
	unscaled *big.Int
	scale    int
}

func (d decimalValue) rat() *big.Rat {
	r := new(big.Rat).SetInt(d.unscaled)
	if d.scale > 0 {
		return r.Quo(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale)), nil)))
	}
	return r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(-d.scale)), nil)))
}

// encodeLogical is Cast.encodeLogicalType: dates and times to their numbers,
// decimals to a number that keeps its scale.
func encodeLogical(schema *connect.Schema, v any) any {
	switch schema.Name {
	case connect.LogicalDate:
		if t, ok := v.(time.Time); ok {
			return int32(t.UnixMilli() / (24 * 3600 * 1000))
		}
	case connect.LogicalTime:
		if t, ok := v.(time.Time); ok {
			return int32(t.UnixMilli())
		}
	case connect.LogicalTimestamp:
		if t, ok := v.(time.Time); ok {
			return t.UnixMilli()
		}
	case connect.LogicalDecimal:
		if x, ok := v.(*big.Int); ok {
			scale, _ := strconv.Atoi(schema.Parameters["scale"])
			if scale > 10000 || scale < -10000 {
				scale = 0 // a hostile scale; the value is then read unscaled
			}
			return decimalValue{x, scale}
		}
	}
	return v
}

// castToString is Cast.castToString: Java's toString, ISO-like dates
// (Values.dateFormatFor), base64 bytes.
func castToString(schema *connect.Schema, v any) string {
	switch x := v.(type) {
	case time.Time:
		x = x.UTC()
		switch {
		case schema != nil && schema.Name == connect.LogicalDate,
			x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0 && (schema == nil || schema.Name != connect.LogicalTime):
			return x.Format("2006-01-02")
		case schema != nil && schema.Name == connect.LogicalTime, x.Year() == 1970 && x.YearDay() == 1:
			return x.Format("15:04:05.000")
		}
		return x.Format("2006-01-02T15:04:05.000Z")
	case []byte:
		return base64.StdEncoding.EncodeToString(x)
	case float32:
		return convert.FormatJavaDouble(float64(x), 32)
	case float64:
		return convert.FormatJavaDouble(x, 64)
	case *big.Int:
		if schema != nil && schema.Name == connect.LogicalDecimal {
			d := encodeLogical(schema, x).(decimalValue)
			return d.rat().FloatString(max(d.scale, 0))
		}
		return x.String()
	}
	return fmt.Sprint(v)
}
