package kafka

// Mixed groups with real clients: franz-go classic consumers
// (cooperative-sticky and range) and sarama (range) start a classic group,
// a franz-go KIP-848 consumer joins (upgrade), everyone consumes, it leaves
// (downgrade) and the classic consumers carry on; no partition is ever
// owned by two members, every record is read, and the commits reach the end.

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// overlapWatch samples the members' assignments and remembers any
// partition two of them owned at once.
type overlapWatch struct {
	mu     sync.Mutex
	ms     []*groupMember
	bad    []string
	cancel context.CancelFunc
	done   chan struct{}
}

func watchOverlaps(t *testing.T) *overlapWatch {
	ctx, cancel := context.WithCancel(context.Background())
	w := &overlapWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			w.mu.Lock()
			owner := map[int32]string{}
			for _, m := range w.ms {
				for _, p := range m.owned() {
					if o, ok := owner[p]; ok && len(w.bad) < 10 {
						w.bad = append(w.bad, fmt.Sprintf("partition %d owned by %s and %s", p, o, m.name))
					}
					owner[p] = m.name
				}
			}
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-w.done })
	return w
}

func (w *overlapWatch) add(m *groupMember) {
	w.mu.Lock()
	w.ms = append(w.ms, m)
	w.mu.Unlock()
}

func (w *overlapWatch) check(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.bad) > 0 {
		t.Fatalf("partitions owned twice: %v", w.bad)
	}
}

// groupKind is what ConsumerGroupDescribe says of a group: "consumer" with
// the member types, or "classic" when it answers GROUP_ID_NOT_FOUND.
func groupKind(t *testing.T, ts *testServer, group string) (kind string, types map[int8]int) {
	t.Helper()
	c := dialRaw(t, ts.addr)
	defer c.Close()
	cd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cd.Version, cd.Groups = 1, []string{group}
	g := c.roundTrip(t, cd).(*kmsg.ConsumerGroupDescribeResponse).Groups[0]
	if g.ErrorCode != 0 {
		return "classic", nil
	}
	types = map[int8]int{}
	for _, m := range g.Members {
		types[m.MemberType]++
	}
	return "consumer", types
}

func waitCommitted(t *testing.T, ts *testServer, group, topic string, n int64) {
	t.Helper()
	adm := ts.admin(t)
	waitFor(t, "commits at the end", func() bool {
		os, err := adm.FetchOffsets(testContext(t), group)
		if err != nil {
			return false
		}
		sum := int64(0)
		for _, o := range os[topic] {
			sum += o.At
		}
		return sum == n
	})
}

func TestMixedFranzUpgradeDowngrade(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer kgo.GroupBalancer
	}{
		{"cooperative-sticky", kgo.CooperativeStickyBalancer()},
		{"range", kgo.RangeBalancer()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startGroupServer(t, "", fast848)
			ts.createTopic(t, "mf", 6)
			ts.produceNumbered(t, "mf", 0, 300)
			s := newSeen()
			w := watchOverlaps(t)
			a := ts.startMember(t, "a", "mfg", "mf", s, kgo.Balancers(tc.balancer))
			b := ts.startMember(t, "b", "mfg", "mf", s, kgo.Balancers(tc.balancer))
			w.add(a)
			w.add(b)
			waitAssigned(t, 6, time.Minute, nil, a, b)
			s.waitFor(t, 0, 300, time.Minute)
			if kind, _ := groupKind(t, ts, "mfg"); kind != "classic" {
				t.Fatalf("the group starts %s", kind)
			}

			// Upgrade: a KIP-848 member joins.
			c := ts.startMember(t, "c", "mfg", "mf", s, uniform848...)
			w.add(c)
			waitAssigned(t, 6, time.Minute, func() bool {
				return len(a.owned()) == 2 && len(b.owned()) == 2 && len(c.owned()) == 2
			}, a, b, c)
			if kind, types := groupKind(t, ts, "mfg"); kind != "consumer" || types[0] != 2 || types[1] != 1 {
				t.Fatalf("after the upgrade: %s group, member types %v", kind, types)
			}
			ts.produceNumbered(t, "mf", 300, 300)
			s.waitFor(t, 0, 600, time.Minute)

			// Downgrade: it leaves; the classic members share all.
			c.stop()
			waitAssigned(t, 6, time.Minute, func() bool { return len(a.owned()) == 3 }, a, b)
			if kind, _ := groupKind(t, ts, "mfg"); kind != "classic" {
				t.Fatalf("after the downgrade: %s group", kind)
			}
			ts.produceNumbered(t, "mf", 600, 300)
			s.waitFor(t, 0, 900, time.Minute)
			waitCommitted(t, ts, "mfg", "mf", 900)
			w.check(t)
		})
	}
}

// sarama (classic, range) and franz-go (KIP-848) in one group.
func TestMixedSarama(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "ms", 4)
	ts.produceNumbered(t, "ms", 0, 200)
	s := newSeen()
	sm := startSaramaMember(t, ts.addr, "msg", "ms", sarama.V3_6_0_0, sarama.NewBalanceStrategyRange(), s)
	s.waitFor(t, 0, 200, time.Minute)

	c := ts.startMember(t, "c", "msg", "ms", s, uniform848...)
	waitFor(t, "the KIP-848 member to get half", func() bool { return len(c.owned()) == 2 })
	if kind, types := groupKind(t, ts, "msg"); kind != "consumer" || types[0] != 1 || types[1] != 1 {
		t.Fatalf("after the upgrade: %s group, member types %v", kind, types)
	}
	ts.produceNumbered(t, "ms", 200, 200)
	s.waitFor(t, 0, 400, time.Minute)

	c.stop()
	waitFor(t, "the downgrade", func() bool { kind, _ := groupKind(t, ts, "msg"); return kind == "classic" })
	ts.produceNumbered(t, "ms", 400, 200)
	s.waitFor(t, 0, 600, time.Minute)
	sm.stop()
	waitCommitted(t, ts, "msg", "ms", 600)
}

// A classic member of a mixed group that vanishes (its connections cut, no
// goodbye) is removed after its own session timeout and its partitions
// move to the others, never owned twice; the group stays a consumer group.
func TestMixedFranzClassicCrash(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "mc", 6)
	ts.produceNumbered(t, "mc", 0, 300)
	s := newSeen()
	w := watchOverlaps(t)
	coop := kgo.Balancers(kgo.CooperativeStickyBalancer())
	a := ts.startMember(t, "a", "mcg", "mc", s, coop)
	b := ts.startMember(t, "b", "mcg", "mc", s, coop)
	c := ts.startMember(t, "c", "mcg", "mc", s, uniform848...)
	for _, m := range []*groupMember{a, b, c} {
		w.add(m)
	}
	waitAssigned(t, 6, time.Minute, func() bool {
		return len(a.owned()) == 2 && len(b.owned()) == 2 && len(c.owned()) == 2
	}, a, b, c)
	s.waitFor(t, 0, 300, time.Minute)

	b.cut.cut()
	w.mu.Lock()
	w.ms = []*groupMember{a, c} // b's view is stale once cut
	w.mu.Unlock()
	waitAssigned(t, 6, time.Minute, func() bool { return len(a.owned()) == 3 && len(c.owned()) == 3 }, a, c)
	if kind, types := groupKind(t, ts, "mcg"); kind != "consumer" || types[0] != 1 || types[1] != 1 {
		t.Fatalf("after the crash: %s group, member types %v", kind, types)
	}
	ts.produceNumbered(t, "mc", 300, 300)
	s.waitFor(t, 0, 600, time.Minute)
	w.check(t)
}
