package plugins

import (
	"testing"

	"github.com/streambridge/bridge/connect"
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
