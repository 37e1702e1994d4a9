package awsapi

import (
	"testing"
)

func TestViolations(t *testing.T) {
	p := func(s string) *string { return &s }
	n := func(i int) *int { return &i }
	namePattern := Anchored(`[a-zA-Z0-9_.-]+`)
	for _, tc := range []struct {
		name  string
		check func(v *Violations)
		want  string // "" for no error
	}{
		{"none", func(v *Violations) {
			v.Required("streamName", true)
			v.Str("streamName", p("s"), 1, 128, namePattern)
			v.Str("streamName", nil, 1, 128, namePattern)
			v.IntRange("limit", n(5), 1, 10)
			v.IntRange("limit", nil, 1, 10)
			v.OneOf("mode", p("ON_DEMAND"), "PROVISIONED", "ON_DEMAND")
			v.OneOf("mode", nil, "PROVISIONED")
		}, ""},
		{"null", func(v *Violations) { v.Required("streamName", false) },
			"1 validation error detected: Value null at 'streamName' failed to satisfy constraint: Member must not be null"},
		{"too long", func(v *Violations) { v.Str("streamName", p(string(make([]byte, 129))), 1, 128, nil) },
			"1 validation error detected: Value '" + string(make([]byte, 129)) + "' at 'streamName' failed to satisfy constraint: Member must have length less than or equal to 128"},
		{"length counts characters", func(v *Violations) { v.Str("k", p("ééé"), 1, 3, nil) }, ""},
		{"pattern before length", func(v *Violations) { v.Str("streamName", p(""), 1, 128, namePattern) },
			"2 validation errors detected: Value '' at 'streamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; " +
				"Value '' at 'streamName' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"range", func(v *Violations) { v.IntRange("shardCount", n(0), 1, 10); v.IntRange("limit", n(11), 1, 10) },
			"2 validation errors detected: Value '0' at 'shardCount' failed to satisfy constraint: Member must have value greater than or equal to 1; " +
				"Value '11' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 10"},
		{"enum", func(v *Violations) { v.OneOf("streamMode", p("FAST"), "PROVISIONED", "ON_DEMAND") },
			"1 validation error detected: Value 'FAST' at 'streamMode' failed to satisfy constraint: Member must satisfy enum value set: [PROVISIONED, ON_DEMAND]"},
		{"values as AWS prints them", func(v *Violations) {
			var i64 int64 = 7
			v.Fail("a", (*string)(nil), "x")
			v.Fail("b", &i64, "y")
			v.Fail("c", true, "z")
		}, "3 validation errors detected: Value null at 'a' failed to satisfy constraint: Member must x; Value '7' at 'b' failed to satisfy constraint: Member must y; Value 'true' at 'c' failed to satisfy constraint: Member must z"},
		{"own wording appended", func(v *Violations) { *v = append(*v, "Either StreamName or StreamARN should be provided.") },
			"1 validation error detected: Either StreamName or StreamARN should be provided."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var v Violations
			tc.check(&v)
			err := v.Err()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Err() = %v", err)
				}
				return
			}
			if err == nil || err.Type != TypeValidation || err.StatusCode() != 400 || err.Message != tc.want {
				t.Fatalf("Err() = %+v\nwant message %q", err, tc.want)
			}
		})
	}
}
