package connect

import (
	"fmt"
	"slices"
)

// Type is a Connect schema type, spelled as Kafka Connect's Schema.Type
// serializes it in JSON schemas ("int32", "struct", ...).
//
// The Go value of each type:
//
//	int8 int8, int16 int16, int32 int32, int64 int64,
//	float32 float32, float64 float64, boolean bool, string string,
//	bytes []byte, array []any, map map[string]any, struct *Struct.
//
// Logical types keep their base type's schema and carry Kafka Connect's names
// (LogicalTimestamp, LogicalDate, LogicalTime: time.Time values; LogicalDecimal:
// *big.Int unscaled with the scale in the "scale" parameter). Map keys are
// strings: a map with keys of another type is converted to string keys by the
// converter that reads it.
type Type string

// The schema types.
const (
	TypeInt8    Type = "int8"
	TypeInt16   Type = "int16"
	TypeInt32   Type = "int32"
	TypeInt64   Type = "int64"
	TypeFloat32 Type = "float32"
	TypeFloat64 Type = "float64"
	TypeBoolean Type = "boolean"
	TypeString  Type = "string"
	TypeBytes   Type = "bytes"
	TypeArray   Type = "array"
	TypeMap     Type = "map"
	TypeStruct  Type = "struct"
)

// Kafka Connect's logical type names.
const (
	LogicalDecimal   = "org.apache.kafka.connect.data.Decimal"
	LogicalDate      = "org.apache.kafka.connect.data.Date"
	LogicalTime      = "org.apache.kafka.connect.data.Time"
	LogicalTimestamp = "org.apache.kafka.connect.data.Timestamp"
)

// Schema describes a Connect value. A nil *Schema means schemaless data.
type Schema struct {
	Type       Type
	Optional   bool
	Default    any
	Name       string
	Version    int
	Doc        string
	Parameters map[string]string
	// Fields of a struct, in order.
	Fields []Field
	// Key and Value of a map; Value is the element schema of an array.
	Key, Value *Schema
}

// Field is one field of a struct schema.
type Field struct {
	Name   string
	Index  int
	Schema *Schema
}

// Field returns the field called name, or nil.
func (s *Schema) Field(name string) *Field {
	if s == nil {
		return nil
	}
	for i := range s.Fields {
		if s.Fields[i].Name == name {
			return &s.Fields[i]
		}
	}
	return nil
}

// Struct is a value of a struct schema: Values[i] belongs to Schema.Fields[i].
type Struct struct {
	Schema *Schema
	Values []any
}

// NewStruct returns an empty struct of schema s.
func NewStruct(s *Schema) *Struct {
	return &Struct{Schema: s, Values: make([]any, len(s.Fields))}
}

// Get returns the value of field name, or nil when the struct has no such field.
func (st *Struct) Get(name string) any {
	if f := st.Schema.Field(name); f != nil {
		return st.Values[f.Index]
	}
	return nil
}

// Put sets field name; it fails when the schema has no such field.
func (st *Struct) Put(name string, v any) error {
	f := st.Schema.Field(name)
	if f == nil {
		return fmt.Errorf("%s is not a valid field name", name)
	}
	st.Values[f.Index] = v
	return nil
}

// Clone returns a shallow copy whose Values may be changed freely.
func (st *Struct) Clone() *Struct {
	return &Struct{Schema: st.Schema, Values: slices.Clone(st.Values)}
}

// OptionalBytesSchema describes a nullable byte string: the key and value
// schema of records copied as they are (Kafka Connect's
// Schema.OPTIONAL_BYTES_SCHEMA).
var OptionalBytesSchema = &Schema{Type: TypeBytes, Optional: true}
