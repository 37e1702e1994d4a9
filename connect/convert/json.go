package convert

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/streambridge/bridge/connect"
)

// JsonConverter's settings (JsonConverterConfig).
const (
	SchemasEnableConfig          = "schemas.enable"
	SchemasCacheSizeConfig       = "schemas.cache.size"
	DecimalFormatConfig          = "decimal.format"
	ReplaceNullWithDefaultConfig = "replace.null.with.default"
)

// JSONConfigDef is JsonConverterConfig's definition.
var JSONConfigDef = connect.ConfigDef{
	{Name: SchemasEnableConfig, Type: connect.ConfigBoolean, Default: "true", Importance: connect.High, Group: "Schemas",
		DisplayName: "Enable Schemas", Doc: "Include schemas within each of the serialized values and keys."},
	{Name: SchemasCacheSizeConfig, Type: connect.ConfigInt, Default: "1000", Importance: connect.High, Group: "Schemas",
		DisplayName: "Schema Cache Size", Doc: "The maximum number of schemas that can be cached in this converter instance.",
		Check: connect.AtLeast(0)},
	{Name: DecimalFormatConfig, Type: connect.ConfigString, Default: "BASE64", Importance: connect.Low, Group: "Serialization",
		DisplayName: "Decimal Format",
		Doc:         "Controls which format this converter will serialize decimals in. This value is case insensitive and can be either 'BASE64' (default) or 'NUMERIC'",
		Recommended: []string{"BASE64", "NUMERIC"}},
	{Name: ReplaceNullWithDefaultConfig, Type: connect.ConfigBoolean, Default: "true", Importance: connect.Low, Group: "Serialization",
		DisplayName: "Replace null with default",
		Doc:         "Whether to replace fields that have a default value and that are null to the default value. When set to true, the default value is used, otherwise null is used."},
}

// JSONConverter is org.apache.kafka.connect.json.JsonConverter. It is safe
// for concurrent use once configured.
type JSONConverter struct {
	schemasEnabled         bool
	decimalNumeric         bool
	replaceNullWithDefault bool
	cacheSize              int

	mu sync.Mutex
	// toConnect caches parsed schemas by their JSON text, so every record of
	// a topic shares one *Schema and transforms' per-schema caches hit.
	toConnect map[string]*connect.Schema
	// fromConnect caches each schema's JSON by pointer.
	fromConnect map[*connect.Schema][]byte

	// sizeHint is the last output's length: the next buffer starts that big.
	sizeHint atomic.Int64
}

// NewJSONConverter returns a JsonConverter with Kafka's defaults; Configure
// changes them.
func NewJSONConverter() *JSONConverter {
	c := &JSONConverter{}
	if err := c.Configure(nil, false); err != nil {
		panic(err) // the defaults are valid
	}
	return c
}

// Configure implements connect.Converter.
func (c *JSONConverter) Configure(cfg connect.Config, isKey bool) error {
	vals, errs := JSONConfigDef.Parse(cfg)
	if err := firstError(errs); err != nil {
		return err
	}
	c.schemasEnabled = vals.Bool(SchemasEnableConfig)
	c.decimalNumeric = strings.EqualFold(vals.String(DecimalFormatConfig), "NUMERIC")
	c.replaceNullWithDefault = vals.Bool(ReplaceNullWithDefaultConfig)
	c.cacheSize = vals.Int(SchemasCacheSizeConfig)
	c.toConnect = make(map[string]*connect.Schema)
	c.fromConnect = make(map[*connect.Schema][]byte)
	return nil
}

// firstError turns ConfigDef errors into one error, in a stable order.
func firstError(errs map[string][]string) error {
	if len(errs) == 0 {
		return nil
	}
	var msgs []string
	for _, list := range errs {
		msgs = append(msgs, list...)
	}
	slices.Sort(msgs)
	return errors.New(strings.Join(msgs, "; "))
}

// errEnvelope is Kafka's wording, which users search for.
var errEnvelope = errors.New(`JsonConverter with schemas.enable requires "schema" and "payload" fields and may not contain additional fields. If you are trying to deserialize plain JSON data, set schemas.enable=false in your converter configuration.`)

func serializationError(err error) error {
	return fmt.Errorf("Converting byte[] to Kafka Connect data failed due to serialization error: %w", err)
}

// FromConnect implements connect.Converter.
func (c *JSONConverter) FromConnect(topic string, schema *connect.Schema, value any) ([]byte, error) {
	if schema == nil && value == nil {
		return nil, nil
	}
	b := make([]byte, 0, c.sizeHint.Load()+16)
	var err error
	if c.schemasEnabled {
		b = append(b, `{"schema":`...)
		if schema == nil {
			b = append(b, "null"...)
		} else {
			js, err := c.schemaJSON(schema)
			if err != nil {
				return nil, err
			}
			b = append(b, js...)
		}
		b = append(b, `,"payload":`...)
		if b, err = c.appendValue(b, schema, value); err != nil {
			return nil, err
		}
		b = append(b, '}')
	} else if b, err = c.appendValue(b, schema, value); err != nil {
		return nil, err
	}
	c.sizeHint.Store(int64(len(b)))
	return b, nil
}

func (c *JSONConverter) schemaJSON(s *connect.Schema) ([]byte, error) {
	c.mu.Lock()
	js, ok := c.fromConnect[s]
	c.mu.Unlock()
	if ok {
		return js, nil
	}
	js, err := c.appendSchema(nil, s)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.fromConnect) >= c.cacheSize {
		clear(c.fromConnect) // a crude bound; schemas rarely churn
	}
	if c.cacheSize > 0 {
		c.fromConnect[s] = js
	}
	c.mu.Unlock()
	return js, nil
}

// ToConnect implements connect.Converter. A null or empty input is a null
// value without schema (a tombstone).
func (c *JSONConverter) ToConnect(topic string, data []byte) (*connect.Schema, any, error) {
	if len(data) == 0 {
		return nil, nil, nil
	}
	if !c.schemasEnabled {
		p := parser{b: data}
		v, err := p.document()
		if err != nil {
			return nil, nil, serializationError(err)
		}
		return nil, v, nil
	}
	schemaJSON, payload, err := c.envelope(data)
	if err != nil {
		return nil, nil, err
	}
	schema, err := c.cachedSchema(schemaJSON)
	if err != nil {
		return nil, nil, err
	}
	v, err := c.toConnectValue(schema, payload)
	if err != nil {
		return nil, nil, err
	}
	return schema, v, nil
}

// envelope splits {"schema": …, "payload": …}: the schema's bytes (its cache
// key, not parsed here) and the parsed payload.
func (c *JSONConverter) envelope(data []byte) (schemaJSON []byte, payload any, err error) {
	p := parser{b: data, raw: true}
	p.skipSpace()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		// Kafka parses before it checks the shape: bad JSON is a
		// serialization error, good JSON of the wrong shape the envelope one.
		if err := p.skip(); err != nil {
			return nil, nil, serializationError(err)
		}
		if p.skipSpace(); p.i != len(p.b) {
			return nil, nil, serializationError(p.fail("unexpected %q after the JSON value", p.b[p.i]))
		}
		return nil, nil, errEnvelope
	}
	p.i++
	p.depth++
	var hasSchema, hasPayload, other bool
	for first := true; ; first = false {
		p.skipSpace()
		if first && p.i < len(p.b) && p.b[p.i] == '}' {
			p.i++
			break
		}
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, nil, serializationError(p.fail("expected a field name"))
		}
		k, err := p.rawKey()
		if err != nil {
			return nil, nil, serializationError(err)
		}
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, nil, serializationError(p.fail("expected ':' after a field name"))
		}
		p.i++
		switch string(k) {
		case "schema":
			p.skipSpace()
			start := p.i
			if err := p.skip(); err != nil {
				return nil, nil, serializationError(err)
			}
			schemaJSON, hasSchema = data[start:p.i], true
		case "payload":
			if payload, err = p.value(); err != nil {
				return nil, nil, serializationError(err)
			}
			hasPayload = true
		default:
			if err := p.skip(); err != nil {
				return nil, nil, serializationError(err)
			}
			other = true
		}
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil, nil, serializationError(p.fail("unexpected end of input in an object"))
		}
		if p.b[p.i] == '}' {
			p.i++
			break
		}
		if p.b[p.i] != ',' {
			return nil, nil, serializationError(p.fail("expected ',' or '}' in an object"))
		}
		p.i++
	}
	if p.skipSpace(); p.i != len(p.b) {
		return nil, nil, serializationError(p.fail("unexpected %q after the JSON value", p.b[p.i]))
	}
	if other || !hasSchema || !hasPayload {
		return nil, nil, errEnvelope
	}
	return schemaJSON, payload, nil
}

func (c *JSONConverter) cachedSchema(schemaJSON []byte) (*connect.Schema, error) {
	c.mu.Lock()
	s, ok := c.toConnect[string(schemaJSON)]
	c.mu.Unlock()
	if ok {
		return s, nil
	}
	p := parser{b: schemaJSON, raw: true}
	node, err := p.document()
	if err != nil {
		return nil, serializationError(err)
	}
	if s, err = c.toConnectSchema(node); err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.toConnect) >= c.cacheSize {
		clear(c.toConnect)
	}
	if c.cacheSize > 0 {
		c.toConnect[string(schemaJSON)] = s
	}
	c.mu.Unlock()
	return s, nil
}
