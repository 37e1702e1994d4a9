package transform

import (
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
)

func registry() *connect.Registry {
	reg := &connect.Registry{}
	reg.Register(Plugins()...)
	return reg
}

// newTransform configures the plugin class as a connector would.
func newTransform(t *testing.T, class string, cfg connect.Config) (connect.Transform, error) {
	t.Helper()
	p, ok := registry().Lookup(class)
	if !ok || p.Type != connect.PluginTransformation {
		t.Fatalf("no transformation %s", class)
	}
	tr := p.NewTransform()
	return tr, tr.Configure(cfg)
}

// smtCase is one record through one configured transform.
type smtCase struct {
	name  string
	class string
	cfg   connect.Config
	in    connect.Record
	want  *connect.Record // nil: dropped
	err   string          // an expected error (Configure's or Apply's)
}

func runCases(t *testing.T, cases []smtCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := newTransform(t, tc.class, tc.cfg)
			if err == nil {
				in := tc.in
				var out *connect.Record
				out, err = tr.Apply(&in)
				if err == nil {
					if tc.err != "" {
						t.Fatalf("no error, want %q", tc.err)
					}
					if !reflect.DeepEqual(out, tc.want) {
						t.Errorf("got  %+v\nwant %+v", deref(out), deref(tc.want))
					}
					return
				}
			}
			if tc.err == "" || err.Error() != tc.err {
				t.Errorf("err = %v, want %q", err, tc.err)
			}
		})
	}
}

func deref(r *connect.Record) any {
	if r == nil {
		return nil
	}
	return *r
}

func structOf(s *connect.Schema, values ...any) *connect.Struct {
	return &connect.Struct{Schema: s, Values: values}
}

func structSchema(name string, version int, fields ...any) *connect.Schema {
	s := &connect.Schema{Type: connect.TypeStruct, Name: name, Version: version}
	for i := 0; i < len(fields); i += 2 {
		s.Fields = append(s.Fields, connect.Field{Name: fields[i].(string), Index: i / 2, Schema: fields[i+1].(*connect.Schema)})
	}
	return s
}

var (
	boolSchema    = &connect.Schema{Type: connect.TypeBoolean}
	int8Schema    = &connect.Schema{Type: connect.TypeInt8}
	int16Schema   = &connect.Schema{Type: connect.TypeInt16}
	float64Schema = &connect.Schema{Type: connect.TypeFloat64}
)

// source is a source record as a task returns it; sink one read from Kafka.
func source(topic string, partition int32, valueSchema *connect.Schema, value any) connect.Record {
	return connect.Record{Topic: topic, Partition: partition, Offset: -1, ValueSchema: valueSchema, Value: value,
		SourcePartition: map[string]any{"p": 1}, SourceOffset: map[string]any{"o": 1}}
}

func sink(topic string, partition int32, offset int64, valueSchema *connect.Schema, value any) connect.Record {
	return connect.Record{Topic: topic, Partition: partition, Offset: offset, ValueSchema: valueSchema, Value: value}
}

func with(r connect.Record, f func(*connect.Record)) *connect.Record {
	f(&r)
	return &r
}

// InsertFieldTest's cases.
func TestInsertField(t *testing.T) {
	cfg := connect.Config{"topic.field": "topic_field!", "partition.field": "partition_field", "timestamp.field": "timestamp_field?",
		"static.field": "instance_id", "static.value": "my-instance-id"}
	simple := structSchema("name", 1, "magic", int64Schema)
	updated := structSchema("name", 1, "magic", int64Schema, "topic_field", stringSchema, "partition_field", optionalInt32Schema,
		"timestamp_field", optionalTimestampSchema, "instance_id", optionalStringSchema)
	ts := time.UnixMilli(1483425001864).UTC()
	runCases(t, []smtCase{
		{name: "struct required", class: "InsertField$Value", cfg: connect.Config{"topic.field": "topic_field"},
			in: source("", 0, int32Schema, int32(42)), err: "Only Struct objects supported for [field insertion], found: java.lang.Integer"},
		{name: "copy schema and insert", class: "org.apache.kafka.connect.transforms.InsertField$Value", cfg: cfg,
			in:   source("test", 0, simple, structOf(simple, int64(42))),
			want: with(source("test", 0, updated, structOf(updated, int64(42), "test", int32(0), nil, "my-instance-id")), func(*connect.Record) {})},
		{name: "timestamp", class: "InsertField$Value", cfg: cfg,
			in: *with(source("test", 0, simple, structOf(simple, int64(42))), func(r *connect.Record) { r.Timestamp = ts }),
			want: with(source("test", 0, updated, structOf(updated, int64(42), "test", int32(0), ts, "my-instance-id")), func(r *connect.Record) {
				r.Timestamp = ts
			})},
		{name: "schemaless", class: "InsertField$Value", cfg: cfg,
			in: source("test", 0, nil, map[string]any{"magic": int64(42)}),
			want: with(source("test", 0, nil, map[string]any{"magic": int64(42), "topic_field": "test", "partition_field": int32(0),
				"instance_id": "my-instance-id"}), func(*connect.Record) {})},
		{name: "schemaless timestamp", class: "InsertField$Value", cfg: connect.Config{"timestamp.field": "ts"},
			in:   *with(source("test", 0, nil, map[string]any{}), func(r *connect.Record) { r.Timestamp = ts }),
			want: with(source("test", 0, nil, map[string]any{"ts": int64(1483425001864)}), func(r *connect.Record) { r.Timestamp = ts })},
		{name: "tombstone without schema", class: "InsertField$Value", cfg: cfg,
			in: source("test", 0, nil, nil), want: with(source("test", 0, nil, nil), func(*connect.Record) {})},
		{name: "tombstone with schema", class: "InsertField$Value", cfg: cfg,
			in: source("test", 0, simple, nil), want: with(source("test", 0, simple, nil), func(*connect.Record) {})},
		{name: "offset of a source record", class: "InsertField$Value", cfg: connect.Config{"offset.field": "off"},
			in: source("test", 0, nil, map[string]any{}), err: "Only SinkRecord supported for [field insertion], found: org.apache.kafka.connect.source.SourceRecord"},
		{name: "offset of a sink record", class: "InsertField$Value", cfg: connect.Config{"offset.field": "off!"},
			in: sink("test", 3, 77, simple, structOf(simple, int64(1))),
			want: func() *connect.Record {
				s := structSchema("name", 1, "magic", int64Schema, "off", int64Schema)
				r := sink("test", 3, 77, s, structOf(s, int64(1), int64(77)))
				return &r
			}()},
		{name: "key", class: "InsertField$Key", cfg: connect.Config{"topic.field": "t"},
			in:   connect.Record{Topic: "a", Offset: -1, Key: map[string]any{}},
			want: &connect.Record{Topic: "a", Offset: -1, Key: map[string]any{"t": "a"}}},
		{name: "replace null with default", class: "InsertField$Value", cfg: connect.Config{"topic.field": "t"},
			in: func() connect.Record {
				s := structSchema("", 0, "d", &connect.Schema{Type: connect.TypeInt32, Optional: true, Default: int32(7)})
				return source("x", 0, s, structOf(s, nil))
			}(),
			want: func() *connect.Record {
				d := &connect.Schema{Type: connect.TypeInt32, Optional: true, Default: int32(7)}
				s := structSchema("", 0, "d", d, "t", optionalStringSchema)
				r := source("x", 0, s, structOf(s, int32(7), "x"))
				return &r
			}()},
	})
}

// ReplaceFieldTest's cases.
func TestReplaceField(t *testing.T) {
	in := structSchema("", 0, "dont", stringSchema, "abc", int32Schema, "foo", boolSchema, "etc", stringSchema)
	out := structSchema("", 0, "xyz", int32Schema, "bar", boolSchema)
	runCases(t, []smtCase{
		{name: "tombstone schemaless", class: "ReplaceField$Value", cfg: connect.Config{"include": "abc,foo"},
			in: source("t", 0, nil, nil), want: with(source("t", 0, nil, nil), func(*connect.Record) {})},
		{name: "schemaless", class: "ReplaceField$Value", cfg: connect.Config{"exclude": "dont", "renames": "abc:xyz,foo:bar"},
			in:   source("t", 0, nil, map[string]any{"dont": "whatever", "abc": int32(42), "foo": true, "etc": "etc"}),
			want: with(source("t", 0, nil, map[string]any{"xyz": int32(42), "bar": true, "etc": "etc"}), func(*connect.Record) {})},
		{name: "include", class: "ReplaceField$Value", cfg: connect.Config{"include": "abc,foo"},
			in:   source("t", 0, nil, map[string]any{"dont": "whatever", "abc": int32(42), "foo": true, "etc": "etc"}),
			want: with(source("t", 0, nil, map[string]any{"abc": int32(42), "foo": true}), func(*connect.Record) {})},
		{name: "whitelist and blacklist", class: "ReplaceField$Value", cfg: connect.Config{"whitelist": "abc,foo,dont", "blacklist": "dont"},
			in:   source("t", 0, nil, map[string]any{"dont": "whatever", "abc": int32(42), "foo": true, "etc": "etc"}),
			want: with(source("t", 0, nil, map[string]any{"abc": int32(42), "foo": true}), func(*connect.Record) {})},
		{name: "with schema", class: "ReplaceField$Value", cfg: connect.Config{"include": "abc,foo,bar", "renames": "abc:xyz,foo:bar"},
			in:   source("t", 0, in, structOf(in, "whatever", int32(42), true, "etc")),
			want: with(source("t", 0, out, structOf(out, int32(42), true)), func(*connect.Record) {})},
		{name: "bad rename", class: "ReplaceField$Value", cfg: connect.Config{"renames": "a:b,c"},
			err: "Invalid value a:b,c for configuration renames: Invalid rename mapping: c"},
		{name: "not a map", class: "ReplaceField$Key", cfg: connect.Config{},
			in:  connect.Record{Key: "k"},
			err: "Only Map objects supported in absence of schema for [field replacement], found: java.lang.String"},
	})
}

// MaskFieldTest's cases.
func TestMaskField(t *testing.T) {
	all := map[string]any{"magic": int32(42), "bool": true, "byte": int8(42), "short": int16(42), "int": int32(42), "long": int64(42),
		"float": float32(42), "double": 42.0, "string": "55.121.20.20", "date": time.UnixMilli(1e9).UTC(), "bigint": big.NewInt(42),
		"array": []any{int32(1), int32(2)}, "map": map[string]any{"k": "v"}, "withDefault": nil}
	fields := "magic,bool,byte,short,int,long,float,double,string,date,bigint,array,map,withDefault"
	masked := map[string]any{"magic": int32(0), "bool": false, "byte": int8(0), "short": int16(0), "int": int32(0), "long": int64(0),
		"float": float32(0), "double": 0.0, "string": "", "date": time.UnixMilli(0).UTC(), "bigint": new(big.Int),
		"array": []any{}, "map": map[string]any{}, "withDefault": nil}
	s := structSchema("", 0, "magic", int32Schema, "string", stringSchema, "other", stringSchema)
	runCases(t, []smtCase{
		{name: "schemaless", class: "MaskField$Value", cfg: connect.Config{"fields": fields},
			in: source("t", 0, nil, all), want: with(source("t", 0, nil, masked), func(*connect.Record) {})},
		{name: "missing field added null", class: "MaskField$Value", cfg: connect.Config{"fields": "absent"},
			in: source("t", 0, nil, map[string]any{}), want: with(source("t", 0, nil, map[string]any{"absent": nil}), func(*connect.Record) {})},
		{name: "with schema", class: "MaskField$Value", cfg: connect.Config{"fields": "magic,string"},
			in:   source("t", 0, s, structOf(s, int32(42), "x", "y")),
			want: with(source("t", 0, s, structOf(s, int32(0), "", "y")), func(*connect.Record) {})},
		{name: "replacement", class: "MaskField$Value", cfg: connect.Config{"fields": "int,long,string,double", "replacement": "123"},
			in: source("t", 0, nil, map[string]any{"int": int32(5), "long": int64(5), "string": "s", "double": 1.5}),
			want: with(source("t", 0, nil, map[string]any{"int": int32(123), "long": int64(123), "string": "123", "double": 123.0}),
				func(*connect.Record) {})},
		{name: "replacement not a number", class: "MaskField$Value", cfg: connect.Config{"fields": "int", "replacement": "abc"},
			in: source("t", 0, nil, map[string]any{"int": int32(5)}), err: "Unable to convert abc (class java.lang.Integer) to number"},
		{name: "replacement of a list", class: "MaskField$Value", cfg: connect.Config{"fields": "l", "replacement": "x"},
			in: source("t", 0, nil, map[string]any{"l": []any{}}), err: "Cannot mask value of type class java.util.ArrayList with custom replacement."},
		{name: "bytes", class: "MaskField$Value", cfg: connect.Config{"fields": "b"},
			in: source("t", 0, nil, map[string]any{"b": []byte{1}}), err: "Cannot mask value of type: class [B"},
		{name: "empty replacement", class: "MaskField$Value", cfg: connect.Config{"fields": "b", "replacement": ""},
			err: "Invalid value  for configuration replacement: String must be non-empty"},
		{name: "no fields", class: "MaskField$Value", cfg: connect.Config{},
			err: `Missing required configuration "fields" which has no default value.`},
		{name: "empty fields", class: "MaskField$Value", cfg: connect.Config{"fields": ""},
			err: "Invalid value  for configuration fields: Empty list"},
	})
}

// ValueToKeyTest, ExtractFieldTest and HoistFieldTest's cases.
func TestValueToKeyExtractHoist(t *testing.T) {
	abc := structSchema("", 0, "a", int32Schema, "b", int32Schema, "c", int32Schema)
	ab := structSchema("", 0, "a", int32Schema, "b", int32Schema)
	magic := structSchema("", 0, "magic", int32Schema)
	nested := structSchema("", 0, "outer.x", structSchema("", 0, "inner", int32Schema))
	runCases(t, []smtCase{
		{name: "value to key schemaless", class: "ValueToKey", cfg: connect.Config{"fields": "a,b"},
			in:   source("", 0, nil, map[string]any{"a": 1, "b": 2, "c": 3}),
			want: with(source("", 0, nil, map[string]any{"a": 1, "b": 2, "c": 3}), func(r *connect.Record) { r.Key = map[string]any{"a": 1, "b": 2} })},
		{name: "value to key with schema", class: "org.apache.kafka.connect.transforms.ValueToKey", cfg: connect.Config{"fields": "a,b"},
			in: source("", 0, abc, structOf(abc, int32(1), int32(2), int32(3))),
			want: with(source("", 0, abc, structOf(abc, int32(1), int32(2), int32(3))), func(r *connect.Record) {
				r.KeySchema, r.Key = ab, structOf(ab, int32(1), int32(2))
			})},
		{name: "value to key missing field", class: "ValueToKey", cfg: connect.Config{"fields": "not_exist"},
			in: source("", 0, abc, structOf(abc, int32(1), int32(2), int32(3))), err: "Field does not exist: not_exist"},
		{name: "value to key tombstone", class: "ValueToKey", cfg: connect.Config{"fields": "a"},
			in: source("", 0, nil, nil), err: "Only Map objects supported in absence of schema for [copying fields from value to key], found: null"},
		{name: "extract schemaless", class: "ExtractField$Key", cfg: connect.Config{"field": "magic"},
			in:   connect.Record{Key: map[string]any{"magic": 42}},
			want: &connect.Record{Key: 42}},
		{name: "extract null schemaless", class: "ExtractField$Key", cfg: connect.Config{"field": "magic"},
			in: connect.Record{}, want: &connect.Record{}},
		{name: "extract with schema", class: "ExtractField$Key", cfg: connect.Config{"field": "magic"},
			in:   connect.Record{KeySchema: magic, Key: structOf(magic, int32(42))},
			want: &connect.Record{KeySchema: int32Schema, Key: int32(42)}},
		{name: "extract null with schema", class: "ExtractField$Key", cfg: connect.Config{"field": "magic"},
			in: connect.Record{KeySchema: magic}, want: &connect.Record{KeySchema: int32Schema}},
		{name: "extract unknown field", class: "ExtractField$Key", cfg: connect.Config{"field": "nonexistent"},
			in: connect.Record{KeySchema: magic, Key: structOf(magic, int32(42))}, err: "Unknown field: nonexistent"},
		{name: "extract V1 keeps dots", class: "ExtractField$Value", cfg: connect.Config{"field": "a.b"},
			in: source("", 0, nil, map[string]any{"a.b": 1}), want: with(source("", 0, nil, 1), func(*connect.Record) {})},
		{name: "extract V2 nested map", class: "ExtractField$Value", cfg: connect.Config{"field": "a.b", "field.syntax.version": "V2"},
			in: source("", 0, nil, map[string]any{"a": map[string]any{"b": "x"}}), want: with(source("", 0, nil, "x"), func(*connect.Record) {})},
		{name: "extract V2 backticks", class: "ExtractField$Value", cfg: connect.Config{"field": "`outer.x`.inner", "field.syntax.version": "v2"},
			in:   source("", 0, nested, structOf(nested, structOf(nested.Fields[0].Schema, int32(5)))),
			want: with(source("", 0, int32Schema, int32(5)), func(*connect.Record) {})},
		{name: "extract bad syntax version", class: "ExtractField$Value", cfg: connect.Config{"field": "a", "field.syntax.version": "V3"},
			err: "Invalid value V3 for configuration field.syntax.version: String must be one of: V1, V2"},
		{name: "hoist schemaless", class: "HoistField$Key", cfg: connect.Config{"field": "magic"},
			in: connect.Record{Key: 42}, want: &connect.Record{Key: map[string]any{"magic": 42}}},
		{name: "hoist with schema", class: "HoistField$Key", cfg: connect.Config{"field": "magic"},
			in: connect.Record{KeySchema: int32Schema, Key: int32(42)}, want: &connect.Record{KeySchema: magic, Key: structOf(magic, int32(42))}},
	})
}

// RegexRouterTest's and TimestampRouterTest's cases.
func TestRouters(t *testing.T) {
	route := func(regex, topic, replacement, want string) smtCase {
		return smtCase{name: regex + " " + replacement, class: "RegexRouter", cfg: connect.Config{"regex": regex, "replacement": replacement},
			in: connect.Record{Topic: topic}, want: &connect.Record{Topic: want}}
	}
	ts := time.UnixMilli(1483425001864)
	stamp := func(name string, cfg connect.Config, want string) smtCase {
		return smtCase{name: name, class: "TimestampRouter", cfg: cfg,
			in: connect.Record{Topic: "test", Timestamp: ts}, want: &connect.Record{Topic: want, Timestamp: ts}}
	}
	runCases(t, []smtCase{
		route("foo", "foo", "bar", "bar"),
		route("foo", "orig", "bar", "orig"),
		route("(.*)", "orig", "$1", "orig"),
		route("(.*)", "orig", "prefix-$1", "prefix-orig"),
		route("(.*)", "orig", "$1-suffix", "orig-suffix"),
		route(`(.*)-(\d\d\d\d\d\d\d\d)`, "index-20160117", "$1", "index"),
		route("(.*)", "orig", "$1x\\$", "origx$"),
		route("(?P<name>o)rig", "orig", "${name}-", "o-"),
		{name: "bad regex", class: "RegexRouter", cfg: connect.Config{"regex": "(", "replacement": "x"},
			err: "Invalid value ( for configuration regex: error parsing regexp: missing closing ): `^(?:()$`"},
		{name: "empty regex", class: "RegexRouter", cfg: connect.Config{"regex": "", "replacement": "x"},
			err: "Invalid value  for configuration regex: String must be non-empty"},
		stamp("default", nil, "test-20170103"),
		stamp("custom", connect.Config{"topic.format": "${timestamp}.${topic}", "timestamp.format": "yyyy-MM-dd'T'HH:mm:ss.SSS 'q''s' EEE MMM a hh"},
			"2017-01-03T06:30:01.864 q's Tue Jan AM 06.test"),
		{name: "no timestamp", class: "TimestampRouter", in: connect.Record{Topic: "test", Offset: 5},
			err: "Timestamp missing on record: ConnectRecord{topic='test', kafkaPartition=0, kafkaOffset=5, timestamp=null}"},
		{name: "bad format", class: "TimestampRouter", cfg: connect.Config{"timestamp.format": "yyyyq"},
			err: "Invalid value yyyyq for configuration timestamp.format: Illegal pattern character 'q'"},
	})
}

func TestCastAndMetadata(t *testing.T) {
	in := structSchema("rec", 2, "int8", int8Schema, "int16", int16Schema, "bool", boolSchema, "double", float64Schema, "string", stringSchema,
		"bytes", &connect.Schema{Type: connect.TypeBytes}, "keep", stringSchema)
	out := structSchema("rec", 2, "int8", int32Schema, "int16", stringSchema, "bool", int8Schema, "double", int64Schema,
		"string", int32Schema, "bytes", stringSchema, "keep", stringSchema)
	renamed := &connect.Schema{Type: connect.TypeStruct, Name: "new", Version: 3, Fields: in.Fields}
	runCases(t, []smtCase{
		{name: "whole value schemaless", class: "Cast$Value", cfg: connect.Config{"spec": "int8"},
			in: source("", 0, nil, int32(42)), want: with(source("", 0, nil, int8(42)), func(*connect.Record) {})},
		{name: "whole value with schema", class: "Cast$Value", cfg: connect.Config{"spec": "string"},
			in: source("", 0, float64Schema, 42.0), want: with(source("", 0, stringSchema, "42.0"), func(*connect.Record) {})},
		{name: "string to boolean", class: "Cast$Value", cfg: connect.Config{"spec": "boolean"},
			in: source("", 0, nil, "TRUE"), want: with(source("", 0, nil, true), func(*connect.Record) {})},
		{name: "fields", class: "Cast$Value", cfg: connect.Config{"spec": "int8:int32,int16:string,bool:int8,double:int64,string:int32,bytes:string"},
			in: source("", 0, in, structOf(in, int8(8), int16(16), true, 42.9, "77", []byte("hi"), "k")),
			want: with(source("", 0, out, structOf(out, int32(8), "16", int8(1), int64(42), int32(77), "aGk=", "k")),
				func(*connect.Record) {})},
		{name: "fields schemaless", class: "Cast$Value", cfg: connect.Config{"spec": "a:float32,b:int16"},
			in:   source("", 0, nil, map[string]any{"a": int64(2), "b": "12", "c": 1}),
			want: with(source("", 0, nil, map[string]any{"a": float32(2), "b": int16(12), "c": 1}), func(*connect.Record) {})},
		{name: "bad number", class: "Cast$Value", cfg: connect.Config{"spec": "int32"},
			in: source("", 0, nil, "x"), err: `For input string: "x"`},
		{name: "bad type", class: "Cast$Value", cfg: connect.Config{"spec": "a:uint8"},
			err: "Invalid value a:uint8 for configuration spec: Invalid type found in casting spec: uint8"},
		{name: "bad output", class: "Cast$Value", cfg: connect.Config{"spec": "bytes"},
			err: "Invalid value bytes for configuration spec: Cast transformation does not support casting to BYTES; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING]"},
		{name: "whole and fields", class: "Cast$Value", cfg: connect.Config{"spec": "int8,a:int8"},
			err: "Invalid value int8,a:int8 for configuration spec: Cast transformations that specify a type to cast the entire value to may ony specify a single cast in their spec"},
		{name: "bad input", class: "Cast$Value", cfg: connect.Config{"spec": "string"},
			in: source("", 0, nil, []any{1}), err: "Cast transformation does not support casting from ARRAY; supported types are [INT8, INT16, INT32, INT64, FLOAT32, FLOAT64, BOOLEAN, STRING, BYTES]"},
		{name: "set metadata", class: "SetSchemaMetadata$Value", cfg: connect.Config{"schema.name": "new", "schema.version": "3"},
			in:   source("", 0, in, structOf(in, int8(8), int16(16), true, 42.9, "77", []byte("hi"), "k")),
			want: with(source("", 0, renamed, structOf(renamed, int8(8), int16(16), true, 42.9, "77", []byte("hi"), "k")), func(*connect.Record) {})},
		{name: "set metadata nothing", class: "SetSchemaMetadata$Value", cfg: connect.Config{},
			err: "Neither schema name nor version configured"},
		{name: "set metadata bad version", class: "SetSchemaMetadata$Value", cfg: connect.Config{"schema.version": "x"},
			err: "Invalid value x for configuration schema.version: Not a number of type INT"},
		{name: "set metadata schemaless", class: "SetSchemaMetadata$Key", cfg: connect.Config{"schema.name": "x"},
			in: connect.Record{Key: 1}, err: "Schema required for [updating schema metadata]"},
	})
}

func TestHeadersAndFilter(t *testing.T) {
	h := []connect.Header{{Key: "a", Value: []byte("1")}, {Key: "b", Value: []byte("2")}, {Key: "a", Value: []byte("3")}}
	runCases(t, []smtCase{
		{name: "insert header", class: "InsertHeader", cfg: connect.Config{"header": "c", "value.literal": "hello"},
			in: connect.Record{Headers: h}, want: &connect.Record{Headers: append(h[:3:3], connect.Header{Key: "c", Value: []byte("hello")})}},
		{name: "drop headers", class: "DropHeaders", cfg: connect.Config{"headers": "a,x"},
			in: connect.Record{Headers: h}, want: &connect.Record{Headers: []connect.Header{{Key: "b", Value: []byte("2")}}}},
		{name: "insert header missing", class: "InsertHeader", cfg: connect.Config{"header": "c"},
			err: `Missing required configuration "value.literal" which has no default value.`},
		{name: "header from copy schemaless", class: "HeaderFrom$Value", cfg: connect.Config{"fields": "a,b,c,d", "headers": "ha,hb,hc,hd", "operation": "copy"},
			in: connect.Record{Value: map[string]any{"a": "x", "b": int32(5), "c": map[string]any{"k": 1.5}, "e": true}},
			want: &connect.Record{Value: map[string]any{"a": "x", "b": int32(5), "c": map[string]any{"k": 1.5}, "e": true},
				Headers: []connect.Header{{Key: "ha", Value: []byte("x")}, {Key: "hb", Value: []byte("5")}, {Key: "hc", Value: []byte(`{"k":1.5}`)}, {Key: "hd"}}}},
		{name: "header from move with schema", class: "HeaderFrom$Value", cfg: connect.Config{"fields": "a", "headers": "h", "operation": "move"},
			in: connect.Record{ValueSchema: structSchema("s", 1, "a", int32Schema, "b", stringSchema),
				Value: structOf(structSchema("s", 1, "a", int32Schema, "b", stringSchema), int32(7), "y")},
			want: &connect.Record{ValueSchema: structSchema("s", 1, "b", stringSchema), Value: structOf(structSchema("s", 1, "b", stringSchema), "y"),
				Headers: []connect.Header{{Key: "h", Value: []byte("7")}}}},
		{name: "header from counts differ", class: "HeaderFrom$Value", cfg: connect.Config{"fields": "a,b", "headers": "h", "operation": "move"},
			err: "'fields' config must have the same number of elements as 'headers' config."},
		{name: "header from operation", class: "HeaderFrom$Value", cfg: connect.Config{"fields": "a", "headers": "h", "operation": "swap"},
			err: "Invalid value swap for configuration operation: String must be one of: move, copy"},
		{name: "filter", class: "Filter", in: connect.Record{Topic: "x"}, want: nil},
	})
}

func TestParseFieldPath(t *testing.T) {
	for in, want := range map[string][]string{
		"a": {"a"}, "a.b": {"a", "b"}, "`a.b`.c": {"a.b", "c"}, "a.`b.c`": {"a", "b.c"}, "`a`b`.c": {"a`b", "c"}, "a..b": {"a", "", "b"},
	} {
		got, err := parseFieldPath(in)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := parseFieldPath("`a.b"); err == nil || !strings.Contains(err.Error(), "backtick") {
		t.Errorf("unclosed backtick: %v", err)
	}
}

// Every plugin is complete and its defaults are a valid configuration
// wherever nothing is required.
func TestPlugins(t *testing.T) {
	reg := registry()
	for _, p := range reg.Plugins() {
		if (p.Type == connect.PluginTransformation) != (p.NewTransform != nil) || (p.Type == connect.PluginPredicate) != (p.NewPredicate != nil) {
			t.Errorf("%s: constructor does not match type %s", p.Class, p.Type)
		}
		if !strings.HasPrefix(p.Class, "org.apache.kafka.connect.transforms.") {
			t.Errorf("%s: not Kafka's package", p.Class)
		}
	}
	if n := len(reg.Plugins(connect.PluginTransformation)); n != 22 {
		t.Errorf("%d transformations", n)
	}
	if n := len(reg.Plugins(connect.PluginPredicate)); n != 3 {
		t.Errorf("%d predicates", n)
	}
}
