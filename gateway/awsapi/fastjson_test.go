package awsapi

import (
	"encoding/json"
	"testing"
)

// Text and Int32Ptr decode what they take as encoding/json does, and give
// up on the rest (giving up is always allowed: encoding/json then decodes).
func TestJSONScannerAgreesWithEncodingJSON(t *testing.T) {
	for _, tc := range []struct {
		doc    string
		isText bool
		ok     bool
	}{
		{`"plain"`, true, true},
		{`"with \"quotes\" and \\ and \/ \b\f\n\r\t"`, true, true},
		{`"café ☕"`, true, true},
		{`"\u00e9"`, true, false}, // \u escapes are left to encoding/json
		{"\"bad \xff utf8\"", true, false},
		{"\"ctl \x01\"", true, false},
		{`"\q"`, true, false},
		{`"unterminated`, true, false},
		{`0`, false, true},
		{`-12`, false, true},
		{`2147483647`, false, true},
		{`2147483648`, false, false},
		{`01`, false, false},
		{`1.0`, false, false},
		{`1e3`, false, false},
		{`-`, false, false},
	} {
		d := JSONScanner{B: []byte(tc.doc)}
		if tc.isText {
			got, ok := d.Text()
			if ok != tc.ok {
				t.Errorf("Text(%q) ok = %v, want %v", tc.doc, ok, tc.ok)
				continue
			}
			var want string
			if ok && (json.Unmarshal([]byte(tc.doc), &want) != nil || want != got) {
				t.Errorf("Text(%q) = %q, encoding/json %q", tc.doc, got, want)
			}
			continue
		}
		var got *int32
		ok := d.Int32Ptr(&got) && d.End()
		if ok != tc.ok {
			t.Errorf("Int32Ptr(%q) ok = %v, want %v", tc.doc, ok, tc.ok)
			continue
		}
		var want int32
		if ok && (json.Unmarshal([]byte(tc.doc), &want) != nil || want != *got) {
			t.Errorf("Int32Ptr(%q) = %d, encoding/json %d", tc.doc, *got, want)
		}
	}
}
