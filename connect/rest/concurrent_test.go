package rest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/streambridge/bridge/connect/herder/herdertest"
)

// Clients driving different connectors at once, and one connector from two
// clients, leave every connector in a state a single client could have
// produced (run with -race).
func TestConcurrentClients(t *testing.T) {
	srv, h, w := server(t)
	send := func(method, path, body string) int {
		var req *http.Request
		if body != "" {
			req, _ = http.NewRequest(method, srv.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
		} else {
			req, _ = http.NewRequest(method, srv.URL+path, nil)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	var wg sync.WaitGroup
	for i := range 6 {
		name := fmt.Sprintf("c%d", i)
		wg.Go(func() {
			create := `{"name":"` + name + `","config":{"connector.class":"` + herdertest.SourceClass + `","topic":"t","tasks.max":"2"}}`
			if code := send("POST", "/connectors", create); code != 201 {
				t.Errorf("create %s: %d", name, code)
			}
			for range 3 {
				for _, op := range []string{"pause", "resume", "stop", "resume"} {
					if code := send("PUT", "/connectors/"+name+"/"+op, ""); code != 202 {
						t.Errorf("%s %s: %d", op, name, code)
					}
				}
				send("POST", "/connectors/"+name+"/restart?includeTasks=true", "")
				send("GET", "/connectors?expand=status&expand=info", "")
			}
			if i%2 == 0 {
				if code := send("DELETE", "/connectors/"+name, ""); code != 204 {
					t.Errorf("delete %s: %d", name, code)
				}
			}
		})
		// A second client on the same connector.
		wg.Go(func() {
			for range 10 {
				send("PATCH", "/connectors/"+name+"/config", `{"tasks.max":"1"}`)
				send("GET", "/connectors/"+name+"/status", "")
			}
		})
	}
	wg.Wait()
	if got := h.Connectors(); strings.Join(got, ",") != "c1,c3,c5" {
		t.Errorf("connectors = %q", got)
	}
	tasks := w.Tasks()
	want := 0
	for _, name := range []string{"c1", "c3", "c5"} {
		st, err := h.Status(name)
		if err != nil || st.Connector.State != "RUNNING" {
			t.Errorf("%s: %+v %v", name, st, err)
		}
		info, _ := h.Info(name)
		want += len(info.Tasks)
		for _, id := range info.Tasks {
			if tasks[fmt.Sprintf("%s-%d", name, id.Task)] != "running" {
				t.Errorf("%s-%d not running in the worker: %v", name, id.Task, tasks)
			}
		}
	}
	if len(tasks) != want {
		t.Errorf("worker runs %d tasks, the connectors have %d: %v", len(tasks), want, tasks)
	}
	if running := w.Running(); strings.Join(running, ",") != "c1,c3,c5" {
		t.Errorf("worker runs %q", running)
	}
}
