package iampolicy

import "testing"

// FuzzParse feeds the parser arbitrary documents, which arrive from
// clients (Kinesis PutResourcePolicy, the SQS Policy attribute): it must
// never panic, and a document it accepts must evaluate without panicking
// for both kinds of policy.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"kinesis:*","Resource":"*"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotAction":["sqs:Delete*"],"NotResource":"arn:aws:sqs:*:*:q"}]}`,
		`{"Version":"2012-10-17","Id":"x","Statement":[{"Sid":"1","Effect":"Allow","Principal":{"AWS":["111122223333","arn:aws:iam::111122223333:root"]},"Action":"SQS:SendMessage","Resource":"arn:aws:sqs:us-east-1:111122223333:q"}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotPrincipal":{"AWS":"*","Service":"x"},"Action":"k:?"}}`,
		`{"Version":"2012-10-17","Statement":[]}`,
		`{}`, `[]`, `null`, `"x"`, ``,
	} {
		f.Add([]byte(seed), "kinesis:PutRecord", "arn:aws:kinesis:us-east-1:111122223333:stream/s")
	}
	f.Fuzz(func(t *testing.T, doc []byte, action, resource string) {
		r := Request{Principal: UserPrincipal("111122223333", "u"), Action: action, Resource: resource}
		for _, k := range []Kind{Identity, Resource} {
			p, err := Parse(doc, k)
			if err != nil {
				if p != nil {
					t.Fatal("a policy with an error")
				}
				continue
			}
			if len(p.Statements) == 0 {
				t.Fatal("an accepted policy without statements")
			}
			if k == Identity {
				_ = Evaluate([]*Policy{p}, nil, r)
			} else {
				_ = Evaluate(nil, p, r)
			}
		}
	})
}
