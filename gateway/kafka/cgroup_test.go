package kafka

// KIP-848 consumer groups driven by franz-go's next-gen consumer
// (kgo.ServerSideBalancer) and kadm.

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
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

// A regex subscription picks up a topic created while the group runs.
func Test848FranzRegex(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "rx-a", 2)
	ts.createTopic(t, "other", 1)
	ts.produceNumbered(t, "rx-a", 0, 50)
	ts.produceNumbered(t, "other", 1000, 10)
	s := newSeen()
	cl := ts.client(t, append([]kgo.Opt{
		kgo.ConsumerGroup("rxg"), kgo.ConsumeRegex(), kgo.ConsumeTopics("^rx-.*"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.MetadataMinAge(100 * time.Millisecond), kgo.MetadataMaxAge(300 * time.Millisecond),
	}, uniform848...)...)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { s.add(r.Topic + "/" + string(r.Value)) })
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	waitFor(t, "rx-a consumed", func() bool { return s.distinct() == 50 })
	ts.createTopic(t, "rx-b", 3)
	ts.produceNumbered(t, "rx-b", 100, 30)
	waitFor(t, "rx-b consumed", func() bool { return s.distinct() == 80 })
	s.mu.Lock()
	for v := range s.counts {
		if v[:3] != "rx-" {
			t.Errorf("read %s, outside the regex", v)
		}
	}
	s.mu.Unlock()
	d, err := ts.admin(t).DescribeConsumerGroups(testContext(t), "rxg")
	if err != nil || len(d["rxg"].Members) != 1 {
		t.Fatalf("describe: %+v %v", d, err)
	}
	for _, m := range d["rxg"].Members {
		if m.SubscribedTopicRegex == nil || len(m.Assignment) != 2 {
			t.Fatalf("member %+v", m)
		}
	}
}

// A static member that restarts gets its partitions back; the other
// member keeps its own throughout. franz-go v1.22.3 leaves a static
// membership with epoch -2 but without its instance id, which Kafka (and
// the bridge) refuse with INVALID_REQUEST, so the member's departure is
// made here as the Java client makes it: a vanishes, and its -2 leave
// with instance id is sent over a raw connection.
func Test848FranzStatic(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "stt", 4)
	ts.produceNumbered(t, "stt", 0, 100)
	s := newSeen()
	a := ts.startMember(t, "a", "stg", "stt", s, append([]kgo.Opt{kgo.InstanceID("ia")}, uniform848...)...)
	b := ts.startMember(t, "b", "stg", "stt", s, append([]kgo.Opt{kgo.InstanceID("ib")}, uniform848...)...)
	waitAssigned(t, 4, time.Minute, func() bool { return len(a.owned()) == 2 }, a, b)
	s.waitFor(t, 0, 100, time.Minute)
	aOwned, bOwned := a.owned(), b.owned()
	b.mu.Lock()
	bRevoked := len(b.revoked)
	b.mu.Unlock()
	adm := ts.admin(t)
	before, err := adm.DescribeConsumerGroups(testContext(t), "stg")
	if err != nil {
		t.Fatal(err)
	}
	var aID string
	for _, m := range before["stg"].Members {
		if m.InstanceID != nil && *m.InstanceID == "ia" {
			aID = m.MemberID
		}
	}
	a.cut.cut()
	leave := cgBeat("stg", aID, cgStaticLeaveEpoch, [16]byte{}, nil)
	leave.InstanceID = kmsg.StringPtr("ia")
	if r := dialRaw(t, ts.addr).cgHeartbeat(t, leave); r.ErrorCode != 0 {
		t.Fatalf("static leave: %s", codeName(r.ErrorCode))
	}

	a2 := ts.startMember(t, "a2", "stg", "stt", s, append([]kgo.Opt{kgo.InstanceID("ia")}, uniform848...)...)
	waitAssigned(t, 4, time.Minute, nil, a2, b)
	if got := a2.owned(); !slices.Equal(got, aOwned) {
		t.Fatalf("the restarted static member got %v, had %v", got, aOwned)
	}
	b.mu.Lock()
	revoked := len(b.revoked)
	b.mu.Unlock()
	if revoked != bRevoked || !slices.Equal(b.owned(), bOwned) {
		t.Fatalf("the other member was rebalanced: %d revocations (had %d), owns %v (had %v)", revoked, bRevoked, b.owned(), bOwned)
	}
	after, err := adm.DescribeConsumerGroups(testContext(t), "stg")
	if err != nil {
		t.Fatal(err)
	}
	if after["stg"].Epoch != before["stg"].Epoch {
		t.Fatalf("group epoch went from %d to %d on a static rejoin", before["stg"].Epoch, after["stg"].Epoch)
	}
	ts.produceNumbered(t, "stt", 100, 100)
	s.waitFor(t, 0, 200, time.Minute)
}

// A bridge restart brings the group back with its members and epochs:
// consumers carry on, commits survive.
func Test848FranzServerRestart(t *testing.T) {
	r := newRestartable(t)
	r.stop()
	r.cfg = fast848
	r.start()
	r.ts.createTopic(t, "rs8", 4)
	r.ts.produceNumbered(t, "rs8", 0, 400)
	s := newSeen()
	var ms []*groupMember
	for _, name := range []string{"a", "b"} {
		ms = append(ms, r.ts.startMember(t, name, "rsg8", "rs8", s, append([]kgo.Opt{kgo.Dialer(r.red.dial)}, uniform848...)...))
	}
	waitAssigned(t, 4, time.Minute, func() bool { return len(ms[0].owned()) == 2 }, ms...)
	s.waitFor(t, 0, 400, time.Minute)
	ctx := testContext(t)
	before, err := r.ts.admin(t).DescribeConsumerGroups(ctx, "rsg8")
	if err != nil {
		t.Fatal(err)
	}

	r.stop()
	r.start()
	adm := r.ts.admin(t)
	after, err := adm.DescribeConsumerGroups(ctx, "rsg8")
	if err != nil {
		t.Fatal(err)
	}
	if len(after["rsg8"].Members) != 2 || after["rsg8"].Epoch != before["rsg8"].Epoch {
		t.Fatalf("after the restart: %+v, before %+v", after["rsg8"], before["rsg8"])
	}
	for i, m := range before["rsg8"].Members {
		if a := after["rsg8"].Members[i]; a.MemberID != m.MemberID || a.MemberEpoch != m.MemberEpoch {
			t.Fatalf("member %s epoch %d after the restart, was %s epoch %d", a.MemberID, a.MemberEpoch, m.MemberID, m.MemberEpoch)
		}
	}
	r.ts.produceNumbered(t, "rs8", 400, 400)
	s.waitFor(t, 0, 800, time.Minute)
	waitFor(t, "commits at the end after the restart", func() bool {
		os, err := adm.FetchOffsets(ctx, "rsg8")
		if err != nil {
			return false
		}
		n := int64(0)
		for _, o := range os["rs8"] {
			n += o.At
		}
		return n == 800
	})
}
