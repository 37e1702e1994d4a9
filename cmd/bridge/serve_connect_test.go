package main

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streambridge/bridge/server"
)

// What serve starts after the server is ready is stopped before the server,
// after the first signal; one that fails to start fails serve and leaves
// nothing running.
func TestServeAfterStart(t *testing.T) {
	t.Run("stopped before the server", func(t *testing.T) {
		sigs := make(chan os.Signal, 2)
		cfg := testServerConfig(t)
		started, stopped := make(chan string, 1), make(chan bool, 1)
		hook := func(_ context.Context, srv *server.Server) (func(context.Context) error, error) {
			started <- srv.Addrs().Kafka
			return func(context.Context) error {
				// The Kafka port still accepts while the worker stops.
				c, err := net.Dial("tcp", srv.Addrs().Kafka)
				if err == nil {
					c.Close()
				}
				stopped <- err == nil
				return nil
			}, nil
		}
		done := make(chan error, 1)
		go func() { done <- serve(t.Context(), cfg, 30*time.Second, cfg.Logger, sigs, func() {}, hook) }()
		<-started
		sigs <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Fatalf("serve = %v", err)
		}
		if !<-stopped {
			t.Error("the Kafka port was closed before the hook stopped")
		}
	})
	t.Run("failed start", func(t *testing.T) {
		cfg := testServerConfig(t)
		hook := func(context.Context, *server.Server) (func(context.Context) error, error) {
			return nil, errors.New("port taken")
		}
		err := serve(t.Context(), cfg, 30*time.Second, cfg.Logger, make(chan os.Signal), func() {}, hook)
		if err == nil || !strings.Contains(err.Error(), "cannot start: port taken") {
			t.Fatalf("serve = %v", err)
		}
	})
}

func TestConnectAddrFlag(t *testing.T) {
	for addr, ok := range map[string]bool{"": true, ":8083": true, "127.0.0.1:0": true, "8083": false, "host:": false} {
		err := (&connectOptions{addr: addr}).check()
		if (err == nil) != ok {
			t.Errorf("--connect-addr %q: %v", addr, err)
		}
	}
	topics := func(o connectOptions) connectOptions {
		o.configTopic, o.offsetTopic, o.statusTopic = defaultConnectConfigTopic, defaultConnectOffsetTopic, defaultConnectStatusTopic
		return o
	}
	for _, c := range []struct {
		name    string
		opts    connectOptions
		wantErr string
	}{
		{"distributed", topics(connectOptions{addr: ":8083", groupID: "g"}), ""},
		{"group without a worker", topics(connectOptions{groupID: "g"}), "--connect-group-id \"g\": needs --connect-addr"},
		{"bad topic name", func() connectOptions {
			o := topics(connectOptions{addr: ":8083", groupID: "g"})
			o.statusTopic = "st/atus"
			return o
		}(), "--connect-status-topic \"st/atus\": '/' is not allowed"},
		{"one topic twice", func() connectOptions {
			o := topics(connectOptions{addr: ":8083", groupID: "g"})
			o.offsetTopic = o.configTopic
			return o
		}(), "--connect-config-topic and --connect-offset-topic are both \"connect-configs\""},
		{"empty topic", func() connectOptions {
			o := topics(connectOptions{addr: ":8083", groupID: "g"})
			o.configTopic = ""
			return o
		}(), "--connect-config-topic \"\": want a topic name"},
	} {
		err := c.opts.check()
		if c.wantErr == "" && err != nil || c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)) {
			t.Errorf("%s: %v, want %q", c.name, err, c.wantErr)
		}
	}
	for bound, want := range map[string]string{"0.0.0.0:9092": "127.0.0.1:9092", "[::]:9092": "127.0.0.1:9092", "127.0.0.2:1": "127.0.0.2:1", ":5": "127.0.0.1:5"} {
		if got := dialable(bound); got != want {
			t.Errorf("dialable(%s) = %s, want %s", bound, got, want)
		}
	}
}
