package transform

import (
	"fmt"
	"slices"
	"strings"

	"github.com/streambridge/bridge/connect"
)

// The per-alias settings of a connector's transforms and predicates.
const (
	typeSuffix      = "type"
	predicateSuffix = "predicate"
	negateSuffix    = "negate"
)

// Chain is a connector's transformation chain: its transforms in the order
// of the transforms setting, each with an optional predicate (negated or
// not) deciding whether it applies to a record.
type Chain struct {
	stages []stage
}

type stage struct {
	alias     string
	transform connect.Transform
	predicate connect.Predicate
	negate    bool
}

// TransformError is a transform's failure, naming the transform's alias; its
// message is the transform's own.
type TransformError struct {
	Alias string
	Err   error
}

func (e *TransformError) Error() string { return e.Err.Error() }
func (e *TransformError) Unwrap() error { return e.Err }

// NewChain builds the chain a connector configuration describes, with the
// plugins of reg. It fails with every problem ValidateChain reports.
func NewChain(reg *connect.Registry, cfg connect.Config) (*Chain, error) {
	chain, errs := build(reg, cfg)
	if len(errs) > 0 {
		var msgs []string
		for _, list := range errs {
			msgs = append(msgs, list...)
		}
		slices.Sort(msgs)
		return nil, fmt.Errorf("invalid transformation chain: %s", strings.Join(msgs, "; "))
	}
	return chain, nil
}

// ValidateChain checks the transforms and predicates settings of a connector
// configuration and returns the errors per setting (prefixed names such as
// "transforms.route.regex"), worded as Kafka's validate answer words them;
// nil when the chain is valid.
func ValidateChain(reg *connect.Registry, cfg connect.Config) map[string][]string {
	_, errs := build(reg, cfg)
	return errs
}

// Apply runs rec through the chain and returns the result, or nil when a
// transform dropped it. rec itself is never modified.
func (c *Chain) Apply(rec *connect.Record) (*connect.Record, error) {
	if c == nil || len(c.stages) == 0 || rec == nil {
		return rec, nil
	}
	r := new(connect.Record)
	*r = *rec
	for _, s := range c.stages {
		if s.predicate != nil && s.predicate.Test(r) == s.negate {
			continue
		}
		out, err := s.transform.Apply(r)
		if err != nil {
			return nil, &TransformError{Alias: s.alias, Err: err}
		}
		if out == nil {
			return nil, nil
		}
		r = out
	}
	return r, nil
}

// Len returns the number of transforms in the chain.
func (c *Chain) Len() int {
	if c == nil {
		return 0
	}
	return len(c.stages)
}

type errorSet map[string][]string

func (e *errorSet) add(key, msg string) {
	if *e == nil {
		*e = make(errorSet)
	}
	(*e)[key] = append((*e)[key], msg)
}

// aliases parses a list setting, refusing duplicates as Kafka's
// aliasValidator does.
func aliases(cfg connect.Config, key string, errs *errorSet) []string {
	raw, ok := cfg[key]
	if !ok {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	dup := false
	for _, a := range strings.Split(raw, ",") {
		if a = strings.TrimSpace(a); a == "" {
			continue
		}
		if seen[a] {
			dup = true
			continue
		}
		seen[a] = true
		out = append(out, a)
	}
	if dup {
		errs.add(key, fmt.Sprintf("Invalid value %s for configuration %s: Duplicate alias provided.", raw, key))
	}
	return out
}

// subConfig is the plugin's own configuration: the keys under prefix, with
// the prefix removed (Kafka's originalsWithPrefix).
func subConfig(cfg connect.Config, prefix string) connect.Config {
	out := connect.Config{}
	for k, v := range cfg {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			out[rest] = v
		}
	}
	return out
}

// prefixed is def with every name under prefix, so that its messages name
// the connector's keys ("transforms.route.regex"), as Kafka's embedded
// ConfigDefs do. Names in skip are left out.
func prefixed(def connect.ConfigDef, prefix string, skip ...string) connect.ConfigDef {
	out := make(connect.ConfigDef, 0, len(def))
	for _, k := range def {
		if slices.Contains(skip, k.Name) {
			continue
		}
		k.Name = prefix + k.Name
		out = append(out, k)
	}
	return out
}

// lookup finds the plugin a type key names, of the wanted plugin type.
func lookup(reg *connect.Registry, cfg connect.Config, typeKey string, want connect.PluginType, kind string, errs *errorSet) (connect.Plugin, bool) {
	class, ok := cfg[typeKey]
	if !ok {
		errs.add(typeKey, fmt.Sprintf("Missing required configuration %q which has no default value.", typeKey))
		return connect.Plugin{}, false
	}
	class = strings.TrimSpace(class)
	p, found := reg.Lookup(class)
	if !found {
		errs.add(typeKey, fmt.Sprintf("Invalid value %s for configuration %s: Class %s could not be found.", class, typeKey, class))
		return connect.Plugin{}, false
	}
	if p.Type != want {
		errs.add(typeKey, fmt.Sprintf("Invalid value %s for configuration %s: Not a %s", class, typeKey, kind))
		return connect.Plugin{}, false
	}
	return p, true
}

func build(reg *connect.Registry, cfg connect.Config) (*Chain, map[string][]string) {
	var errs errorSet
	transforms := aliases(cfg, connect.TransformsConfig, &errs)
	predicateAliases := aliases(cfg, connect.PredicatesConfig, &errs)

	predicates := make(map[string]connect.Predicate, len(predicateAliases))
	for _, alias := range predicateAliases {
		prefix := connect.PredicatesConfig + "." + alias + "."
		typeKey := prefix + typeSuffix
		p, ok := lookup(reg, cfg, typeKey, connect.PluginPredicate, "Predicate", &errs)
		if !ok {
			continue
		}
		if perrs := prefixed(p.Config, prefix).Validate(cfg); len(perrs) > 0 {
			for k, list := range perrs {
				for _, m := range list {
					errs.add(k, m)
				}
			}
			continue
		}
		pred := p.NewPredicate()
		if err := pred.Configure(subConfig(cfg, prefix)); err != nil {
			errs.add(typeKey, err.Error())
			continue
		}
		predicates[alias] = pred
	}

	chain := &Chain{}
	for _, alias := range transforms {
		prefix := connect.TransformsConfig + "." + alias + "."
		typeKey := prefix + typeSuffix
		predKey, negKey := prefix+predicateSuffix, prefix+negateSuffix
		_, hasPred := cfg[predKey]
		rawNegate, hasNegate := cfg[negKey]
		if hasNegate && !hasPred {
			errs.add(typeKey, fmt.Sprintf("Config '%s' was provided but there is no config '%s' defining a predicate to be negated.", negKey, predKey))
		}
		p, ok := lookup(reg, cfg, typeKey, connect.PluginTransformation, "Transformation", &errs)
		if !ok {
			continue
		}
		st := stage{alias: alias}
		if hasNegate {
			switch strings.ToLower(strings.TrimSpace(rawNegate)) {
			case "true":
				st.negate = true
			case "false":
			default:
				errs.add(negKey, fmt.Sprintf("Invalid value %s for configuration %s: Expected value to be either true or false", rawNegate, negKey))
			}
		}
		if predAlias := strings.TrimSpace(cfg[predKey]); hasPred && predAlias != "" {
			switch pred, ok := predicates[predAlias]; {
			case ok:
				st.predicate = pred
			case slices.Contains(predicateAliases, predAlias):
				// The predicate's own errors are reported under its keys.
			default:
				errs.add(predKey, fmt.Sprintf("Invalid value %s for configuration %s: There is no predicate with alias '%s' in '%s'", predAlias, predKey, predAlias, connect.PredicatesConfig))
			}
		}
		// The implicit predicate and negate settings mask a plugin's own.
		if terrs := prefixed(p.Config, prefix, predicateSuffix, negateSuffix).Validate(cfg); len(terrs) > 0 {
			for k, list := range terrs {
				for _, m := range list {
					errs.add(k, m)
				}
			}
			continue
		}
		t := p.NewTransform()
		if err := t.Configure(subConfig(cfg, prefix)); err != nil {
			errs.add(typeKey, err.Error())
			continue
		}
		st.transform = t
		chain.stages = append(chain.stages, st)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return chain, nil
}

// ChainDef returns the definitions of the per-alias settings cfg's
// transforms and predicates lists bring, as Kafka's enriched ConnectorConfig
// has them, for the validate answer's configs: for each transform alias
// "transforms.A.type", "transforms.A.predicate", "transforms.A.negate" and
// the plugin's own settings under "transforms.A." (group "Transforms: A");
// for each predicate alias "predicates.P.type" and its plugin's settings
// (group "Predicates: P"). An alias whose class is missing or unknown has
// only its type setting.
func ChainDef(reg *connect.Registry, cfg connect.Config) connect.ConfigDef {
	var def connect.ConfigDef
	var ignored errorSet
	for _, alias := range aliases(cfg, connect.TransformsConfig, &ignored) {
		prefix := connect.TransformsConfig + "." + alias + "."
		group := "Transforms: " + alias
		def = append(def,
			connect.ConfigKey{Name: prefix + typeSuffix, Type: connect.ConfigClass, Required: true, Importance: connect.High, Group: group,
				Doc: "Class for the '" + alias + "' transformation.", DisplayName: "Transformation type for " + alias},
			connect.ConfigKey{Name: prefix + predicateSuffix, Type: connect.ConfigString, Importance: connect.Medium, Group: group,
				Doc: "The alias of a predicate used to determine whether to apply this transformation."},
			connect.ConfigKey{Name: prefix + negateSuffix, Type: connect.ConfigBoolean, Default: "false", Importance: connect.Medium, Group: group,
				Doc: "Whether the configured predicate should be negated."},
		)
		if p, ok := reg.Lookup(strings.TrimSpace(cfg[prefix+typeSuffix])); ok && p.Type == connect.PluginTransformation {
			def = append(def, grouped(prefixed(p.Config, prefix, predicateSuffix, negateSuffix), group)...)
		}
	}
	for _, alias := range aliases(cfg, connect.PredicatesConfig, &ignored) {
		prefix := connect.PredicatesConfig + "." + alias + "."
		group := "Predicates: " + alias
		def = append(def, connect.ConfigKey{Name: prefix + typeSuffix, Type: connect.ConfigClass, Required: true, Importance: connect.High,
			Group: group, Doc: "Class for the '" + alias + "' predicate.", DisplayName: "Predicate type for " + alias})
		if p, ok := reg.Lookup(strings.TrimSpace(cfg[prefix+typeSuffix])); ok && p.Type == connect.PluginPredicate {
			def = append(def, grouped(prefixed(p.Config, prefix), group)...)
		}
	}
	return def
}

// grouped puts every key of def in group, as ConfigDef.embed does.
func grouped(def connect.ConfigDef, group string) connect.ConfigDef {
	for i := range def {
		def[i].Group = group
	}
	return def
}
