package rest_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/herder/herdertest"
	"github.com/streambridge/bridge/connect/rest"
)

// server starts the REST API over a started herder and a fake worker on
// 127.0.0.1.
func server(t *testing.T) (*httptest.Server, *herder.Herder, *herdertest.Worker) {
	t.Helper()
	h, err := herder.New(herder.Config{StateDir: t.TempDir(), Registry: herdertest.Registry(), WorkerID: "127.0.0.1:8083"})
	if err != nil {
		t.Fatal(err)
	}
	w := herdertest.NewWorker(h)
	if err := h.Start(w); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rest.New(rest.Config{Herder: h, Version: "1.2.3", Commit: "abc"}))
	t.Cleanup(func() { srv.Close(); h.Close() })
	return srv, h, w
}

// step is one request and what must come back. body is sent as
// application/json unless contentType says otherwise. want is the exact
// JSON answer (compared as values), wantHas substrings of it.
type step struct {
	method, path, body string
	contentType        string
	code               int
	want               string
	wantHas            []string
	header             map[string]string
}

func do(t *testing.T, srv *httptest.Server, s step) {
	t.Helper()
	var body io.Reader
	if s.body != "" {
		body = strings.NewReader(s.body)
	}
	req, err := http.NewRequest(s.method, srv.URL+s.path, body)
	if err != nil {
		t.Fatal(err)
	}
	ct := s.contentType
	if ct == "" && s.body != "" {
		ct = "application/json"
	}
	if ct != "-" && ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	name := s.method + " " + s.path
	if resp.StatusCode != s.code {
		t.Errorf("%s: status %d, want %d; body %s", name, resp.StatusCode, s.code, got)
	}
	if len(got) > 0 && resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: Content-Type %q", name, resp.Header.Get("Content-Type"))
	}
	if (s.code == 204 || s.code == 202 && s.want == "" && s.wantHas == nil) && len(got) != 0 {
		t.Errorf("%s: body %s, want none", name, got)
	}
	if s.want != "" {
		var g, w any
		if err := json.Unmarshal(got, &g); err != nil {
			t.Errorf("%s: answer %s is not JSON: %v", name, got, err)
		}
		if err := json.Unmarshal([]byte(s.want), &w); err != nil {
			t.Fatalf("%s: bad want: %v", name, err)
		}
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: answer\n  %s\nwant\n  %s", name, bytes.TrimSpace(got), s.want)
		}
	}
	var msg struct{ Message string }
	_ = json.Unmarshal(got, &msg)
	for _, sub := range s.wantHas {
		if !strings.Contains(string(got), sub) && !strings.Contains(msg.Message, sub) {
			t.Errorf("%s: answer %s lacks %s", name, got, sub)
		}
	}
	for k, v := range s.header {
		if got := resp.Header.Get(k); got != v {
			t.Errorf("%s: header %s = %q, want %q", name, k, got, v)
		}
	}
}

const (
	srcCreate = `{"name":"src","config":{"connector.class":"` + herdertest.SourceClass + `","topic":"t","tasks.max":2}}`
	srcConfig = `{"connector.class":"` + herdertest.SourceClass + `","topic":"t","tasks.max":"2","name":"src"}`
	srcInfo   = `{"name":"src","config":` + srcConfig + `,"tasks":[{"connector":"src","task":0},{"connector":"src","task":1}],"type":"source"}`
)

func running(states ...string) string {
	var tasks []string
	for i, s := range states[1:] {
		// The fake worker reports every task's progress as 7 in, 5 out.
		tasks = append(tasks, `{"id":`+string(rune('0'+i))+`,"state":"`+s+`","worker_id":"127.0.0.1:8083","progress":{"records_in":7,"records_out":5,"records_skipped":0}}`)
	}
	return `{"name":"src","connector":{"state":"` + states[0] + `","worker_id":"127.0.0.1:8083"},"tasks":[` + strings.Join(tasks, ",") + `],"type":"source"}`
}

func TestConnectorsEndpoints(t *testing.T) {
	srv, h, _ := server(t)
	steps := []step{
		{method: "GET", path: "/", code: 200, want: `{"version":"1.2.3","commit":"abc","kafka_cluster_id":""}`},
		{method: "GET", path: "/health", code: 200, want: `{"status":"healthy","message":"Worker has completed startup and is ready to handle requests."}`},
		{method: "GET", path: "/connectors", code: 200, want: `[]`},
		{method: "POST", path: "/connectors", body: srcCreate, code: 201, want: srcInfo, header: map[string]string{"Location": srv.URL + "/connectors/src"}},
		{method: "POST", path: "/connectors", body: srcCreate, code: 409, want: `{"error_code":409,"message":"Connector src already exists"}`},
		{method: "POST", path: "/connectors", body: srcCreate, contentType: "text/plain", code: 415, want: `{"error_code":415,"message":"HTTP 415 Unsupported Media Type"}`},
		{method: "POST", path: "/connectors", body: srcCreate, contentType: "-", code: 415},
		{method: "POST", path: "/connectors", body: `{"name":`, code: 400, wantHas: []string{`"error_code":400`}},
		{method: "POST", path: "/connectors", body: `{"name":"x"}`, code: 400, wantHas: []string{"Connector config is required"}},
		{method: "POST", path: "/connectors", body: `{"name":"x","config":{"topic":{"a":1}}}`, code: 400, wantHas: []string{"Cannot deserialize"}},
		{method: "POST", path: "/connectors", body: `{"name":"x","config":{"connector.class":"` + herdertest.SourceClass + `"}}`, code: 400,
			wantHas: []string{"Connector configuration is invalid and contains the following 1 error(s):\nMissing required configuration \"topic\" which has no default value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"}},
		{method: "POST", path: "/connectors", body: `{"name":"x","config":{"name":"y","connector.class":"` + herdertest.SourceClass + `","topic":"t"}}`, code: 400,
			want: `{"error_code":400,"message":"Connector name configuration (y) doesn't match connector name in the URL (x)"}`},
		{method: "POST", path: "/connectors", body: `{"name":"x","config":{"connector.class":"` + herdertest.SourceClass + `","topic":"t"},"initial_state":"FLYING"}`, code: 400},
		{method: "DELETE", path: "/connectors", code: 405, want: `{"error_code":405,"message":"HTTP 405 Method Not Allowed"}`},
		{method: "GET", path: "/connectors/src", code: 200, want: srcInfo},
		{method: "GET", path: "/connectors/nope", code: 404, want: `{"error_code":404,"message":"Connector nope not found"}`},
		{method: "POST", path: "/connectors/src", code: 405},
		{method: "GET", path: "/connectors", code: 200, want: `["src"]`},
		{method: "GET", path: "/connectors?expand=status", code: 200, want: `{"src":{"status":` + running("RUNNING", "RUNNING", "RUNNING") + `}}`},
		{method: "GET", path: "/connectors?expand=info&expand=status", code: 200, want: `{"src":{"info":` + srcInfo + `,"status":` + running("RUNNING", "RUNNING", "RUNNING") + `}}`},
		{method: "GET", path: "/connectors/src/config", code: 200, want: srcConfig},
		{method: "GET", path: "/connectors/nope/config", code: 404},
		{method: "PUT", path: "/connectors/src/config", body: srcConfig, code: 200, want: srcInfo},
		{method: "PUT", path: "/connectors/src/config", body: `{"name":"other"}`, code: 400, want: `{"error_code":400,"message":"Connector name configuration (other) doesn't match connector name in the URL (src)"}`},
		{method: "PUT", path: "/connectors/src2/config", body: `{"connector.class":"` + herdertest.SourceClass + `","topic":"t"}`, code: 201,
			header: map[string]string{"Location": srv.URL + "/connectors/src2"}, wantHas: []string{`"name":"src2"`}},
		{method: "PATCH", path: "/connectors/src2/config", body: `{"tasks.max":"3","topic":"u"}`, code: 200, wantHas: []string{`"tasks.max":"3"`, `"topic":"u"`, `{"connector":"src2","task":2}`}},
		{method: "PATCH", path: "/connectors/src2/config", body: `{"topic":null}`, code: 400, wantHas: []string{"Missing required configuration"}},
		{method: "PATCH", path: "/connectors/nope/config", body: `{"topic":"x"}`, code: 404},
		{method: "DELETE", path: "/connectors/src2/config", code: 405},
		{method: "DELETE", path: "/connectors/src2", code: 204},
		{method: "DELETE", path: "/connectors/src2", code: 404, want: `{"error_code":404,"message":"Connector src2 not found"}`},
		{method: "GET", path: "/connectors/src/status", code: 200, want: running("RUNNING", "RUNNING", "RUNNING")},
		{method: "GET", path: "/connectors/nope/status", code: 404, want: `{"error_code":404,"message":"No status found for connector nope"}`},
		{method: "GET", path: "/connectors/src/tasks", code: 200, want: `[{"id":{"connector":"src","task":0},"config":{"task.index":"0","test.task.value":""}},{"id":{"connector":"src","task":1},"config":{"task.index":"1","test.task.value":""}}]`},
		{method: "GET", path: "/connectors/nope/tasks", code: 404},
		{method: "GET", path: "/connectors/src/tasks/1/status", code: 200, want: `{"id":1,"state":"RUNNING","worker_id":"127.0.0.1:8083","progress":{"records_in":7,"records_out":5,"records_skipped":0}}`},
		{method: "GET", path: "/connectors/src/tasks/7/status", code: 404, want: `{"error_code":404,"message":"No status found for task src-7"}`},
		{method: "GET", path: "/connectors/src/tasks/x/status", code: 404, want: `{"error_code":404,"message":"HTTP 404 Not Found"}`},
		{method: "POST", path: "/connectors/src/tasks/1/restart", code: 204},
		{method: "POST", path: "/connectors/src/tasks/7/restart", code: 404, want: `{"error_code":404,"message":"Task src-7 not found"}`},
		{method: "GET", path: "/connectors/src/tasks/1/restart", code: 405},
		{method: "POST", path: "/connectors/src/restart", code: 204},
		{method: "POST", path: "/connectors/src/restart?includeTasks=true", code: 202, want: running("RESTARTING", "RESTARTING", "RESTARTING")},
		{method: "POST", path: "/connectors/src/restart?onlyFailed=true", code: 202, want: running("RUNNING", "RUNNING", "RUNNING")},
		{method: "POST", path: "/connectors/src/restart?includeTasks=maybe", code: 404},
		{method: "POST", path: "/connectors/nope/restart", code: 404},
		{method: "PUT", path: "/connectors/src/pause", code: 202},
		{method: "GET", path: "/connectors/src/status", code: 200, want: running("PAUSED", "PAUSED", "PAUSED")},
		{method: "PUT", path: "/connectors/src/resume", code: 202},
		{method: "GET", path: "/connectors/src/status", code: 200, want: running("RUNNING", "RUNNING", "RUNNING")},
		{method: "PUT", path: "/connectors/nope/pause", code: 404},
		{method: "PUT", path: "/connectors/nope/resume", code: 404},
		{method: "POST", path: "/connectors/src/pause", code: 405},
		{method: "GET", path: "/connectors/src/topics", code: 200, want: `{"src":{"topics":["a","t"]}}`},
		{method: "GET", path: "/connectors/nope/topics", code: 200, want: `{"nope":{"topics":[]}}`},
		{method: "PUT", path: "/connectors/src/topics/reset", code: 202},
		{method: "PUT", path: "/connectors/nope/topics/reset", code: 404},
		{method: "GET", path: "/connectors/src/topics", code: 200, want: `{"src":{"topics":[]}}`},
		{method: "GET", path: "/connectors/src/offsets", code: 200, want: `{"offsets":[]}`},
		{method: "PATCH", path: "/connectors/src/offsets", body: `{"offsets":[{"partition":{"f":"a"},"offset":{"pos":3}}]}`, code: 400,
			want: `{"error_code":400,"message":"Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/src/stop' endpoint"}`},
		{method: "DELETE", path: "/connectors/src/offsets", code: 400},
		{method: "PUT", path: "/connectors/src/stop", code: 202},
		{method: "GET", path: "/connectors/src/status", code: 200, want: running("STOPPED")},
		{method: "GET", path: "/connectors/src", code: 200, want: `{"name":"src","config":` + srcConfig + `,"tasks":[],"type":"source"}`},
		{method: "PATCH", path: "/connectors/src/offsets", body: `{"offsets":[{"partition":{"f":"a"},"offset":{"pos":3}},{"partition":{"f":"b"},"offset":{"pos":4}}]}`, code: 200,
			want: `{"message":"The offsets for this connector have been altered successfully"}`},
		{method: "PATCH", path: "/connectors/src/offsets", body: `{"offsets":[]}`, code: 400},
		{method: "PATCH", path: "/connectors/src/offsets", body: `{"offsets":[{"offset":{"pos":1}}]}`, code: 400},
		{method: "PATCH", path: "/connectors/src/offsets", body: `x`, code: 400},
		{method: "GET", path: "/connectors/src/offsets", code: 200, want: `{"offsets":[{"partition":{"f":"a"},"offset":{"pos":3}},{"partition":{"f":"b"},"offset":{"pos":4}}]}`},
		{method: "DELETE", path: "/connectors/src/offsets", code: 200, want: `{"message":"The offsets for this connector have been reset successfully"}`},
		{method: "GET", path: "/connectors/src/offsets", code: 200, want: `{"offsets":[]}`},
		{method: "GET", path: "/connectors/nope/offsets", code: 404},
		{method: "PUT", path: "/connectors/src/offsets", code: 405},
		{method: "PUT", path: "/connectors/src/resume", code: 202},
		{method: "GET", path: "/connectors/src/status", code: 200, want: running("RUNNING", "RUNNING", "RUNNING")},
		{method: "GET", path: "/no/such/path", code: 404, want: `{"error_code":404,"message":"HTTP 404 Not Found"}`},
		{method: "DELETE", path: "/", code: 405},
	}
	for _, s := range steps {
		if s.path == "/connectors/src/topics" && s.want == `{"src":{"topics":["a","t"]}}` {
			h.ActiveTopic("src", "t")
			h.ActiveTopic("src", "a")
		}
		do(t, srv, s)
	}
}

func TestPluginEndpoints(t *testing.T) {
	srv, _, _ := server(t)
	validSink := `{"connector.class":"` + herdertest.SinkClass + `","name":"s","topics":"a"}`
	steps := []step{
		{method: "GET", path: "/connector-plugins", code: 200, want: `[{"class":"` + herdertest.SinkClass + `","type":"sink","version":"1.0"},{"class":"` + herdertest.SourceClass + `","type":"source","version":"1.0"}]`},
		{method: "GET", path: "/connector-plugins?connectorsOnly=false", code: 200, wantHas: []string{
			`{"class":"` + herdertest.TransformClass + `","type":"transformation","version":"1.2.3"}`,
			`{"class":"` + herdertest.PredicateClass + `","type":"predicate","version":"1.2.3"}`,
			`{"class":"` + herdertest.ConverterClass + `","type":"converter","version":"1.2.3"}`}},
		{method: "GET", path: "/connector-plugins?connectorsOnly=perhaps", code: 404},
		{method: "POST", path: "/connector-plugins", code: 405},
		{method: "GET", path: "/connector-plugins/TestSink/config", code: 200, wantHas: []string{`"name":"topics"`, `"name":"dir"`, `"default_value":"/tmp"`}},
		{method: "GET", path: "/connector-plugins/Upper/config", code: 200, want: `[{"name":"field","type":"STRING","required":true,"default_value":null,"importance":"MEDIUM","documentation":"Field.","group":null,"width":"NONE","display_name":"field","dependents":[],"order":-1}]`},
		{method: "GET", path: "/connector-plugins/Nope/config", code: 404, want: `{"error_code":404,"message":"Unknown plugin Nope."}`},
		{method: "PUT", path: "/connector-plugins/TestSinkConnector/config/validate", body: validSink, code: 200, wantHas: []string{`"name":"` + herdertest.SinkClass + `"`, `"error_count":0`, `"groups":["Common","Transforms","Predicates","Error Handling"]`}},
		{method: "PUT", path: "/connector-plugins/TestSink/config/validate", body: `{"connector.class":"` + herdertest.SinkClass + `","name":"s"}`, code: 200,
			wantHas: []string{`"error_count":2`, `"errors":["Must configure one of topics or topics.regex"]`}},
		{method: "PUT", path: "/connector-plugins/TestSource/config/validate", body: validSink, code: 400,
			want: `{"error_code":400,"message":"Included connector type ` + herdertest.SinkClass + ` does not match request type TestSource"}`},
		{method: "PUT", path: "/connector-plugins/TestSink/config/validate", body: `{"name":"s"}`, code: 400,
			want: `{"error_code":400,"message":"Connector config {name=s} contains no connector type"}`},
		{method: "PUT", path: "/connector-plugins/TestSink/config/validate", body: `[1]`, code: 400},
		{method: "PUT", path: "/connector-plugins/TestSink/config/validate", body: `{}`, contentType: "application/x-www-form-urlencoded", code: 415},
		{method: "POST", path: "/connector-plugins/TestSink/config/validate", body: validSink, code: 405},
	}
	for _, s := range steps {
		do(t, srv, s)
	}
}

// A herder that has not started answers /health 503, as KIP-1017 says a
// worker still starting does.
func TestHealthWhileStarting(t *testing.T) {
	h, err := herder.New(herder.Config{Registry: herdertest.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rest.New(rest.Config{Herder: h}))
	defer srv.Close()
	do(t, srv, step{method: "GET", path: "/health", code: 503, wantHas: []string{`"status":"starting"`}})
	do(t, srv, step{method: "POST", path: "/connectors", body: srcCreate, code: 503})
}
