package sqs

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/awsapi/awsapitest"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/iampolicy"
	"github.com/streambridge/bridge/store/embedded"
)

func newAuthzHandler(t *testing.T, cfg Config) *Handler {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Store = st
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = h.Shutdown(t.Context())
		_ = st.Close()
	})
	return h
}

// callJSON serves one SQS JSON request as the router would after
// authenticating key.
func callJSON(h *Handler, key, op, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", TargetPrefix+op)
	r.Header.Set("Content-Type", awsapi.ContentTypeJSON10)
	r = r.WithContext(awsapi.WithPrincipal(r.Context(), awsapi.Principal{AccessKeyID: key}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// callQuery serves one SQS Query request.
func callQuery(h *Handler, key string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r = r.WithContext(awsapi.WithPrincipal(r.Context(), awsapi.Principal{AccessKeyID: key}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Every operation goes through the authorization step: with an authorizer
// that allows nothing, each is refused with AccessDenied (HTTP 403, the
// code in x-amzn-query-error) under its IAM action, the batch operations
// under their single ones.
func TestAuthorizeEveryOperation(t *testing.T) {
	a := &awsapitest.RecordingAuthorizer{}
	h := newAuthzHandler(t, Config{Authorizer: a})
	for _, op := range Actions() {
		w := callJSON(h, "AKID", op, `{"QueueUrl":"http://h/000000000000/q","QueueName":"q"}`)
		if w.Code != http.StatusForbidden || w.Header().Get(awsapi.HeaderQueryError) != "AccessDenied;Sender" {
			t.Errorf("%s: HTTP %d %s %s; want AccessDenied", op, w.Code, w.Header().Get(awsapi.HeaderQueryError), w.Body)
			continue
		}
		action := "sqs:" + op
		if b := batchActions[op]; b != "" {
			action = b
		}
		if got := a.Last(); !strings.HasPrefix(got, action+" ") {
			t.Errorf("%s: authorizer asked %q, want %s", op, got, action)
		}
		if want := "is not authorized to perform: " + strings.ToLower(action); !strings.Contains(w.Body.String(), want) {
			t.Errorf("%s: %s lacks %q", op, w.Body, want)
		}
	}
}

// The resource of each kind of input, in both protocols; the queue's
// Policy reaches the authorizer; the audit log has the denials and the
// control-plane calls.
func TestAuthorizeResources(t *testing.T) {
	a := &awsapitest.RecordingAuthorizer{Allow: func(action, _ string, _ *iampolicy.Policy) bool { return action != "sqs:DeleteQueue" }}
	var buf bytes.Buffer
	h := newAuthzHandler(t, Config{Authorizer: a, Audit: audit.New(&buf, nil)})
	const arn = "arn:aws:sqs:us-east-1:000000000000:q"
	if w := callJSON(h, "AKID", "CreateQueue", `{"QueueName":"q"}`); w.Code != 200 {
		t.Fatalf("CreateQueue: %d %s", w.Code, w.Body)
	}
	handle := encodeTaskHandle("id", arn)
	for _, c := range []struct {
		op, body, want string
	}{
		{"ListQueues", `{}`, "sqs:ListQueues *"},
		{"GetQueueUrl", `{"QueueName":"q"}`, "sqs:GetQueueUrl " + arn},
		{"SendMessage", `{"QueueUrl":"http://127.0.0.1:1/000000000000/q","MessageBody":"x"}`, "sqs:SendMessage " + arn},
		{"SendMessageBatch", `{"QueueUrl":"http://127.0.0.1:1/000000000000/q","Entries":[]}`, "sqs:SendMessage " + arn},
		{"DeleteMessageBatch", `{"QueueUrl":"http://127.0.0.1:1/000000000000/q","Entries":[]}`, "sqs:DeleteMessage " + arn},
		{"ChangeMessageVisibilityBatch", `{"QueueUrl":"http://127.0.0.1:1/000000000000/q","Entries":[]}`, "sqs:ChangeMessageVisibility " + arn},
		{"ListMessageMoveTasks", `{"SourceArn":"` + arn + `"}`, "sqs:ListMessageMoveTasks " + arn},
		{"CancelMessageMoveTask", `{"TaskHandle":"` + handle + `"}`, "sqs:CancelMessageMoveTask " + arn},
		{"SendMessage", `{"QueueUrl":"http://127.0.0.1:1/999999999999/q","MessageBody":"x"}`, "sqs:SendMessage "},
	} {
		callJSON(h, "AKID", c.op, c.body)
		if got := a.Last(); got != c.want {
			t.Errorf("%s %s: asked %q, want %q", c.op, c.body, got, c.want)
		}
	}
	// Query: the queue named by the path it is posted to.
	r := httptest.NewRequest(http.MethodPost, "/000000000000/q", strings.NewReader("Action=DeleteQueue"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r = r.WithContext(awsapi.WithPrincipal(r.Context(), awsapi.Principal{AccessKeyID: "AKID"}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "<Code>AccessDenied</Code>") || !strings.Contains(w.Body.String(), "<Type>Sender</Type>") {
		t.Errorf("Query DeleteQueue: %d %s", w.Code, w.Body)
	}
	if got := a.Last(); got != "sqs:DeleteQueue "+arn {
		t.Errorf("Query DeleteQueue asked %q", got)
	}

	// The Policy attribute is the resource policy.
	var seen *iampolicy.Policy
	a.Allow = func(_, _ string, p *iampolicy.Policy) bool { seen = p; return true }
	callQuery(h, "AKID", url.Values{"Action": {"AddPermission"}, "QueueUrl": {"/000000000000/q"}, "Label": {"l"},
		"AWSAccountId.1": {"000000000000"}, "ActionName.1": {"SendMessage"}})
	callJSON(h, "AKID", "GetQueueAttributes", `{"QueueUrl":"/000000000000/q"}`)
	if seen == nil || len(seen.Statements) != 1 || seen.Statements[0].Sid != "l" {
		t.Errorf("queue policy handed over: %+v", seen)
	}

	var got []string
	for line := range strings.Lines(buf.String()) {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Name+" "+e.Outcome+" "+e.Operation+" "+e.ErrorCode)
	}
	want := []string{
		"CreateQueue allowed sqs:CreateQueue ",
		"CancelMessageMoveTask allowed sqs:CancelMessageMoveTask ResourceNotFoundException",
		"DeleteQueue denied sqs:DeleteQueue AccessDenied",
		"AddPermission allowed sqs:AddPermission ",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
