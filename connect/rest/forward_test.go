package rest_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/rest"
	"github.com/streambridge/bridge/connect/runtime"
)

// elsewhere is a herder whose every change belongs to another worker.
type elsewhere struct {
	rest.Herder
	target string // the ForwardError's URL
}

func (e elsewhere) err() error {
	return &herder.ForwardError{URL: e.target, Message: "Only the leader can set connector configs."}
}

func (e elsewhere) Put(context.Context, string, connect.Config, bool, herder.TargetState) (herder.ConnectorInfo, bool, error) {
	return herder.ConnectorInfo{}, false, e.err()
}
func (e elsewhere) Delete(context.Context, string) error { return e.err() }
func (e elsewhere) RestartTask(runtime.TaskID) error     { return e.err() }
func (e elsewhere) Patch(context.Context, string, map[string]*string) (herder.ConnectorInfo, error) {
	return herder.ConnectorInfo{}, e.err()
}

// received is what the worker a request was forwarded to saw.
type received struct {
	method, uri, body, contentType, auth string
}

// A change another worker must serve is sent there as it came (method,
// escaped path, query with forward=true on the first hop and false on the
// second, body, Authorization), and its answer relayed (status, body, a
// Location on this worker's host); without a target, after two hops, or
// when the target cannot be reached, the answer is Kafka's.
func TestForwarding(t *testing.T) {
	var mu sync.Mutex
	var got []received
	leader := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, received{r.Method, r.URL.RequestURI(), string(b), r.Header.Get("Content-Type"), r.Header.Get("Authorization")})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if r.Method == "POST" && r.URL.Path == "/connectors" {
			w.Header().Set("Location", "http://"+r.Host+"/connectors/c1")
			w.WriteHeader(201)
			_, _ = io.WriteString(w, `{"name":"c1","config":{},"tasks":[],"type":"source"}`)
			return
		}
		w.WriteHeader(404)
		_, _ = io.WriteString(w, `{"error_code":404,"message":"Connector a/b not found"}`)
	}))
	defer leader.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + closed.Addr().String() + "/"
	closed.Close()

	serve := func(target string) *httptest.Server {
		srv := httptest.NewServer(rest.New(rest.Config{Herder: elsewhere{target: target}}))
		t.Cleanup(srv.Close)
		return srv
	}
	forwarding := serve(leader.URL + "/")
	create := `{"name":"c1","config":{"connector.class":"X"}}`
	for _, c := range []struct {
		name, method, path, body string
		srv                      *httptest.Server
		code                     int
		answer, location         string
		want                     *received
	}{
		{name: "create, first hop", method: "POST", path: "/connectors", body: create, srv: forwarding, code: 201,
			answer: `"name":"c1"`, location: "/connectors/c1",
			want: &received{"POST", "/connectors?forward=true", create, "application/json", "Basic dTpw"}},
		{name: "second hop", method: "DELETE", path: "/connectors/a%2Fb?forward=true", srv: forwarding, code: 404,
			answer: "Connector a/b not found",
			want:   &received{"DELETE", "/connectors/a%2Fb?forward=false", "", "", "Basic dTpw"}},
		{name: "task restart keeps its path", method: "POST", path: "/connectors/c1/tasks/2/restart", srv: forwarding, code: 404,
			want: &received{"POST", "/connectors/c1/tasks/2/restart?forward=true", "", "", "Basic dTpw"}},
		{name: "patch keeps its body", method: "PATCH", path: "/connectors/c1/config", body: `{"tasks.max":null}`, srv: forwarding, code: 404,
			want: &received{"PATCH", "/connectors/c1/config?forward=true", `{"tasks.max":null}`, "application/json", "Basic dTpw"}},
		{name: "already forwarded twice", method: "DELETE", path: "/connectors/c1?forward=false", srv: forwarding, code: 409,
			answer: `{"error_code":409,"message":"Cannot complete request because of a conflicting operation (e.g. worker rebalance)"}`},
		{name: "no leader known", method: "POST", path: "/connectors", body: create, srv: serve(""), code: 409,
			answer: `{"error_code":409,"message":"Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."}`},
		{name: "leader unreachable", method: "DELETE", path: "/connectors/c1", srv: serve(unreachable), code: 500,
			answer: `"message":"IO Error trying to forward REST request: `},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, c.srv.URL+c.path, body)
			if c.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.SetBasicAuth("u", "p")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || !strings.Contains(string(b), c.answer) {
				t.Errorf("answer %d %s, want %d with %s", resp.StatusCode, b, c.code, c.answer)
			}
			if c.location != "" && resp.Header.Get("Location") != c.srv.URL+c.location {
				t.Errorf("Location %q, want %q", resp.Header.Get("Location"), c.srv.URL+c.location)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case c.want == nil && len(got) > 0:
				t.Errorf("forwarded %+v", got)
			case c.want != nil && (len(got) != 1 || got[0] != *c.want):
				t.Errorf("the leader got %+v, want %+v", got, *c.want)
			}
		})
	}
}
