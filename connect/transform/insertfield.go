package transform

import (
	"strings"

	"github.com/streambridge/bridge/connect"
)

// InsertField's settings.
const (
	topicFieldConfig     = "topic.field"
	partitionFieldConfig = "partition.field"
	offsetFieldConfig    = "offset.field"
	timestampFieldConfig = "timestamp.field"
	staticFieldConfig    = "static.field"
	staticValueConfig    = "static.value"
)

const optionalityDoc = "Suffix with <code>!</code> to make this a required field, or <code>?</code> to keep it optional (the default)."

var insertFieldDef = connect.ConfigDef{
	{Name: topicFieldConfig, Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field name for Kafka topic. " + optionalityDoc},
	{Name: partitionFieldConfig, Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field name for Kafka partition. " + optionalityDoc},
	{Name: offsetFieldConfig, Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field name for Kafka offset - only applicable to sink connectors.<br/>" + optionalityDoc},
	{Name: timestampFieldConfig, Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field name for record timestamp. " + optionalityDoc},
	{Name: staticFieldConfig, Type: connect.ConfigString, Importance: connect.Medium, Doc: "Field name for static data field. " + optionalityDoc},
	{Name: staticValueConfig, Type: connect.ConfigString, Importance: connect.Medium, Doc: "Static field value, if field name configured."},
	replaceNullKey,
}

// insertionSpec is a field to insert: its name, and whether it is optional
// ("name?" or "name") or required ("name!").
type insertionSpec struct {
	name     string
	optional bool
}

func parseInsertionSpec(spec string) *insertionSpec {
	switch {
	case spec == "":
		return nil
	case strings.HasSuffix(spec, "?"):
		return &insertionSpec{spec[:len(spec)-1], true}
	case strings.HasSuffix(spec, "!"):
		return &insertionSpec{spec[:len(spec)-1], false}
	}
	return &insertionSpec{spec, true}
}

// insertField is org.apache.kafka.connect.transforms.InsertField$Key/$Value:
// it adds the record's topic, partition, offset, timestamp or a static value
// as fields of a struct or map. Null values (tombstones) pass unchanged.
type insertField struct {
	side                                        side
	topic, partition, offset, timestamp, static *insertionSpec
	staticValue                                 any // nil when static.value is unset
	replaceNull                                 bool
	cache                                       schemaCache
}

const insertPurpose = "field insertion"

func (t *insertField) Configure(cfg connect.Config) error {
	vals, err := parseConfig(insertFieldDef, cfg)
	if err != nil {
		return err
	}
	t.topic = parseInsertionSpec(vals.String(topicFieldConfig))
	t.partition = parseInsertionSpec(vals.String(partitionFieldConfig))
	t.offset = parseInsertionSpec(vals.String(offsetFieldConfig))
	t.timestamp = parseInsertionSpec(vals.String(timestampFieldConfig))
	t.static = parseInsertionSpec(vals.String(staticFieldConfig))
	t.staticValue = nil
	if _, set := cfg[staticValueConfig]; set {
		t.staticValue = vals.String(staticValueConfig)
	}
	t.replaceNull = vals.Bool(replaceNullConfig)
	return nil
}

func (t *insertField) Apply(r *connect.Record) (*connect.Record, error) {
	v := t.side.value(r)
	if v == nil {
		return r, nil
	}
	if t.side.schema(r) == nil {
		return t.applySchemaless(r, v)
	}
	return t.applyWithSchema(r, v)
}

func (t *insertField) applySchemaless(r *connect.Record, v any) (*connect.Record, error) {
	m, err := requireMap(v, insertPurpose)
	if err != nil {
		return nil, err
	}
	out := make(map[string]any, len(m)+5)
	for k, x := range m {
		out[k] = x
	}
	if t.topic != nil {
		out[t.topic.name] = r.Topic
	}
	if t.partition != nil {
		if r.Partition >= 0 {
			out[t.partition.name] = r.Partition
		} else {
			out[t.partition.name] = nil
		}
	}
	if t.offset != nil {
		if err := requireSinkRecord(r, insertPurpose); err != nil {
			return nil, err
		}
		out[t.offset.name] = r.Offset
	}
	if t.timestamp != nil && !r.Timestamp.IsZero() {
		out[t.timestamp.name] = r.Timestamp.UnixMilli()
	}
	if t.static != nil {
		out[t.static.name] = t.staticValue
	}
	t.side.set(r, nil, out)
	return r, nil
}

func (t *insertField) applyWithSchema(r *connect.Record, v any) (*connect.Record, error) {
	st, err := requireStruct(v, insertPurpose)
	if err != nil {
		return nil, err
	}
	schema, err := t.cache.get(st.Schema, t.updatedSchema)
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(schema)
	for i := range st.Schema.Fields {
		out.Values[i] = fieldValue(st, i, t.replaceNull)
	}
	put := func(spec *insertionSpec, x any) {
		if f := schema.Field(spec.name); f != nil {
			out.Values[f.Index] = x
		}
	}
	if t.topic != nil {
		put(t.topic, r.Topic)
	}
	if t.partition != nil && r.Partition >= 0 {
		put(t.partition, r.Partition)
	}
	if t.offset != nil {
		if err := requireSinkRecord(r, insertPurpose); err != nil {
			return nil, err
		}
		put(t.offset, r.Offset)
	}
	if t.timestamp != nil && !r.Timestamp.IsZero() {
		put(t.timestamp, r.Timestamp.UTC())
	}
	if t.static != nil && t.staticValue != nil {
		put(t.static, t.staticValue)
	}
	t.side.set(r, schema, out)
	return r, nil
}

func (t *insertField) updatedSchema(in *connect.Schema) (*connect.Schema, error) {
	s := copySchemaBasics(in)
	for _, f := range in.Fields {
		if err := addField(s, f.Name, f.Schema); err != nil {
			return nil, err
		}
	}
	pick := func(spec *insertionSpec, optional, required *connect.Schema) *connect.Schema {
		if spec.optional {
			return optional
		}
		return required
	}
	for _, add := range []struct {
		spec          *insertionSpec
		optional, req *connect.Schema
	}{
		{t.topic, optionalStringSchema, stringSchema},
		{t.partition, optionalInt32Schema, int32Schema},
		{t.offset, optionalInt64Schema, int64Schema},
		{t.timestamp, optionalTimestampSchema, timestampSchema},
		{t.static, optionalStringSchema, stringSchema},
	} {
		if add.spec == nil {
			continue
		}
		if err := addField(s, add.spec.name, pick(add.spec, add.optional, add.req)); err != nil {
			return nil, err
		}
	}
	return s, nil
}
