package main

import (
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func TestKafkaGroupFlags(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		delay time.Duration // GroupSettings.InitialRebalanceDelay
		ret   time.Duration // GroupSettings.OffsetsRetention
		bad   bool
	}{
		{nil, 3 * time.Second, 7 * 24 * time.Hour, false},
		{[]string{"--group-initial-rebalance-delay=0", "--offsets-retention=0"}, -1, -1, false},
		{[]string{"--offsets-retention=1h"}, 3 * time.Second, time.Hour, false},
		{[]string{"--group-min-session-timeout=1h", "--group-max-session-timeout=1m"}, 0, 0, true},
		{[]string{"--group-consumer-heartbeat-interval=1m"}, 0, 0, true},
		{[]string{"--group-consumer-max-size=-1"}, 0, 0, true},
		{[]string{"--offsets-retention=-1s"}, 0, 0, true},
		{[]string{"--group-consumer-migration-policy=downgrade"}, 3 * time.Second, 7 * 24 * time.Hour, false},
		{[]string{"--group-consumer-migration-policy=both"}, 0, 0, true},
	} {
		var o kafkaGroupOptions
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
		if tc.bad {
			continue
		}
		if gs := o.settings(); gs.InitialRebalanceDelay != tc.delay || gs.OffsetsRetention != tc.ret {
			t.Errorf("%v: settings %+v", tc.args, gs)
		}
	}
}
