package transform

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
)

var headerFromDef = connect.ConfigDef{
	{Name: "fields", Type: connect.ConfigList, Required: true, Importance: connect.High,
		Doc: "Field names in the record whose values are to be copied or moved to headers.", Check: connect.NonEmpty},
	{Name: "headers", Type: connect.ConfigList, Required: true, Importance: connect.High,
		Doc: "Header names, in the same order as the field names listed in the fields configuration property.", Check: connect.NonEmpty},
	{Name: "operation", Type: connect.ConfigString, Required: true, Importance: connect.High, Recommended: []string{"move", "copy"},
		Doc: "Either <code>move</code> if the fields are to be moved to the headers (removed from the key/value), or <code>copy</code> if the fields are to be copied to the headers (retained in the key/value)."},
	replaceNullKey,
}

// headerFrom is org.apache.kafka.connect.transforms.HeaderFrom$Key/$Value:
// fields become headers, copied or moved. Headers are bytes here, so each
// value is written as Kafka's SimpleHeaderConverter writes it: strings and
// bytes as they are, numbers and booleans as text, structs, maps and arrays
// as JSON; a null value is a header without value.
type headerFrom struct {
	side           side
	fields, header []string
	move           bool
	replaceNull    bool
	cache          schemaCache
	json           *convert.JSONConverter
}

func (t *headerFrom) Configure(cfg connect.Config) error {
	vals, err := parseConfig(headerFromDef, cfg)
	if err != nil {
		return err
	}
	t.fields, t.header = vals.List("fields"), vals.List("headers")
	if len(t.fields) != len(t.header) {
		return errors.New("'fields' config must have the same number of elements as 'headers' config.")
	}
	t.move = strings.EqualFold(vals.String("operation"), "move")
	t.replaceNull = vals.Bool(replaceNullConfig)
	t.json = convert.NewJSONConverter()
	return t.json.Configure(connect.Config{convert.SchemasEnableConfig: "false"}, false)
}

func (t *headerFrom) purpose() string {
	if t.move {
		return "header move"
	}
	return "header copy"
}

func (t *headerFrom) Apply(r *connect.Record) (*connect.Record, error) {
	schema, v := t.side.schema(r), t.side.value(r)
	headers := slices.Clip(r.Headers)
	if schema == nil {
		m, err := requireMap(v, t.purpose())
		if err != nil {
			return nil, err
		}
		for i, f := range t.fields {
			b, err := t.headerBytes(nil, m[f])
			if err != nil {
				return nil, err
			}
			headers = append(headers, connect.Header{Key: t.header[i], Value: b})
		}
		if t.move {
			out := make(map[string]any, len(m))
			for k, x := range m {
				if !slices.Contains(t.fields, k) {
					out[k] = x
				}
			}
			t.side.set(r, nil, out)
		}
		r.Headers = headers
		return r, nil
	}
	st, err := requireStruct(v, t.purpose())
	if err != nil {
		return nil, err
	}
	for i, name := range t.fields {
		f := schema.Field(name)
		if f == nil {
			return nil, fmt.Errorf("Field does not exist: %s", name)
		}
		b, err := t.headerBytes(f.Schema, fieldValue(st, f.Index, t.replaceNull))
		if err != nil {
			return nil, err
		}
		headers = append(headers, connect.Header{Key: t.header[i], Value: b})
	}
	if t.move {
		updated, _ := t.cache.get(schema, func(in *connect.Schema) (*connect.Schema, error) {
			s := copySchemaBasics(in)
			s.Optional, s.Default = in.Optional, in.Default
			for _, f := range in.Fields {
				if !slices.Contains(t.fields, f.Name) {
					_ = addField(s, f.Name, f.Schema) // names are unique in in
				}
			}
			return s, nil
		})
		out := connect.NewStruct(updated)
		for i, f := range updated.Fields {
			out.Values[i] = fieldValue(st, schema.Field(f.Name).Index, t.replaceNull)
		}
		t.side.set(r, updated, out)
	}
	r.Headers = headers
	return r, nil
}

// headerBytes serializes a header value as SimpleHeaderConverter would.
func (t *headerFrom) headerBytes(s *connect.Schema, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(x), nil
	case []byte:
		return x, nil
	case []any, map[string]any, *connect.Struct:
		return t.json.FromConnect("", s, v)
	}
	return []byte(castToString(s, v)), nil
}
