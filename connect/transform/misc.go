package transform

import (
	"errors"
	"regexp"
	"slices"
	"strconv"

	"github.com/streambridge/bridge/connect"
)

// ---- Predicates ----

var topicNameMatchesDef = connect.ConfigDef{
	{Name: "pattern", Type: connect.ConfigString, Required: true, Importance: connect.Medium,
		Doc: "A Java regular expression for matching against the name of a topic.", Check: checkRegex},
}

// topicNameMatches is org.apache.kafka.connect.transforms.predicates.TopicNameMatches.
type topicNameMatches struct{ re *regexp.Regexp }

func (p *topicNameMatches) Configure(cfg connect.Config) error {
	vals, err := parseConfig(topicNameMatchesDef, cfg)
	if err != nil {
		return err
	}
	p.re, _ = compileJavaRegex(vals.String("pattern"))
	return nil
}

func (p *topicNameMatches) Test(r *connect.Record) bool { return p.re.MatchString(r.Topic) }

var hasHeaderKeyDef = connect.ConfigDef{
	{Name: "name", Type: connect.ConfigString, Required: true, Importance: connect.Medium, Doc: "The header name.", Check: connect.NonEmpty},
}

// hasHeaderKey is org.apache.kafka.connect.transforms.predicates.HasHeaderKey.
type hasHeaderKey struct{ name string }

func (p *hasHeaderKey) Configure(cfg connect.Config) error {
	vals, err := parseConfig(hasHeaderKeyDef, cfg)
	if err != nil {
		return err
	}
	p.name = vals.String("name")
	return nil
}

func (p *hasHeaderKey) Test(r *connect.Record) bool {
	_, ok := r.Header(p.name)
	return ok
}

// recordIsTombstone is org.apache.kafka.connect.transforms.predicates.RecordIsTombstone.
type recordIsTombstone struct{}

func (recordIsTombstone) Configure(connect.Config) error { return nil }
func (recordIsTombstone) Test(r *connect.Record) bool    { return r.Value == nil }

// ---- Filter ----

// filter is org.apache.kafka.connect.transforms.Filter: it drops every
// record, and is meant to be used with a predicate.
type filter struct{}

func (filter) Configure(connect.Config) error                 { return nil }
func (filter) Apply(*connect.Record) (*connect.Record, error) { return nil, nil }

// ---- InsertHeader, DropHeaders ----

var insertHeaderDef = connect.ConfigDef{
	{Name: "header", Type: connect.ConfigString, Required: true, Importance: connect.High, Doc: "The name of the header."},
	{Name: "value.literal", Type: connect.ConfigString, Required: true, Importance: connect.High,
		Doc: "The literal value that is to be set as the header value on all records."},
}

// insertHeader is org.apache.kafka.connect.transforms.InsertHeader. Headers
// are bytes here, so the literal is added as its UTF-8 text (what Kafka's
// SimpleHeaderConverter writes for it).
type insertHeader struct {
	name  string
	value []byte
}

func (t *insertHeader) Configure(cfg connect.Config) error {
	vals, err := parseConfig(insertHeaderDef, cfg)
	if err != nil {
		return err
	}
	t.name, t.value = vals.String("header"), []byte(vals.String("value.literal"))
	return nil
}

func (t *insertHeader) Apply(r *connect.Record) (*connect.Record, error) {
	// A new slice: the input record's headers are never written to.
	r.Headers = append(slices.Clip(r.Headers), connect.Header{Key: t.name, Value: t.value})
	return r, nil
}

var dropHeadersDef = connect.ConfigDef{
	{Name: "headers", Type: connect.ConfigList, Required: true, Importance: connect.High,
		Doc: "The name of the headers to be removed.", Check: connect.NonEmpty},
}

// dropHeaders is org.apache.kafka.connect.transforms.DropHeaders.
type dropHeaders struct{ names []string }

func (t *dropHeaders) Configure(cfg connect.Config) error {
	vals, err := parseConfig(dropHeadersDef, cfg)
	if err != nil {
		return err
	}
	t.names = vals.List("headers")
	return nil
}

func (t *dropHeaders) Apply(r *connect.Record) (*connect.Record, error) {
	var kept []connect.Header
	for _, h := range r.Headers {
		if !slices.Contains(t.names, h.Key) {
			kept = append(kept, h)
		}
	}
	r.Headers = kept
	return r, nil
}

// ---- SetSchemaMetadata ----

// schema.version is an INT with no default in Kafka; connect.ConfigDef has no
// null default for numbers, so it is a STRING checked to hold an integer.
var setSchemaMetadataDef = connect.ConfigDef{
	{Name: "schema.name", Type: connect.ConfigString, Importance: connect.High, Doc: "Schema name to set."},
	{Name: "schema.version", Type: connect.ConfigString, Importance: connect.High, Doc: "Schema version to set.",
		Check: func(v any) error {
			if s := v.(string); s != "" {
				if _, err := strconv.ParseInt(s, 10, 32); err != nil {
					return errors.New("Not a number of type INT")
				}
			}
			return nil
		}},
	replaceNullKey,
}

// setSchemaMetadata is org.apache.kafka.connect.transforms.SetSchemaMetadata$Key/$Value.
type setSchemaMetadata struct {
	side        side
	name        string
	version     int
	replaceNull bool
	cache       schemaCache
}

func (t *setSchemaMetadata) Configure(cfg connect.Config) error {
	vals, err := parseConfig(setSchemaMetadataDef, cfg)
	if err != nil {
		return err
	}
	t.name = vals.String("schema.name")
	t.replaceNull = vals.Bool(replaceNullConfig)
	if v := vals.String("schema.version"); v != "" {
		t.version, _ = strconv.Atoi(v)
	}
	if t.name == "" && t.version == 0 {
		return errors.New("Neither schema name nor version configured")
	}
	return nil
}

func (t *setSchemaMetadata) Apply(r *connect.Record) (*connect.Record, error) {
	schema := t.side.schema(r)
	if err := requireSchema(schema, "updating schema metadata"); err != nil {
		return nil, err
	}
	out, _ := t.cache.get(schema, func(in *connect.Schema) (*connect.Schema, error) {
		s := *in
		if t.name != "" {
			s.Name = t.name
		}
		if t.version != 0 {
			s.Version = t.version
		}
		return &s, nil
	})
	v := t.side.value(r)
	if st, ok := v.(*connect.Struct); ok && st != nil {
		ns := connect.NewStruct(out)
		for i := range ns.Values {
			ns.Values[i] = fieldValue(st, i, t.replaceNull)
		}
		v = ns
	}
	t.side.set(r, out, v)
	return r, nil
}
