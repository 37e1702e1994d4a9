package connect

import (
	"fmt"
	"slices"
	"strings"
)

// PluginType is a plugin's type as GET /connector-plugins reports it.
type PluginType string

// The plugin types.
const (
	PluginSource          PluginType = "source"
	PluginSink            PluginType = "sink"
	PluginConverter       PluginType = "converter"
	PluginHeaderConverter PluginType = "header_converter"
	PluginTransformation  PluginType = "transformation"
	PluginPredicate       PluginType = "predicate"
)

// Plugin describes one built-in plugin. Exactly the New function of its Type
// is set.
type Plugin struct {
	// Class is the Java-style class name configurations use
	// ("org.apache.kafka.connect.json.JsonConverter",
	// "io.streambridge.connect.kinesis.KinesisSourceConnector"); Kafka's own
	// names are kept for plugins that do what Kafka's do.
	Class   string
	Type    PluginType
	Version string
	// Config describes the plugin's own settings (without the runtime's
	// common ones such as tasks.max or transforms).
	Config ConfigDef
	// Doc is one line for listings and the README.
	Doc string

	NewSource    func() SourceConnector
	NewSink      func() SinkConnector
	NewConverter func() Converter
	NewTransform func() Transform
	NewPredicate func() Predicate
}

// Registry holds the plugins a worker knows. The zero value is empty and
// ready; it is not safe for concurrent Register calls (build it at startup).
type Registry struct {
	plugins []Plugin
	byName  map[string]int
}

// Register adds plugins. It panics on a class registered twice: that is a
// programming error in the list of built-ins.
func (r *Registry) Register(ps ...Plugin) {
	if r.byName == nil {
		r.byName = make(map[string]int)
	}
	for _, p := range ps {
		if _, dup := r.byName[p.Class]; dup {
			panic(fmt.Sprintf("connect: plugin %s registered twice", p.Class))
		}
		r.plugins = append(r.plugins, p)
		i := len(r.plugins) - 1
		r.byName[p.Class] = i
		for _, alias := range Aliases(p.Class) {
			if _, taken := r.byName[alias]; !taken {
				r.byName[alias] = i
			}
		}
	}
}

// Lookup finds a plugin by class name or alias.
func (r *Registry) Lookup(name string) (Plugin, bool) {
	i, ok := r.byName[name]
	if !ok {
		return Plugin{}, false
	}
	return r.plugins[i], true
}

// Plugins returns the registered plugins of the given types (all when none
// are given), sorted by class.
func (r *Registry) Plugins(types ...PluginType) []Plugin {
	var out []Plugin
	for _, p := range r.plugins {
		if len(types) == 0 || slices.Contains(types, p.Type) {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b Plugin) int { return strings.Compare(a.Class, b.Class) })
	return out
}

// Aliases returns the short names Kafka Connect accepts for a class: the
// simple name, and for connectors and converters the simple name without its
// "Connector" or "Converter" suffix ("FileStreamSource"). Nested classes
// (InsertField$Value) have the outer class in their simple name.
func Aliases(class string) []string {
	simple := class[strings.LastIndexByte(class, '.')+1:]
	out := []string{simple}
	for _, suffix := range []string{"Connector", "Converter"} {
		if short, ok := strings.CutSuffix(simple, suffix); ok && short != "" {
			out = append(out, short)
		}
	}
	return out
}
