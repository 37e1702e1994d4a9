package admin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/streambridge/bridge/internal/buildinfo"
)

func TestEndpoints(t *testing.T) {
	var notReady atomic.Pointer[error]
	ready := func() error {
		if p := notReady.Load(); p != nil {
			return *p
		}
		return nil
	}
	info := buildinfo.Info{Version: "v1.2.3", GoVersion: "go1.26.0"}
	srv := httptest.NewServer(NewHandler(NewRegistry(info), ready))
	defer srv.Close()

	get := func(method, path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	stopping := errors.New("shutting down")
	tests := []struct {
		name       string
		method     string
		path       string
		notReady   error
		wantStatus int
		wantBody   []string // substrings
	}{
		{"healthz", "GET", "/healthz", nil, 200, []string{"ok"}},
		{"healthz while not ready", "GET", "/healthz", stopping, 200, []string{"ok"}},
		{"healthz HEAD", "HEAD", "/healthz", nil, 200, nil},
		{"readyz ready", "GET", "/readyz", nil, 200, []string{"ready"}},
		{"readyz not ready", "GET", "/readyz", stopping, 503, []string{"not ready: shutting down"}},
		{"metrics", "GET", "/metrics", nil, 200, []string{
			"go_goroutines",
			"process_",
			`bridge_build_info{goversion="go1.26.0",version="v1.2.3"} 1`,
		}},
		{"post healthz", "POST", "/healthz", nil, 405, nil},
		{"unknown path", "GET", "/nope", nil, 404, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.notReady != nil {
				notReady.Store(&tt.notReady)
			} else {
				notReady.Store(nil)
			}
			status, body := get(tt.method, tt.path)
			if status != tt.wantStatus {
				t.Fatalf("%s %s = %d %q, want %d", tt.method, tt.path, status, body, tt.wantStatus)
			}
			for _, want := range tt.wantBody {
				if !strings.Contains(body, want) {
					t.Errorf("%s %s body lacks %q:\n%s", tt.method, tt.path, want, body)
				}
			}
		})
	}
}

// Two registries in one process must not collide: the server relies on this
// to run several instances in one test binary.
func TestRegistriesIndependent(t *testing.T) {
	info := buildinfo.Read()
	a, b := NewRegistry(info), NewRegistry(info)
	if a == b {
		t.Fatal("NewRegistry returned the same registry twice")
	}
	if _, err := a.Gather(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Gather(); err != nil {
		t.Fatal(err)
	}
}

func TestProfilesServed(t *testing.T) {
	h := NewHandler(NewRegistry(buildinfo.Info{Version: "test"}), func() error { return nil })
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap?debug=1", "/debug/pprof/goroutine?debug=1"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != http.StatusOK {
			t.Errorf("GET %s: %d", path, rec.Code)
		}
	}
}
