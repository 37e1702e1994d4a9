package iampolicy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	acct    = "111122223333"
	streamA = "arn:aws:kinesis:us-east-1:111122223333:stream/a"
	streamB = "arn:aws:kinesis:us-east-1:111122223333:stream/b"
	queueQ  = "arn:aws:sqs:us-east-1:111122223333:q"
)

var alice = UserPrincipal(acct, "alice")

func mustParse(t *testing.T, doc string, k Kind) *Policy {
	t.Helper()
	p, err := Parse([]byte(doc), k)
	if err != nil {
		t.Fatalf("Parse(%s): %v", doc, err)
	}
	return p
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"kinesis:*", "kinesis:PutRecord", true},
		{"kinesis:Put*", "kinesis:PutRecords", true},
		{"kinesis:Put?ecord", "kinesis:PutRecord", true},
		{"kinesis:Put?ecord", "kinesis:PutRecords", false},
		{"kinesis:Get*", "kinesis:PutRecord", false},
		{"arn:aws:kinesis:*:*:stream/a", streamA, true},
		{"arn:aws:kinesis:*:*:stream/a", streamA + "/consumer/c:1", false},
		{"arn:aws:kinesis:*:*:stream/a*", streamA + "/consumer/c:1", true},
		{"*a*b*c*", "xxaxxbxxcxx", true},
		{"*a*b*c*", "xxaxxcxxbxx", false},
		{"a**", "a", true},
		{"", "", true},
		{"", "x", false},
	} {
		if got := Match(c.pattern, c.s); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		kind      Kind
		want      string
	}{
		{"not JSON", `nope`, Identity, "not a JSON object"},
		{"array", `[]`, Identity, "not a JSON object"},
		{"no version", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, Identity, "Version"},
		{"old version", `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, Identity, "Version"},
		{"no statement", `{"Version":"2012-10-17"}`, Identity, "no Statement"},
		{"empty statements", `{"Version":"2012-10-17","Statement":[]}`, Identity, "no Statement"},
		{"bad effect", `{"Version":"2012-10-17","Statement":{"Effect":"Maybe","Action":"*","Resource":"*"}}`, Identity, "Effect"},
		{"no action", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"*"}}`, Identity, "Action"},
		{"both actions", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","NotAction":"*","Resource":"*"}}`, Identity, "Action"},
		{"empty action list", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, Identity, "empty"},
		{"action not a string", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":3,"Resource":"*"}}`, Identity, "Action"},
		{"action without service", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"PutRecord","Resource":"*"}}`, Identity, "service:action"},
		{"no resource", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*"}}`, Identity, "Resource"},
		{"both resources", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","NotResource":"*"}}`, Identity, "NotResource"},
		{"identity with principal", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, Identity, "Principal"},
		{"resource without principal", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, Resource, "Principal"},
		{"principal string", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"alice","Action":"*"}}`, Resource, "Principal"},
		{"unknown key", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Extra":1}}`, Identity, "unknown key"},
		{"unknown top key", `{"Version":"2012-10-17","Rules":[]}`, Identity, "unknown key"},
		{"condition not object", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":"x"}}`, Identity, "Condition"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.doc), c.kind)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Parse = %v, want an error with %q", err, c.want)
			}
		})
	}
}

func TestParseOrEmpty(t *testing.T) {
	for _, doc := range []string{"", " ", "{}", " {} "} {
		if p, err := ParseOrEmpty(doc, Resource); p != nil || err != nil {
			t.Errorf("ParseOrEmpty(%q) = %v, %v; want none", doc, p, err)
		}
	}
}

func TestEvaluate(t *testing.T) {
	const allowPutA = `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:PutRecord","Resource":"` + streamA + `"}}`
	for _, c := range []struct {
		name     string
		identity []string
		resource string // "" for none
		action   string
		arn      string
		want     Decision
	}{
		{"no policies", nil, "", "kinesis:PutRecord", streamA, ImplicitDeny},
		{"allowed", []string{allowPutA}, "", "kinesis:PutRecord", streamA, Allowed},
		{"action case-insensitive", []string{allowPutA}, "", "KINESIS:putrecord", streamA, Allowed},
		{"other action", []string{allowPutA}, "", "kinesis:PutRecords", streamA, ImplicitDeny},
		{"other stream", []string{allowPutA}, "", "kinesis:PutRecord", streamB, ImplicitDeny},
		{"resource case-sensitive", []string{allowPutA}, "", "kinesis:PutRecord", strings.ToUpper(streamA), ImplicitDeny},
		{"statement array and wildcards", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:Send*","kinesis:Put*"],"Resource":["arn:aws:kinesis:*:` + acct + `:stream/?"]}]}`},
			"", "kinesis:PutRecords", streamB, Allowed},
		{"star action", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`}, "", "sqs:ListQueues", "*", Allowed},
		{"NotAction", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"kinesis:Delete*","Resource":"*"}}`},
			"", "kinesis:DeleteStream", streamA, ImplicitDeny},
		{"NotAction allows the rest", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"kinesis:Delete*","Resource":"*"}}`},
			"", "kinesis:CreateStream", streamA, Allowed},
		{"NotResource", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:*","NotResource":"` + streamB + `"}}`},
			"", "kinesis:PutRecord", streamB, ImplicitDeny},
		{"NotResource allows the rest", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:*","NotResource":"` + streamB + `"}}`},
			"", "kinesis:PutRecord", streamA, Allowed},
		{"deny beats allow", []string{allowPutA, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kinesis:*","Resource":"*"}}`},
			"", "kinesis:PutRecord", streamA, DeniedByIdentity},
		{"deny in the same policy", []string{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"sqs:DeleteQueue","Resource":"*"}]}`},
			"", "sqs:DeleteQueue", queueQ, DeniedByIdentity},
		{"condition: allow never applies", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`},
			"", "kinesis:PutRecord", streamA, ImplicitDeny},
		{"condition: deny always applies", []string{allowPutA, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kinesis:PutRecord","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`},
			"", "kinesis:PutRecord", streamA, DeniedByIdentity},
		{"condition deny still needs its action", []string{allowPutA, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kinesis:Delete*","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}}`},
			"", "kinesis:PutRecord", streamA, Allowed},
		{"resource policy allows the user", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + alice.ARN + `"},"Action":"kinesis:PutRecord","Resource":"` + streamA + `"}}`,
			"kinesis:PutRecord", streamA, Allowed},
		{"resource policy without Resource", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["` + alice.ARN + `"]},"Action":"kinesis:*"}}`,
			"kinesis:GetRecords", streamA, Allowed},
		{"resource policy allows everyone", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Resource":"` + queueQ + `"}}`,
			"sqs:SendMessage", queueQ, Allowed},
		{"resource policy AWS star", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sqs:*"}}`,
			"sqs:SendMessage", queueQ, Allowed},
		{"resource policy other user", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"kinesis:*"}}`,
			"kinesis:PutRecord", streamA, ImplicitDeny},
		{"resource policy account root delegates", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sqs:*"}}`,
			"sqs:SendMessage", queueQ, ImplicitDeny},
		{"resource policy account id delegates", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + acct + `"},"Action":"sqs:*"}}`,
			"sqs:SendMessage", queueQ, ImplicitDeny},
		{"resource policy account deny", []string{allowPutA},
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":{"AWS":"` + acct + `"},"Action":"kinesis:PutRecord"}}`,
			"kinesis:PutRecord", streamA, DeniedByResource},
		{"resource deny beats identity allow", []string{allowPutA},
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"kinesis:*"}}`,
			"kinesis:PutRecord", streamA, DeniedByResource},
		{"identity deny beats resource allow", []string{`{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"kinesis:*","Resource":"*"}}`},
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*"}}`,
			"kinesis:PutRecord", streamA, DeniedByIdentity},
		{"NotPrincipal deny spares the named", []string{allowPutA},
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"` + alice.ARN + `"},"Action":"kinesis:*"}}`,
			"kinesis:PutRecord", streamA, Allowed},
		{"NotPrincipal deny hits the others", []string{allowPutA},
			`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"arn:aws:iam::` + acct + `:user/bob"},"Action":"kinesis:*"}}`,
			"kinesis:PutRecord", streamA, DeniedByResource},
		{"service principal matches nobody", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"sns.amazonaws.com"},"Action":"sqs:SendMessage"}}`,
			"sqs:SendMessage", queueQ, ImplicitDeny},
		{"resource policy condition allow fails closed", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage","Condition":{"ArnEquals":{"aws:SourceArn":"x"}}}}`,
			"sqs:SendMessage", queueQ, ImplicitDeny},
		{"resource policy statement for another resource", nil,
			`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"kinesis:*","Resource":"` + streamB + `"}}`,
			"kinesis:PutRecord", streamA, ImplicitDeny},
	} {
		t.Run(c.name, func(t *testing.T) {
			var identity []*Policy
			for _, d := range c.identity {
				identity = append(identity, mustParse(t, d, Identity))
			}
			var resource *Policy
			if c.resource != "" {
				resource = mustParse(t, c.resource, Resource)
			}
			got := Evaluate(identity, resource, Request{Principal: alice, Action: c.action, Resource: c.arn})
			if got != c.want {
				t.Fatalf("Evaluate = %v, want %v", got, c.want)
			}
		})
	}
}

func TestSet(t *testing.T) {
	s := NewSet(acct)
	s.AddKey("AKIAALICE", "alice", mustParse(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}`, Identity))
	s.AddKey("AKIABOB", "bob")
	for _, c := range []struct {
		key  string
		want Decision
		arn  string
	}{
		{"AKIAALICE", Allowed, alice.ARN},
		{"AKIABOB", ImplicitDeny, "arn:aws:iam::" + acct + ":user/bob"},
		{"AKIAUNKNOWN", ImplicitDeny, "arn:aws:iam::" + acct + ":user/AKIAUNKNOWN"},
	} {
		p, d := s.Decide(c.key, "sqs:SendMessage", queueQ, nil)
		if d != c.want || p.ARN != c.arn {
			t.Errorf("Decide(%s) = %v, %v; want %v, %v", c.key, p.ARN, d, c.arn, c.want)
		}
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("queues.json", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sqs:*","Resource":"*"}}`)
	for _, c := range []struct {
		name, body string
		wantErr    string // "" for success
		wantKeys   map[string]int
	}{
		{"yaml inline and file", `
AKIAA:
  - Version: 2012-10-17
    Statement:
      - Effect: Allow
        Action: [kinesis:PutRecord]
        Resource: "*"
  - queues.json
AKIAB:
  - {"Version": "2012-10-17", "Statement": {"Effect": "Deny", "Action": "*", "Resource": "*"}}
`, "", map[string]int{"AKIAA": 2, "AKIAB": 1}},
		{"json", `{"AKIAA": ["queues.json"]}`, "", map[string]int{"AKIAA": 1}},
		{"empty list", `AKIAA: []`, "", map[string]int{}},
		{"missing file", "AKIAA:\n  - nothere.json\n", "nothere.json", nil},
		{"bad document", "AKIAA:\n  - Version: \"2012-10-17\"\n    Statement: {Effect: Allow, Resource: \"*\"}\n", "AKIAA: policy 0", nil},
		{"not a mapping", "- a\n- b\n", "mapping", nil},
		{"empty", "", "no access keys", nil},
		{"number entry", "AKIAA:\n  - 3\n", "policy document or the path", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := LoadFile(write("policies.yaml", c.body))
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("LoadFile = %v, want an error with %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, n := range c.wantKeys {
				if len(got[k]) != n {
					t.Errorf("key %s: %d policies, want %d", k, len(got[k]), n)
				}
			}
		})
	}
}
