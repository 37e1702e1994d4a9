package convert

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/connect"
)

// The JSON names of Connect's types in an envelope's schema (JsonSchema's
// *_TYPE_NAME): the same as connect.Type except the two floating types.
var jsonTypeNames = map[connect.Type]string{
	connect.TypeInt8: "int8", connect.TypeInt16: "int16", connect.TypeInt32: "int32", connect.TypeInt64: "int64",
	connect.TypeFloat32: "float", connect.TypeFloat64: "double", connect.TypeBoolean: "boolean",
	connect.TypeString: "string", connect.TypeBytes: "bytes", connect.TypeArray: "array",
	connect.TypeMap: "map", connect.TypeStruct: "struct",
}

var typesByJSONName = func() map[string]connect.Type {
	m := make(map[string]connect.Type, len(jsonTypeNames))
	for t, n := range jsonTypeNames {
		m[n] = t
	}
	return m
}()

// upperType is Schema.Type's Java enum name ("INT32"), used in messages.
func upperType(t connect.Type) string { return strings.ToUpper(string(t)) }

// appendSchema writes s as JsonConverter.asJsonSchema does, members in its
// order: type, items | keys, values | fields, optional, name, version, doc,
// parameters, default. A struct field's schema ends with "field".
func (c *JSONConverter) appendSchema(b []byte, s *connect.Schema) ([]byte, error) {
	b, err := c.appendSchemaMembers(b, s)
	if err != nil {
		return nil, err
	}
	return append(b, '}'), nil
}

// appendSchemaMembers writes all of s but the closing brace.
func (c *JSONConverter) appendSchemaMembers(b []byte, s *connect.Schema) ([]byte, error) {
	name, ok := jsonTypeNames[s.Type]
	if !ok {
		return nil, fmt.Errorf("Couldn't translate unsupported schema type %s.", s.Type)
	}
	b = append(b, `{"type":`...)
	b = appendString(b, name)
	var err error
	switch s.Type {
	case connect.TypeArray:
		if s.Value == nil {
			return nil, errors.New("Array schema did not specify the element type")
		}
		b = append(b, `,"items":`...)
		if b, err = c.appendSchema(b, s.Value); err != nil {
			return nil, err
		}
	case connect.TypeMap:
		if s.Key == nil || s.Value == nil {
			return nil, errors.New("Map schema did not specify the key and value types")
		}
		b = append(b, `,"keys":`...)
		if b, err = c.appendSchema(b, s.Key); err != nil {
			return nil, err
		}
		b = append(b, `,"values":`...)
		if b, err = c.appendSchema(b, s.Value); err != nil {
			return nil, err
		}
	case connect.TypeStruct:
		b = append(b, `,"fields":[`...)
		for i := range s.Fields {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = c.appendSchemaMembers(b, s.Fields[i].Schema); err != nil {
				return nil, err
			}
			b = append(b, `,"field":`...)
			b = appendString(b, s.Fields[i].Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"optional":`...)
	b = strconv.AppendBool(b, s.Optional)
	if s.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, s.Name)
	}
	if s.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendInt(b, int64(s.Version), 10)
	}
	if s.Doc != "" {
		b = append(b, `,"doc":`...)
		b = appendString(b, s.Doc)
	}
	if s.Parameters != nil {
		b = append(b, `,"parameters":{`...)
		keys := make([]string, 0, len(s.Parameters))
		for k := range s.Parameters {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, s.Parameters[k])
		}
		b = append(b, '}')
	}
	if s.Default != nil {
		b = append(b, `,"default":`...)
		if b, err = c.appendValue(b, s, s.Default); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// toConnectSchema reads an envelope's schema as JsonConverter.asConnectSchema
// does, with its error messages.
func (c *JSONConverter) toConnectSchema(node any) (*connect.Schema, error) {
	if node == nil {
		return nil, nil
	}
	obj, _ := node.(jsonObject)
	typeNode, _ := obj.get("type")
	typeName, ok := typeNode.(string)
	if !ok {
		return nil, errors.New("Schema must contain 'type' field")
	}
	t, ok := typesByJSONName[typeName]
	if !ok {
		return nil, fmt.Errorf("Unknown schema type: %s", typeName)
	}
	s := &connect.Schema{Type: t}
	switch t {
	case connect.TypeArray:
		items, _ := obj.get("items")
		if items == nil {
			return nil, errors.New("Array schema did not specify the element type")
		}
		elem, err := c.toConnectSchema(items)
		if err != nil {
			return nil, err
		}
		s.Value = elem
	case connect.TypeMap:
		keys, _ := obj.get("keys")
		if keys == nil {
			return nil, errors.New("Map schema did not specify the key type")
		}
		values, _ := obj.get("values")
		if values == nil {
			return nil, errors.New("Map schema did not specify the value type")
		}
		var err error
		if s.Key, err = c.toConnectSchema(keys); err != nil {
			return nil, err
		}
		if s.Value, err = c.toConnectSchema(values); err != nil {
			return nil, err
		}
	case connect.TypeStruct:
		fieldsNode, _ := obj.get("fields")
		fields, ok := fieldsNode.([]any)
		if !ok {
			return nil, errors.New(`Struct schema's "fields" argument is not an array.`)
		}
		s.Fields = make([]connect.Field, 0, len(fields))
		for _, f := range fields {
			fobj, _ := f.(jsonObject)
			nameNode, _ := fobj.get("field")
			name, ok := nameNode.(string)
			if !ok {
				return nil, errors.New("Struct schema's field name not specified properly")
			}
			if s.Field(name) != nil {
				return nil, fmt.Errorf("Cannot create field because of field name duplication %s", name)
			}
			fs, err := c.toConnectSchema(f)
			if err != nil {
				return nil, err
			}
			s.Fields = append(s.Fields, connect.Field{Name: name, Index: len(s.Fields), Schema: fs})
		}
	}
	if opt, _ := obj.get("optional"); opt == true {
		s.Optional = true
	}
	if name, ok := obj.get("name"); ok {
		s.Name, _ = name.(string)
	}
	if v, ok := obj.get("version"); ok {
		if n, ok := v.(number); ok && !strings.ContainsAny(string(n), ".eE") {
			if i, err := strconv.ParseInt(string(n), 10, 64); err == nil && i >= math.MinInt32 && i <= math.MaxInt32 {
				s.Version = int(i)
			}
		}
	}
	if doc, ok := obj.get("doc"); ok {
		s.Doc, _ = doc.(string)
	}
	if params, ok := obj.get("parameters"); ok {
		if pobj, ok := params.(jsonObject); ok {
			s.Parameters = make(map[string]string, len(pobj))
			for _, m := range pobj {
				v, ok := m.val.(string)
				if !ok {
					return nil, errors.New("Schema parameters must have string values.")
				}
				s.Parameters[m.key] = v
			}
		}
	}
	if def, ok := obj.get("default"); ok {
		// The default is read against the schema built so far, which has no
		// default yet (SchemaBuilder's order in Kafka).
		v, err := c.toConnectValue(s, def)
		if err != nil {
			return nil, err
		}
		s.Default = v
	}
	return s, nil
}

// schemasEqual is ConnectSchema.equals: same type, flags, metadata, children
// and default. Pointer-equal schemas (the usual case) return at once.
func schemasEqual(a, b *connect.Schema) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	if a.Type != b.Type || a.Optional != b.Optional || a.Name != b.Name || a.Version != b.Version ||
		a.Doc != b.Doc || len(a.Fields) != len(b.Fields) || len(a.Parameters) != len(b.Parameters) {
		return false
	}
	for k, v := range a.Parameters {
		if w, ok := b.Parameters[k]; !ok || w != v {
			return false
		}
	}
	for i := range a.Fields {
		if a.Fields[i].Name != b.Fields[i].Name || !schemasEqual(a.Fields[i].Schema, b.Fields[i].Schema) {
			return false
		}
	}
	if !schemasEqual(a.Key, b.Key) || !schemasEqual(a.Value, b.Value) {
		return false
	}
	return (a.Default == nil) == (b.Default == nil)
}
