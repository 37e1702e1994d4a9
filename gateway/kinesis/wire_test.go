package kinesis

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/streambridge/bridge/store"
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

// A backend that cannot do an operation gets InvalidArgumentException, the
// way Kinesis words a feature a stream cannot have; other unknown errors
// stay InternalFailure.
func TestUnsupportedIsInvalidArgument(t *testing.T) {
	h := &Handler{cfg: Config{Account: "000000000000"}}
	e := h.storeError("s", fmt.Errorf("resharding a Kafka backend: %w", errors.ErrUnsupported))
	if e.Status != http.StatusBadRequest || e.Type != errInvalidArgument || e.Message != "resharding a Kafka backend: unsupported operation" {
		t.Errorf("unsupported: %+v", e)
	}
	e = h.storeError("s", &store.UnsupportedError{Backend: "kafka", Op: "SplitShard"})
	if e.Status != http.StatusBadRequest || e.Type != errInvalidArgument || e.Message != "SplitShard is not supported by the kafka backend" {
		t.Errorf("store.UnsupportedError: %+v", e)
	}
	if e := h.storeError("s", errors.New("disk on fire")); e.Status != http.StatusInternalServerError || e.Type != errInternalFailure {
		t.Errorf("other: %+v", e)
	}
}
