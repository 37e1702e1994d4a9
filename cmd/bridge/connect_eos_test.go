package main

import (
	"net"
	"testing"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
)

// exactly.once.source.support is read case-insensitively into the
// distributed herder's configuration, with Kafka's error for other values.
func TestDistributedConfigExactlyOnceSourceSupport(t *testing.T) {
	bound := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8083}
	for _, c := range []struct {
		value   string
		want    herder.ExactlyOnceSourceSupport
		wantErr string
	}{
		{"", herder.ExactlyOnceDisabled, ""},
		{"enabled", herder.ExactlyOnceEnabled, ""},
		{"PREPARING", herder.ExactlyOncePreparing, ""},
		{"on", "", "Invalid value on for configuration exactly.once.source.support: String must be one of (case insensitive): DISABLED, ENABLED, PREPARING"},
	} {
		props := connect.Config{}
		if c.value != "" {
			props["exactly.once.source.support"] = c.value
		}
		cfg, err := distributedConfig("g", props, "http", bound, []string{"k:9092"}, nil)
		switch {
		case c.wantErr != "":
			if err == nil || err.Error() != c.wantErr {
				t.Errorf("%q: err %v, want %q", c.value, err, c.wantErr)
			}
		case err != nil:
			t.Errorf("%q: %v", c.value, err)
		case cfg.ExactlyOnceSource != c.want:
			t.Errorf("%q: %q, want %q", c.value, cfg.ExactlyOnceSource, c.want)
		}
	}
}
