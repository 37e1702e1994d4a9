package main

import (
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/streambridge/bridge/gateway/kafka"
)

func TestKafkaTxnFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want kafka.TxnSettings
		bad  bool
	}{
		{nil, kafka.TxnSettings{IDExpiration: 7 * 24 * time.Hour, IDExpirationCheck: time.Hour, ProducerIDExpiration: 24 * time.Hour, ProducerIDExpirationCheck: 10 * time.Minute}, false},
		{[]string{"--transactional-id-expiration=0"}, kafka.TxnSettings{IDExpiration: -1, IDExpirationCheck: time.Hour, ProducerIDExpiration: 24 * time.Hour, ProducerIDExpirationCheck: 10 * time.Minute}, false},
		{[]string{"--transactional-id-expiration=10s", "--transactional-id-expiration-check-interval=1s"}, kafka.TxnSettings{IDExpiration: 10 * time.Second, IDExpirationCheck: time.Second, ProducerIDExpiration: 24 * time.Hour, ProducerIDExpirationCheck: 10 * time.Minute}, false},
		{[]string{"--producer-id-expiration=0", "--producer-id-expiration-check-interval=1m"}, kafka.TxnSettings{IDExpiration: 7 * 24 * time.Hour, IDExpirationCheck: time.Hour, ProducerIDExpiration: -1, ProducerIDExpirationCheck: time.Minute}, false},
		{[]string{"--transactional-id-expiration=-1s"}, kafka.TxnSettings{}, true},
		{[]string{"--transactional-id-expiration-check-interval=0"}, kafka.TxnSettings{}, true},
		{[]string{"--producer-id-expiration=-1h"}, kafka.TxnSettings{}, true},
		{[]string{"--producer-id-expiration-check-interval=0"}, kafka.TxnSettings{}, true},
	} {
		var o kafkaTxnOptions
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		o.addFlags(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		err := o.check()
		if (err != nil) != tc.bad {
			t.Errorf("%v: check %v", tc.args, err)
			continue
		}
		if !tc.bad && o.settings() != tc.want {
			t.Errorf("%v: settings %+v, want %+v", tc.args, o.settings(), tc.want)
		}
	}
}
