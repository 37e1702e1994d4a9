package kafka

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestGroupFranzEagerRange(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "t6", 6)
	ts.produceNumbered(t, "t6", 0, 600)
	s := newSeen()
	bal := kgo.Balancers(kgo.RangeBalancer())
	a := ts.startMember(t, "a", "g", "t6", s, bal)
	b := ts.startMember(t, "b", "g", "t6", s, bal)
	c := ts.startMember(t, "c", "g", "t6", s, bal)
	waitAssigned(t, 6, time.Minute, func() bool { return len(a.owned()) == 2 && len(b.owned()) == 2 }, a, b, c)
	s.waitFor(t, 0, 600, time.Minute)
	c.cut.cut()
	waitAssigned(t, 6, time.Minute, func() bool { return len(a.owned()) == 3 }, a, b)
	ts.produceNumbered(t, "t6", 600, 600)
	s.waitFor(t, 0, 1200, time.Minute)
}
