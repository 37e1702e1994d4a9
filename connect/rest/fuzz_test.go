package rest

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect/herder"
)

// Whatever a client sends, the body decoders answer an error or a value,
// never a panic.
func FuzzBodies(f *testing.F) {
	f.Add(`{"name":"a","config":{"connector.class":"X","tasks.max":2,"on":true,"gone":null}}`)
	f.Add(`{"offsets":[{"partition":{"f":"a","n":[1,{"x":2.5}]},"offset":{"pos":1e300}}]}`)
	f.Add(`{"a":{"b":1}}`)
	f.Add(`[1,2]`)
	f.Add(`{"name":`)
	f.Add(`{} {}`)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest("POST", "/connectors", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		_, _, _, _ = readCreate(req)
		req = httptest.NewRequest("PUT", "/x", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		_, _, _ = readConfig(req)
		var offs herder.Offsets
		_ = decodeOffsets([]byte(body), &offs)
	})
}
