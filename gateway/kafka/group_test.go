package kafka

// Consumer groups driven by franz-go's kgo: eager (range) and cooperative
// (cooperative-sticky) rebalancing, a member that dies, a consumer that
// resumes from its commit, and the server restarting under a running
// group. Every record must be read at least once throughout.

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store/embedded"
)

// Three members share six partitions; one dies without leaving and its
// partitions move to the others once its session expires.
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

// With cooperative-sticky, a third member takes one partition from each of
// the two others; neither gives up everything.
func TestGroupFranzCooperativeSticky(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "coop", 6)
	ts.produceNumbered(t, "coop", 0, 300)
	s := newSeen()
	bal := kgo.Balancers(kgo.CooperativeStickyBalancer())
	a := ts.startMember(t, "a", "coop-g", "coop", s, bal)
	b := ts.startMember(t, "b", "coop-g", "coop", s, bal)
	waitAssigned(t, 6, time.Minute, func() bool { return len(a.owned()) == 3 }, a, b)
	s.waitFor(t, 0, 300, time.Minute)
	a.mu.Lock()
	aRevoked := len(a.revoked)
	a.mu.Unlock()
	b.mu.Lock()
	bRevoked := len(b.revoked)
	b.mu.Unlock()
	aBefore, bBefore := a.owned(), b.owned()

	c := ts.startMember(t, "c", "coop-g", "coop", s, bal)
	waitAssigned(t, 6, time.Minute, func() bool { return len(a.owned()) == 2 && len(b.owned()) == 2 }, a, b, c)
	for _, x := range []struct {
		m      *groupMember
		from   int
		before []int32
	}{{a, aRevoked, aBefore}, {b, bRevoked, bBefore}} {
		x.m.mu.Lock()
		revs := x.m.revoked[x.from:]
		x.m.mu.Unlock()
		n := 0
		for _, r := range revs {
			n += len(r)
		}
		if n != 1 {
			t.Errorf("%s revoked %v after the third member joined; want exactly one partition", x.m.name, revs)
		}
		kept := 0
		for _, p := range x.m.owned() {
			for _, q := range x.before {
				if p == q {
					kept++
				}
			}
		}
		if kept != 2 {
			t.Errorf("%s owned %v, now %v: want two partitions kept", x.m.name, x.before, x.m.owned())
		}
	}
	ts.produceNumbered(t, "coop", 300, 300)
	s.waitFor(t, 0, 600, time.Minute)
}

// A consumer that commits and goes resumes, as a new client, exactly where
// it committed.
func TestGroupFranzResumeFromCommit(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "resume", 3)
	ts.produceNumbered(t, "resume", 0, 150)
	s := newSeen()
	m := ts.startMember(t, "first", "rg", "resume", s)
	s.waitFor(t, 0, 150, time.Minute)
	ctx := testContext(t)
	waitFor(t, "commits of everything", func() bool {
		_ = m.cl.CommitMarkedOffsets(ctx)
		os, err := ts.admin(t).FetchOffsets(ctx, "rg")
		if err != nil {
			return false
		}
		n := int64(0)
		for _, o := range os["resume"] {
			n += o.At
		}
		return n == 150
	})
	m.cl.Close()

	ts.produceNumbered(t, "resume", 150, 60)
	s2 := newSeen()
	ts.startMember(t, "second", "rg", "resume", s2)
	s2.waitFor(t, 150, 210, time.Minute)
	if n := s2.distinct(); n != 60 {
		t.Fatalf("the resumed consumer read %d distinct records, want only the 60 new ones", n)
	}
}

// redirect makes a client dial whatever address the server has now, so it
// follows a restarted server to its new port.
type redirect struct{ addr atomic.Value }

func (r *redirect) dial(ctx context.Context, network, _ string) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, network, r.addr.Load().(string))
}

// restartable is a server over an on-disk store that a test stops and
// starts again.
type restartable struct {
	t   *testing.T
	dir string
	cfg groupConfig

	mu  sync.Mutex
	ts  *testServer
	srv chan error
	st  *embedded.Store
	red redirect
}

func (r *restartable) start() {
	r.t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: r.dir})
	if err != nil {
		r.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := New(Config{Store: st, Logger: testLogger(), AdvertisedAddr: ln.Addr().String(), AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		r.t.Fatal(err)
	}
	groupConfigOverrides.Store(s, r.cfg)
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	r.mu.Lock()
	r.ts = &testServer{Server: s, addr: ln.Addr().String(), store: st}
	r.srv, r.st = served, st
	r.mu.Unlock()
	r.red.addr.Store(ln.Addr().String())
}

func (r *restartable) stop() {
	r.t.Helper()
	r.mu.Lock()
	ts, served, st := r.ts, r.srv, r.st
	r.ts = nil
	r.mu.Unlock()
	if ts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		r.t.Errorf("shutdown: %v", err)
	}
	if err := <-served; err != nil {
		r.t.Errorf("serve: %v", err)
	}
	if err := st.Close(); err != nil {
		r.t.Errorf("store close: %v", err)
	}
}

func newRestartable(t *testing.T) *restartable {
	r := &restartable{t: t, dir: t.TempDir(), cfg: fastGroups}
	r.start()
	t.Cleanup(r.stop)
	return r
}

// The server restarts under a running group: the members carry on, and no
// record is skipped.
func TestGroupFranzServerRestart(t *testing.T) {
	r := newRestartable(t)
	r.ts.createTopic(t, "rs", 4)
	r.ts.produceNumbered(t, "rs", 0, 400)
	s := newSeen()
	var ms []*groupMember
	for _, name := range []string{"a", "b"} {
		ms = append(ms, r.ts.startMember(t, name, "rsg", "rs", s, kgo.Dialer(r.red.dial)))
	}
	waitAssigned(t, 4, time.Minute, nil, ms...)
	s.waitFor(t, 0, 400, time.Minute)

	r.stop()
	r.start()
	r.ts.produceNumbered(t, "rs", 400, 400)
	s.waitFor(t, 0, 800, time.Minute)
	ctx := testContext(t)
	adm := r.ts.admin(t)
	waitFor(t, "commits at the end after the restart", func() bool {
		os, err := adm.FetchOffsets(ctx, "rsg")
		if err != nil {
			return false
		}
		n := int64(0)
		for _, o := range os["rs"] {
			n += o.At
		}
		return n == 800
	})
	dg, err := adm.DescribeGroups(ctx, "rsg")
	if err != nil || dg["rsg"].State != "Stable" || len(dg["rsg"].Members) != 2 {
		t.Fatalf("group after the restart: %+v %v", dg["rsg"], err)
	}
}

// What a restart restores: a group with members comes back Stable at its
// generation, its members may carry on with their ids, and those that do
// not heartbeat expire; offsets and empty groups stay.
func TestGroupStateAfterRestart(t *testing.T) {
	r := newRestartable(t)
	r.ts.createTopic(t, "p", 1)
	c := dialRaw(t, r.ts.addr)
	idA, gen := joinOne(t, c, 9, "alive")
	joinOne(t, c, 9, "dies")
	if code := commitCodes(c.roundTrip(t, commitReq(9, "alive", idA, gen, "p", map[int32]int64{0: 5})).(*kmsg.OffsetCommitResponse)); code[0] != "p/0:NONE" {
		t.Fatal(code)
	}
	if code := commitCodes(c.roundTrip(t, commitReq(9, "simple", "", -1, "p", map[int32]int64{0: 3})).(*kmsg.OffsetCommitResponse)); code[0] != "p/0:NONE" {
		t.Fatal(code)
	}
	c.Close()

	r.stop()
	r.start()
	c = dialRaw(t, r.ts.addr)
	for _, g := range []string{"alive", "dies"} {
		d := describe(t, c, 5, g)
		if d.State != "Stable" || len(d.Members) != 1 || d.Protocol != "range" {
			t.Fatalf("%s after restart: %+v", g, d)
		}
	}
	if d := describe(t, c, 5, "simple"); d.State != "Empty" || d.ProtocolType != "" {
		t.Fatalf("simple group after restart: %+v", d)
	}
	if got := fetchOne(t, c, 9, "alive", "p", 0); got != "0@5(m5)" {
		t.Fatalf("alive's offset after restart: %s", got)
	}
	if got := fetchOne(t, c, 9, "simple", "p", 0); got != "0@3(m3)" {
		t.Fatalf("simple's offset after restart: %s", got)
	}
	// The live member heartbeats on with its id and generation; the other
	// member's session (10s, from joinReq) ends.
	deadline := time.Now().Add(30 * time.Second)
	for describe(t, c, 5, "dies").State != "Empty" {
		hb := c.roundTrip(t, heartbeatReq(4, "alive", idA, gen)).(*kmsg.HeartbeatResponse)
		wantCode(t, "heartbeat after the restart", hb.ErrorCode, nil)
		if time.Now().After(deadline) {
			t.Fatal("the dead member never expired")
		}
		time.Sleep(500 * time.Millisecond)
	}
	if d := describe(t, c, 5, "alive"); d.State != "Stable" || d.Members[0].MemberID != idA {
		t.Fatalf("live group: %+v", d)
	}
	// Empty now, stored as such: another restart keeps it Empty.
	c.Close()
	r.stop()
	r.start()
	c = dialRaw(t, r.ts.addr)
	if d := describe(t, c, 5, "dies"); d.State != "Empty" || len(d.Members) != 0 {
		t.Fatalf("emptied group after a second restart: %+v", d)
	}
}

// A static member (group.instance.id) that restarts within its session gets
// its partitions back without a rebalance: the other member keeps its own
// throughout, whichever of the two leads.
func TestGroupFranzStaticMember(t *testing.T) {
	for _, restart := range []string{"a", "b"} {
		t.Run("restart-"+restart, func(t *testing.T) {
			ts := startGroupServer(t, "", fastGroups)
			ts.createTopic(t, "static", 4)
			ts.produceNumbered(t, "static", 0, 200)
			s := newSeen()
			opts := func(id string) []kgo.Opt {
				return []kgo.Opt{kgo.InstanceID(id), kgo.SessionTimeout(20 * time.Second), kgo.Balancers(kgo.RangeBalancer())}
			}
			ms := map[string]*groupMember{}
			ms["a"] = ts.startMember(t, "a", "sg", "static", s, opts("instance-a")...)
			ms["b"] = ts.startMember(t, "b", "sg", "static", s, opts("instance-b")...)
			waitAssigned(t, 4, time.Minute, func() bool { return len(ms["a"].owned()) == 2 }, ms["a"], ms["b"])
			s.waitFor(t, 0, 200, time.Minute)
			other := "b"
			if restart == "b" {
				other = "a"
			}
			stay := ms[other]
			stay.mu.Lock()
			revokedBefore := len(stay.revoked)
			stay.mu.Unlock()
			kept, gone := stay.owned(), ms[restart].owned()

			ms[restart].cl.Close() // a static member does not leave
			again := ts.startMember(t, restart+"2", "sg", "static", s, opts("instance-"+restart)...)
			waitAssigned(t, 4, time.Minute, nil, again, stay)
			ts.produceNumbered(t, "static", 200, 200)
			s.waitFor(t, 0, 400, time.Minute)
			stay.mu.Lock()
			revs := stay.revoked[revokedBefore:]
			stay.mu.Unlock()
			if len(revs) != 0 || fmt.Sprint(stay.owned()) != fmt.Sprint(kept) {
				t.Errorf("the member that stayed owned %v, now %v, revocations %v: want no rebalance", kept, stay.owned(), revs)
			}
			if fmt.Sprint(again.owned()) != fmt.Sprint(gone) {
				t.Errorf("the restarted instance got %v, had %v", again.owned(), gone)
			}
		})
	}
}
