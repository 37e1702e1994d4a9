package s3

import (
	"math"
	"math/big"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
)

func TestJSONFormat(t *testing.T) {
	ts := &connect.Schema{Type: connect.TypeInt64, Name: connect.LogicalTimestamp}
	date := &connect.Schema{Type: connect.TypeInt32, Name: connect.LogicalDate}
	dec := &connect.Schema{Type: connect.TypeBytes, Name: connect.LogicalDecimal, Parameters: map[string]string{"scale": "2"}}
	schema := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{
		{Name: "z", Index: 0, Schema: &connect.Schema{Type: connect.TypeString}},
		{Name: "a", Index: 1, Schema: ts},
		{Name: "d", Index: 2, Schema: date},
		{Name: "price", Index: 3, Schema: dec},
		{Name: "raw", Index: 4, Schema: &connect.Schema{Type: connect.TypeBytes}},
		{Name: "f", Index: 5, Schema: &connect.Schema{Type: connect.TypeFloat32}},
		{Name: "tags", Index: 6, Schema: &connect.Schema{Type: connect.TypeArray, Value: &connect.Schema{Type: connect.TypeString}}},
		{Name: "opt", Index: 7, Schema: &connect.Schema{Type: connect.TypeString, Optional: true}},
	}}
	st := connect.NewStruct(schema)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, v := range map[string]any{"z": "<b>é\"", "a": at, "d": time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		"price": big.NewInt(-12345), "raw": []byte{0, 1, 2}, "f": float32(1.1), "tags": []any{"x", "y"}} {
		if err := st.Put(name, v); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name   string
		schema *connect.Schema
		value  any
		want   string
	}{
		{"struct in field order", schema, st, `{"z":"<b>é\"","a":1767323045000,"d":20455,"price":"z8c=","raw":"AAEC","f":1.1,"tags":["x","y"],"opt":null}`},
		{"map sorted", nil, map[string]any{"b": int64(1), "a": []any{true, nil, 2.5}}, `{"a":[true,null,2.5],"b":1}`},
		{"string", nil, "plain", `"plain"`},
		{"positive decimal", dec, big.NewInt(128), `"AIA="`},
	} {
		got, err := jsonFormat{}.append(nil, &connect.Record{ValueSchema: tc.schema, Value: tc.value})
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if string(got) != tc.want+"\n" {
			t.Errorf("%s: %s\nwant %s", tc.name, got, tc.want)
		}
	}
	for _, bad := range []any{math.NaN(), struct{}{}, map[string]any{"x": math.Inf(1)}} {
		if _, err := (jsonFormat{}).append(nil, &connect.Record{Value: bad}); err == nil {
			t.Errorf("%v written as JSON", bad)
		}
	}
}
