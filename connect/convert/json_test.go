package convert

import (
	"math"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
)

func jsonConverter(t testing.TB, cfg connect.Config) *JSONConverter {
	t.Helper()
	c := &JSONConverter{}
	if err := c.Configure(cfg, false); err != nil {
		t.Fatal(err)
	}
	return c
}

var (
	boolSchema  = &connect.Schema{Type: connect.TypeBoolean}
	int32Schema = &connect.Schema{Type: connect.TypeInt32}
	strSchema   = &connect.Schema{Type: connect.TypeString}
)

func decimalSchema(scale string, optional bool) *connect.Schema {
	return &connect.Schema{Type: connect.TypeBytes, Name: connect.LogicalDecimal, Version: 1, Optional: optional,
		Parameters: map[string]string{"scale": scale}}
}

func logical(t connect.Type, name string) *connect.Schema {
	return &connect.Schema{Type: t, Name: name, Version: 1}
}

// The cases of Kafka's JsonConverterTest (…ToConnect), inputs verbatim.
func TestJSONToConnectKafkaCases(t *testing.T) {
	structSchema := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{
		{Name: "field1", Index: 0, Schema: boolSchema}, {Name: "field2", Index: 1, Schema: strSchema}}}
	optStructSchema := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{
		{Name: "optional", Index: 0, Schema: &connect.Schema{Type: connect.TypeString, Optional: true}},
		{Name: "required", Index: 1, Schema: strSchema}}}
	tests := []struct {
		name   string
		in     string
		schema *connect.Schema
		value  any
	}{
		{"boolean", `{ "schema": { "type": "boolean" }, "payload": true }`, boolSchema, true},
		{"optional null", `{ "schema": { "type": "boolean", "optional": true }, "payload": null }`,
			&connect.Schema{Type: connect.TypeBoolean, Optional: true}, nil},
		{"default", `{ "schema": { "type": "boolean", "default": true }, "payload": null }`,
			&connect.Schema{Type: connect.TypeBoolean, Default: true}, true},
		{"metadata", `{ "schema": { "type": "boolean", "optional": false, "name": "bool", "version": 2, "doc": "the documentation", "parameters": { "foo": "bar" }}, "payload": true }`,
			&connect.Schema{Type: connect.TypeBoolean, Name: "bool", Version: 2, Doc: "the documentation", Parameters: map[string]string{"foo": "bar"}}, true},
		{"int8", `{ "schema": { "type": "int8" }, "payload": 12 }`, &connect.Schema{Type: connect.TypeInt8}, int8(12)},
		{"int16", `{ "schema": { "type": "int16" }, "payload": 12 }`, &connect.Schema{Type: connect.TypeInt16}, int16(12)},
		{"int32", `{ "schema": { "type": "int32" }, "payload": 12 }`, int32Schema, int32(12)},
		{"int64", `{ "schema": { "type": "int64" }, "payload": 4398046511104 }`, &connect.Schema{Type: connect.TypeInt64}, int64(4398046511104)},
		{"float", `{ "schema": { "type": "float" }, "payload": 12.34 }`, &connect.Schema{Type: connect.TypeFloat32}, float32(12.34)},
		{"double", `{ "schema": { "type": "double" }, "payload": 12.34 }`, &connect.Schema{Type: connect.TypeFloat64}, 12.34},
		{"bytes", `{ "schema": { "type": "bytes" }, "payload": "dGVzdC1zdHJpbmc=" }`, &connect.Schema{Type: connect.TypeBytes}, []byte("test-string")},
		{"string", `{ "schema": { "type": "string" }, "payload": "foo-bar-baz" }`, strSchema, "foo-bar-baz"},
		{"array", `{ "schema": { "type": "array", "items": { "type" : "int32" } }, "payload": [1, 2, 3] }`,
			&connect.Schema{Type: connect.TypeArray, Value: int32Schema}, []any{int32(1), int32(2), int32(3)}},
		{"map string keys", `{ "schema": { "type": "map", "keys": { "type" : "string" }, "values": { "type" : "int32" } }, "payload": { "key1": 12, "key2": 15} }`,
			&connect.Schema{Type: connect.TypeMap, Key: strSchema, Value: int32Schema}, map[string]any{"key1": int32(12), "key2": int32(15)}},
		{"map int keys", `{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }`,
			&connect.Schema{Type: connect.TypeMap, Key: int32Schema, Value: int32Schema}, map[string]any{"1": int32(12), "2": int32(15)}},
		{"struct", `{ "schema": { "type": "struct", "fields": [{ "field": "field1", "type": "boolean" }, { "field": "field2", "type": "string" }] }, "payload": { "field1": true, "field2": "string" } }`,
			structSchema, &connect.Struct{Schema: structSchema, Values: []any{true, "string"}}},
		{"struct optional field", `{ "schema": { "type": "struct", "fields": [{ "field":"optional", "type": "string", "optional": true }, {  "field": "required", "type": "string" }] }, "payload": { "required": "required" } }`,
			optStructSchema, &connect.Struct{Schema: optStructSchema, Values: []any{nil, "required"}}},
		{"tombstone", ``, nil, nil},
		{"null schema null", `{ "schema": null, "payload": null }`, nil, nil},
		{"null schema bool", `{ "schema": null, "payload": true }`, nil, true},
		{"null schema int", `{ "schema": null, "payload": 12 }`, nil, int64(12)},
		{"null schema float", `{ "schema": null, "payload": 12.24 }`, nil, 12.24},
		{"null schema string", `{ "schema": null, "payload": "a string" }`, nil, "a string"},
		{"null schema array", `{ "schema": null, "payload": [1, "2", 3] }`, nil, []any{int64(1), "2", int64(3)}},
		{"null schema map", `{ "schema": null, "payload": { "field1": 1, "field2": 2} }`, nil, map[string]any{"field1": int64(1), "field2": int64(2)}},
		{"decimal", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": "AJw=" }`,
			decimalSchema("2", false), big.NewInt(156)},
		{"decimal optional", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "optional": true, "parameters": { "scale": "2" } }, "payload": null }`,
			decimalSchema("2", true), nil},
		{"decimal default", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "default": "AJw=", "parameters": { "scale": "2" } }, "payload": null }`,
			func() *connect.Schema { s := decimalSchema("2", false); s.Default = big.NewInt(156); return s }(), big.NewInt(156)},
		{"decimal numeric", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": 1.56 }`,
			decimalSchema("2", false), big.NewInt(156)},
		{"decimal trailing zeros", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "4" } }, "payload": 1.5600 }`,
			decimalSchema("4", false), big.NewInt(15600)},
		{"decimal high precision", `{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "17" } }, "payload": 1.23456789123456789 }`,
			decimalSchema("17", false), func() *big.Int { x, _ := new(big.Int).SetString("123456789123456789", 10); return x }()},
		{"date", `{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Date", "version": 1 }, "payload": 10000 }`,
			logical(connect.TypeInt32, connect.LogicalDate), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 10000)},
		{"time", `{ "schema": { "type": "int32", "name": "org.apache.kafka.connect.data.Time", "version": 1 }, "payload": 14400000 }`,
			logical(connect.TypeInt32, connect.LogicalTime), time.UnixMilli(14400000).UTC()},
		{"timestamp", `{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1 }, "payload": 4000000000 }`,
			logical(connect.TypeInt64, connect.LogicalTimestamp), time.UnixMilli(4000000000).UTC()},
		{"timestamp default", `{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1, "default": 42 }, "payload": null }`,
			func() *connect.Schema {
				s := logical(connect.TypeInt64, connect.LogicalTimestamp)
				s.Default = time.UnixMilli(42).UTC()
				return s
			}(), time.UnixMilli(42).UTC()},
	}
	c := jsonConverter(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, v, err := c.ToConnect("topic", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s, tt.schema) {
				t.Errorf("schema = %+v, want %+v", s, tt.schema)
			}
			if !reflect.DeepEqual(v, tt.value) {
				t.Errorf("value = %#v, want %#v", v, tt.value)
			}
		})
	}
}

// Golden bytes: what Kafka's JsonConverter (Jackson, compact) writes.
func TestJSONFromConnectGolden(t *testing.T) {
	structSchema := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{
		{Name: "field1", Index: 0, Schema: boolSchema}, {Name: "field2", Index: 1, Schema: strSchema},
		{Name: "field3", Index: 2, Schema: strSchema}, {Name: "field4", Index: 3, Schema: boolSchema}}}
	tests := []struct {
		name   string
		cfg    connect.Config
		schema *connect.Schema
		value  any
		want   string
	}{
		{"boolean", nil, boolSchema, true, `{"schema":{"type":"boolean","optional":false},"payload":true}`},
		{"optional null", nil, &connect.Schema{Type: connect.TypeBoolean, Optional: true}, nil, `{"schema":{"type":"boolean","optional":true},"payload":null}`},
		{"default", nil, &connect.Schema{Type: connect.TypeBoolean, Default: true}, true, `{"schema":{"type":"boolean","optional":false,"default":true},"payload":true}`},
		{"metadata", nil, &connect.Schema{Type: connect.TypeBoolean, Name: "bool", Version: 3, Doc: "the documentation", Parameters: map[string]string{"foo": "bar"}}, true,
			`{"schema":{"type":"boolean","optional":false,"name":"bool","version":3,"doc":"the documentation","parameters":{"foo":"bar"}},"payload":true}`},
		{"int64", nil, &connect.Schema{Type: connect.TypeInt64}, int64(4398046511104), `{"schema":{"type":"int64","optional":false},"payload":4398046511104}`},
		{"float", nil, &connect.Schema{Type: connect.TypeFloat32}, float32(12.34), `{"schema":{"type":"float","optional":false},"payload":12.34}`},
		{"double", nil, &connect.Schema{Type: connect.TypeFloat64}, 12.34, `{"schema":{"type":"double","optional":false},"payload":12.34}`},
		{"bytes", nil, &connect.Schema{Type: connect.TypeBytes}, []byte("test-string"), `{"schema":{"type":"bytes","optional":false},"payload":"dGVzdC1zdHJpbmc="}`},
		{"array", nil, &connect.Schema{Type: connect.TypeArray, Value: int32Schema}, []any{int32(1), int32(2), int32(3)},
			`{"schema":{"type":"array","items":{"type":"int32","optional":false},"optional":false},"payload":[1,2,3]}`},
		{"map string keys", nil, &connect.Schema{Type: connect.TypeMap, Key: strSchema, Value: int32Schema}, map[string]any{"key2": int32(15), "key1": int32(12)},
			`{"schema":{"type":"map","keys":{"type":"string","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":{"key1":12,"key2":15}}`},
		{"map int keys", nil, &connect.Schema{Type: connect.TypeMap, Key: int32Schema, Value: int32Schema}, map[string]any{"2": int32(15), "1": int32(12)},
			`{"schema":{"type":"map","keys":{"type":"int32","optional":false},"values":{"type":"int32","optional":false},"optional":false},"payload":[[1,12],[2,15]]}`},
		{"struct", nil, structSchema, &connect.Struct{Schema: structSchema, Values: []any{true, "string2", "string3", false}},
			`{"schema":{"type":"struct","fields":[{"type":"boolean","optional":false,"field":"field1"},{"type":"string","optional":false,"field":"field2"},{"type":"string","optional":false,"field":"field3"},{"type":"boolean","optional":false,"field":"field4"}],"optional":false},"payload":{"field1":true,"field2":"string2","field3":"string3","field4":false}}`},
		{"decimal base64", nil, decimalSchema("2", false), big.NewInt(156),
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":"AJw="}`},
		{"decimal numeric", connect.Config{"decimal.format": "NUMERIC"}, decimalSchema("2", false), big.NewInt(156),
			`{"schema":{"type":"bytes","optional":false,"name":"org.apache.kafka.connect.data.Decimal","version":1,"parameters":{"scale":"2"}},"payload":1.56}`},
		{"decimal numeric lower-case config", connect.Config{"decimal.format": "numeric", "schemas.enable": "false"}, decimalSchema("2", false), big.NewInt(-5), `-0.05`},
		{"date", nil, logical(connect.TypeInt32, connect.LogicalDate), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 10000),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Date","version":1},"payload":10000}`},
		{"time", nil, logical(connect.TypeInt32, connect.LogicalTime), time.UnixMilli(14400000),
			`{"schema":{"type":"int32","optional":false,"name":"org.apache.kafka.connect.data.Time","version":1},"payload":14400000}`},
		{"timestamp", nil, logical(connect.TypeInt64, connect.LogicalTimestamp), time.UnixMilli(4000000000),
			`{"schema":{"type":"int64","optional":false,"name":"org.apache.kafka.connect.data.Timestamp","version":1},"payload":4000000000}`},
		{"null schema", nil, nil, map[string]any{"b": 1.0, "a": []any{int64(1), "x\n<", nil}}, `{"schema":null,"payload":{"a":[1,"x\n<",null],"b":1.0}}`},
		{"schemaless", connect.Config{"schemas.enable": "false"}, nil, []any{1e7, 1e-4, 123.5, float32(0.1), math.Inf(1)}, `[1.0E7,1.0E-4,123.5,0.1,"Infinity"]`},
		{"schemaless with schema", connect.Config{"schemas.enable": "false"}, int32Schema, int32(7), `7`},
		{"replace null with default", nil, &connect.Schema{Type: connect.TypeInt32, Optional: true, Default: int32(5)}, nil,
			`{"schema":{"type":"int32","optional":true,"default":5},"payload":5}`},
		{"keep null", connect.Config{"replace.null.with.default": "false"}, &connect.Schema{Type: connect.TypeInt32, Optional: true, Default: int32(5)}, nil,
			`{"schema":{"type":"int32","optional":true,"default":5},"payload":null}`},
		{"tombstone", nil, nil, nil, ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := jsonConverter(t, tt.cfg)
			got, err := c.FromConnect("topic", tt.schema, tt.value)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			// And read back: the same data again (maps compared by content).
			if tt.want == "" {
				return
			}
			s, v, err := c.ToConnect("topic", got)
			if err != nil {
				t.Fatalf("reading back: %v", err)
			}
			again, err := c.FromConnect("topic", s, v)
			if err != nil || string(again) != tt.want {
				t.Errorf("round trip = %s, %v", again, err)
			}
		})
	}
}

func TestJSONErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
		cfg            connect.Config
	}{
		{"no envelope", `{"a":1}`, `JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`, nil},
		{"extra field", `{"schema":null,"payload":1,"x":2}`, `JsonConverter with schemas.enable requires "schema" and "payload"`, nil},
		{"not an object", `[1]`, `JsonConverter with schemas.enable requires`, nil},
		{"bad json", `{"schema":`, `Converting byte[] to Kafka Connect data failed due to serialization error: `, nil},
		{"bad json schemaless", `[1,]`, `Converting byte[] to Kafka Connect data failed due to serialization error: `, connect.Config{"schemas.enable": "false"}},
		{"trailing", `1 2`, `serialization error`, connect.Config{"schemas.enable": "false"}},
		{"no type", `{"schema":{},"payload":1}`, `Schema must contain 'type' field`, nil},
		{"unknown type", `{"schema":{"type":"int128"},"payload":1}`, `Unknown schema type: int128`, nil},
		{"array no items", `{"schema":{"type":"array"},"payload":[]}`, `Array schema did not specify the element type`, nil},
		{"map no keys", `{"schema":{"type":"map","values":{"type":"int8"}},"payload":{}}`, `Map schema did not specify the key type`, nil},
		{"map no values", `{"schema":{"type":"map","keys":{"type":"int8"}},"payload":{}}`, `Map schema did not specify the value type`, nil},
		{"fields not array", `{"schema":{"type":"struct","fields":{}},"payload":{}}`, `Struct schema's "fields" argument is not an array.`, nil},
		{"field name", `{"schema":{"type":"struct","fields":[{"type":"int8"}]},"payload":{}}`, `Struct schema's field name not specified properly`, nil},
		{"duplicate field", `{"schema":{"type":"struct","fields":[{"type":"int8","field":"a"},{"type":"int8","field":"a"}]},"payload":{}}`, `Cannot create field because of field name duplication a`, nil},
		{"params", `{"schema":{"type":"int8","parameters":{"a":1}},"payload":1}`, `Schema parameters must have string values.`, nil},
		{"required null", `{"schema":{"type":"int32"},"payload":null}`, `Invalid null value for required INT32 field`, nil},
		{"struct not object", `{"schema":{"type":"struct","fields":[]},"payload":[]}`, `Structs should be encoded as JSON objects, but found ARRAY`, nil},
		{"map not object", `{"schema":{"type":"map","keys":{"type":"string"},"values":{"type":"int8"}},"payload":[]}`, `Maps with string fields should be encoded as JSON objects, but found ARRAY`, nil},
		{"map not array", `{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":{}}`, `Maps with non-string fields should be encoded as JSON array of tuples, but found OBJECT`, nil},
		{"map entry", `{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[1]}`, `Found invalid map entry instead of array tuple: NUMBER`, nil},
		{"map entry length", `{"schema":{"type":"map","keys":{"type":"int8"},"values":{"type":"int8"}},"payload":[[1]]}`, `Found invalid map entry, expected length 2 but found :1`, nil},
		{"decimal type", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal","parameters":{"scale":"2"}},"payload":true}`, `Invalid type for Decimal, underlying representation should be numeric or bytes but was BOOLEAN`, nil},
		{"decimal scale", `{"schema":{"type":"bytes","name":"org.apache.kafka.connect.data.Decimal"},"payload":"AA=="}`, `Invalid Decimal schema: scale parameter not found.`, nil},
		{"date type", `{"schema":{"type":"int32","name":"org.apache.kafka.connect.data.Date"},"payload":1.5}`, `Invalid type for Date, underlying representation should be integer but was NUMBER`, nil},
		{"timestamp type", `{"schema":{"type":"int64","name":"org.apache.kafka.connect.data.Timestamp"},"payload":"x"}`, `Invalid type for Timestamp, underlying representation should be integral but was STRING`, nil},
		{"deep", strings.Repeat("[", 2000), `document nesting depth`, connect.Config{"schemas.enable": "false"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := jsonConverter(t, tt.cfg).ToConnect("topic", []byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestJSONFromConnectErrors(t *testing.T) {
	st := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{{Name: "a", Schema: int32Schema}}}
	tests := []struct {
		name   string
		schema *connect.Schema
		value  any
		want   string
	}{
		{"required null", int32Schema, nil, "Conversion error: null value for field that is required and has no default value"},
		{"wrong type", int32Schema, int64(1), "Invalid type for INT32: class java.lang.Long"},
		{"wrong bytes", &connect.Schema{Type: connect.TypeBytes}, "x", "Invalid type for bytes type: class java.lang.String"},
		{"mismatching schema", st, &connect.Struct{Schema: &connect.Schema{Type: connect.TypeStruct}}, "Mismatching schema."},
		{"schemaless struct", nil, connect.NewStruct(st), "Mismatching schema."},
		{"schemaless unknown", nil, struct{}{}, "Java class class struct {} does not have corresponding schema type."},
		{"decimal type", decimalSchema("2", false), 1.5, "Invalid type for Decimal, expected BigDecimal but was class java.lang.Double"},
		{"date with time", logical(connect.TypeInt32, connect.LogicalDate), time.UnixMilli(1), "Kafka Connect Date type should not have any time fields set to non-zero values."},
		{"time with date", logical(connect.TypeInt32, connect.LogicalTime), time.UnixMilli(msPerDay), "Kafka Connect Time type should not have any date fields set to non-zero values."},
	}
	c := jsonConverter(t, nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.FromConnect("topic", tt.schema, tt.value)
			if err == nil || err.Error() != tt.want {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestJSONConfigErrors(t *testing.T) {
	c := &JSONConverter{}
	err := c.Configure(connect.Config{"decimal.format": "HEX"}, false)
	if err == nil || err.Error() != "Invalid value HEX for configuration decimal.format: String must be one of: BASE64, NUMERIC" {
		t.Errorf("err = %v", err)
	}
}

// Parsed schemas are cached by their JSON text (Kafka's
// testCacheSchemaToConnectConversion): the same text gives the same pointer.
func TestJSONSchemaCache(t *testing.T) {
	c := jsonConverter(t, nil)
	in := []byte(`{ "schema": { "type": "boolean" }, "payload": true }`)
	s1, _, _ := c.ToConnect("t", in)
	s2, _, _ := c.ToConnect("t", in)
	if s1 != s2 || len(c.toConnect) != 1 {
		t.Errorf("not cached: %p %p %d", s1, s2, len(c.toConnect))
	}
	_, _, _ = c.ToConnect("t", []byte(`{ "schema": { "type": "boolean", "optional": false }, "payload": true }`))
	if len(c.toConnect) != 2 {
		t.Errorf("cache size %d, want 2", len(c.toConnect))
	}
}

func TestJavaDouble(t *testing.T) {
	for f, want := range map[float64]string{
		1: "1.0", 100: "100.0", 0.001: "0.001", 0.0001: "1.0E-4", 1234567: "1234567.0", 1e7: "1.0E7",
		-2.5: "-2.5", 1.5e300: "1.5E300", 123456789.125: "1.23456789125E8", math.Copysign(0, -1): "-0.0",
	} {
		if got := string(appendJavaDouble(nil, f, 64)); got != want {
			t.Errorf("%v: got %s, want %s", f, got, want)
		}
	}
}

func TestTwosComplement(t *testing.T) {
	for _, n := range []int64{0, 1, -1, 127, 128, -128, -129, 156, 255, 256, -32768, math.MaxInt64, math.MinInt64} {
		b := twosComplement(big.NewInt(n))
		back, err := fromTwosComplement(b)
		if err != nil || back.Int64() != n {
			t.Errorf("%d: %x -> %v, %v", n, b, back, err)
		}
	}
	if got := twosComplement(big.NewInt(156)); string(got) != "\x00\x9c" {
		t.Errorf("156 = %x", got)
	}
}

// A configured converter is shared by a task's goroutines; run with -race.
func TestJSONConcurrent(t *testing.T) {
	c := jsonConverter(t, connect.Config{"schemas.cache.size": "2"}) // small: the caches are cleared under load
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 100 {
				s := &connect.Schema{Type: connect.TypeInt32, Version: g*1000 + i%5 + 1}
				b, err := c.FromConnect("t", s, int32(i))
				if err != nil {
					t.Error(err)
					return
				}
				s2, v, err := c.ToConnect("t", b)
				if err != nil || v != int32(i) || s2.Version != s.Version {
					t.Errorf("ToConnect(%s) = %v %v %v", b, s2, v, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
