package herder

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/streambridge/bridge/connect"
)

// eosConnector is a source connector whose exactly-once answers are set.
type eosConnector struct {
	support    connect.ExactlyOnce
	supportErr error
	bounds     connect.TransactionBoundaries
}

func (c *eosConnector) Start(context.Context, connect.ConnectorContext, connect.Config) error {
	return nil
}
func (c *eosConnector) TaskConfigs(int) ([]connect.Config, error) { return nil, nil }
func (c *eosConnector) Stop() error                               { return nil }
func (c *eosConnector) NewTask() connect.SourceTask               { return nil }
func (c *eosConnector) ExactlyOnceSupport(connect.Config) (connect.ExactlyOnce, error) {
	return c.support, c.supportErr
}
func (c *eosConnector) CanDefineTransactionBoundaries(connect.Config) (connect.TransactionBoundaries, error) {
	return c.bounds, nil
}

type plainSource struct{}

func (plainSource) Start(context.Context, connect.ConnectorContext, connect.Config) error { return nil }
func (plainSource) TaskConfigs(int) ([]connect.Config, error)                             { return nil, nil }
func (plainSource) Stop() error                                                           { return nil }
func (plainSource) NewTask() connect.SourceTask                                           { return nil }

func eosValidationRegistry() *connect.Registry {
	var r connect.Registry
	add := func(class string, f func() connect.SourceConnector) {
		r.Register(connect.Plugin{Class: class, Type: connect.PluginSource, NewSource: f})
	}
	add("Plain", func() connect.SourceConnector { return plainSource{} })
	add("Supported", func() connect.SourceConnector {
		return &eosConnector{support: connect.ExactlyOnceSupported, bounds: connect.TransactionBoundariesSupported}
	})
	add("Unsupported", func() connect.SourceConnector {
		return &eosConnector{support: connect.ExactlyOnceUnsupported, bounds: connect.TransactionBoundariesUnsupported}
	})
	add("Null", func() connect.SourceConnector { return &eosConnector{} })
	add("Broken", func() connect.SourceConnector { return &eosConnector{supportErr: errors.New(" boom ")} })
	return &r
}

// DistributedHerder's exactly-once checks, with Kafka's messages; a
// standalone herder makes none of them.
func TestValidateExactlyOnce(t *testing.T) {
	yes, no := true, false
	cases := []struct {
		name    string
		worker  *bool // nil: standalone
		class   string
		extra   map[string]string
		setting string
		want    []string
	}{
		{"no preflight API", &yes, "Plain", map[string]string{"exactly.once.support": "required"}, "exactly.once.support",
			[]string{`The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value "requested" for this property (which will disable this preflight check and allow the connector to be created).`}},
		{"null answer", &yes, "Null", map[string]string{"exactly.once.support": "required"}, "exactly.once.support",
			[]string{`The connector does not implement the API required for preflight validation of exactly-once source support. Please consult the documentation for the connector to determine whether it supports exactly-once semantics, and then consider reconfiguring the connector to use the value "requested" for this property (which will disable this preflight check and allow the connector to be created).`}},
		{"unsupported", &yes, "Unsupported", map[string]string{"exactly.once.support": "required"}, "exactly.once.support",
			[]string{"The connector does not support exactly-once semantics with the provided configuration."}},
		{"worker disabled", &no, "Supported", map[string]string{"exactly.once.support": "required"}, "exactly.once.support",
			[]string{"This worker does not have exactly-once source support enabled."}},
		{"worker disabled and unsupported", &no, "Unsupported", map[string]string{"exactly.once.support": "required"}, "exactly.once.support",
			[]string{"This worker does not have exactly-once source support enabled.", "The connector does not support exactly-once semantics with the provided configuration."}},
		{"preflight throws", &yes, "Broken", map[string]string{"exactly.once.support": "required"}, "exactly.once.support",
			[]string{"An unexpected error occurred during validation: boom"}},
		{"supported", &yes, "Supported", map[string]string{"exactly.once.support": "required", "transaction.boundary": "connector"}, "exactly.once.support", nil},
		{"requested skips the check", &no, "Plain", map[string]string{"exactly.once.support": "requested"}, "exactly.once.support", nil},
		{"standalone makes no check", nil, "Plain", map[string]string{"exactly.once.support": "required", "transaction.boundary": "connector"}, "exactly.once.support", nil},
		{"connector boundaries unsupported", &yes, "Unsupported", map[string]string{"transaction.boundary": "connector"}, "transaction.boundary",
			[]string{"The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition."}},
		{"connector boundaries by default unsupported", &yes, "Plain", map[string]string{"transaction.boundary": "connector"}, "transaction.boundary",
			[]string{"The connector does not support connector-defined transaction boundaries with the given configuration. Please reconfigure it to use a different transaction boundary definition."}},
		{"connector boundaries null", &yes, "Null", map[string]string{"transaction.boundary": "connector"}, "transaction.boundary",
			[]string{"This connector has returned a null value from its canDefineTransactionBoundaries method, which is not permitted. The connector will be treated as if it cannot define its own transaction boundaries, and cannot be configured with 'transaction.boundary' set to 'connector'."}},
		{"negative interval", nil, "Plain", map[string]string{"transaction.boundary": "interval", "transaction.boundary.interval.ms": "-5"}, "transaction.boundary.interval.ms",
			[]string{"Invalid value -5 for configuration transaction.boundary.interval.ms: Value must be at least 0"}},
		{"blank offsets topic", nil, "Plain", map[string]string{"offsets.storage.topic": " "}, "offsets.storage.topic",
			[]string{"Invalid value   for configuration offsets.storage.topic: String must be non-empty"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &Herder{cfg: Config{Registry: eosValidationRegistry()}, exactlyOnce: c.worker}
			cfg := connect.Config{"name": "src", "connector.class": c.class}
			for k, v := range c.extra {
				cfg[k] = v
			}
			infos, err := h.Validate(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, ci := range infos.Configs {
				if ci.Definition.Name == c.setting {
					got = ci.Value.Errors
				}
			}
			if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
				t.Errorf("errors of %s: %q\nwant %q", c.setting, got, c.want)
			}
			if (infos.ErrorCount > 0) != (len(c.want) > 0) {
				t.Errorf("error_count %d", infos.ErrorCount)
			}
		})
	}
}

func TestParseExactlyOnceSourceSupport(t *testing.T) {
	for in, want := range map[string]ExactlyOnceSourceSupport{"": ExactlyOnceDisabled, "ENABLED": ExactlyOnceEnabled, " Preparing ": ExactlyOncePreparing, "disabled": ExactlyOnceDisabled} {
		if got, err := ParseExactlyOnceSourceSupport(in); err != nil || got != want {
			t.Errorf("%q: %q, %v", in, got, err)
		}
	}
	_, err := ParseExactlyOnceSourceSupport("on")
	if err == nil || err.Error() != "Invalid value on for configuration exactly.once.source.support: String must be one of (case insensitive): DISABLED, ENABLED, PREPARING" {
		t.Errorf("on: %v", err)
	}
}
