package plugins

import (
	"context"
	"testing"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
)

// Every built-in plugin registers once (Register panics on a duplicate
// class), has a type and exactly the constructor of its type.
func TestRegistry(t *testing.T) {
	for _, p := range Registry().Plugins() {
		n := 0
		for _, set := range []bool{p.NewSource != nil, p.NewSink != nil, p.NewConverter != nil, p.NewTransform != nil, p.NewPredicate != nil} {
			if set {
				n++
			}
		}
		ok := map[connect.PluginType]bool{
			connect.PluginSource: p.NewSource != nil, connect.PluginSink: p.NewSink != nil,
			connect.PluginConverter: p.NewConverter != nil, connect.PluginHeaderConverter: p.NewConverter != nil,
			connect.PluginTransformation: p.NewTransform != nil, connect.PluginPredicate: p.NewPredicate != nil,
		}[p.Type]
		if n != 1 || !ok {
			t.Errorf("%s (%s) has %d constructors, or not its type's", p.Class, p.Type, n)
		}
	}
}

// Every built-in connector validates through the herder: a configuration
// with only its class answers per-field errors (never a panic or a refusal
// of the whole request), and the answer lists the plugin's own settings.
func TestConnectorsValidate(t *testing.T) {
	reg := Registry()
	h, err := herder.New(herder.Config{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range reg.Plugins(connect.PluginSource, connect.PluginSink) {
		infos, err := h.Validate(context.Background(), connect.Config{"connector.class": p.Class, "name": "x"})
		if err != nil {
			t.Errorf("%s: %v", p.Class, err)
			continue
		}
		listed := map[string]bool{}
		for _, c := range infos.Configs {
			listed[c.Definition.Name] = true
		}
		for _, k := range p.Config {
			if !listed[k.Name] {
				t.Errorf("%s: validate does not list %s", p.Class, k.Name)
			}
		}
	}
}
