package transform

import (
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/connect"
)

// ---- MaskField ----

var maskFieldDef = connect.ConfigDef{
	{Name: "fields", Type: connect.ConfigList, Required: true, Importance: connect.High, Doc: "Names of fields to mask.", Check: connect.NonEmpty},
	{Name: "replacement", Type: connect.ConfigString, Importance: connect.Low,
		Doc: "Custom value replacement, that will be applied to all 'fields' values (numeric or non-empty string values only)."},
	replaceNullKey,
}

// maskField is org.apache.kafka.connect.transforms.MaskField$Key/$Value: it
// replaces fields' values with their type's zero (0, false, "", epoch, empty
// list or map) or with a configured replacement.
type maskField struct {
	side        side
	fields      []string
	replacement *string
	replaceNull bool
}

const maskPurpose = "mask fields"

func (t *maskField) Configure(cfg connect.Config) error {
	vals, err := parseConfig(maskFieldDef, cfg)
	if err != nil {
		return err
	}
	if raw, ok := cfg["replacement"]; ok {
		if raw == "" {
			return fmt.Errorf("Invalid value  for configuration replacement: String must be non-empty")
		}
		t.replacement = &raw
	}
	t.fields = vals.List("fields")
	t.replaceNull = vals.Bool(replaceNullConfig)
	return nil
}

func (t *maskField) Apply(r *connect.Record) (*connect.Record, error) {
	v := t.side.value(r)
	if v == nil {
		return r, nil
	}
	if t.side.schema(r) == nil {
		m, err := requireMap(v, maskPurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m)+len(t.fields))
		for k, x := range m {
			out[k] = x
		}
		// As Kafka does, a field the map lacks is added, null.
		for _, f := range t.fields {
			masked, err := t.mask(m[f])
			if err != nil {
				return nil, err
			}
			out[f] = masked
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	st, err := requireStruct(v, maskPurpose)
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(st.Schema)
	for i, f := range st.Schema.Fields {
		x := fieldValue(st, i, t.replaceNull)
		if slices.Contains(t.fields, f.Name) {
			if x, err = t.mask(x); err != nil {
				return nil, err
			}
		}
		out.Values[i] = x
	}
	t.side.set(r, st.Schema, out)
	return r, nil
}

func (t *maskField) mask(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if t.replacement != nil {
		return maskWithReplacement(v, *t.replacement)
	}
	switch v.(type) {
	case bool:
		return false, nil
	case int8:
		return int8(0), nil
	case int16:
		return int16(0), nil
	case int32:
		return int32(0), nil
	case int64:
		return int64(0), nil
	case float32:
		return float32(0), nil
	case float64:
		return float64(0), nil
	case *big.Int:
		return new(big.Int), nil
	case time.Time:
		return time.UnixMilli(0).UTC(), nil
	case string:
		return "", nil
	case []any:
		return []any{}, nil
	case map[string]any:
		return map[string]any{}, nil
	}
	return nil, fmt.Errorf("Cannot mask value of type: class %s", className(v))
}

func maskWithReplacement(v any, repl string) (any, error) {
	bad := func() (any, error) {
		return nil, fmt.Errorf("Unable to convert %s (class %s) to number", repl, className(v))
	}
	switch v.(type) {
	case string:
		return repl, nil
	case int8, int16, int32, int64:
		bits := map[string]int{"java.lang.Byte": 8, "java.lang.Short": 16, "java.lang.Integer": 32, "java.lang.Long": 64}[className(v)]
		n, err := strconv.ParseInt(repl, 10, bits)
		if err != nil {
			return bad()
		}
		switch v.(type) {
		case int8:
			return int8(n), nil
		case int16:
			return int16(n), nil
		case int32:
			return int32(n), nil
		}
		return n, nil
	case float32:
		f, err := strconv.ParseFloat(strings.TrimSpace(repl), 32)
		if err != nil {
			return bad()
		}
		return float32(f), nil
	case float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(repl), 64)
		if err != nil {
			return bad()
		}
		return f, nil
	case *big.Int:
		// A Decimal's unscaled value: the replacement must be an integer here
		// (the scale lives in the schema, which this value does not carry).
		n, ok := new(big.Int).SetString(repl, 10)
		if !ok {
			return bad()
		}
		return n, nil
	}
	return nil, fmt.Errorf("Cannot mask value of type class %s with custom replacement.", className(v))
}

// ---- ValueToKey ----

var valueToKeyDef = connect.ConfigDef{
	{Name: "fields", Type: connect.ConfigList, Required: true, Importance: connect.High,
		Doc: "Field names on the record value to extract as the record key.", Check: connect.NonEmpty},
	replaceNullKey,
}

// valueToKey is org.apache.kafka.connect.transforms.ValueToKey: the key
// becomes a struct or map of some of the value's fields.
type valueToKey struct {
	fields      []string
	replaceNull bool
	cache       schemaCache
}

const valueToKeyPurpose = "copying fields from value to key"

func (t *valueToKey) Configure(cfg connect.Config) error {
	vals, err := parseConfig(valueToKeyDef, cfg)
	if err != nil {
		return err
	}
	t.fields = vals.List("fields")
	t.replaceNull = vals.Bool(replaceNullConfig)
	return nil
}

func (t *valueToKey) Apply(r *connect.Record) (*connect.Record, error) {
	if r.ValueSchema == nil {
		m, err := requireMap(r.Value, valueToKeyPurpose)
		if err != nil {
			return nil, err
		}
		key := make(map[string]any, len(t.fields))
		for _, f := range t.fields {
			key[f] = m[f]
		}
		r.KeySchema, r.Key = nil, key
		return r, nil
	}
	st, err := requireStruct(r.Value, valueToKeyPurpose)
	if err != nil {
		return nil, err
	}
	schema, err := t.cache.get(st.Schema, func(in *connect.Schema) (*connect.Schema, error) {
		s := &connect.Schema{Type: connect.TypeStruct}
		for _, name := range t.fields {
			f := in.Field(name)
			if f == nil {
				return nil, fmt.Errorf("Field does not exist: %s", name)
			}
			if err := addField(s, name, f.Schema); err != nil {
				return nil, err
			}
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	key := connect.NewStruct(schema)
	for i, name := range t.fields {
		key.Values[i] = fieldValue(st, st.Schema.Field(name).Index, t.replaceNull)
	}
	r.KeySchema, r.Key = schema, key
	return r, nil
}

// ---- ExtractField ----

var extractFieldDef = connect.ConfigDef{
	{Name: "field", Type: connect.ConfigString, Required: true, Importance: connect.Medium, Doc: "Field name to extract."},
	{Name: fieldSyntaxConfig, Type: connect.ConfigString, Default: "V1", Importance: connect.High, Recommended: []string{"V1", "V2"},
		Doc: "Defines the version of the syntax to access fields. If set to `V1`, then the field paths are limited to access the elements at the root level of the struct or map. If set to `V2`, the syntax will support accessing nested elements. To access nested elements, dotted notation is used. If dots are already included in the field name, then backtick pairs can be used to wrap field names containing dots. E.g. to access the subfield `baz` from a field named \"foo.bar\" in a struct/map the following format can be used to access its elements: \"`foo.bar`.baz\"."},
	replaceNullKey,
}

const fieldSyntaxConfig = "field.syntax.version"

// extractField is org.apache.kafka.connect.transforms.ExtractField$Key/$Value:
// the key or value becomes one of its fields (nested with V2 paths).
type extractField struct {
	side        side
	original    string
	path        []string
	replaceNull bool
}

const extractPurpose = "field extraction"

func (t *extractField) Configure(cfg connect.Config) error {
	vals, err := parseConfig(extractFieldDef, cfg)
	if err != nil {
		return err
	}
	t.original = vals.String("field")
	t.replaceNull = vals.Bool(replaceNullConfig)
	if strings.EqualFold(vals.String(fieldSyntaxConfig), "V2") {
		if t.path, err = parseFieldPath(t.original); err != nil {
			return fmt.Errorf("Invalid value %s for configuration field: %v", t.original, err)
		}
	} else {
		t.path = []string{t.original}
	}
	return nil
}

// parseFieldPath splits a V2 path on dots; a `backticked` step may hold dots.
func parseFieldPath(p string) ([]string, error) {
	var out []string
	for i := 0; i <= len(p); {
		if i < len(p) && p[i] == '`' {
			end := strings.Index(p[i+1:], "`")
			for end >= 0 && i+1+end+1 < len(p) && p[i+1+end+1] != '.' {
				next := strings.Index(p[i+1+end+1:], "`")
				if next < 0 {
					end = -1
					break
				}
				end += 1 + next
			}
			if end < 0 {
				return nil, fmt.Errorf("Incomplete backtick pair in field path")
			}
			out = append(out, p[i+1:i+1+end])
			i += end + 2
			if i < len(p) {
				i++ // the dot
			} else {
				break
			}
			continue
		}
		j := strings.IndexByte(p[i:], '.')
		if j < 0 {
			out = append(out, p[i:])
			break
		}
		out = append(out, p[i:i+j])
		i += j + 1
	}
	return out, nil
}

func (t *extractField) Apply(r *connect.Record) (*connect.Record, error) {
	schema := t.side.schema(r)
	v := t.side.value(r)
	if schema == nil {
		if v == nil {
			t.side.set(r, nil, nil)
			return r, nil
		}
		m, err := requireMap(v, extractPurpose)
		if err != nil {
			return nil, err
		}
		var cur any = m
		for _, step := range t.path {
			cm, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = cm[step]
		}
		t.side.set(r, nil, cur)
		return r, nil
	}
	var st *connect.Struct
	if v != nil {
		var err error
		if st, err = requireStruct(v, extractPurpose); err != nil {
			return nil, err
		}
	}
	fs := schema
	for _, step := range t.path {
		var f *connect.Field
		if fs.Type == connect.TypeStruct {
			f = fs.Field(step)
		}
		if f == nil {
			return nil, fmt.Errorf("Unknown field: %s", t.original)
		}
		fs = f.Schema
	}
	var out any
	if st != nil {
		cur := st
		for i, step := range t.path {
			f := cur.Schema.Field(step)
			x := fieldValue(cur, f.Index, t.replaceNull)
			if i == len(t.path)-1 {
				out = x
				break
			}
			next, ok := x.(*connect.Struct)
			if !ok {
				break
			}
			cur = next
		}
	}
	t.side.set(r, fs, out)
	return r, nil
}

// ---- HoistField ----

var hoistFieldDef = connect.ConfigDef{
	{Name: "field", Type: connect.ConfigString, Required: true, Importance: connect.Medium,
		Doc: "Field name for the single field that will be created in the resulting Struct or Map."},
}

// hoistField is org.apache.kafka.connect.transforms.HoistField$Key/$Value:
// the key or value is wrapped in a struct or map of one field.
type hoistField struct {
	side  side
	field string
	cache schemaCache
}

func (t *hoistField) Configure(cfg connect.Config) error {
	vals, err := parseConfig(hoistFieldDef, cfg)
	if err != nil {
		return err
	}
	t.field = vals.String("field")
	return nil
}

func (t *hoistField) Apply(r *connect.Record) (*connect.Record, error) {
	schema := t.side.schema(r)
	v := t.side.value(r)
	if schema == nil {
		t.side.set(r, nil, map[string]any{t.field: v})
		return r, nil
	}
	out, _ := t.cache.get(schema, func(in *connect.Schema) (*connect.Schema, error) {
		return &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{{Name: t.field, Schema: in}}}, nil
	})
	st := connect.NewStruct(out)
	st.Values[0] = v
	t.side.set(r, out, st)
	return r, nil
}
