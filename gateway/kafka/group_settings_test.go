package kafka

import (
	"testing"
	"time"
)

func TestGroupSettings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gs    GroupSettings
		check func(groupConfig) bool
		bad   bool
	}{
		{"zero is Kafka's defaults", GroupSettings{}, func(c groupConfig) bool { return c == defaultGroupConfig }, false},
		{"overrides", GroupSettings{MinSessionTimeout: time.Second, ConsumerSessionTimeout: 10 * time.Second, ConsumerHeartbeatInterval: time.Second, ConsumerMaxSize: 3, OffsetsRetention: time.Hour},
			func(c groupConfig) bool {
				return c.minSessionTimeout == time.Second && c.consumerSessionTimeout == 10*time.Second &&
					c.consumerHeartbeatInterval == time.Second && c.consumerMaxSize == 3 && c.offsetsRetention == time.Hour
			}, false},
		{"negative delay and retention mean none", GroupSettings{InitialRebalanceDelay: -1, OffsetsRetention: -1},
			func(c groupConfig) bool { return c.initialRebalanceDelay == 0 && c.offsetsRetention == 0 }, false},
		{"min over max", GroupSettings{MinSessionTimeout: time.Hour, MaxSessionTimeout: time.Minute}, nil, true},
		{"heartbeat not under session", GroupSettings{ConsumerSessionTimeout: time.Second, ConsumerHeartbeatInterval: time.Second}, nil, true},
		{"negative max size", GroupSettings{ConsumerMaxSize: -1}, nil, true},
		{"migration policy", GroupSettings{ConsumerMigrationPolicy: "upgrade"},
			func(c groupConfig) bool { return c.upgradeAllowed() && !c.downgradeAllowed() }, false},
		{"default migration policy is bidirectional", GroupSettings{},
			func(c groupConfig) bool { return c.upgradeAllowed() && c.downgradeAllowed() }, false},
		{"no migrations", GroupSettings{ConsumerMigrationPolicy: "disabled"},
			func(c groupConfig) bool { return !c.upgradeAllowed() && !c.downgradeAllowed() }, false},
		{"unknown migration policy", GroupSettings{ConsumerMigrationPolicy: "sideways"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.gs.Validate()
			if (err != nil) != tc.bad {
				t.Fatalf("Validate: %v", err)
			}
			if tc.check != nil && !tc.check(tc.gs.apply(defaultGroupConfig)) {
				t.Fatalf("applied: %+v", tc.gs.apply(defaultGroupConfig))
			}
		})
	}
}

// A server's Config.Groups reaches its coordinator.
func TestGroupSettingsReachCoordinator(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Groups = GroupSettings{ConsumerHeartbeatInterval: 1234 * time.Millisecond}
	})
	c := dialRaw(t, ts.addr)
	r := c.cgHeartbeat(t, cgJoin("hb", "m", "t"))
	if r.ErrorCode != 0 || r.HeartbeatIntervalMillis != 1234 {
		t.Fatalf("heartbeat interval %d (%s), want 1234", r.HeartbeatIntervalMillis, codeName(r.ErrorCode))
	}
}
