package principal

import (
	"errors"
	"strings"
	"testing"
)

// The cases of Kafka's SslPrincipalMapperTest, in its order, as tables.
// Java string literals are written here as Go raw strings holding the same
// text (Java's "\\\\" is `\\`).

func TestValidRules(t *testing.T) { // testValidRules
	for _, rules := range []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/L",
		"RULE:^cn=(.?),ou=(.?),dc=(.?),dc=(.?)$/$1@$2/U",
		"RULE:^CN=([^,ADEFLTU,]+)(,.*|$)/$1/",
		"RULE:^CN=([^,DEFAULT,]+)(,.*|$)/$1/",
	} {
		if _, err := ParseRules(rules); err != nil {
			t.Errorf("ParseRules(%q): %v", rules, err)
		}
	}
}

func TestInvalidRules(t *testing.T) { // testInvalidRules
	for _, rules := range []string{
		"default",
		"DEFAUL",
		"DEFAULT/L",
		"DEFAULT/U",
		"RULE:CN=(.*?),OU=ServiceUsers.*/$1",
		"rule:^CN=(.*?),OU=ServiceUsers.*$/$1/",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/L",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/U",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/LU",
		// Not Kafka's: patterns RE2 cannot run.
		`RULE:^CN=(a)\1$/$1/`,
		`RULE:^CN=(?=x).*$/$1/`,
	} {
		if rs, err := ParseRules(rules); err == nil {
			t.Errorf("ParseRules(%q) = %v, want an error", rules, rs)
		}
	}
}

func TestSslPrincipalMapper(t *testing.T) { // testSslPrincipalMapper
	rs, err := ParseRules(strings.Join([]string{
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L",
		"RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L",
		"RULE:^cn=(.*?),ou=(.*?),dc=(.*?),dc=(.*?)$/$1@$2/U",
		"RULE:^.*[Cc][Nn]=([a-zA-Z0-9.]*).*$/$1/U",
		"DEFAULT",
	}, ", "))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dn, want string }{
		{"CN=Duke,OU=ServiceUsers,O=Org,C=US", "duke"},
		{"CN=Duke,OU=SME,O=mycp,L=Fulton,ST=MD,C=US", "duke@sme"},
		{"cn=duke,ou=sme,dc=mycp,dc=com", "DUKE@SME"},
		{"cN=duke,OU=JavaSoft,O=Sun Microsystems", "DUKE"},
		{"OU=JavaSoft,O=Sun Microsystems,C=US", "OU=JavaSoft,O=Sun Microsystems,C=US"},
	} {
		if got, err := rs.Map(tc.dn); err != nil || got != tc.want {
			t.Errorf("Map(%q) = %q, %v; want %q", tc.dn, got, err, tc.want)
		}
	}
}

func TestRulesSplitting(t *testing.T) { // testRulesSplitting: "seeing is believing"
	for _, tc := range []struct{ rules, want string }{
		{"", "[]"},
		{"DEFAULT", "[DEFAULT]"},
		{"RULE://", "[RULE:/]"},
		{"RULE:/.*/", "[RULE:/.*]"},
		{"RULE:/.*/L", "[RULE:/.*/L]"},
		{"RULE://,DEFAULT", "[RULE:/, DEFAULT]"},
		{"  RULE:// ,  DEFAULT  ", "[RULE:/, DEFAULT]"},
		{"  RULE:   /     / ,  DEFAULT  ", "[RULE:   /     , DEFAULT]"},
		{"  RULE:  /     /U   ,DEFAULT  ", "[RULE:  /     /U, DEFAULT]"},
		{"  RULE:([A-Z]*)/$1/U   ,RULE:([a-z]+)/$1/,   DEFAULT  ", "[RULE:([A-Z]*)/$1/U, RULE:([a-z]+)/$1, DEFAULT]"},

		// empty rules are ignored
		{",   , , ,      , , ,   ", "[]"},
		{",,RULE://,,,DEFAULT,,", "[RULE:/, DEFAULT]"},
		{",  , RULE: /   /    ,,,   DEFAULT, ,   ", "[RULE: /   , DEFAULT]"},
		{"     ,  , RULE:   /  /U    ,,  ,DEFAULT, ,", "[RULE:   /  /U, DEFAULT]"},

		// escape sequences
		{`RULE:\/\\\(\)\n\t/\/\//`, `[RULE:\/\\\(\)\n\t/\/\/]`},
		{`RULE:\**\/+/*/L,RULE:\/*\**/**/`, `[RULE:\**\/+/*/L, RULE:\/*\**/**]`},

		// rules rule
		{
			`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`,
			`[RULE:,RULE:,/,RULE:,\//U, RULE:,/RULE:,, RULE:,RULE:,/L,RULE:,/L, RULE:, DEFAULT, /DEFAULT, DEFAULT]`,
		},
	} {
		rs, err := ParseRules(tc.rules)
		if err != nil {
			t.Errorf("ParseRules(%q): %v", tc.rules, err)
			continue
		}
		if got := rs.String(); got != tc.want {
			t.Errorf("ParseRules(%q) = %s, want %s", tc.rules, got, tc.want)
		}
	}
}

func TestCommaWithWhitespace(t *testing.T) { // testCommaWithWhitespace
	rs, err := ParseRules(`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rs.Map(`CN=Tkac\, Adam,OU=ITZ,DC=geodis,DC=cz`); err != nil || got != `Tkac\, Adam` {
		t.Errorf("got %q, %v", got, err)
	}
}

// Beyond Kafka's tests: the replacement's Java semantics, and no match.
func TestMapReplacement(t *testing.T) {
	for _, tc := range []struct {
		rules, dn, want string
		err             string // in the error, if one is wanted
	}{
		{rules: "RULE:^CN=(.*)$/user-$1/", dn: "CN=alice", want: "user-alice"},
		{rules: "RULE:^CN=(.*)$/$1_x/", dn: "CN=alice", want: "alice_x"},   // Go's Expand would read $1_x as a group name
		{rules: "RULE:^CN=(.*)$/$2@$1/", dn: "CN=alice", want: "$2@alice"}, // a missing group is literal (Kafka's escape)
		{rules: "RULE:^CN=(.*)$/$12/", dn: "CN=alice", want: "alice2"},     // $12 shortened to $1
		{rules: `RULE:^CN=(.*)$/\$1/`, dn: "CN=alice", want: "$1"},
		{rules: `RULE:^CN=(?<user>.*)$/${user}!/`, dn: "CN=alice", want: "alice!"},
		{rules: "RULE:^CN=(.*),O=x$/$1/U", dn: "CN=alice,O=x", want: "ALICE"},
		{rules: "RULE:CN=alice/bob/", dn: "CN=alice", want: "bob"},
		{rules: "RULE:^CN=.*$/$1/", dn: "CN=alice", err: "no group 1"}, // Java throws when there are no groups
		{rules: "RULE:^CN=(.*)$/${nope}/", dn: "CN=alice", err: "no group with name"},
		{rules: "RULE:^CN=(.*)$/x$/", dn: "CN=alice", err: "group index is missing"},
		{rules: "RULE:^CN=(.*)$/$x/", dn: "CN=alice", err: "illegal group reference"},
		{rules: "RULE:^CN=bob$/$0/", dn: "CN=alice", err: "No rules apply to CN=alice, rules [RULE:^CN=bob$/$0]"},
		{rules: "", dn: "CN=alice", err: "No rules apply to CN=alice, rules []"},
	} {
		rs, err := ParseRules(tc.rules)
		if err != nil {
			t.Errorf("ParseRules(%q): %v", tc.rules, err)
			continue
		}
		got, err := rs.Map(tc.dn)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: Map(%q) = %q, %v; want %q", tc.rules, tc.dn, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: Map(%q) = %q, %v; want an error with %q", tc.rules, tc.dn, got, err, tc.err)
		}
	}
	rs, _ := ParseRules("RULE:^x$/y/")
	_, err := rs.Map("CN=a")
	var nm *NoMatchingRuleError
	if !errors.As(err, &nm) || nm.DN != "CN=a" {
		t.Errorf("error %v is not a NoMatchingRuleError for CN=a", err)
	}
}

// FuzzParseRules: parsing never panics, and rules that parse map any name
// without panicking.
func FuzzParseRules(f *testing.F) {
	for _, s := range []string{
		"DEFAULT",
		"RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/L, DEFAULT",
		`RULE:^CN=((\\, *|\w)+)(,.*|$)/$1/,DEFAULT`,
		`RULE:,RULE:,/,RULE:,\//U,RULE:,/RULE:,/,RULE:,RULE:,/L,RULE:,/L,RULE:, DEFAULT, /DEFAULT/,DEFAULT`,
		`RULE:\/\\\(\)\n\t/\/\//`,
		"RULE:^CN=(.*)$/$12$/",
		"RULE:(.*)/$99999999999/",
		"DEFAULT/L",
		",,,",
		"RULE:/\\",
	} {
		f.Add(s, "CN=alice,OU=eng,O=Acme")
	}
	f.Fuzz(func(t *testing.T, rules, dn string) {
		rs, err := ParseRules(rules)
		if err != nil {
			return
		}
		if again, err := ParseRules(rules); err != nil || again.String() != rs.String() {
			t.Fatalf("ParseRules(%q) is not deterministic", rules)
		}
		_, _ = rs.Map(dn)
	})
}
