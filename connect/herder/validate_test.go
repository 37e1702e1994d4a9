package herder_test

import (
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder/herdertest"
)

func sinkConfig(extra ...string) connect.Config {
	cfg := connect.Config{"name": "snk", "connector.class": herdertest.SinkClass, "topics": "a,b"}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "<unset>" {
			delete(cfg, extra[i])
			continue
		}
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  connect.Config
		errs map[string][]string
	}{
		{"valid sink", sinkConfig(), nil},
		{"valid source", sourceConfig("s"), nil},
		{"source without its required setting", sourceConfig("s", "topic", ""), map[string][]string{
			"topic": {"Invalid value  for configuration topic: String must be non-empty"}}},
		{"bad common settings", sinkConfig("tasks.max", "0", "errors.tolerance", "some"), map[string][]string{
			"tasks.max":        {"Invalid value 0 for configuration tasks.max: Value must be at least 1"},
			"errors.tolerance": {"Invalid value some for configuration errors.tolerance: String must be one of: none, all"}}},
		{"no topics", sinkConfig("topics", "<unset>"), map[string][]string{
			"topics":       {"Must configure one of topics or topics.regex"},
			"topics.regex": {"Must configure one of topics or topics.regex"}}},
		{"both topics", sinkConfig("topics.regex", "a.*"), map[string][]string{
			"topics":       {"topics and topics.regex are mutually exclusive options, but both are set."},
			"topics.regex": {"topics and topics.regex are mutually exclusive options, but both are set."}}},
		{"bad regex", sinkConfig("topics", "<unset>", "topics.regex", "a("), map[string][]string{
			"topics.regex": {"Invalid value a( for configuration topics.regex: error parsing regexp: missing closing ): `^(?:a()$`"}}},
		{"dlq among topics", sinkConfig("errors.deadletterqueue.topic.name", "b"), map[string][]string{
			"topics": {"The DLQ topic 'b' may not be included in the list of topics ('topics=[a, b]') to be consumed by the connector"}}},
		{"dlq matching regex", sinkConfig("topics", "<unset>", "topics.regex", "d.*", "errors.deadletterqueue.topic.name", "dlq"), map[string][]string{
			"topics.regex": {"The DLQ topic 'dlq' may not be included in the regex matching the topics ('topics.regex=d.*') to be consumed by the connector"}}},
		{"connector's own rule", sinkConfig("dir", "/"), map[string][]string{"dir": {"The sink may not write to /"}}},
		{"unknown converter", sinkConfig("value.converter", "x.Nope"), map[string][]string{
			"value.converter": {"Invalid value x.Nope for configuration value.converter: Class x.Nope could not be found."}}},
		{"converter refusing its settings", sinkConfig("key.converter", "TestConverter", "key.converter.fail", "true"), map[string][]string{
			"key.converter": {"Invalid value TestConverter for configuration key.converter: the converter was told to fail"}}},
		{"converter class that is a transform", sinkConfig("key.converter", herdertest.TransformClass), map[string][]string{
			"key.converter": {"Invalid value " + herdertest.TransformClass + " for configuration key.converter: Class " + herdertest.TransformClass + " could not be found."}}},
		{"valid transform and predicate", sinkConfig("transforms", "up", "transforms.up.type", "Upper", "transforms.up.field", "f",
			"transforms.up.predicate", "p", "predicates", "p", "predicates.p.type", herdertest.PredicateClass), nil},
		{"transform without type or own setting", sinkConfig("transforms", "up, x", "transforms.x.type", "Upper", "transforms.x.field", "bad"), map[string][]string{
			"transforms.up.type": {`Missing required configuration "transforms.up.type" which has no default value.`},
			"transforms.x.type":  {"Invalid value Upper for configuration transforms.x.type: field may not be bad"}}},
		{"transform missing its required setting", sinkConfig("transforms", "up", "transforms.up.type", "Upper"), map[string][]string{
			"transforms.up.field": {`Missing required configuration "transforms.up.field" which has no default value.`}}},
		{"unknown predicate alias and class", sinkConfig("transforms", "up", "transforms.up.type", "Upper", "transforms.up.field", "f",
			"transforms.up.predicate", "q", "predicates", "p,p", "predicates.p.type", "Nope"), map[string][]string{
			"transforms.up.predicate": {"Invalid value q for configuration transforms.up.predicate: there is no predicate with the alias q in predicates"},
			"predicates":              {"Invalid value p,p for configuration predicates: Duplicate alias provided."},
			"predicates.p.type":       {"Invalid value Nope for configuration predicates.p.type: Class Nope could not be found."}}},
	}
	h, _ := started(t, "")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			infos, err := h.Validate(context.Background(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			n := 0
			for _, c := range infos.Configs {
				if c.Definition.Name != c.Value.Name {
					t.Errorf("definition %s has value %s", c.Definition.Name, c.Value.Name)
				}
				if len(c.Value.Errors) > 0 {
					got[c.Value.Name] = c.Value.Errors
					n += len(c.Value.Errors)
				}
			}
			if len(tt.errs) == 0 && len(got) == 0 {
				got = nil
			}
			if !reflect.DeepEqual(got, tt.errs) {
				t.Errorf("errors\n  %q\nwant\n  %q", got, tt.errs)
			}
			if infos.ErrorCount != n {
				t.Errorf("error_count %d, %d errors listed", infos.ErrorCount, n)
			}
			_, _, err = h.Put(context.Background(), tt.cfg["name"], tt.cfg, true, "")
			if (err == nil) != (n == 0) {
				t.Errorf("Put = %v with %d validation errors", err, n)
			}
			if n > 0 && (code(err) != 400 || !strings.HasPrefix(err.Error(), "Connector configuration is invalid and contains the following ")) {
				t.Errorf("Put refused with %v", err)
			}
		})
	}
}

func TestValidateAnswerShape(t *testing.T) {
	h, _ := started(t, "")
	infos, err := h.Validate(context.Background(), sourceConfig("s", "secret", "p4ss", "transforms", "up", "transforms.up.type", "Upper"))
	if err != nil {
		t.Fatal(err)
	}
	if infos.Name != herdertest.SourceClass {
		t.Errorf("name = %s", infos.Name)
	}
	wantGroups := []string{"Common", "Transforms", "Predicates", "Error Handling", "Exactly Once Support", "Transforms: up", "Test"}
	if !slices.Equal(infos.Groups, wantGroups) {
		t.Errorf("groups = %q, want %q", infos.Groups, wantGroups)
	}
	byName := map[string]int{}
	for i, c := range infos.Configs {
		byName[c.Definition.Name] = i
	}
	secret := infos.Configs[byName["secret"]]
	if secret.Value.Value == nil || *secret.Value.Value != "[hidden]" || secret.Definition.Type != "PASSWORD" {
		t.Errorf("password shown as %+v", secret)
	}
	tasksMax := infos.Configs[byName["tasks.max"]]
	if tasksMax.Definition.DefaultValue == nil || *tasksMax.Definition.DefaultValue != "1" || tasksMax.Definition.Order != 3 || *tasksMax.Definition.Group != "Common" {
		t.Errorf("tasks.max definition %+v", tasksMax.Definition)
	}
	name := infos.Configs[byName["name"]]
	if name.Definition.DefaultValue != nil || !name.Definition.Required || name.Value.Value == nil || *name.Value.Value != "s" {
		t.Errorf("name %+v", name)
	}
	for _, key := range []string{"transforms.up.type", "transforms.up.negate", "transforms.up.predicate", "transforms.up.field"} {
		if _, ok := byName[key]; !ok {
			t.Errorf("no %s in %v", key, slices.Collect(maps.Keys(byName)))
		}
	}
	tol := infos.Configs[byName["errors.tolerance"]]
	if !slices.Equal(tol.Value.RecommendedValues, []string{"none", "all"}) {
		t.Errorf("recommended values %q", tol.Value.RecommendedValues)
	}

	for cfg, want := range map[string]connect.Config{
		"Connector config {name=x} contains no connector type": {"name": "x"},
		"Failed to find any class that implements Connector and which name matches Nope, available connectors are: " +
			herdertest.SinkClass + ", " + herdertest.SourceClass: {"connector.class": "Nope"},
	} {
		if _, err := h.Validate(context.Background(), want); code(err) != 400 || err.Error() != cfg {
			t.Errorf("Validate(%v) = %v, want %q", want, err, cfg)
		}
	}
}
