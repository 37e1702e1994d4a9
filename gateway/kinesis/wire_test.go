package kinesis

import (
	"net/http"
	"testing"
	"time"
)

func TestTimestampCodecs(t *testing.T) {
	ts := Timestamp{time.UnixMilli(1700000000123)}
	j, err := jsonCodec{}.encode(ts)
	if err != nil || string(j) != "1700000000.123" {
		t.Fatalf("json %s, %v", j, err)
	}
	var back Timestamp
	if err := (jsonCodec{}).decode(j, &back); err != nil || !back.Equal(ts.Time) {
		t.Fatalf("json back %v, %v", back, err)
	}
	c, err := cborCodec{}.encode(ts)
	if err != nil {
		t.Fatal(err)
	}
	// tag 1 (0xc1), then uint64 1700000000123 (0x1b + 8 bytes).
	if c[0] != 0xc1 || c[1] != 0x1b {
		t.Fatalf("cbor % x: want tag 1 around a uint64", c)
	}
	back = Timestamp{}
	if err := (cborCodec{}).decode(c, &back); err != nil || !back.Equal(ts.Time) {
		t.Fatalf("cbor back %v, %v", back, err)
	}
}

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
