package kafkaclient

import (
	"maps"
	"testing"
)

func TestParseJAAS(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     []JAASEntry
		err      string
	}{
		{name: "scram", in: `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="al;ce=secret";`,
			want: []JAASEntry{{ScramLoginModule, "required", map[string]string{"username": "alice", "password": "al;ce=secret"}}}},
		{name: "unquoted values and upper-case flag", in: "org.apache.kafka.common.security.plain.PlainLoginModule REQUIRED\n  username=bob\n  password=pw;",
			want: []JAASEntry{{PlainLoginModule, "required", map[string]string{"username": "bob", "password": "pw"}}}},
		{name: "single quotes, escapes and comments", in: `/* c */ m optional a='x\ty' // rest of line
 b="q\"\101";`,
			want: []JAASEntry{{"m", "optional", map[string]string{"a": "x\ty", "b": `q"A`}}}},
		{name: "no options", in: "software.amazon.msk.auth.iam.IAMLoginModule required;",
			want: []JAASEntry{{IAMLoginModule, "required", map[string]string{}}}},
		{name: "two modules", in: "a required; b sufficient x=1;",
			want: []JAASEntry{{"a", "required", map[string]string{}}, {"b", "sufficient", map[string]string{"x": "1"}}}},
		{name: "empty", in: "  // only a comment", err: "Login module not specified in JAAS config"},
		{name: "no flag", in: "m", err: "Login module control flag not specified in JAAS config"},
		{name: "bad flag", in: "m always;", err: "Invalid login module control flag 'always' in JAAS config"},
		{name: "no semicolon", in: `m required a="b"`, err: "JAAS config entry not terminated by semi-colon"},
		{name: "no value", in: `m required a=;`, err: "Value not specified for key 'a' in JAAS config"},
		{name: "no equals", in: `m required a b;`, err: "Value not specified for key 'a' in JAAS config"},
		{name: "unquoted slash starts a comment", in: `m required arn=arn:aws:iam::1:role/x;`, err: "JAAS config entry not terminated by semi-colon"},
		{name: "module is punctuation", in: `; m required;`, err: "Login module not specified in JAAS config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseJAAS(tc.in)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v; want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v; want %+v", got, tc.want)
			}
			for i := range got {
				if got[i].Module != tc.want[i].Module || got[i].Flag != tc.want[i].Flag || !maps.Equal(got[i].Options, tc.want[i].Options) {
					t.Fatalf("entry %d: got %+v; want %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// FuzzParseJAAS: any text gives entries or an error, never a panic, and
// every entry has a module and a known flag.
func FuzzParseJAAS(f *testing.F) {
	for _, s := range []string{
		`org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="secret";`,
		"m required a=b c='d';", `m optional a="\777\0";`, "/* x", "m required a=\"unterminated\n;", `\`, "a required; b optional;",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		entries, err := ParseJAAS(s)
		if err != nil {
			return
		}
		for _, e := range entries {
			switch e.Flag {
			case "required", "requisite", "sufficient", "optional":
			default:
				t.Fatalf("flag %q", e.Flag)
			}
			if e.Module == "" && len(entries) == 0 {
				t.Fatal("no module")
			}
		}
	})
}
