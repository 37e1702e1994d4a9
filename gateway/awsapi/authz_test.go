package awsapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/iampolicy"
)

func TestDenialMessage(t *testing.T) {
	who := iampolicy.UserPrincipal("000000000000", "alice")
	const res = "arn:aws:sqs:us-east-1:000000000000:q"
	for _, c := range []struct {
		decision iampolicy.Decision
		lower    bool
		want     string
	}{
		{iampolicy.ImplicitDeny, false, "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sqs:SendMessage on resource: " + res + " because no identity-based policy allows the sqs:SendMessage action"},
		{iampolicy.ImplicitDeny, true, "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sqs:sendmessage on resource: " + res + " because no identity-based policy allows the sqs:sendmessage action"},
		{iampolicy.DeniedByIdentity, false, "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sqs:SendMessage on resource: " + res + " with an explicit deny in an identity-based policy"},
		{iampolicy.DeniedByResource, false, "User: arn:aws:iam::000000000000:user/alice is not authorized to perform: sqs:SendMessage on resource: " + res + " with an explicit deny in a resource-based policy"},
	} {
		d := &Denial{Principal: who, Decision: c.decision, Action: "sqs:SendMessage", Resource: res}
		if got := d.Message(c.lower); got != c.want {
			t.Errorf("%v lower=%v:\n got %s\nwant %s", c.decision, c.lower, got, c.want)
		}
	}
}

// Authorize with a real policy set: the resource policy document is
// parsed and used; one that does not parse denies, except to an action
// that manages it; a request without a principal is denied; each denial
// is one audit record.
func TestAuthorize(t *testing.T) {
	allowAll, err := iampolicy.Parse([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`), iampolicy.Identity)
	if err != nil {
		t.Fatal(err)
	}
	set := iampolicy.NewSet("000000000000")
	set.AddKey("AKIDALL", "all", allowAll)
	set.AddKey("AKIDNONE", "none")
	const res = "arn:aws:sqs:us-east-1:000000000000:q"
	grantNone := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::000000000000:user/none"},"Action":"sqs:SendMessage"}}`
	denyAll := `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"sqs:*"}}`
	for _, c := range []struct {
		name, key, policy string
		policyErr         error
		manages           bool
		want              iampolicy.Decision // Allowed: no denial
	}{
		{"identity allows", "AKIDALL", "", nil, false, iampolicy.Allowed},
		{"nothing allows", "AKIDNONE", "", nil, false, iampolicy.ImplicitDeny},
		{"resource policy allows", "AKIDNONE", grantNone, nil, false, iampolicy.Allowed},
		{"resource policy denies", "AKIDALL", denyAll, nil, false, iampolicy.DeniedByResource},
		{"empty resource policy", "AKIDALL", "{}", nil, false, iampolicy.Allowed},
		{"broken resource policy", "AKIDALL", `{"x":1}`, nil, false, iampolicy.DeniedByResource},
		{"broken policy, managing action", "AKIDALL", `{"x":1}`, nil, true, iampolicy.Allowed},
		{"policy lookup fails", "AKIDALL", "", errors.New("store down"), false, iampolicy.DeniedByResource},
		{"no principal", "", "", nil, false, iampolicy.ImplicitDeny},
	} {
		t.Run(c.name, func(t *testing.T) {
			var buf bytes.Buffer
			al := audit.New(&buf, nil)
			r := httptest.NewRequest("POST", "/", nil)
			ctx := context.Background()
			if c.key != "" {
				ctx = WithPrincipal(ctx, Principal{AccessKeyID: c.key})
			}
			check := Check{Source: "sqs", Op: "SendMessage", Action: "sqs:SendMessage", Resource: res, ManagesPolicy: c.manages, DeniedCode: "AccessDenied",
				Policy: func(context.Context) (string, error) { return c.policy, c.policyErr }}
			d := Authorize(ctx, set, al, slog.New(slog.DiscardHandler), r, check)
			if c.want == iampolicy.Allowed {
				if d != nil {
					t.Fatalf("denied: %s", d.Message(false))
				}
				if buf.Len() != 0 {
					t.Errorf("audit record for an allowed request: %s", buf.String())
				}
				return
			}
			if d == nil || d.Decision != c.want {
				t.Fatalf("denial %+v, want %v", d, c.want)
			}
			var e audit.Event
			if err := json.Unmarshal(buf.Bytes(), &e); err != nil || strings.Count(buf.String(), "\n") != 1 {
				t.Fatalf("audit: %q %v", buf.String(), err)
			}
			principal := c.key
			if principal == "" {
				principal = "anonymous"
			}
			if e.Outcome != audit.Denied || e.Principal != principal || e.Resource != res || e.Operation != "sqs:SendMessage" || e.ErrorCode != "AccessDenied" || e.Source != "sqs" || e.Name != "SendMessage" {
				t.Errorf("audit event %+v", e)
			}
		})
	}
	if d := Authorize(context.Background(), nil, nil, slog.New(slog.DiscardHandler), httptest.NewRequest("POST", "/", nil), Check{}); d != nil {
		t.Errorf("a nil authorizer denied: %+v", d)
	}
}
