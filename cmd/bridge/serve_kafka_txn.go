package main

// The Kafka transaction coordinator's settings: Kafka's broker settings of
// the same meaning (transactional.id.expiration.ms,
// transaction.remove.expired.transaction.cleanup.interval.ms,
// producer.id.expiration.ms, producer.id.expiration.check.interval.ms), as
// durations.

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/gateway/kafka"
)

type kafkaTxnOptions struct {
	idExpiration, idExpirationCheck   time.Duration
	pidExpiration, pidExpirationCheck time.Duration
}

func (o *kafkaTxnOptions) addFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&o.idExpiration, "transactional-id-expiration", 7*24*time.Hour, "how long a transactional id with no transaction open may go unused before it is removed (its producer then gets a new producer id); 0 keeps ids for ever (Kafka's transactional.id.expiration.ms)")
	fs.DurationVar(&o.idExpirationCheck, "transactional-id-expiration-check-interval", time.Hour, "how often expired transactional ids are removed (transaction.remove.expired.transaction.cleanup.interval.ms)")
	fs.DurationVar(&o.pidExpiration, "producer-id-expiration", 24*time.Hour, "how long an idempotent producer's state on a partition is kept after its last batch there, unless it has a transaction open; 0 keeps it for ever (producer.id.expiration.ms)")
	fs.DurationVar(&o.pidExpirationCheck, "producer-id-expiration-check-interval", 10*time.Minute, "how often expired producer state is removed (producer.id.expiration.check.interval.ms)")
}

func (o *kafkaTxnOptions) check() error {
	var errs []error
	if o.idExpiration < 0 {
		errs = append(errs, fmt.Errorf("--transactional-id-expiration %s: want 0 or more", o.idExpiration))
	}
	if o.idExpirationCheck < time.Millisecond {
		errs = append(errs, fmt.Errorf("--transactional-id-expiration-check-interval %s: want at least 1ms", o.idExpirationCheck))
	}
	if o.pidExpiration < 0 {
		errs = append(errs, fmt.Errorf("--producer-id-expiration %s: want 0 or more", o.pidExpiration))
	}
	if o.pidExpirationCheck < time.Millisecond {
		errs = append(errs, fmt.Errorf("--producer-id-expiration-check-interval %s: want at least 1ms", o.pidExpirationCheck))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return o.settings().Validate()
}

// settings are the options as the Kafka front end takes them; a zero there
// means Kafka's default, so "never" is negative.
func (o *kafkaTxnOptions) settings() kafka.TxnSettings {
	ts := kafka.TxnSettings{
		IDExpiration:              o.idExpiration,
		IDExpirationCheck:         o.idExpirationCheck,
		ProducerIDExpiration:      o.pidExpiration,
		ProducerIDExpirationCheck: o.pidExpirationCheck,
	}
	if ts.IDExpiration == 0 {
		ts.IDExpiration = -1
	}
	if ts.ProducerIDExpiration == 0 {
		ts.ProducerIDExpiration = -1
	}
	return ts
}
