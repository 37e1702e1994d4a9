package transform

import (
	"reflect"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
)

// TestThroughKafka runs what a source task's records go through (chain,
// converters, a produce) and what a sink task's go through (a fetch,
// converters) against a Kafka broker (kfake on 127.0.0.1): every record,
// tombstones included, comes back as the Connect data the chain made.
func TestThroughKafka(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "eu-orders"))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()

	reg := &connect.Registry{}
	reg.Register(convert.Plugins()...)
	reg.Register(Plugins()...)
	chain, err := NewChain(reg, connect.Config{
		"transforms":                   "route,tag",
		"transforms.route.type":        "RegexRouter",
		"transforms.route.regex":       "orders-(.*)",
		"transforms.route.replacement": "$1-orders",
		"transforms.tag.type":          "InsertField$Value",
		"transforms.tag.static.field":  "origin",
		"transforms.tag.static.value":  "bridge",
	})
	if err != nil {
		t.Fatal(err)
	}
	converter := func(class string, cfg connect.Config, isKey bool) connect.Converter {
		p, _ := reg.Lookup(class)
		c := p.NewConverter()
		if err := c.Configure(cfg, isKey); err != nil {
			t.Fatal(err)
		}
		return c
	}
	keys := converter("IntegerConverter", nil, true)
	values := converter("JsonConverter", connect.Config{"schemas.enable": "true"}, false)

	order := structSchema("order", 1, "id", int64Schema, "item", stringSchema)
	var want []connect.Record
	cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics("eu-orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range 20 {
		rec := connect.Record{Topic: "orders-eu", Partition: connect.NoPartition, Offset: -1,
			KeySchema: convert.OptionalInt32Schema, Key: int32(i),
			SourcePartition: map[string]any{"file": "x"}, SourceOffset: map[string]any{"line": i}}
		if i%5 != 4 {
			rec.ValueSchema, rec.Value = order, structOf(order, int64(i), "item")
		} // else a tombstone, which InsertField leaves alone
		out, err := chain.Apply(&rec)
		if err != nil {
			t.Fatal(err)
		}
		k, err := keys.FromConnect(out.Topic, out.KeySchema, out.Key)
		if err != nil {
			t.Fatal(err)
		}
		v, err := values.FromConnect(out.Topic, out.ValueSchema, out.Value)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.ProduceSync(t.Context(), &kgo.Record{Topic: out.Topic, Key: k, Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		want = append(want, *out)
	}

	var got []*kgo.Record
	for len(got) < len(want) {
		fs := cl.PollFetches(t.Context())
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		got = append(got, fs.Records()...)
	}
	for i, r := range got {
		ks, k, err := keys.ToConnect(r.Topic, r.Key)
		if err != nil {
			t.Fatal(err)
		}
		vs, v, err := values.ToConnect(r.Topic, r.Value)
		if err != nil {
			t.Fatal(err)
		}
		w := want[i]
		if r.Topic != "eu-orders" || ks != convert.OptionalInt32Schema || k != w.Key {
			t.Errorf("record %d: topic %s key %v, want eu-orders %v", i, r.Topic, k, w.Key)
		}
		if w.Value == nil {
			if r.Value != nil || vs != nil || v != nil {
				t.Errorf("record %d: tombstone came back as %q", i, r.Value)
			}
			continue
		}
		st := v.(*connect.Struct)
		if !reflect.DeepEqual(st.Values, w.Value.(*connect.Struct).Values) || vs.Name != "order" || vs.Field("origin") == nil {
			t.Errorf("record %d: value %v %+v, want %v", i, st.Values, vs, w.Value)
		}
	}
}
