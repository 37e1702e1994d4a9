package kinesis

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/awsapi/awsapitest"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/iampolicy"
)

// call serves one Kinesis request as the router would after
// authenticating key.
func call(h *Handler, key, op, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
	r.Header.Set("X-Amz-Target", targetPrefix+op)
	r.Header.Set("Content-Type", "application/x-amz-json-1.1")
	r = r.WithContext(awsapi.WithPrincipal(r.Context(), awsapi.Principal{AccessKeyID: key}))
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Every operation goes through the authorization step: with an authorizer
// that allows nothing, each is refused with AccessDeniedException (HTTP
// 400) naming its own action, before it reads or writes anything.
func TestAuthorizeEveryOperation(t *testing.T) {
	a := &awsapitest.RecordingAuthorizer{}
	ts := startTestServer(t, func(c *Config) { c.Authorizer = a })
	for _, op := range Operations() {
		w := call(ts.Handler, "AKID", op, "{}")
		var body struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &body)
		if w.Code != http.StatusBadRequest || body.Type != errAccessDenied {
			t.Errorf("%s: HTTP %d %s %s; want AccessDeniedException", op, w.Code, body.Type, body.Message)
			continue
		}
		if want := "is not authorized to perform: kinesis:" + op + " on resource: "; !strings.Contains(body.Message, want) {
			t.Errorf("%s: message %q lacks %q", op, body.Message, want)
		}
		if got := a.Last(); !strings.HasPrefix(got, "kinesis:"+op+" ") {
			t.Errorf("%s: authorizer asked %q", op, got)
		}
	}
}

// Each kind of input names its resource: the stream ARN from a name or an
// ARN, the consumer ARN, "*" for operations on no resource, the stream
// inside a shard iterator or a ListShards token; the stream's resource
// policy is handed to the authorizer.
func TestAuthorizeResources(t *testing.T) {
	a := &awsapitest.RecordingAuthorizer{Allow: func(action, _ string, _ *iampolicy.Policy) bool { return action != "kinesis:PutRecord" }}
	var auditBuf bytes.Buffer
	ts := startTestServer(t, func(c *Config) { c.Authorizer = a; c.Audit = audit.New(&auditBuf, nil) })
	const arn = "arn:aws:kinesis:us-east-1:000000000000:stream/s"
	if w := call(ts.Handler, "AKID", "CreateStream", `{"StreamName":"s","ShardCount":2}`); w.Code != 200 {
		t.Fatalf("CreateStream: %d %s", w.Code, w.Body)
	}
	w := call(ts.Handler, "AKID", "RegisterStreamConsumer", `{"StreamARN":"`+arn+`","ConsumerName":"c"}`)
	var reg struct{ Consumer struct{ ConsumerARN string } }
	if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil || reg.Consumer.ConsumerARN == "" {
		t.Fatalf("RegisterStreamConsumer: %d %s", w.Code, w.Body)
	}
	consumerARN := reg.Consumer.ConsumerARN
	w = call(ts.Handler, "AKID", "GetShardIterator", `{"StreamName":"s","ShardId":"shardId-000000000000","ShardIteratorType":"TRIM_HORIZON"}`)
	var it struct{ ShardIterator string }
	if err := json.Unmarshal(w.Body.Bytes(), &it); err != nil || it.ShardIterator == "" {
		t.Fatalf("GetShardIterator: %d %s", w.Code, w.Body)
	}
	w = call(ts.Handler, "AKID", "ListShards", `{"StreamName":"s","MaxResults":1}`)
	var ls struct{ NextToken string }
	if err := json.Unmarshal(w.Body.Bytes(), &ls); err != nil || ls.NextToken == "" {
		t.Fatalf("ListShards: %d %s", w.Code, w.Body)
	}

	for _, c := range []struct {
		op, body, want string
	}{
		{"DescribeStreamSummary", `{"StreamName":"s"}`, arn},
		{"DescribeStreamSummary", `{"StreamARN":"` + arn + `"}`, arn},
		{"ListStreams", `{}`, "*"},
		{"DescribeLimits", `{}`, "*"},
		{"UpdateStreamMode", `{"StreamARN":"` + arn + `","StreamModeDetails":{"StreamMode":"PROVISIONED"}}`, arn},
		{"DescribeStreamConsumer", `{"ConsumerARN":"` + consumerARN + `"}`, consumerARN},
		{"DescribeStreamConsumer", `{"StreamARN":"` + arn + `","ConsumerName":"c"}`, consumerARN},
		{"ListStreamConsumers", `{"StreamARN":"` + arn + `"}`, arn},
		{"GetRecords", `{"ShardIterator":"` + it.ShardIterator + `"}`, arn},
		{"ListShards", `{"NextToken":"` + ls.NextToken + `"}`, arn},
		{"ListTagsForResource", `{"ResourceARN":"` + consumerARN + `"}`, consumerARN},
		{"GetResourcePolicy", `{"ResourceARN":"` + arn + `"}`, arn},
		{"PutRecord", `{"StreamName":"s","Data":"eA==","PartitionKey":"k"}`, arn},
	} {
		call(ts.Handler, "AKID", c.op, c.body)
		if got, want := a.Last(), "kinesis:"+c.op+" "+c.want; got != want {
			t.Errorf("%s %s: asked %q, want %q", c.op, c.body, got, want)
		}
	}

	// The stream's resource policy reaches the authorizer.
	var seen *iampolicy.Policy
	a.Allow = func(_, _ string, p *iampolicy.Policy) bool { seen = p; return true }
	policy := `{"Version":"2012-10-17","Statement":{"Sid":"mine","Effect":"Allow","Principal":"*","Action":"kinesis:*"}}`
	body, _ := json.Marshal(map[string]string{"ResourceARN": arn, "Policy": policy})
	if w := call(ts.Handler, "AKID", "PutResourcePolicy", string(body)); w.Code != 200 {
		t.Fatalf("PutResourcePolicy: %d %s", w.Code, w.Body)
	}
	call(ts.Handler, "AKID", "DescribeStreamSummary", `{"StreamName":"s"}`)
	if seen == nil || seen.Statements[0].Sid != "mine" {
		t.Errorf("resource policy handed over: %+v", seen)
	}

	// A resource policy that does not parse denies, except to the policy
	// operations, which can replace it.
	if w := call(ts.Handler, "AKID", "PutResourcePolicy", `{"ResourceARN":"`+arn+`","Policy":"{\"not\":\"a policy\"}"}`); w.Code != 200 {
		t.Fatalf("PutResourcePolicy: %d %s", w.Code, w.Body)
	}
	if w := call(ts.Handler, "AKID", "DescribeStreamSummary", `{"StreamName":"s"}`); w.Code != 400 || !strings.Contains(w.Body.String(), errAccessDenied) {
		t.Errorf("with a broken resource policy: %d %s", w.Code, w.Body)
	}
	if w := call(ts.Handler, "AKID", "DeleteResourcePolicy", `{"ResourceARN":"`+arn+`"}`); w.Code != 200 {
		t.Errorf("DeleteResourcePolicy of a broken policy: %d %s", w.Code, w.Body)
	}

	// The audit log has the denial and the control-plane calls, not the
	// reads.
	var events []audit.Event
	for line := range strings.Lines(auditBuf.String()) {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		events = append(events, e)
	}
	want := map[string]bool{"CreateStream allowed": false, "RegisterStreamConsumer allowed": false, "PutRecord denied": false, "PutResourcePolicy allowed": false, "DeleteResourcePolicy allowed": false, "UpdateStreamMode allowed": false}
	for _, e := range events {
		k := e.Name + " " + e.Outcome
		if _, ok := want[k]; !ok && e.Outcome != audit.Denied {
			t.Errorf("unexpected audit event %+v", e)
		}
		want[k] = true
		if e.Principal != "AKID" || e.Source != "kinesis" {
			t.Errorf("audit event %+v", e)
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no audit event %q", k)
		}
	}
}

// Without an authorizer, an audit log still gets the control-plane calls,
// with the error code of the failed ones.
func TestAuditWithoutAuthorizer(t *testing.T) {
	var buf bytes.Buffer
	ts := startTestServer(t, func(c *Config) { c.Audit = audit.New(&buf, nil) })
	call(ts.Handler, "", "CreateStream", `{"StreamName":"s","ShardCount":1}`)
	call(ts.Handler, "", "DeleteStream", `{"StreamName":"nothere"}`)
	call(ts.Handler, "", "PutRecord", `{"StreamName":"s","Data":"eA==","PartitionKey":"k"}`)
	var got []string
	for line := range strings.Lines(buf.String()) {
		var e audit.Event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e.Name+" "+e.Outcome+" "+e.ErrorCode+" "+e.Resource)
	}
	want := []string{
		"CreateStream allowed  arn:aws:kinesis:us-east-1:000000000000:stream/s",
		"DeleteStream allowed ResourceNotFoundException arn:aws:kinesis:us-east-1:000000000000:stream/nothere",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit log:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
