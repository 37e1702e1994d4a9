package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/streambridge/bridge/server"
	"github.com/streambridge/bridge/store/embedded"
)

// TestServeFsync checks that --fsync and --fsync-interval, from each
// layer, reach server.Config, and that a bad mode is refused.
func TestServeFsync(t *testing.T) {
	for _, tc := range []struct {
		name     string
		args     []string
		env      map[string]string
		mode     embedded.Fsync
		interval time.Duration
		err      string
	}{
		{"default", nil, nil, embedded.FsyncAlways, embedded.DefaultFsyncInterval, ""},
		{"flags", []string{"--fsync", "os", "--fsync-interval", "1s"}, nil, embedded.FsyncOS, time.Second, ""},
		{"environment", nil, map[string]string{"BRIDGE_FSYNC": "os", "BRIDGE_FSYNC_INTERVAL": "250ms"}, embedded.FsyncOS, 250 * time.Millisecond, ""},
		{"flag over environment", []string{"--fsync", "always"}, map[string]string{"BRIDGE_FSYNC": "os"}, embedded.FsyncAlways, embedded.DefaultFsyncInterval, ""},
		{"bad mode", []string{"--fsync", "never"}, nil, 0, 0, "want one of always|os"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg server.Config
			root := newRootCmd(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok },
				func(_ *cobra.Command, o *serveOptions, _ layered) error {
					var err error
					cfg, err = o.serverConfig(slog.New(slog.DiscardHandler))
					return err
				})
			root.SetArgs(append([]string{"serve"}, tc.args...))
			root.SetOut(&strings.Builder{})
			root.SetErr(&strings.Builder{})
			err := root.Execute()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Fsync != tc.mode || cfg.FsyncInterval != tc.interval {
				t.Fatalf("Fsync %v every %v, want %v every %v", cfg.Fsync, cfg.FsyncInterval, tc.mode, tc.interval)
			}
		})
	}
}
