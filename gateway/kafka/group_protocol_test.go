package kafka

// The group APIs on the wire, request by request: the error codes of
// Kafka's GroupCoordinator, MEMBER_ID_REQUIRED, rebalances across
// connections, static membership, empty assignments.

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pendingResp is a response still to come on a connection.
type pendingResp struct {
	ch chan kmsg.Response
}

// sendAsync sends req on c and reads its response in the background: for
// JoinGroup and SyncGroup, which wait for other members.
func sendAsync(t testing.TB, c *rawConn, req kmsg.Request) pendingResp {
	t.Helper()
	corr := c.send(t, req)
	p := pendingResp{ch: make(chan kmsg.Response, 1)}
	go func() {
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		body, err := readFrameNoDeadline(c)
		if err != nil || int32(binary.BigEndian.Uint32(body)) != corr {
			p.ch <- nil
			return
		}
		body = body[4:]
		resp := req.ResponseKind()
		resp.SetVersion(req.GetVersion())
		if resp.IsFlexible() {
			body = body[1:]
		}
		if resp.ReadFrom(body) != nil {
			p.ch <- nil
			return
		}
		p.ch <- resp
	}()
	return p
}

func readFrameNoDeadline(c *rawConn) ([]byte, error) {
	var size [4]byte
	if _, err := readFull(c, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := readFull(c, body)
	return body, err
}

func readFull(c *rawConn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		k, err := c.Conn.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func (p pendingResp) wait(t testing.TB) kmsg.Response {
	t.Helper()
	select {
	case r := <-p.ch:
		if r == nil {
			t.Fatal("no response (connection failed or response undecodable)")
		}
		return r
	case <-time.After(60 * time.Second):
		t.Fatal("no response within 60s")
	}
	return nil
}

// consumerMeta encodes a consumer protocol subscription.
func consumerMeta(topics ...string) []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Version = 0
	m.Topics = topics
	return m.AppendTo(nil)
}

func joinReq(v int16, group, memberID string, instance *string, protocols ...string) *kmsg.JoinGroupRequest {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = v
	req.Group = group
	req.MemberID = memberID
	req.InstanceID = instance
	req.SessionTimeoutMillis = 10000
	req.RebalanceTimeoutMillis = 5000
	req.ProtocolType = "consumer"
	if len(protocols) == 0 {
		protocols = []string{"range"}
	}
	for _, p := range protocols {
		req.Protocols = append(req.Protocols, kmsgProtocol(p, consumerMeta("t")))
	}
	return req
}

func syncReq(v int16, group, memberID string, gen int32, assign map[string][]byte) *kmsg.SyncGroupRequest {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = v
	req.Group, req.MemberID, req.Generation = group, memberID, gen
	for id, a := range assign {
		ga := kmsg.NewSyncGroupRequestGroupAssignment()
		ga.MemberID, ga.MemberAssignment = id, a
		req.GroupAssignment = append(req.GroupAssignment, ga)
	}
	return req
}

func heartbeatReq(v int16, group, memberID string, gen int32) *kmsg.HeartbeatRequest {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version = v
	req.Group, req.MemberID, req.Generation = group, memberID, gen
	return req
}

func codeName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	return kerr.ErrorForCode(code).Error()
}

func wantCode(t testing.TB, what string, got int16, want *kerr.Error) {
	t.Helper()
	wc := int16(0)
	if want != nil {
		wc = want.Code
	}
	if got != wc {
		t.Fatalf("%s: %s, want %s", what, codeName(got), codeName(wc))
	}
}

// joinOne makes a one-member group with a v-version member: the two-step
// join of KIP-394 from v4, then the leader's sync.
func joinOne(t testing.TB, c *rawConn, v int16, group string) (memberID string, gen int32) {
	t.Helper()
	resp := c.roundTrip(t, joinReq(v, group, "", nil)).(*kmsg.JoinGroupResponse)
	if v >= 4 {
		wantCode(t, "first join", resp.ErrorCode, kerr.MemberIDRequired)
		if !strings.HasPrefix(resp.MemberID, "raw-test-") {
			t.Fatalf("member id %q, want the client id and a uuid", resp.MemberID)
		}
		resp = c.roundTrip(t, joinReq(v, group, resp.MemberID, nil)).(*kmsg.JoinGroupResponse)
	}
	wantCode(t, "join", resp.ErrorCode, nil)
	if resp.LeaderID != resp.MemberID || len(resp.Members) != 1 || resp.Protocol == nil || *resp.Protocol != "range" {
		t.Fatalf("join response %+v: want a one-member group led by the joiner on range", resp)
	}
	sv := min(v, 5)
	sresp := c.roundTrip(t, syncReq(sv, group, resp.MemberID, resp.Generation,
		map[string][]byte{resp.MemberID: []byte("assignment")})).(*kmsg.SyncGroupResponse)
	wantCode(t, "sync", sresp.ErrorCode, nil)
	if string(sresp.MemberAssignment) != "assignment" {
		t.Fatalf("sync assignment %q", sresp.MemberAssignment)
	}
	return resp.MemberID, resp.Generation
}

// Every version of JoinGroup, SyncGroup, Heartbeat and LeaveGroup through a
// group's life.
func TestGroupProtocolLifecycleEveryVersion(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c := dialRaw(t, ts.addr)
	for v := int16(0); v <= 9; v++ {
		group := fmt.Sprintf("life-v%d", v)
		id, gen := joinOne(t, c, v, group)
		if gen != 1 {
			t.Fatalf("v%d: generation %d, want 1", v, gen)
		}
		hb := c.roundTrip(t, heartbeatReq(min(v, 4), group, id, gen)).(*kmsg.HeartbeatResponse)
		wantCode(t, fmt.Sprintf("v%d heartbeat", v), hb.ErrorCode, nil)
		hb = c.roundTrip(t, heartbeatReq(min(v, 4), group, id, gen+1)).(*kmsg.HeartbeatResponse)
		wantCode(t, fmt.Sprintf("v%d heartbeat at another generation", v), hb.ErrorCode, kerr.IllegalGeneration)
		hb = c.roundTrip(t, heartbeatReq(min(v, 4), group, "nobody", gen)).(*kmsg.HeartbeatResponse)
		wantCode(t, fmt.Sprintf("v%d heartbeat of a stranger", v), hb.ErrorCode, kerr.UnknownMemberID)

		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.Version = min(v, 5)
		lv.Group = group
		if lv.Version < 3 {
			lv.MemberID = id
		} else {
			lm := kmsg.NewLeaveGroupRequestMember()
			lm.MemberID = id
			lv.Members = append(lv.Members, lm)
		}
		lresp := c.roundTrip(t, lv).(*kmsg.LeaveGroupResponse)
		wantCode(t, fmt.Sprintf("v%d leave", v), lresp.ErrorCode, nil)
		if lv.Version >= 3 && (len(lresp.Members) != 1 || lresp.Members[0].ErrorCode != 0) {
			t.Fatalf("v%d leave members %+v", v, lresp.Members)
		}
		d := describe(t, c, 5, group)
		if d.State != "Empty" || len(d.Members) != 0 || d.ProtocolType != "consumer" {
			t.Fatalf("v%d after leaving: %+v, want Empty consumer group", v, d)
		}
		hb = c.roundTrip(t, heartbeatReq(min(v, 4), group, id, gen)).(*kmsg.HeartbeatResponse)
		wantCode(t, fmt.Sprintf("v%d heartbeat after leaving", v), hb.ErrorCode, kerr.UnknownMemberID)
	}
}

func describe(t testing.TB, c *rawConn, v int16, group string) kmsg.DescribeGroupsResponseGroup {
	t.Helper()
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Version = v
	req.Groups = []string{group}
	resp := c.roundTrip(t, req).(*kmsg.DescribeGroupsResponse)
	if len(resp.Groups) != 1 {
		t.Fatalf("describe %s: %d groups", group, len(resp.Groups))
	}
	return resp.Groups[0]
}

// A second member joining makes the first rejoin (it hears of the rebalance
// through its heartbeat); the join phase ends when both are in, and the
// leader's assignment reaches a follower that synced first.
func TestGroupProtocolRebalanceAcrossConnections(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c1, c2 := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	id1, gen := joinOne(t, c1, 9, "rb")

	r2 := c2.roundTrip(t, joinReq(9, "rb", "", nil)).(*kmsg.JoinGroupResponse)
	wantCode(t, "second member's first join", r2.ErrorCode, kerr.MemberIDRequired)
	id2 := r2.MemberID
	p2 := sendAsync(t, c2, joinReq(9, "rb", id2, nil))
	// Member 1 learns of it by heartbeat, and the group is preparing.
	deadline := time.Now().Add(10 * time.Second)
	for {
		hb := c1.roundTrip(t, heartbeatReq(4, "rb", id1, gen)).(*kmsg.HeartbeatResponse)
		if hb.ErrorCode == kerr.RebalanceInProgress.Code {
			break
		}
		wantCode(t, "heartbeat", hb.ErrorCode, nil)
		if time.Now().After(deadline) {
			t.Fatal("no REBALANCE_IN_PROGRESS after a second member joined")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if d := describe(t, c1, 5, "rb"); d.State != "PreparingRebalance" || d.Protocol != "" || len(d.Members) != 2 {
		t.Fatalf("while rebalancing: %+v", d)
	}
	// Sync now is too early.
	s := c1.roundTrip(t, syncReq(5, "rb", id1, gen, nil)).(*kmsg.SyncGroupResponse)
	wantCode(t, "sync during the join phase", s.ErrorCode, kerr.RebalanceInProgress)

	j1 := c1.roundTrip(t, joinReq(9, "rb", id1, nil)).(*kmsg.JoinGroupResponse)
	j2 := p2.wait(t).(*kmsg.JoinGroupResponse)
	wantCode(t, "rejoin", j1.ErrorCode, nil)
	wantCode(t, "second join", j2.ErrorCode, nil)
	if j1.Generation != gen+1 || j2.Generation != gen+1 || j1.LeaderID != id1 || j2.LeaderID != id1 {
		t.Fatalf("join responses %+v / %+v: want generation %d led by %s", j1, j2, gen+1, id1)
	}
	if len(j1.Members) != 2 || len(j2.Members) != 0 {
		t.Fatalf("the leader gets %d members, the follower %d; want 2 and 0", len(j1.Members), len(j2.Members))
	}
	if d := describe(t, c1, 5, "rb"); d.State != "CompletingRebalance" {
		t.Fatalf("after the join phase: state %s", d.State)
	}

	// The follower syncs first and waits for the leader, who assigns
	// only itself: the follower gets an empty consumer assignment.
	ps := sendAsync(t, c2, syncReq(5, "rb", id2, j2.Generation, nil))
	a1 := kmsg.NewConsumerMemberAssignment()
	at := kmsg.NewConsumerMemberAssignmentTopic()
	at.Topic, at.Partitions = "t", []int32{0, 1}
	a1.Topics = append(a1.Topics, at)
	s1 := c1.roundTrip(t, syncReq(5, "rb", id1, j1.Generation, map[string][]byte{id1: a1.AppendTo(nil)})).(*kmsg.SyncGroupResponse)
	s2 := ps.wait(t).(*kmsg.SyncGroupResponse)
	wantCode(t, "leader sync", s1.ErrorCode, nil)
	wantCode(t, "follower sync", s2.ErrorCode, nil)
	var got kmsg.ConsumerMemberAssignment
	if len(s2.MemberAssignment) == 0 || got.ReadFrom(s2.MemberAssignment) != nil || len(got.Topics) != 0 {
		t.Fatalf("follower's assignment %x: want an encoded empty consumer assignment", s2.MemberAssignment)
	}
	if s1.Protocol == nil || *s1.Protocol != "range" || s1.ProtocolType == nil || *s1.ProtocolType != "consumer" {
		t.Fatalf("v5 sync response names %v/%v", s1.ProtocolType, s1.Protocol)
	}
	d := describe(t, c1, 5, "rb")
	if d.State != "Stable" || d.Protocol != "range" || len(d.Members) != 2 {
		t.Fatalf("stable group described as %+v", d)
	}
	for _, m := range d.Members {
		if m.ClientHost != "/127.0.0.1" || m.ClientID != "raw-test" || !slices.Equal(m.ProtocolMetadata, consumerMeta("t")) {
			t.Errorf("member %+v", m)
		}
	}

	// v5 protocol checks.
	bad := syncReq(5, "rb", id2, j2.Generation, nil)
	bad.Protocol = kmsg.StringPtr("roundrobin")
	wantCode(t, "sync naming another protocol", c2.roundTrip(t, bad).(*kmsg.SyncGroupResponse).ErrorCode, kerr.InconsistentGroupProtocol)
	bad = syncReq(5, "rb", id2, j2.Generation, nil)
	bad.ProtocolType = kmsg.StringPtr("connect")
	wantCode(t, "sync naming another protocol type", c2.roundTrip(t, bad).(*kmsg.SyncGroupResponse).ErrorCode, kerr.InconsistentGroupProtocol)
	wantCode(t, "sync at an old generation", c2.roundTrip(t, syncReq(5, "rb", id2, gen, nil)).(*kmsg.SyncGroupResponse).ErrorCode, kerr.IllegalGeneration)
	wantCode(t, "sync of a stranger", c2.roundTrip(t, syncReq(5, "rb", "x", j2.Generation, nil)).(*kmsg.SyncGroupResponse).ErrorCode, kerr.UnknownMemberID)
	wantCode(t, "sync to no group", c2.roundTrip(t, syncReq(5, "none", id2, 1, nil)).(*kmsg.SyncGroupResponse).ErrorCode, kerr.UnknownMemberID)

	// A member joining with a protocol nobody else has is refused.
	odd := joinReq(9, "rb", "", nil, "sticky")
	wantCode(t, "join with a protocol the group lacks", c2.roundTrip(t, odd).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InconsistentGroupProtocol)
	odd = joinReq(9, "rb", "", nil)
	odd.ProtocolType = "connect"
	wantCode(t, "join with another protocol type", c2.roundTrip(t, odd).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InconsistentGroupProtocol)
}

// Non-consumer protocols get zero-length (never null) assignments.
func TestGroupProtocolEmptyAssignmentOtherType(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c := dialRaw(t, ts.addr)
	req := joinReq(3, "connect-g", "", nil)
	req.ProtocolType = "connect"
	j := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
	wantCode(t, "join", j.ErrorCode, nil)
	s := c.roundTrip(t, syncReq(3, "connect-g", j.MemberID, j.Generation, nil)).(*kmsg.SyncGroupResponse)
	wantCode(t, "sync", s.ErrorCode, nil)
	if s.MemberAssignment == nil || len(s.MemberAssignment) != 0 {
		t.Fatalf("assignment %x, want empty", s.MemberAssignment)
	}
}

func TestGroupProtocolJoinErrors(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c := dialRaw(t, ts.addr)
	req := joinReq(9, "", "", nil)
	wantCode(t, "empty group id", c.roundTrip(t, req).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InvalidGroupID)
	req = joinReq(9, "j", "", nil)
	req.SessionTimeoutMillis = 100
	wantCode(t, "session timeout under the minimum", c.roundTrip(t, req).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InvalidSessionTimeout)
	req = joinReq(9, "j", "", nil)
	req.Protocols = nil
	wantCode(t, "no protocols", c.roundTrip(t, req).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InconsistentGroupProtocol)
	req = joinReq(9, "j", "who", nil)
	wantCode(t, "unknown member id, no group", c.roundTrip(t, req).(*kmsg.JoinGroupResponse).ErrorCode, kerr.UnknownMemberID)
	// Failed joins leave no group behind.
	lg := kmsg.NewPtrListGroupsRequest()
	if n := len(c.roundTrip(t, lg).(*kmsg.ListGroupsResponse).Groups); n != 0 {
		t.Fatalf("%d groups after failed joins", n)
	}
}

// Static membership: no MEMBER_ID_REQUIRED; a restarted instance replaces
// its old member id without a rebalance, the old one is fenced, and from v9
// the leader is told to skip the assignment.
func TestGroupProtocolStaticMembership(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c1, c2 := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	inst := kmsg.StringPtr("instance-1")
	j := c1.roundTrip(t, joinReq(9, "st", "", inst)).(*kmsg.JoinGroupResponse)
	wantCode(t, "static join", j.ErrorCode, nil)
	if !strings.HasPrefix(j.MemberID, "instance-1-") || len(j.Members) != 1 || *j.Members[0].InstanceID != "instance-1" {
		t.Fatalf("static join %+v", j)
	}
	s := c1.roundTrip(t, syncReq(5, "st", j.MemberID, j.Generation, map[string][]byte{j.MemberID: []byte("mine")})).(*kmsg.SyncGroupResponse)
	wantCode(t, "sync", s.ErrorCode, nil)

	// The instance comes back (a restart): same generation, new id.
	j2 := c2.roundTrip(t, joinReq(9, "st", "", inst)).(*kmsg.JoinGroupResponse)
	wantCode(t, "static rejoin", j2.ErrorCode, nil)
	if j2.MemberID == j.MemberID || j2.Generation != j.Generation || j2.LeaderID != j2.MemberID || !j2.SkipAssignment || len(j2.Members) != 1 {
		t.Fatalf("static rejoin %+v: want a new id at generation %d, leading, SkipAssignment", j2, j.Generation)
	}
	s2 := c2.roundTrip(t, syncReq(5, "st", j2.MemberID, j2.Generation, nil)).(*kmsg.SyncGroupResponse)
	if s2.ErrorCode != 0 || string(s2.MemberAssignment) != "mine" {
		t.Fatalf("sync after the static rejoin: %s %q, want the kept assignment", codeName(s2.ErrorCode), s2.MemberAssignment)
	}
	hb := heartbeatReq(4, "st", j.MemberID, j.Generation)
	hb.InstanceID = inst
	wantCode(t, "old incarnation's heartbeat", c1.roundTrip(t, hb).(*kmsg.HeartbeatResponse).ErrorCode, kerr.FencedInstanceID)
	hb = heartbeatReq(4, "st", j2.MemberID, j2.Generation)
	hb.InstanceID = inst
	wantCode(t, "new incarnation's heartbeat", c2.roundTrip(t, hb).(*kmsg.HeartbeatResponse).ErrorCode, nil)

	// Before v9 the returning leader hears of the old leader id, so it
	// acts as a follower and the assignment stays.
	j3 := c1.roundTrip(t, joinReq(8, "st", "", inst)).(*kmsg.JoinGroupResponse)
	wantCode(t, "v8 static rejoin", j3.ErrorCode, nil)
	if j3.LeaderID != j2.MemberID || j3.Generation != j.Generation || j3.SkipAssignment {
		t.Fatalf("v8 static rejoin %+v: want leader %s (the previous id)", j3, j2.MemberID)
	}

	// Admin removal by instance id (LeaveGroup v3+ without a member id).
	lv := kmsg.NewPtrLeaveGroupRequest()
	lv.Version = 5
	lv.Group = "st"
	for _, id := range []string{"instance-1", "instance-2"} {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.InstanceID = kmsg.StringPtr(id)
		lv.Members = append(lv.Members, lm)
	}
	lr := c1.roundTrip(t, lv).(*kmsg.LeaveGroupResponse)
	if lr.ErrorCode != 0 || len(lr.Members) != 2 || lr.Members[0].ErrorCode != 0 || lr.Members[1].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave by instance ids: %+v", lr)
	}
	if d := describe(t, c1, 5, "st"); d.State != "Empty" {
		t.Fatalf("after removing the static member: %s", d.State)
	}
}

// A static member that joins while another incarnation waits in JoinGroup
// fences it at once.
func TestGroupProtocolStaticFencesParkedJoin(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c1, c2, c3 := dialRaw(t, ts.addr), dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	inst := kmsg.StringPtr("i")
	// A dynamic member makes the group stable.
	id, gen := joinOne(t, c1, 9, "sf")
	// A static member joins: the group rebalances, its join waits for
	// the dynamic member to rejoin.
	p := sendAsync(t, c2, joinReq(9, "sf", "", inst))
	deadline := time.Now().Add(10 * time.Second)
	for describe(t, c3, 5, "sf").State != "PreparingRebalance" {
		if time.Now().After(deadline) {
			t.Fatal("group never started rebalancing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The same instance joins again from elsewhere: the parked join
	// is fenced.
	p3 := sendAsync(t, c3, joinReq(9, "sf", "", inst))
	r := p.wait(t).(*kmsg.JoinGroupResponse)
	wantCode(t, "parked join of the replaced incarnation", r.ErrorCode, kerr.FencedInstanceID)
	// The dynamic member rejoins; the join phase completes.
	j1 := c1.roundTrip(t, joinReq(9, "sf", id, nil)).(*kmsg.JoinGroupResponse)
	j3 := p3.wait(t).(*kmsg.JoinGroupResponse)
	wantCode(t, "rejoin", j1.ErrorCode, nil)
	wantCode(t, "static join", j3.ErrorCode, nil)
	if j1.Generation != gen+1 || j3.Generation != gen+1 {
		t.Fatalf("generations %d, %d; want %d", j1.Generation, j3.Generation, gen+1)
	}
}

func TestGroupProtocolPendingMemberExpires(t *testing.T) {
	cfg := fastGroups
	ts := startGroupServer(t, "", cfg)
	c := dialRaw(t, ts.addr)
	req := joinReq(9, "pe", "", nil)
	req.SessionTimeoutMillis = 600
	r := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
	wantCode(t, "first join", r.ErrorCode, kerr.MemberIDRequired)
	if d := describe(t, c, 5, "pe"); d.State != "Empty" {
		t.Fatalf("group with a pending member: %s", d.State)
	}
	deadline := time.Now().Add(20 * time.Second)
	for describe(t, c, 5, "pe").State != "Dead" {
		if time.Now().After(deadline) {
			t.Fatal("pending member never expired (the group still exists)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	req.MemberID = r.MemberID
	wantCode(t, "join with an expired pending id", c.roundTrip(t, req).(*kmsg.JoinGroupResponse).ErrorCode, kerr.UnknownMemberID)
}

// A member that stops heartbeating is removed after its session timeout and
// the group rebalances without it; a member that is still alive rejoins.
func TestGroupProtocolSessionExpiry(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c1, c2 := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	req := joinReq(3, "se", "", nil)
	req.SessionTimeoutMillis = 800
	j1 := c1.roundTrip(t, req).(*kmsg.JoinGroupResponse)
	wantCode(t, "join", j1.ErrorCode, nil)
	wantCode(t, "sync", c1.roundTrip(t, syncReq(3, "se", j1.MemberID, j1.Generation, nil)).(*kmsg.SyncGroupResponse).ErrorCode, nil)

	// Member 2 joins with a long session; member 1 never heartbeats,
	// so it misses the rebalance and expires.
	req2 := joinReq(3, "se", "", nil)
	req2.SessionTimeoutMillis = 30000
	j2 := c2.roundTrip(t, req2).(*kmsg.JoinGroupResponse)
	wantCode(t, "second join", j2.ErrorCode, nil)
	if j2.Generation != j1.Generation+1 || j2.LeaderID != j2.MemberID || len(j2.Members) != 1 {
		t.Fatalf("after the first member expired: %+v", j2)
	}
	wantCode(t, "expired member's heartbeat", c1.roundTrip(t, heartbeatReq(3, "se", j1.MemberID, j1.Generation)).(*kmsg.HeartbeatResponse).ErrorCode, kerr.UnknownMemberID)
}

func TestFindCoordinatorEveryVersion(t *testing.T) {
	ts := startGroupServer(t, "", fastGroups)
	c := dialRaw(t, ts.addr)
	host, port := ts.cfg.Listeners[0].host, ts.cfg.Listeners[0].port
	for v := int16(0); v <= 4; v++ {
		for _, typ := range []int8{0, 1, 7} {
			if v == 0 && typ != 0 {
				continue
			}
			req := kmsg.NewPtrFindCoordinatorRequest()
			req.Version = v
			req.CoordinatorType = typ
			req.CoordinatorKey = "g1"
			req.CoordinatorKeys = []string{"g1", "g2"}
			resp := c.roundTrip(t, req).(*kmsg.FindCoordinatorResponse)
			type co struct {
				code int16
				node int32
				host string
				port int32
			}
			var got []co
			if v < 4 {
				got = append(got, co{resp.ErrorCode, resp.NodeID, resp.Host, resp.Port})
			} else {
				for _, c := range resp.Coordinators {
					got = append(got, co{c.ErrorCode, c.NodeID, c.Host, c.Port})
				}
				if len(resp.Coordinators) != 2 || resp.Coordinators[1].Key != "g2" {
					t.Fatalf("v4: coordinators %+v", resp.Coordinators)
				}
			}
			for _, g := range got {
				if typ == 7 {
					if g.code != kerr.InvalidRequest.Code {
						t.Errorf("v%d type %d: %s, want INVALID_REQUEST", v, typ, codeName(g.code))
					}
					continue
				}
				if g != (co{0, 0, host, port}) {
					t.Errorf("v%d type %d: %+v, want node 0 at %s:%d", v, typ, g, host, port)
				}
			}
		}
	}
}
