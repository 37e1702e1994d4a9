package connect

import (
	"reflect"
	"testing"
)

func TestAliases(t *testing.T) {
	for class, want := range map[string][]string{
		"org.apache.kafka.connect.file.FileStreamSourceConnector": {"FileStreamSourceConnector", "FileStreamSource"},
		"org.apache.kafka.connect.json.JsonConverter":             {"JsonConverter", "Json"},
		"org.apache.kafka.connect.transforms.InsertField$Value":   {"InsertField$Value"},
	} {
		if got := Aliases(class); !reflect.DeepEqual(got, want) {
			t.Errorf("Aliases(%s) = %q, want %q", class, got, want)
		}
	}
	var r Registry
	r.Register(Plugin{Class: "a.b.XConnector", Type: PluginSource})
	if p, ok := r.Lookup("X"); !ok || p.Class != "a.b.XConnector" {
		t.Errorf("Lookup(X) = %v, %v", p, ok)
	}
}

func TestConfigDefParse(t *testing.T) {
	def := ConfigDef{
		{Name: "topic", Type: ConfigString, Required: true, Check: NonEmpty},
		{Name: "tasks", Type: ConfigInt, Default: "1", Check: Between(1, 10)},
		{Name: "mode", Type: ConfigString, Default: "a", Recommended: []string{"a", "b"}},
		{Name: "list", Type: ConfigList, Default: " x, ,y "},
		{Name: "on", Type: ConfigBoolean, Default: "false"},
		{Name: "level", Type: ConfigString, Default: "low", Recommended: []string{"low", "high"}, CaseInsensitive: true},
	}
	tests := []struct {
		cfg  Config
		errs map[string][]string
	}{
		{Config{"topic": "t"}, nil},
		{Config{}, map[string][]string{"topic": {`Missing required configuration "topic" which has no default value.`}}},
		{Config{"topic": "", "tasks": "x", "mode": "c", "on": "yes"}, map[string][]string{
			"topic": {"Invalid value  for configuration topic: String must be non-empty"},
			"tasks": {"Invalid value x for configuration tasks: Not a number of type INT"},
			"mode":  {"Invalid value c for configuration mode: String must be one of: a, b"},
			"on":    {"Invalid value yes for configuration on: Expected value to be either true or false"},
		}},
		{Config{"topic": "t", "tasks": "11"}, map[string][]string{"tasks": {"Invalid value 11 for configuration tasks: Value must be no more than 10"}}},
		{Config{"topic": "t", "level": "HIGH"}, nil},
		{Config{"topic": "t", "level": "mid"}, map[string][]string{"level": {"Invalid value mid for configuration level: String must be one of (case insensitive): LOW, HIGH"}}},
	}
	for _, tt := range tests {
		vals, errs := def.Parse(tt.cfg)
		if !reflect.DeepEqual(errs, tt.errs) {
			t.Errorf("Parse(%v) errors = %q, want %q", tt.cfg, errs, tt.errs)
		}
		if errs == nil {
			if got := vals.List("list"); !reflect.DeepEqual(got, []string{"x", "y"}) {
				t.Errorf("list = %q", got)
			}
			if vals.Int("tasks") != 1 || vals.Bool("on") {
				t.Errorf("defaults not applied: %v", vals)
			}
		}
	}
}
