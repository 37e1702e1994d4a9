package main

// The Kafka group coordinator's settings: Kafka's broker settings of the
// same meaning (group.*.session.timeout.ms, group.initial.rebalance.delay.ms,
// group.consumer.*, offsets.retention.*), as durations.

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/gateway/kafka"
)

type kafkaGroupOptions struct {
	minSession, maxSession       time.Duration
	initialDelay                 time.Duration
	consumerSession, consumerHB  time.Duration
	consumerMaxSize              int
	retention, retentionInterval time.Duration
	migrationPolicy              string
}

func (o *kafkaGroupOptions) addFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.minSession, "group-min-session-timeout", 6*time.Second, "shortest session timeout a classic group member may ask for (Kafka's group.min.session.timeout.ms)")
	fs.DurationVar(&o.maxSession, "group-max-session-timeout", 30*time.Minute, "longest session timeout a classic group member may ask for (group.max.session.timeout.ms)")
	fs.DurationVar(&o.initialDelay, "group-initial-rebalance-delay", 3*time.Second, "how long an empty classic group's first rebalance waits for more members; 0 for none (group.initial.rebalance.delay.ms)")
	fs.DurationVar(&o.consumerSession, "group-consumer-session-timeout", 45*time.Second, "session timeout of KIP-848 consumer group members (group.consumer.session.timeout.ms)")
	fs.DurationVar(&o.consumerHB, "group-consumer-heartbeat-interval", 5*time.Second, "heartbeat interval KIP-848 consumer group members are told (group.consumer.heartbeat.interval.ms)")
	fs.IntVar(&o.consumerMaxSize, "group-consumer-max-size", 0, "most members of one KIP-848 consumer group; 0 for no limit (group.consumer.max.size)")
	fs.StringVar(&o.migrationPolicy, "group-consumer-migration-policy", "bidirectional", "online conversion between classic and KIP-848 consumer groups: disabled, upgrade, downgrade or bidirectional (group.consumer.migration.policy)")
	fs.DurationVar(&o.retention, "offsets-retention", 7*24*time.Hour, "how long committed offsets of an empty group are kept; 0 keeps them for ever (offsets.retention.minutes)")
	fs.DurationVar(&o.retentionInterval, "offsets-retention-check-interval", 10*time.Minute, "how often expired offsets are removed (offsets.retention.check.interval.ms)")
}

func (o *kafkaGroupOptions) check() error {
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
		min  time.Duration
	}{
		{"--group-min-session-timeout", o.minSession, time.Millisecond},
		{"--group-max-session-timeout", o.maxSession, time.Millisecond},
		{"--group-initial-rebalance-delay", o.initialDelay, 0},
		{"--group-consumer-session-timeout", o.consumerSession, time.Millisecond},
		{"--group-consumer-heartbeat-interval", o.consumerHB, time.Millisecond},
		{"--offsets-retention", o.retention, 0},
		{"--offsets-retention-check-interval", o.retentionInterval, time.Millisecond},
	} {
		if d.v < d.min {
			errs = append(errs, fmt.Errorf("%s %s: want at least %s", d.name, d.v, d.min))
		}
	}
	if o.consumerMaxSize < 0 {
		errs = append(errs, fmt.Errorf("--group-consumer-max-size %d: want 0 or more", o.consumerMaxSize))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return o.settings().Validate()
}

// settings are the options as the Kafka front end takes them; a zero there
// means Kafka's default, so "none" is negative.
func (o *kafkaGroupOptions) settings() kafka.GroupSettings {
	gs := kafka.GroupSettings{
		MinSessionTimeout:         o.minSession,
		MaxSessionTimeout:         o.maxSession,
		InitialRebalanceDelay:     o.initialDelay,
		ConsumerSessionTimeout:    o.consumerSession,
		ConsumerHeartbeatInterval: o.consumerHB,
		ConsumerMaxSize:           o.consumerMaxSize,
		OffsetsRetention:          o.retention,
		OffsetsRetentionCheck:     o.retentionInterval,
		ConsumerMigrationPolicy:   o.migrationPolicy,
	}
	if gs.InitialRebalanceDelay == 0 {
		gs.InitialRebalanceDelay = -1
	}
	if gs.OffsetsRetention == 0 {
		gs.OffsetsRetention = -1
	}
	return gs
}
