package kinesis

import (
	"net/http"
	"testing"
)

func TestUnknownOperationAndBadBodies(t *testing.T) {
	ts := startTestServer(t)
	for _, tc := range []struct {
		op, wantType string
		body         any
	}{
		{"NoSuchThing", errUnknownOperation, map[string]any{}},
	} {
		status, out := ts.call(t, tc.op, tc.body)
		if status != http.StatusBadRequest || out["__type"] != tc.wantType {
			t.Errorf("%s: %d %v, want 400 %s", tc.op, status, out, tc.wantType)
		}
	}
}
