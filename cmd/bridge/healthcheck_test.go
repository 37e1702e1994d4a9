package main

import (
	"errors"
	"net"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streambridge/bridge/internal/buildinfo"
	"github.com/streambridge/bridge/server/admin"
)

// adminServer serves the real admin handler on 127.0.0.1, ready or not.
func adminServer(t *testing.T, useTLS bool, notReady error) string {
	t.Helper()
	h := admin.NewHandler(admin.NewRegistry(buildinfo.Read()), func() error { return notReady })
	var s *httptest.Server
	if useTLS {
		s = httptest.NewTLSServer(h)
	} else {
		s = httptest.NewServer(h)
	}
	t.Cleanup(s.Close)
	return s.Listener.Addr().String()
}

// silentAddr accepts connections and never answers, for the timeout.
func silentAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return ln.Addr().String()
}

// closedAddr is a 127.0.0.1 port nothing listens on any more.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestHealthcheck(t *testing.T) {
	ready := adminServer(t, false, nil)
	_, readyPort, _ := net.SplitHostPort(ready)
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		wantOut  string // in stdout
		wantErr  string // in stderr
	}{
		{"ready", []string{"--admin-addr", ready}, nil, 0, "ready", ""},
		{"all interfaces probed on loopback", []string{"--admin-addr", ":" + readyPort}, nil, 0, "ready", ""},
		{"unspecified v4 probed on loopback", []string{"--admin-addr", "0.0.0.0:" + readyPort}, nil, 0, "ready", ""},
		{"address from the environment", nil, map[string]string{"BRIDGE_ADMIN_ADDR": ready}, 0, "ready", ""},
		{"flag beats environment", []string{"--admin-addr", ready}, map[string]string{"BRIDGE_ADMIN_ADDR": closedAddr(t)}, 0, "ready", ""},
		{"not ready", []string{"--admin-addr", adminServer(t, false, errors.New("shutting down"))}, nil, 1, "", "503 Service Unavailable: not ready: shutting down"},
		{"https", []string{"--admin-addr", adminServer(t, true, nil), "--admin-tls"}, nil, 0, "ready", ""},
		{"https from the environment", nil, map[string]string{"BRIDGE_ADMIN_ADDR": adminServer(t, true, nil), "BRIDGE_ADMIN_TLS": "true"}, 0, "ready", ""},
		{"http to an https port", []string{"--admin-addr", adminServer(t, true, nil)}, nil, 1, "", "400 Bad Request"},
		{"nothing listening", []string{"--admin-addr", closedAddr(t)}, nil, 1, "", "connection refused"},
		{"no answer", []string{"--admin-addr", silentAddr(t), "--timeout", "200ms"}, nil, 1, "", "no answer within 200ms"},
		{"bad address", []string{"--admin-addr", "8080"}, nil, 1, "", `--admin-addr "8080"`},
		{"port zero", []string{"--admin-addr", "127.0.0.1:0"}, nil, 1, "", "want the port"},
		{"bad env value", nil, map[string]string{"BRIDGE_ADMIN_TLS": "maybe"}, 1, "", "BRIDGE_ADMIN_TLS"},
		{"bad timeout", []string{"--timeout", "0s"}, nil, 1, "", "--timeout 0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok }
			var out, errOut strings.Builder
			code := run(t.Context(), append([]string{"healthcheck"}, tc.args...), &out, &errOut, env)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d; stdout %q, stderr %q", code, tc.wantCode, out.String(), errOut.String())
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("stdout %q lacks %q", out.String(), tc.wantOut)
			}
			if !strings.Contains(errOut.String(), tc.wantErr) {
				t.Errorf("stderr %q lacks %q", errOut.String(), tc.wantErr)
			}
		})
	}
}

func TestProbeURL(t *testing.T) {
	tests := []struct {
		addr string
		tls  bool
		want string
	}{
		{":8080", false, "http://127.0.0.1:8080/readyz"},
		{"0.0.0.0:8080", true, "https://127.0.0.1:8080/readyz"},
		{"[::]:8080", false, "http://[::1]:8080/readyz"},
		{"127.0.0.2:9", false, "http://127.0.0.2:9/readyz"},
		{"bridge:8080", false, "http://bridge:8080/readyz"},
	}
	for _, tc := range tests {
		if got, err := probeURL(tc.addr, tc.tls); err != nil || got != tc.want {
			t.Errorf("probeURL(%q, %v) = %q, %v; want %q", tc.addr, tc.tls, got, err, tc.want)
		}
	}
}
