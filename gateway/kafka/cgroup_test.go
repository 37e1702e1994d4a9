package kafka

// KIP-848 consumer groups driven by franz-go's next-gen consumer
// (kgo.ServerSideBalancer) and kadm.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fast848 are group settings for KIP-848 tests: 300ms heartbeats and a
// 3s session.
var fast848 = func() groupConfig {
	cfg := fastGroups
	cfg.consumerSessionTimeout = 3 * time.Second
	cfg.consumerHeartbeatInterval = 300 * time.Millisecond
	return cfg
}()

// next-gen consumers: franz-go uses the consumer protocol with a sticky or
// range balancer (uniform or range server assignor).
var (
	uniform848 = []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(kgo.CooperativeStickyBalancer())}
	range848   = []kgo.Opt{kgo.ServerSideBalancer(), kgo.Balancers(kgo.RangeBalancer())}
)

func Test848FranzJoinLeave(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []kgo.Opt
	}{{"uniform", uniform848}, {"range", range848}} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startGroupServer(t, "", fast848)
			ts.createTopic(t, "t6", 6)
			ts.produceNumbered(t, "t6", 0, 600)
			s := newSeen()
			a := ts.startMember(t, "a", "g848", "t6", s, tc.opts...)
			b := ts.startMember(t, "b", "g848", "t6", s, tc.opts...)
			c := ts.startMember(t, "c", "g848", "t6", s, tc.opts...)
			waitAssigned(t, 6, time.Minute, func() bool {
				return len(a.owned()) == 2 && len(b.owned()) == 2 && len(c.owned()) == 2
			}, a, b, c)
			s.waitFor(t, 0, 600, time.Minute)

			d, err := ts.admin(t).DescribeConsumerGroups(testContext(t), "g848")
			if err != nil {
				t.Fatal(err)
			}
			g := d["g848"]
			if g.Err != nil || len(g.Members) != 3 || g.AssignorName != tc.name {
				t.Fatalf("described %+v", g)
			}

			c.cut.cut() // c vanishes: its session expires
			waitAssigned(t, 6, time.Minute, func() bool { return len(a.owned()) == 3 }, a, b)
			ts.produceNumbered(t, "t6", 600, 600)
			s.waitFor(t, 0, 1200, time.Minute)
		})
	}
}

var _ = context.Background
