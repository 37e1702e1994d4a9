package convert

import (
	"math/big"
	"reflect"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect"
)

func pluginConverter(t *testing.T, class string, cfg connect.Config) connect.Converter {
	t.Helper()
	var reg connect.Registry
	reg.Register(Plugins()...)
	p, ok := reg.Lookup(class)
	if !ok || p.Type != connect.PluginConverter {
		t.Fatalf("no converter %s", class)
	}
	c := p.NewConverter()
	if err := c.Configure(cfg, false); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSimpleConverters(t *testing.T) {
	st := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{
		{Name: "a", Index: 0, Schema: int32Schema}, {Name: "b", Index: 1, Schema: strSchema}, {Name: "c", Index: 2, Schema: strSchema}}}
	tests := []struct {
		name   string
		class  string
		cfg    connect.Config
		schema *connect.Schema
		value  any
		bytes  string
		back   any // what ToConnect gives for bytes
		schOut *connect.Schema
	}{
		{"string", "StringConverter", nil, strSchema, "héllo", "héllo", "héllo", OptionalStringSchema},
		{"string of int", "org.apache.kafka.connect.storage.StringConverter", nil, int32Schema, int32(42), "42", "42", OptionalStringSchema},
		{"string of struct", "StringConverter", nil, st, &connect.Struct{Schema: st, Values: []any{int32(1), nil, "x"}}, "Struct{a=1,c=x}", "Struct{a=1,c=x}", OptionalStringSchema},
		{"string of map", "StringConverter", nil, nil, map[string]any{"b": []any{1.5, true}, "a": nil}, "{a=null, b=[1.5, true]}", "{a=null, b=[1.5, true]}", OptionalStringSchema},
		{"string of decimal", "StringConverter", nil, decimalSchema("2", false), big.NewInt(156), "1.56", "1.56", OptionalStringSchema},
		{"string latin1", "StringConverter", connect.Config{"converter.encoding": "ISO-8859-1"}, nil, "é€", "\xe9?", "é?", OptionalStringSchema},
		{"string null", "StringConverter", nil, nil, nil, "", nil, OptionalStringSchema},
		{"bytes", "ByteArrayConverter", nil, &connect.Schema{Type: connect.TypeBytes}, []byte{0, 1, 2}, "\x00\x01\x02", []byte{0, 1, 2}, OptionalBytesSchema},
		{"integer", "IntegerConverter", nil, nil, int32(-2), "\xff\xff\xff\xfe", int32(-2), OptionalInt32Schema},
		{"long", "LongConverter", nil, nil, int64(258), "\x00\x00\x00\x00\x00\x00\x01\x02", int64(258), OptionalInt64Schema},
		{"short", "ShortConverter", nil, nil, int16(1), "\x00\x01", int16(1), OptionalInt16Schema},
		{"float", "FloatConverter", nil, nil, float32(1), "\x3f\x80\x00\x00", float32(1), OptionalFloat32Schema},
		{"double", "DoubleConverter", nil, nil, 2.0, "\x40\x00\x00\x00\x00\x00\x00\x00", 2.0, OptionalFloat64Schema},
		{"integer null", "IntegerConverter", nil, nil, nil, "", nil, OptionalInt32Schema},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pluginConverter(t, tt.class, tt.cfg)
			b, err := c.FromConnect("t", tt.schema, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.bytes {
				t.Errorf("bytes = %q, want %q", b, tt.bytes)
			}
			if tt.value == nil && b != nil {
				t.Errorf("null value gave %q, want nil", b)
			}
			s, v, err := c.ToConnect("t", b)
			if err != nil {
				t.Fatal(err)
			}
			if s != tt.schOut || !reflect.DeepEqual(v, tt.back) {
				t.Errorf("ToConnect = %v %#v, want %v %#v", s, v, tt.schOut, tt.back)
			}
		})
	}
}

func TestSimpleConverterErrors(t *testing.T) {
	tests := []struct {
		name, class string
		schema      *connect.Schema
		value       any
		data        []byte
		want        string
	}{
		{"bytes schema", "ByteArrayConverter", strSchema, "x", nil, "Invalid schema type for ByteArrayConverter: STRING"},
		{"bytes value", "ByteArrayConverter", nil, "x", nil, "ByteArrayConverter is not compatible with objects of type class java.lang.String"},
		{"integer value", "IntegerConverter", nil, int64(1), nil, "Failed to serialize to integer (was class java.lang.Long): "},
		{"integer size", "IntegerConverter", nil, nil, []byte{1}, "Failed to deserialize integer: Size of data received by IntegerDeserializer is not 4"},
		{"double size", "DoubleConverter", nil, nil, []byte{1, 2}, "Failed to deserialize double: Size of data received by DoubleDeserializer is not 8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := pluginConverter(t, tt.class, nil)
			var err error
			if tt.data != nil {
				_, _, err = c.ToConnect("t", tt.data)
			} else {
				_, err = c.FromConnect("t", tt.schema, tt.value)
			}
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
	err := (&StringConverter{}).Configure(connect.Config{"converter.encoding": "EBCDIC"}, false)
	if err == nil || !strings.HasPrefix(err.Error(), "Invalid value EBCDIC for configuration converter.encoding: ") {
		t.Errorf("encoding err = %v", err)
	}
}

func TestPluginsList(t *testing.T) {
	var reg connect.Registry
	reg.Register(Plugins()...) // panics on a duplicate class
	for _, p := range reg.Plugins() {
		if p.NewConverter == nil || p.Type != connect.PluginConverter {
			t.Errorf("%s: incomplete plugin", p.Class)
		}
		if errs := p.Config.Validate(nil); errs != nil {
			t.Errorf("%s: defaults invalid: %v", p.Class, errs)
		}
	}
}
