package transform

import (
	"fmt"
	"slices"
	"strings"

	"github.com/streambridge/bridge/connect"
)

// ReplaceField's settings; blacklist and whitelist are the names Kafka used
// before 2.6 for exclude and include, still accepted.
const (
	excludeConfig   = "exclude"
	includeConfig   = "include"
	renamesConfig   = "renames"
	blacklistConfig = "blacklist"
	whitelistConfig = "whitelist"
)

var replaceFieldDef = connect.ConfigDef{
	{Name: excludeConfig, Type: connect.ConfigList, Default: "", Importance: connect.Medium,
		Doc: "Fields to exclude. This takes precedence over the fields to include."},
	{Name: blacklistConfig, Type: connect.ConfigList, Default: "", Importance: connect.Low, Doc: "Deprecated. Use exclude instead."},
	{Name: includeConfig, Type: connect.ConfigList, Default: "", Importance: connect.Medium,
		Doc: "Fields to include. If specified, only these fields will be used."},
	{Name: whitelistConfig, Type: connect.ConfigList, Default: "", Importance: connect.Low, Doc: "Deprecated. Use include instead."},
	{Name: renamesConfig, Type: connect.ConfigList, Default: "", Importance: connect.Medium, Doc: "Field rename mappings.",
		Check: func(v any) error { _, err := parseRenames(v.([]string)); return err }},
	replaceNullKey,
}

// parseRenames reads "old:new" pairs. Like Java's String.split, trailing
// empty parts are dropped, so "a:" is refused and ":b" renames "".
func parseRenames(mappings []string) (map[string]string, error) {
	m := make(map[string]string, len(mappings))
	for _, mapping := range mappings {
		parts := strings.Split(mapping, ":")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) != 2 {
			return nil, fmt.Errorf("Invalid rename mapping: %s", mapping)
		}
		m[parts[0]] = parts[1]
	}
	return m, nil
}

// replaceField is org.apache.kafka.connect.transforms.ReplaceField$Key/$Value:
// it drops, keeps and renames fields of a struct or map.
type replaceField struct {
	side             side
	exclude, include []string
	renames, reverse map[string]string
	replaceNull      bool
	cache            schemaCache
}

const replacePurpose = "field replacement"

func (t *replaceField) Configure(cfg connect.Config) error {
	cfg = translateDeprecated(cfg, map[string]string{blacklistConfig: excludeConfig, whitelistConfig: includeConfig})
	vals, err := parseConfig(replaceFieldDef, cfg)
	if err != nil {
		return err
	}
	t.exclude = vals.List(excludeConfig)
	t.include = vals.List(includeConfig)
	t.renames, _ = parseRenames(vals.List(renamesConfig))
	t.reverse = make(map[string]string, len(t.renames))
	for k, v := range t.renames {
		t.reverse[v] = k
	}
	t.replaceNull = vals.Bool(replaceNullConfig)
	return nil
}

// translateDeprecated copies a deprecated setting to its new name when only
// the deprecated one is set (ConfigUtils.translateDeprecatedConfigs).
func translateDeprecated(cfg connect.Config, aliases map[string]string) connect.Config {
	out := make(connect.Config, len(cfg))
	for k, v := range cfg {
		out[k] = v
	}
	for old, current := range aliases {
		if v, ok := cfg[old]; ok {
			if _, set := cfg[current]; !set {
				out[current] = v
			}
		}
	}
	return out
}

func (t *replaceField) filter(name string) bool {
	return !slices.Contains(t.exclude, name) && (len(t.include) == 0 || slices.Contains(t.include, name))
}

func (t *replaceField) renamed(name string) string {
	if n, ok := t.renames[name]; ok {
		return n
	}
	return name
}

func (t *replaceField) reverseRenamed(name string) string {
	if n, ok := t.reverse[name]; ok {
		return n
	}
	return name
}

func (t *replaceField) Apply(r *connect.Record) (*connect.Record, error) {
	v := t.side.value(r)
	if v == nil {
		return r, nil
	}
	if t.side.schema(r) == nil {
		m, err := requireMap(v, replacePurpose)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(m))
		for k, x := range m {
			if t.filter(k) {
				out[t.renamed(k)] = x
			}
		}
		t.side.set(r, nil, out)
		return r, nil
	}
	st, err := requireStruct(v, replacePurpose)
	if err != nil {
		return nil, err
	}
	schema, err := t.cache.get(st.Schema, func(in *connect.Schema) (*connect.Schema, error) {
		s := copySchemaBasics(in)
		for _, f := range in.Fields {
			if t.filter(f.Name) {
				if err := addField(s, t.renamed(f.Name), f.Schema); err != nil {
					return nil, err
				}
			}
		}
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	out := connect.NewStruct(schema)
	for i, f := range schema.Fields {
		if src := st.Schema.Field(t.reverseRenamed(f.Name)); src != nil {
			out.Values[i] = fieldValue(st, src.Index, t.replaceNull)
		}
	}
	t.side.set(r, schema, out)
	return r, nil
}
