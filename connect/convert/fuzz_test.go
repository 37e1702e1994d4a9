package convert

import (
	"bytes"
	"testing"

	"github.com/streambridge/bridge/connect"
)

// FuzzJSONToConnect feeds arbitrary bytes to both JsonConverter modes: it
// must never panic, and whatever it accepts must write back to bytes that
// read and write again identically (FromConnect∘ToConnect is stable).
func FuzzJSONToConnect(f *testing.F) {
	for _, seed := range []string{
		`{ "schema": { "type": "boolean" }, "payload": true }`,
		`{ "schema": { "type": "struct", "fields": [{ "field": "field1", "type": "boolean" }, { "field": "field2", "type": "string" }] }, "payload": { "field1": true, "field2": "string" } }`,
		`{ "schema": { "type": "map", "keys": { "type" : "int32" }, "values": { "type" : "int32" } }, "payload": [ [1, 12], [2, 15] ] }`,
		`{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": "AJw=" }`,
		`{ "schema": { "type": "bytes", "name": "org.apache.kafka.connect.data.Decimal", "version": 1, "parameters": { "scale": "2" } }, "payload": 1.56 }`,
		`{ "schema": { "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp", "version": 1, "default": 42 }, "payload": null }`,
		`{ "schema": { "type": "array", "items": { "type" : "double" } }, "payload": [1, 2.5e3, "NaN"] }`,
		`{ "schema": null, "payload": { "field1": 1, "field2": [1.0, "\u00e9\ud83d\ude00", null, false] } }`,
		`{"a":"\ud800","b":-0,"c":1e400,"d":123456789012345678901234567890}`,
		`[1, "2", 3]`, `"x"`, `12.5`, ``, `{`, `nul`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, cfg := range []connect.Config{nil, {"schemas.enable": "false"}, {"decimal.format": "NUMERIC"}} {
			c := jsonConverter(t, cfg)
			s, v, err := c.ToConnect("t", data)
			if err != nil {
				continue
			}
			b1, err := c.FromConnect("t", s, v)
			if err != nil {
				continue // e.g. a required field the payload left null
			}
			s2, v2, err := c.ToConnect("t", b1)
			if err != nil {
				t.Fatalf("cfg %v: cannot read back %q (from %q): %v", cfg, b1, data, err)
			}
			b2, err := c.FromConnect("t", s2, v2)
			if err != nil {
				t.Fatalf("cfg %v: cannot write again %q: %v", cfg, b1, err)
			}
			s3, v3, err := c.ToConnect("t", b2)
			if err != nil {
				t.Fatalf("cfg %v: cannot read %q: %v", cfg, b2, err)
			}
			b3, err := c.FromConnect("t", s3, v3)
			if err != nil || !bytes.Equal(b2, b3) {
				t.Fatalf("cfg %v: unstable: %q then %q (%v)", cfg, b2, b3, err)
			}
		}
	})
}

// FuzzConverters feeds arbitrary bytes to every converter of Plugins():
// ToConnect never panics, and what it accepts writes back to the same bytes
// (the simple converters are exact) or to bytes that read back equal (JSON).
func FuzzConverters(f *testing.F) {
	for _, seed := range []string{"", "\x00\x00\x00\x01", "\x3f\x80\x00\x00\x00\x00\x00\x00", "héllo", `{"schema":null,"payload":1}`, "\xff\xfe"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range Plugins() {
			for _, cfg := range []connect.Config{nil, {"schemas.enable": "false", "converter.encoding": "ISO-8859-1"}} {
				c := p.NewConverter()
				if err := c.Configure(cfg, false); err != nil {
					t.Fatal(err)
				}
				s, v, err := c.ToConnect("t", data)
				if err != nil {
					continue
				}
				b, err := c.FromConnect("t", s, v)
				if err != nil {
					continue
				}
				if p.Class != "org.apache.kafka.connect.json.JsonConverter" && len(data) > 0 && !bytes.Equal(b, data) {
					t.Fatalf("%s: %q came back as %q", p.Class, data, b)
				}
			}
		}
	})
}
