package http

import (
	"bytes"
	"encoding/json"
	"math"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
)

func TestEncodeJSON(t *testing.T) {
	point := &connect.Schema{Type: connect.TypeStruct, Fields: []connect.Field{
		{Name: "x", Index: 0, Schema: &connect.Schema{Type: connect.TypeInt32}},
		{Name: "tags", Index: 1, Schema: &connect.Schema{Type: connect.TypeArray, Value: &connect.Schema{Type: connect.TypeString}}},
		{Name: "note", Index: 2, Schema: &connect.Schema{Type: connect.TypeString, Optional: true}},
	}}
	st := connect.NewStruct(point)
	st.Put("x", int32(3))
	st.Put("tags", []any{"a", "b"})
	ts := time.Date(2024, 1, 2, 3, 4, 5, 6e6, time.UTC)
	tests := []struct {
		name   string
		schema *connect.Schema
		value  any
		want   string
	}{
		{"null", nil, nil, `null`},
		{"string", nil, "a<b>&\"c\"\n", `"a<b>&\"c\"\n"`},
		{"json bytes", nil, []byte("{ \"a\" : [1, 2] }"), `{"a":[1,2]}`},
		{"other bytes", nil, []byte{0xff, 0x00, 'x'}, `"/wB4"`},
		{"int", nil, int64(-7), `-7`},
		{"float", nil, 2.5, `2.5`},
		{"big float", nil, 1e21, `1e+21`},
		{"nan", nil, math.NaN(), `"NaN"`},
		{"bool", nil, true, `true`},
		{"map sorted", nil, map[string]any{"b": int32(1), "a": []any{nil, "x"}}, `{"a":[null,"x"],"b":1}`},
		{"struct", point, st, `{"x":3,"tags":["a","b"],"note":null}`},
		{"timestamp", &connect.Schema{Type: connect.TypeInt64, Name: connect.LogicalTimestamp}, ts, `1704164645006`},
		{"date", &connect.Schema{Type: connect.TypeInt32, Name: connect.LogicalDate}, time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC), `-1`},
		{"time", &connect.Schema{Type: connect.TypeInt32, Name: connect.LogicalTime}, ts, `11045006`},
		{"decimal", &connect.Schema{Type: connect.TypeBytes, Name: connect.LogicalDecimal, Parameters: map[string]string{"scale": "3"}}, big.NewInt(-5), `-0.005`},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		if err := encodeJSON(&b, tt.schema, tt.value); err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if b.String() != tt.want {
			t.Errorf("%s: encodeJSON = %s, want %s", tt.name, b.String(), tt.want)
		}
	}
	var b bytes.Buffer
	if err := encodeJSON(&b, nil, struct{}{}); err == nil {
		t.Error("encodeJSON of a Go struct succeeded")
	}
}

func TestSingleBody(t *testing.T) {
	tests := []struct {
		value       any
		body, ctype string
	}{
		{"plain", "plain", "text/plain; charset=utf-8"},
		{[]byte(`{"a":1}`), `{"a":1}`, "application/json"},
		{[]byte{1, 2}, "\x01\x02", "application/octet-stream"},
		{map[string]any{"k": "v"}, `{"k":"v"}`, "application/json"},
		{nil, `null`, "application/json"},
	}
	for _, tt := range tests {
		body, ctype, err := singleBody(nil, tt.value)
		if err != nil || string(body) != tt.body || ctype != tt.ctype {
			t.Errorf("singleBody(%v) = %q, %q, %v; want %q, %q", tt.value, body, ctype, err, tt.body, tt.ctype)
		}
	}
}

func TestParseHeaders(t *testing.T) {
	tests := []struct {
		in      string
		want    []header
		wantErr bool
	}{
		{"", nil, false},
		{"X-Api-Key:abc|X-Source: bridge ", []header{{"X-Api-Key", "abc"}, {"X-Source", "bridge"}}, false},
		{"Authorization:Basic a:b||", []header{{"Authorization", "Basic a:b"}}, false},
		{"NoColon", nil, true},
		{"Bad Name:x", nil, true},
		{":x", nil, true},
	}
	for _, tt := range tests {
		got, err := parseHeaders(tt.in)
		if (err != nil) != tt.wantErr || !slices.Equal(got, tt.want) {
			t.Errorf("parseHeaders(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		"0":                             0,
		"-4":                            0,
		"soon":                          0,
		"99999999999":                   maxRetryAfter,
		"Thu, 01 Jan 2026 00:00:30 GMT": 30 * time.Second,
		"Wed, 31 Dec 2025 00:00:00 GMT": 0,
	} {
		if got := retryAfter(in, now); got != want {
			t.Errorf("retryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzParseHeaders checks that any http.headers value either fails cleanly
// or yields headers net/http accepts, and that Retry-After never yields a
// negative or unbounded wait.
func FuzzParseHeaders(f *testing.F) {
	for _, s := range []string{"", "A:b|C:d", "A:b\r\nX:y", "A::|B", "|||", "Ü:x", "A:" + string(rune(0))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		hs, err := parseHeaders(s)
		if err != nil {
			return
		}
		for _, h := range hs {
			if !validToken(h.name) || bytes.ContainsAny([]byte(h.value), "\r\n\x00") {
				t.Fatalf("parseHeaders(%q) accepted %q", s, h)
			}
		}
		if d := retryAfter(s, time.Unix(0, 0)); d < 0 || d > maxRetryAfter {
			t.Fatalf("retryAfter(%q) = %v", s, d)
		}
	})
}

// FuzzEncodeBytes checks that every bytes value becomes one valid JSON value
// with no newline in it (ndjson's one line per record).
func FuzzEncodeBytes(f *testing.F) {
	for _, s := range []string{`{"a": 1}`, "[1,\n2]", "\xff", `"x"`, "", "  3  "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		var b bytes.Buffer
		if err := encodeJSON(&b, nil, in); err != nil {
			t.Fatal(err)
		}
		if !jsonValid(b.Bytes()) || bytes.ContainsRune(b.Bytes(), '\n') {
			t.Fatalf("encodeJSON(%q) = %q", in, b.Bytes())
		}
	})
}

func jsonValid(b []byte) bool { return json.Valid(b) }
