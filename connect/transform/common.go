package transform

import (
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streambridge/bridge/connect"
)

// side is the part of a record a $Key or $Value transform works on.
type side bool

const (
	keySide   side = true
	valueSide side = false
)

func (s side) schema(r *connect.Record) *connect.Schema {
	if s == keySide {
		return r.KeySchema
	}
	return r.ValueSchema
}

func (s side) value(r *connect.Record) any {
	if s == keySide {
		return r.Key
	}
	return r.Value
}

func (s side) set(r *connect.Record, schema *connect.Schema, v any) {
	if s == keySide {
		r.KeySchema, r.Key = schema, v
	} else {
		r.ValueSchema, r.Value = schema, v
	}
}

// The Requirements checks of Kafka's transforms, with their wording.

func requireMap(v any, purpose string) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("Only Map objects supported in absence of schema for [%s], found: %s", purpose, className(v))
	}
	return m, nil
}

func requireStruct(v any, purpose string) (*connect.Struct, error) {
	st, ok := v.(*connect.Struct)
	if !ok || st == nil {
		return nil, fmt.Errorf("Only Struct objects supported for [%s], found: %s", purpose, className(v))
	}
	return st, nil
}

func requireSchema(s *connect.Schema, purpose string) error {
	if s == nil {
		return fmt.Errorf("Schema required for [%s]", purpose)
	}
	return nil
}

// isSinkRecord tells a record read from Kafka (it has an offset) from one a
// source task made.
func isSinkRecord(r *connect.Record) bool { return r.Offset >= 0 && r.SourcePartition == nil }

func requireSinkRecord(r *connect.Record, purpose string) error {
	if !isSinkRecord(r) {
		return fmt.Errorf("Only SinkRecord supported for [%s], found: org.apache.kafka.connect.source.SourceRecord", purpose)
	}
	return nil
}

// className is Java's getClass().getName() of the Go value's Connect type,
// so messages read as Kafka's do.
func className(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case int8:
		return "java.lang.Byte"
	case int16:
		return "java.lang.Short"
	case int32:
		return "java.lang.Integer"
	case int64:
		return "java.lang.Long"
	case float32:
		return "java.lang.Float"
	case float64:
		return "java.lang.Double"
	case bool:
		return "java.lang.Boolean"
	case string:
		return "java.lang.String"
	case []byte:
		return "[B"
	case []any:
		return "java.util.ArrayList"
	case map[string]any:
		return "java.util.HashMap"
	case *connect.Struct:
		return "org.apache.kafka.connect.data.Struct"
	case *big.Int:
		return "java.math.BigDecimal"
	case time.Time:
		return "java.util.Date"
	}
	return fmt.Sprintf("%T", v)
}

// fieldValue is a struct field's value; with replaceNull a null takes the
// field's default (Struct.get), else it stays null (getWithoutDefault).
func fieldValue(st *connect.Struct, i int, replaceNull bool) any {
	if i >= len(st.Values) {
		return nil
	}
	v := st.Values[i]
	if v == nil && replaceNull && i < len(st.Schema.Fields) {
		return st.Schema.Fields[i].Schema.Default
	}
	return v
}

// copySchemaBasics starts a struct schema with src's name, version, doc and
// parameters (SchemaUtil.copySchemaBasics: optional and default are not
// copied, as in Kafka).
func copySchemaBasics(src *connect.Schema) *connect.Schema {
	out := &connect.Schema{Type: connect.TypeStruct, Name: src.Name, Version: src.Version, Doc: src.Doc}
	if src.Parameters != nil {
		out.Parameters = make(map[string]string, len(src.Parameters))
		for k, v := range src.Parameters {
			out.Parameters[k] = v
		}
	}
	return out
}

// addField appends a field to a struct schema being built.
func addField(s *connect.Schema, name string, fs *connect.Schema) error {
	if s.Field(name) != nil {
		return fmt.Errorf("Cannot create field because of field name duplication %s", name)
	}
	s.Fields = append(s.Fields, connect.Field{Name: name, Index: len(s.Fields), Schema: fs})
	return nil
}

// schemaCache remembers the output schema built for each input schema, by
// pointer: converters hand every record of a topic the same *Schema, so
// building a schema is a once-per-schema cost, as Kafka's LRU caches make it.
type schemaCache struct {
	mu sync.Mutex
	m  map[*connect.Schema]*connect.Schema
}

const schemaCacheSize = 64

func (c *schemaCache) get(in *connect.Schema, build func(*connect.Schema) (*connect.Schema, error)) (*connect.Schema, error) {
	c.mu.Lock()
	out, ok := c.m[in]
	c.mu.Unlock()
	if ok {
		return out, nil
	}
	out, err := build(in)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= schemaCacheSize {
		c.m = make(map[*connect.Schema]*connect.Schema)
	}
	c.m[in] = out
	c.mu.Unlock()
	return out, nil
}

// The shared schemas of Kafka's Schema class and logical types.
var (
	stringSchema            = &connect.Schema{Type: connect.TypeString}
	optionalStringSchema    = &connect.Schema{Type: connect.TypeString, Optional: true}
	int32Schema             = &connect.Schema{Type: connect.TypeInt32}
	optionalInt32Schema     = &connect.Schema{Type: connect.TypeInt32, Optional: true}
	int64Schema             = &connect.Schema{Type: connect.TypeInt64}
	optionalInt64Schema     = &connect.Schema{Type: connect.TypeInt64, Optional: true}
	timestampSchema         = &connect.Schema{Type: connect.TypeInt64, Name: connect.LogicalTimestamp, Version: 1}
	optionalTimestampSchema = &connect.Schema{Type: connect.TypeInt64, Name: connect.LogicalTimestamp, Version: 1, Optional: true}
)

// replaceNullKey is the replace.null.with.default setting several transforms share.
const replaceNullConfig = "replace.null.with.default"

var replaceNullKey = connect.ConfigKey{Name: replaceNullConfig, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Medium,
	Doc: "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."}

// parseConfig checks cfg against def and returns its values, or one error
// holding every message.
func parseConfig(def connect.ConfigDef, cfg connect.Config) (connect.Values, error) {
	vals, errs := def.Parse(cfg)
	if len(errs) == 0 {
		return vals, nil
	}
	var msgs []string
	for _, list := range errs {
		msgs = append(msgs, list...)
	}
	slices.Sort(msgs)
	return vals, errors.New(strings.Join(msgs, "; "))
}

// recordString is a short form of a record for messages (Kafka prints the
// whole ConnectRecord).
func recordString(r *connect.Record) string {
	ts := "null"
	if !r.Timestamp.IsZero() {
		ts = fmt.Sprint(r.Timestamp.UnixMilli())
	}
	return fmt.Sprintf("ConnectRecord{topic='%s', kafkaPartition=%d, kafkaOffset=%d, timestamp=%s}", r.Topic, r.Partition, r.Offset, ts)
}
