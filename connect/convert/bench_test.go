package convert

import (
	"testing"

	"github.com/streambridge/bridge/connect"
)

// BenchmarkJSONConverter measures one record each way, schemaless and in the
// envelope, on a record shaped like a typical event.
func BenchmarkJSONConverter(b *testing.B) {
	schema := &connect.Schema{Type: connect.TypeStruct, Name: "event", Fields: []connect.Field{
		{Name: "id", Index: 0, Schema: &connect.Schema{Type: connect.TypeInt64}},
		{Name: "user", Index: 1, Schema: &connect.Schema{Type: connect.TypeString}},
		{Name: "amount", Index: 2, Schema: &connect.Schema{Type: connect.TypeFloat64}},
		{Name: "tags", Index: 3, Schema: &connect.Schema{Type: connect.TypeArray, Value: &connect.Schema{Type: connect.TypeString}}},
		{Name: "ok", Index: 4, Schema: &connect.Schema{Type: connect.TypeBoolean, Optional: true}},
	}}
	st := &connect.Struct{Schema: schema, Values: []any{int64(123456), "alice@example.com", 42.5, []any{"a", "bb", "ccc"}, true}}
	plain := map[string]any{"id": int64(123456), "user": "alice@example.com", "amount": 42.5, "tags": []any{"a", "bb", "ccc"}, "ok": true}
	for _, bc := range []struct {
		name   string
		cfg    connect.Config
		schema *connect.Schema
		value  any
	}{
		{"schemaless", connect.Config{"schemas.enable": "false"}, nil, plain},
		{"envelope", nil, schema, st},
	} {
		c := jsonConverter(b, bc.cfg)
		data, err := c.FromConnect("t", bc.schema, bc.value)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name+"/FromConnect", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := c.FromConnect("t", bc.schema, bc.value); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/ToConnect", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, _, err := c.ToConnect("t", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
