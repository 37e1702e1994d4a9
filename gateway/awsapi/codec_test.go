package awsapi

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

func TestTimestampCodecs(t *testing.T) {
	ts := Timestamp{Time: time.UnixMilli(1700000000123)}
	j, err := JSON11{}.Encode(ts)
	if err != nil || string(j) != "1700000000.123" {
		t.Fatalf("json %s, %v", j, err)
	}
	var back Timestamp
	if err := (JSON11{}).Decode(j, &back); err != nil || !back.Equal(ts.Time) {
		t.Fatalf("json back %v, %v", back, err)
	}
	c, err := CBOR{}.Encode(ts)
	if err != nil {
		t.Fatal(err)
	}
	// tag 1 (0xc1), then uint64 1700000000123 (0x1b + 8 bytes).
	if c[0] != 0xc1 || c[1] != 0x1b {
		t.Fatalf("cbor % x: want tag 1 around a uint64", c)
	}
	back = Timestamp{}
	if err := (CBOR{}).Decode(c, &back); err != nil || !back.Equal(ts.Time) {
		t.Fatalf("cbor back %v, %v", back, err)
	}
}

// What clients send for a timestamp besides the canonical forms.
func TestTimestampDecodeForms(t *testing.T) {
	want := time.UnixMilli(1700000000500)
	for _, body := range []string{`1700000000.5`, `"1700000000.5"`, `"2023-11-14T22:13:20.5Z"`} {
		var ts Timestamp
		if err := (JSON11{}).Decode([]byte(body), &ts); err != nil || !ts.Equal(want) {
			t.Errorf("JSON %s: %v, %v; want %v", body, ts.Time, err, want)
		}
	}
	var ts Timestamp
	if err := (JSON11{}).Decode([]byte(`null`), &ts); err != nil || !ts.IsZero() {
		t.Errorf("JSON null: %v, %v", ts.Time, err)
	}
	if err := (JSON11{}).Decode([]byte(`"soon"`), &ts); err == nil {
		t.Error("JSON \"soon\" decoded")
	}
	if got := fromEpochSeconds(math.NaN()); !got.IsZero() {
		t.Errorf("NaN seconds = %v, want the zero time", got)
	}
	// CBOR: untagged integers and floats are epoch milliseconds too.
	for _, body := range [][]byte{
		{0x1b, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x69, 0xf4},             // uint64
		{0xc1, 0xfb, 0x42, 0x78, 0xbc, 0xfe, 0x56, 0x9f, 0x40, 0x00}, // tag 1 around a float64
	} {
		ts = Timestamp{}
		if err := (CBOR{}).Decode(body, &ts); err != nil || !ts.Equal(want) {
			t.Errorf("CBOR % x: %v, %v; want %v", body, ts.Time, err, want)
		}
	}
	if err := (CBOR{}).Decode([]byte{0xc2, 0x01}, &ts); err == nil {
		t.Error("CBOR tag 2 decoded as a timestamp")
	}
}

func TestDecodeRules(t *testing.T) {
	type in struct {
		Name *string `json:"Name"`
	}
	for _, tc := range []struct {
		name    string
		c       Codec
		body    string
		wantErr string // "" for success
	}{
		{"json empty", JSON11{}, "", ""},
		{"json blank", JSON10{}, " \n\t", ""},
		{"json object", JSON11{}, `{"Name":"x"}`, ""},
		{"json trailing document", JSON11{}, `{"Name":"x"} {}`, "Unexpected content after the end of the JSON document"},
		{"json trailing garbage", JSON10{}, `{"Name":"x"}]`, "Unexpected content after the end of the JSON document"},
		{"json wrong type", JSON11{}, `{"Name":1}`, "Unexpected value type for member Name: want string"},
		{"json syntax", JSON11{}, `{"Name":`, "unexpected EOF"},
		{"cbor empty", CBOR{}, "", ""},
		{"cbor object", CBOR{}, "\xa1\x64Name\x61x", ""},
		{"cbor trailing data", CBOR{}, "\xa1\x64Name\x61x\x00", "extraneous data"},
		{"cbor duplicate key", CBOR{}, "\xa2\x64Name\x61x\x64Name\x61y", "duplicate map key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v in
			err := tc.c.Decode([]byte(tc.body), &v)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Decode = %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Type != TypeSerialization || e.StatusCode() != 400 || !strings.Contains(e.Message, tc.wantErr) {
				t.Fatalf("Decode = %v, want a 400 SerializationException saying %q", err, tc.wantErr)
			}
		})
	}
}

func TestCodecs(t *testing.T) {
	for _, tc := range []struct {
		c      Codec
		ct     string
		isJSON bool
	}{
		{JSON10{}, "application/x-amz-json-1.0", true},
		{JSON11{}, "application/x-amz-json-1.1", true},
		{CBOR{}, "application/x-amz-cbor-1.1", false},
	} {
		if tc.c.ContentType() != tc.ct || IsJSON(tc.c) != tc.isJSON {
			t.Errorf("%T: content type %q, IsJSON %v", tc.c, tc.c.ContentType(), IsJSON(tc.c))
		}
	}
}
