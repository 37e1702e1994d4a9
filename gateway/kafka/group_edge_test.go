package kafka

// The coordinator at its edges: shutdown with requests parked, the initial
// rebalance delay, members that never sync, many members at once, and the
// admin APIs at every version.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// A shutdown answers a parked JoinGroup with NOT_COORDINATOR instead of
// waiting for it.
func TestGroupShutdownAnswersParkedJoin(t *testing.T) {
	cfg := fastGroups
	cfg.initialRebalanceDelay = time.Hour // the join phase never ends by itself
	st, ts := startGroupServerManual(t, cfg)
	defer st.Close()
	c := dialRaw(t, ts.addr)
	r := c.roundTrip(t, joinReq(9, "sd", "", nil)).(*kmsg.JoinGroupResponse)
	p := sendAsync(t, c, joinReq(9, "sd", r.MemberID, nil))
	waitFor(t, "the join to park", func() bool {
		co, err := ts.groupCoordinator()
		if err != nil {
			return false
		}
		g, _ := co.group("sd", false)
		if g == nil {
			return false
		}
		defer g.mu.Unlock()
		return g.state == groupPreparingRebalance
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown with a parked join: %v after %v", err, time.Since(start))
	}
	wantCode(t, "parked join at shutdown", p.wait(t).(*kmsg.JoinGroupResponse).ErrorCode, kerr.NotCoordinator)
}

// startGroupServerManual starts a server the test shuts down itself.
func startGroupServerManual(t *testing.T, cfg groupConfig) (interface{ Close() error }, *testServer) {
	t.Helper()
	st := openMemStore(t)
	ln := listenLocal(t)
	s, err := New(Config{Store: st, Logger: testLogger(), AdvertisedAddr: ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	groupConfigOverrides.Store(s, cfg)
	go s.Serve(ln)
	return st, &testServer{Server: s, addr: ln.Addr().String(), store: st}
}

// Members that join within the initial delay land in one generation.
func TestGroupInitialRebalanceDelay(t *testing.T) {
	cfg := fastGroups
	cfg.initialRebalanceDelay = time.Second
	ts := startGroupServer(t, "", cfg)
	var ps []pendingResp
	for i := 0; i < 3; i++ {
		c := dialRaw(t, ts.addr)
		ps = append(ps, sendAsync(t, c, joinReq(3, "delay", "", nil)))
		time.Sleep(100 * time.Millisecond)
	}
	leaders := 0
	for _, p := range ps {
		r := p.wait(t).(*kmsg.JoinGroupResponse)
		wantCode(t, "join", r.ErrorCode, nil)
		if r.Generation != 1 {
			t.Errorf("generation %d: members joining within the delay should share generation 1", r.Generation)
		}
		if len(r.Members) > 0 {
			leaders++
			if len(r.Members) != 3 {
				t.Errorf("leader sees %d members", len(r.Members))
			}
		}
	}
	if leaders != 1 {
		t.Errorf("%d leaders", leaders)
	}
}

// A member that gets its JoinGroup response but never syncs is dropped at
// the rebalance timeout, and the others get a generation without it.
func TestGroupPendingSyncExpires(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c1, c2 := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	req := func() *kmsg.JoinGroupRequest {
		r := joinReq(3, "ps", "", nil)
		r.RebalanceTimeoutMillis = 1000
		return r
	}
	p1 := sendAsync(t, c1, req())
	j2 := c2.roundTrip(t, req()).(*kmsg.JoinGroupResponse)
	j1 := p1.wait(t).(*kmsg.JoinGroupResponse)
	leader, follower := j1, j2
	lc := c1
	if j2.LeaderID == j2.MemberID {
		leader, follower, lc = j2, j1, c2
	}
	// Only the leader syncs; the follower is dropped after 1s and the
	// leader learns of the new generation by heartbeat.
	s := lc.roundTrip(t, syncReq(3, "ps", leader.MemberID, leader.Generation, nil)).(*kmsg.SyncGroupResponse)
	wantCode(t, "leader sync", s.ErrorCode, nil)
	waitFor(t, "the follower to be dropped", func() bool {
		d := describe(t, lc, 5, "ps")
		return len(d.Members) == 1 && d.Members[0].MemberID == leader.MemberID
	})
	hb := lc.roundTrip(t, heartbeatReq(3, "ps", leader.MemberID, leader.Generation)).(*kmsg.HeartbeatResponse)
	wantCode(t, "leader heartbeat after the drop", hb.ErrorCode, kerr.RebalanceInProgress)
	_ = follower
}

// Many members join, sync, heartbeat, commit and leave at once from their
// own connections: every request is answered (no parked request is lost)
// and the race detector sees no data race.
func TestGroupConcurrentChurn(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "churn", 4)
	const members, rounds = 8, 6
	var wg sync.WaitGroup
	errs := make(chan error, members)
	for i := 0; i < members; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs <- churn(ts.addr, fmt.Sprintf("churn-%d", i%2), rounds, rand.New(rand.NewPCG(uint64(i), 1)))
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// churn is one member's life: join, sync (leader assigns nothing), a few
// heartbeats and commits, leave; repeated. Any error code a real client
// handles (rebalances, generations moving on) restarts the round.
func churn(addr, group string, rounds int, rng *rand.Rand) error {
	c, err := dialPlain(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	for round := 0; round < rounds; round++ {
		id := ""
		var gen int32
		for attempt := 0; ; attempt++ {
			if attempt > 50 {
				return fmt.Errorf("%s: no stable membership after 50 joins", group)
			}
			j, err := c.rt(joinReq(9, group, id, nil))
			if err != nil {
				return err
			}
			jr := j.(*kmsg.JoinGroupResponse)
			switch jr.ErrorCode {
			case kerr.MemberIDRequired.Code:
				id = jr.MemberID
				continue
			case 0:
			case kerr.UnknownMemberID.Code:
				id = ""
				continue
			default:
				continue
			}
			id, gen = jr.MemberID, jr.Generation
			assign := map[string][]byte{}
			for _, m := range jr.Members {
				assign[m.MemberID] = nil
			}
			s, err := c.rt(syncReq(5, group, id, gen, assign))
			if err != nil {
				return err
			}
			if s.(*kmsg.SyncGroupResponse).ErrorCode == 0 {
				break
			}
		}
		for k := 0; k < 1+rng.IntN(3); k++ {
			if _, err := c.rt(heartbeatReq(4, group, id, gen)); err != nil {
				return err
			}
			if _, err := c.rt(commitReq(9, group, id, gen, "churn", map[int32]int64{int32(rng.IntN(4)): int64(k)})); err != nil {
				return err
			}
		}
		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.Version = 5
		lv.Group = group
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = id
		lv.Members = append(lv.Members, lm)
		if _, err := c.rt(lv); err != nil {
			return err
		}
	}
	return nil
}

// Describe, list and delete at every version.
func TestGroupAdminEveryVersion(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "av", 1)
	c := dialRaw(t, ts.addr)
	id, _ := joinOne(t, c, 5, "live")
	c.roundTrip(t, commitReq(9, "idle", "", -1, "av", map[int32]int64{0: 1}))
	for v := int16(0); v <= 5; v++ {
		d := describe(t, c, v, "live")
		if d.ErrorCode != 0 || d.State != "Stable" || d.Protocol != "range" || len(d.Members) != 1 || d.Members[0].MemberID != id ||
			string(d.Members[0].MemberAssignment) != "assignment" {
			t.Errorf("v%d describe: %+v", v, d)
		}
		if v >= 4 && d.Members[0].InstanceID != nil {
			t.Errorf("v%d: instance id of a dynamic member", v)
		}
		if d := describe(t, c, v, "nosuch"); d.ErrorCode != 0 || d.State != "Dead" {
			t.Errorf("v%d describe of no group: %+v", v, d)
		}
	}
	for v := int16(0); v <= 4; v++ {
		req := kmsg.NewPtrListGroupsRequest()
		req.Version = v
		if v >= 4 {
			req.StatesFilter = []string{"STABLE"}
		}
		resp := c.roundTrip(t, req).(*kmsg.ListGroupsResponse)
		want := "[idle/ live/consumer]"
		if v >= 4 {
			want = "[live/consumer/Stable]"
		}
		var got []string
		for _, g := range resp.Groups {
			s := g.Group + "/" + g.ProtocolType
			if v >= 4 {
				s += "/" + g.GroupState
			}
			got = append(got, s)
		}
		if fmt.Sprint(got) != want {
			t.Errorf("v%d list: %v, want %s", v, got, want)
		}
	}
	for v := int16(0); v <= 2; v++ {
		req := kmsg.NewPtrDeleteGroupsRequest()
		req.Version = v
		req.Groups = []string{"live", "nosuch", ""}
		resp := c.roundTrip(t, req).(*kmsg.DeleteGroupsResponse)
		got := fmt.Sprint(codeName(resp.Groups[0].ErrorCode), " ", codeName(resp.Groups[1].ErrorCode), " ", codeName(resp.Groups[2].ErrorCode))
		want := fmt.Sprint(kerr.NonEmptyGroup.Error(), " ", kerr.GroupIDNotFound.Error(), " ", kerr.GroupIDNotFound.Error())
		if got != want {
			t.Errorf("v%d delete: %s, want %s", v, got, want)
		}
	}
	// OffsetDelete refusals.
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "nosuch"
	wantCode(t, "offset delete of no group", c.roundTrip(t, od).(*kmsg.OffsetDeleteResponse).ErrorCode, kerr.GroupIDNotFound)
	req := joinReq(3, "conn", "", nil)
	req.ProtocolType = "connect"
	j := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
	c.roundTrip(t, syncReq(3, "conn", j.MemberID, j.Generation, nil))
	od.Group = "conn"
	wantCode(t, "offset delete of a non-consumer group with members", c.roundTrip(t, od).(*kmsg.OffsetDeleteResponse).ErrorCode, kerr.NonEmptyGroup)
}
