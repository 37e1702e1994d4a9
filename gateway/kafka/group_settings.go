package kafka

import (
	"fmt"
	"time"
)

// GroupSettings are the group coordinator's broker settings (Config.Groups);
// a zero field takes Kafka's default.
type GroupSettings struct {
	// MinSessionTimeout and MaxSessionTimeout bound the session timeout
	// classic members ask for (group.min.session.timeout.ms, 6 s, and
	// group.max.session.timeout.ms, 30 min); outside them JoinGroup
	// answers INVALID_SESSION_TIMEOUT.
	MinSessionTimeout time.Duration
	MaxSessionTimeout time.Duration
	// InitialRebalanceDelay holds an empty classic group's first
	// rebalance open for more members (group.initial.rebalance.delay.ms,
	// 3 s). Negative means none.
	InitialRebalanceDelay time.Duration
	// ConsumerSessionTimeout and ConsumerHeartbeatInterval are the
	// KIP-848 consumer groups' group.consumer.session.timeout.ms (45 s)
	// and group.consumer.heartbeat.interval.ms (5 s).
	ConsumerSessionTimeout    time.Duration
	ConsumerHeartbeatInterval time.Duration
	// ConsumerMaxSize is group.consumer.max.size: members of one
	// consumer-protocol group; 0 means no limit.
	ConsumerMaxSize int
	// OffsetsRetention is offsets.retention.minutes (7 days): committed
	// offsets of a group empty that long expire (offset_expiry.go).
	// Negative keeps offsets for ever.
	OffsetsRetention time.Duration
	// OffsetsRetentionCheck is offsets.retention.check.interval.ms
	// (10 min): how often expiry runs.
	OffsetsRetentionCheck time.Duration
	// ConsumerMigrationPolicy is group.consumer.migration.policy: which
	// online conversions between classic and KIP-848 consumer groups are
	// allowed (cgroup_classic.go): "disabled", "upgrade", "downgrade" or
	// "bidirectional" (the default, "" too).
	ConsumerMigrationPolicy string
}

// Validate reports settings Kafka would refuse.
func (gs GroupSettings) Validate() error {
	cfg := gs.apply(defaultGroupConfig)
	switch {
	case cfg.minSessionTimeout > cfg.maxSessionTimeout:
		return fmt.Errorf("group min session timeout %s is over the max %s", cfg.minSessionTimeout, cfg.maxSessionTimeout)
	case cfg.consumerHeartbeatInterval >= cfg.consumerSessionTimeout:
		return fmt.Errorf("consumer group heartbeat interval %s must be under the session timeout %s", cfg.consumerHeartbeatInterval, cfg.consumerSessionTimeout)
	case gs.ConsumerMaxSize < 0:
		return fmt.Errorf("consumer group max size %d is negative", gs.ConsumerMaxSize)
	case !validMigrationPolicy(gs.ConsumerMigrationPolicy):
		return fmt.Errorf("consumer group migration policy %q: want disabled, upgrade, downgrade or bidirectional", gs.ConsumerMigrationPolicy)
	case gs.MinSessionTimeout < 0 || gs.MaxSessionTimeout < 0 || gs.ConsumerSessionTimeout < 0 || gs.ConsumerHeartbeatInterval < 0 || gs.OffsetsRetentionCheck < 0:
		return fmt.Errorf("group timeouts must not be negative")
	}
	return nil
}

// apply overrides cfg's fields with the settings given.
func (gs GroupSettings) apply(cfg groupConfig) groupConfig {
	set := func(dst *time.Duration, v time.Duration) {
		if v != 0 {
			*dst = v
		}
	}
	set(&cfg.minSessionTimeout, gs.MinSessionTimeout)
	set(&cfg.maxSessionTimeout, gs.MaxSessionTimeout)
	set(&cfg.initialRebalanceDelay, gs.InitialRebalanceDelay)
	if cfg.initialRebalanceDelay < 0 {
		cfg.initialRebalanceDelay = 0
	}
	set(&cfg.consumerSessionTimeout, gs.ConsumerSessionTimeout)
	set(&cfg.consumerHeartbeatInterval, gs.ConsumerHeartbeatInterval)
	if gs.ConsumerMaxSize != 0 {
		cfg.consumerMaxSize = gs.ConsumerMaxSize
	}
	set(&cfg.offsetsRetention, gs.OffsetsRetention)
	if cfg.offsetsRetention < 0 {
		cfg.offsetsRetention = 0 // never
	}
	set(&cfg.offsetsRetentionCheck, gs.OffsetsRetentionCheck)
	if gs.ConsumerMigrationPolicy != "" {
		cfg.migrationPolicy = gs.ConsumerMigrationPolicy
	}
	return cfg
}

// groupSettings is the coordinator's configuration for s.
func (s *Server) groupSettings() groupConfig {
	return s.cfg.Groups.apply(defaultGroupConfig)
}

// withConsumerDefaults gives a test's groupConfig, written before the
// KIP-848 settings existed, Kafka's defaults for them.
func (cfg groupConfig) withConsumerDefaults() groupConfig {
	if cfg.consumerSessionTimeout <= 0 {
		cfg.consumerSessionTimeout = defaultGroupConfig.consumerSessionTimeout
	}
	if cfg.consumerHeartbeatInterval <= 0 {
		cfg.consumerHeartbeatInterval = defaultGroupConfig.consumerHeartbeatInterval
	}
	return cfg
}
