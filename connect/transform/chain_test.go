package transform

import (
	"errors"
	"reflect"
	"sync"
	"testing"

	"github.com/streambridge/bridge/connect"
)

func TestChainApply(t *testing.T) {
	cfg := connect.Config{
		"transforms":                          "dropTombstones, route ,hoist,tag",
		"transforms.dropTombstones.type":      "org.apache.kafka.connect.transforms.Filter",
		"transforms.dropTombstones.predicate": "isTombstone",
		"transforms.route.type":               "RegexRouter",
		"transforms.route.regex":              "orders-(.*)",
		"transforms.route.replacement":        "$1-orders",
		"transforms.route.predicate":          "internal",
		"transforms.route.negate":             "true",
		"transforms.hoist.type":               "org.apache.kafka.connect.transforms.HoistField$Value",
		"transforms.hoist.field":              "payload",
		"transforms.tag.type":                 "InsertHeader",
		"transforms.tag.header":               "via",
		"transforms.tag.value.literal":        "bridge",
		"transforms.tag.predicate":            "hasTrace",
		"predicates":                          "isTombstone,internal,hasTrace",
		"predicates.isTombstone.type":         "org.apache.kafka.connect.transforms.predicates.RecordIsTombstone",
		"predicates.internal.type":            "TopicNameMatches",
		"predicates.internal.pattern":         "orders-internal",
		"predicates.hasTrace.type":            "org.apache.kafka.connect.transforms.predicates.HasHeaderKey",
		"predicates.hasTrace.name":            "trace",
	}
	if errs := ValidateChain(registry(), cfg); errs != nil {
		t.Fatalf("ValidateChain: %v", errs)
	}
	chain, err := NewChain(registry(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if chain.Len() != 4 {
		t.Fatalf("Len = %d", chain.Len())
	}
	trace := []connect.Header{{Key: "trace", Value: []byte("1")}}
	tests := []struct {
		name string
		in   connect.Record
		want *connect.Record
	}{
		{"tombstone dropped", connect.Record{Topic: "orders-eu"}, nil},
		{"routed and hoisted", connect.Record{Topic: "orders-eu", Value: "v"},
			&connect.Record{Topic: "eu-orders", Value: map[string]any{"payload": "v"}}},
		{"negated predicate holds: not routed", connect.Record{Topic: "orders-internal", Value: "v"},
			&connect.Record{Topic: "orders-internal", Value: map[string]any{"payload": "v"}}},
		{"header added only with trace", connect.Record{Topic: "x", Value: "v", Headers: trace},
			&connect.Record{Topic: "x", Value: map[string]any{"payload": "v"}, Headers: append(trace[:1:1], connect.Header{Key: "via", Value: []byte("bridge")})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			before := tt.in
			out, err := chain.Apply(&in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(out, tt.want) {
				t.Errorf("got %+v, want %+v", deref(out), deref(tt.want))
			}
			if !reflect.DeepEqual(in, before) {
				t.Errorf("input modified: %+v", in)
			}
		})
	}

	// An empty configuration is an empty chain that passes records through.
	empty, err := NewChain(registry(), connect.Config{"name": "x"})
	if err != nil || empty.Len() != 0 {
		t.Fatalf("empty chain: %v %v", empty, err)
	}
	r := &connect.Record{Topic: "t"}
	if out, _ := empty.Apply(r); out != r {
		t.Errorf("empty chain changed the record")
	}
}

func TestChainError(t *testing.T) {
	chain, err := NewChain(registry(), connect.Config{"transforms": "x", "transforms.x.type": "ExtractField$Value", "transforms.x.field": "f"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = chain.Apply(&connect.Record{Value: "not a map"})
	var te *TransformError
	if !errors.As(err, &te) || te.Alias != "x" ||
		err.Error() != "Only Map objects supported in absence of schema for [field extraction], found: java.lang.String" {
		t.Errorf("err = %v", err)
	}
}

// Records from several tasks' goroutines share nothing but the transforms'
// schema caches; run with -race.
func TestChainConcurrent(t *testing.T) {
	chain, err := NewChain(registry(), connect.Config{"transforms": "i", "transforms.i.type": "InsertField$Value", "transforms.i.topic.field": "t"})
	if err != nil {
		t.Fatal(err)
	}
	s := structSchema("", 0, "a", int32Schema)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 200 {
				out, err := chain.Apply(&connect.Record{Topic: "x", Offset: -1, ValueSchema: s, Value: structOf(s, int32(i))})
				if err != nil || out.Value.(*connect.Struct).Values[1] != "x" {
					t.Errorf("Apply = %v, %v", out, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestValidateChain(t *testing.T) {
	tests := []struct {
		name string
		cfg  connect.Config
		want map[string][]string
	}{
		{"duplicate alias", connect.Config{"transforms": "a,a", "transforms.a.type": "Filter"},
			map[string][]string{"transforms": {"Invalid value a,a for configuration transforms: Duplicate alias provided."}}},
		{"missing type", connect.Config{"transforms": "a"},
			map[string][]string{"transforms.a.type": {`Missing required configuration "transforms.a.type" which has no default value.`}}},
		{"unknown class", connect.Config{"transforms": "a", "transforms.a.type": "com.example.Nope"},
			map[string][]string{"transforms.a.type": {"Invalid value com.example.Nope for configuration transforms.a.type: Class com.example.Nope could not be found."}}},
		{"not a transformation", connect.Config{"transforms": "a", "transforms.a.type": "RecordIsTombstone"},
			map[string][]string{"transforms.a.type": {"Invalid value RecordIsTombstone for configuration transforms.a.type: Not a Transformation"}}},
		{"not a predicate", connect.Config{"predicates": "p", "predicates.p.type": "Filter"},
			map[string][]string{"predicates.p.type": {"Invalid value Filter for configuration predicates.p.type: Not a Predicate"}}},
		{"plugin setting missing", connect.Config{"transforms": "r", "transforms.r.type": "RegexRouter", "transforms.r.regex": "x"},
			map[string][]string{"transforms.r.replacement": {`Missing required configuration "transforms.r.replacement" which has no default value.`}}},
		{"plugin setting invalid", connect.Config{"transforms": "r", "transforms.r.type": "RegexRouter", "transforms.r.regex": "(", "transforms.r.replacement": "x"},
			map[string][]string{"transforms.r.regex": {"Invalid value ( for configuration transforms.r.regex: error parsing regexp: missing closing ): `^(?:()$`"}}},
		{"predicate setting missing", connect.Config{"predicates": "p", "predicates.p.type": "TopicNameMatches"},
			map[string][]string{"predicates.p.pattern": {`Missing required configuration "predicates.p.pattern" which has no default value.`}}},
		{"negate without predicate", connect.Config{"transforms": "a", "transforms.a.type": "Filter", "transforms.a.negate": "true"},
			map[string][]string{"transforms.a.type": {"Config 'transforms.a.negate' was provided but there is no config 'transforms.a.predicate' defining a predicate to be negated."}}},
		{"undefined predicate", connect.Config{"transforms": "a", "transforms.a.type": "Filter", "transforms.a.predicate": "p"},
			map[string][]string{"transforms.a.predicate": {"Invalid value p for configuration transforms.a.predicate: There is no predicate with alias 'p' in 'predicates'"}}},
		{"bad negate", connect.Config{"transforms": "a", "transforms.a.type": "Filter", "transforms.a.predicate": "p", "transforms.a.negate": "maybe",
			"predicates": "p", "predicates.p.type": "RecordIsTombstone"},
			map[string][]string{"transforms.a.negate": {"Invalid value maybe for configuration transforms.a.negate: Expected value to be either true or false"}}},
		{"configure error", connect.Config{"transforms": "s", "transforms.s.type": "SetSchemaMetadata$Value"},
			map[string][]string{"transforms.s.type": {"Neither schema name nor version configured"}}},
		{"valid", connect.Config{"transforms": "s", "transforms.s.type": "SetSchemaMetadata$Value", "transforms.s.schema.name": "n"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ValidateChain(registry(), tt.cfg)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if _, err := NewChain(registry(), tt.cfg); (err == nil) != (tt.want == nil) {
				t.Errorf("NewChain err = %v", err)
			}
		})
	}
}

func TestChainDef(t *testing.T) {
	def := ChainDef(registry(), connect.Config{
		"transforms": "r,x", "transforms.r.type": "RegexRouter", "transforms.x.type": "Nope",
		"predicates": "p", "predicates.p.type": "HasHeaderKey",
	})
	var names []string
	for _, k := range def {
		names = append(names, k.Name+" ("+k.Group+")")
	}
	want := []string{
		"transforms.r.type (Transforms: r)", "transforms.r.predicate (Transforms: r)", "transforms.r.negate (Transforms: r)",
		"transforms.r.regex (Transforms: r)", "transforms.r.replacement (Transforms: r)",
		"transforms.x.type (Transforms: x)", "transforms.x.predicate (Transforms: x)", "transforms.x.negate (Transforms: x)",
		"predicates.p.type (Predicates: p)", "predicates.p.name (Predicates: p)",
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("got  %q\nwant %q", names, want)
	}
	// The plugin's own definitions are copied, never changed.
	p, _ := registry().Lookup("RegexRouter")
	if p.Config[0].Name != "regex" || p.Config[0].Group != "" {
		t.Errorf("plugin definition modified: %+v", p.Config[0])
	}
}
