package kafka

// KIP-848 consumer groups over raw requests: every error code of
// ConsumerGroupHeartbeat, the reconciliation step by step, member epochs in
// OffsetCommit and OffsetFetch, and how the other group APIs see these
// groups.

import (
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cgJoin is a first heartbeat of member id subscribing to topics.
func cgJoin(group, id string, topics ...string) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group, req.MemberID, req.MemberEpoch = group, id, 0
	req.RebalanceTimeoutMillis = 5000
	req.SubscribedTopicNames = append([]string{}, topics...)
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	return req
}

// cgBeat is a later heartbeat; owned nil leaves Topics null (unchanged).
func cgBeat(group, id string, epoch int32, topic [16]byte, owned []int32) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group, req.MemberID, req.MemberEpoch = group, id, epoch
	req.RebalanceTimeoutMillis = -1
	if owned != nil {
		t := kmsg.NewConsumerGroupHeartbeatRequestTopic()
		t.TopicID, t.Partitions = topic, owned
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{t}
	}
	return req
}

func (c *rawConn) cgHeartbeat(t *testing.T, req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	t.Helper()
	return c.roundTrip(t, req).(*kmsg.ConsumerGroupHeartbeatResponse)
}

// assigned returns the partitions of topic in a heartbeat answer's
// assignment; nil when the answer has none.
func assigned(resp *kmsg.ConsumerGroupHeartbeatResponse, topic [16]byte) []int32 {
	if resp.Assignment == nil {
		return nil
	}
	out := []int32{}
	for _, at := range resp.Assignment.Topics {
		if at.TopicID == topic {
			out = append(out, at.Partitions...)
		}
	}
	slices.Sort(out)
	return out
}

func (ts *testServer) topicID(t *testing.T, name string) [16]byte {
	t.Helper()
	st, err := ts.store.DescribeStream(testContext(t), name)
	if err != nil {
		t.Fatal(err)
	}
	return topicID(st)
}

func TestCGHeartbeatInvalid(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	c := dialRaw(t, ts.addr)
	for _, tc := range []struct {
		name   string
		change func(*kmsg.ConsumerGroupHeartbeatRequest)
		code   int16
	}{
		{"no member id at v1", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID = "" }, kerr.InvalidRequest.Code},
		{"no group", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group = "" }, kerr.InvalidRequest.Code},
		{"empty instance id", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.InstanceID = kmsg.StringPtr("") }, kerr.InvalidRequest.Code},
		{"empty rack id", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.RackID = kmsg.StringPtr("") }, kerr.InvalidRequest.Code},
		{"no rebalance timeout", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.RebalanceTimeoutMillis = -1 }, kerr.InvalidRequest.Code},
		{"null owned partitions", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Topics = nil }, kerr.InvalidRequest.Code},
		{"owned partitions on join", func(r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{Partitions: []int32{0}}}
		}, kerr.InvalidRequest.Code},
		{"no subscription", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicNames = nil }, kerr.InvalidRequest.Code},
		{"epoch below -2", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -3 }, kerr.InvalidRequest.Code},
		{"static leave without instance", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -2 }, kerr.InvalidRequest.Code},
		{"bad regex", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicRegex = kmsg.StringPtr("(") }, kerr.InvalidRegularExpression.Code},
		{"unknown assignor", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = kmsg.StringPtr("sticky") }, kerr.UnsupportedAssignor.Code},
		{"unknown group past epoch 0", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = 3 }, kerr.GroupIDNotFound.Code},
		{"v0 join without member id", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Version, r.MemberID = 0, "" }, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := cgJoin("inv-"+tc.name, "m1", "t")
			tc.change(req)
			resp := c.cgHeartbeat(t, req)
			if resp.ErrorCode != tc.code {
				t.Fatalf("error %s (%v), want %s", codeName(resp.ErrorCode), deref(resp.ErrorMessage), codeName(tc.code))
			}
			if tc.code == 0 && (resp.MemberID == nil || *resp.MemberID == "") {
				t.Fatalf("v0 join got no member id")
			}
		})
	}
}

// Two members share a 2-partition topic: the newcomer gets nothing until
// the first member has revoked, then gets what was revoked; epochs follow.
func TestCGReconciliation(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "t2", 2)
	id := ts.topicID(t, "t2")
	c := dialRaw(t, ts.addr)
	r := c.cgHeartbeat(t, cgJoin("rg", "m1", "t2"))
	if r.ErrorCode != 0 || r.MemberEpoch != 1 || !slices.Equal(assigned(r, id), []int32{0, 1}) {
		t.Fatalf("m1 join: %s epoch %d assignment %v", codeName(r.ErrorCode), r.MemberEpoch, assigned(r, id))
	}
	r = c.cgHeartbeat(t, cgJoin("rg", "m2", "t2"))
	if r.ErrorCode != 0 || r.MemberEpoch != 2 || len(assigned(r, id)) != 0 {
		t.Fatalf("m2 join: %s epoch %d assignment %v, want epoch 2 and nothing yet", codeName(r.ErrorCode), r.MemberEpoch, assigned(r, id))
	}
	// m1 still owns both: it is asked to give one up and stays at epoch 1.
	r = c.cgHeartbeat(t, cgBeat("rg", "m1", 1, id, []int32{0, 1}))
	if r.ErrorCode != 0 || r.MemberEpoch != 1 || len(assigned(r, id)) != 1 {
		t.Fatalf("m1 revocation: %s epoch %d assignment %v", codeName(r.ErrorCode), r.MemberEpoch, assigned(r, id))
	}
	keep := assigned(r, id)[0]
	give := 1 - keep
	// m2 must not get the partition m1 still owns.
	r = c.cgHeartbeat(t, cgBeat("rg", "m2", 2, id, []int32{}))
	if r.ErrorCode != 0 || len(assigned(r, id)) != 0 {
		t.Fatalf("m2 before the revocation: %s assignment %v", codeName(r.ErrorCode), assigned(r, id))
	}
	// A heartbeat from the future is fenced.
	if r = c.cgHeartbeat(t, cgBeat("rg", "m1", 7, id, nil)); r.ErrorCode != kerr.FencedMemberEpoch.Code {
		t.Fatalf("epoch 7: %s, want FENCED_MEMBER_EPOCH", codeName(r.ErrorCode))
	}
	r = c.cgHeartbeat(t, cgBeat("rg", "m1", 1, id, []int32{keep}))
	if r.ErrorCode != 0 || r.MemberEpoch != 2 {
		t.Fatalf("m1 after revoking: %s epoch %d", codeName(r.ErrorCode), r.MemberEpoch)
	}
	// Its previous epoch with a subset of its assignment is still fine
	// (the answer above may have been lost).
	if r = c.cgHeartbeat(t, cgBeat("rg", "m1", 1, id, []int32{keep})); r.ErrorCode != 0 {
		t.Fatalf("previous epoch: %s", codeName(r.ErrorCode))
	}
	r = c.cgHeartbeat(t, cgBeat("rg", "m2", 2, id, []int32{}))
	if r.ErrorCode != 0 || !slices.Equal(assigned(r, id), []int32{give}) {
		t.Fatalf("m2 after the revocation: %s assignment %v, want [%d]", codeName(r.ErrorCode), assigned(r, id), give)
	}

	// OffsetCommit v9 carries the member epoch.
	commit := func(v int16, member string, epoch int32) int16 {
		resp := c.roundTrip(t, commitReq(v, "rg", member, epoch, "t2", map[int32]int64{give: 5})).(*kmsg.OffsetCommitResponse)
		return resp.Topics[0].Partitions[0].ErrorCode
	}
	for _, tc := range []struct {
		v      int16
		member string
		epoch  int32
		code   int16
	}{
		{9, "m2", 1, kerr.StaleMemberEpoch.Code},
		{9, "nobody", 2, kerr.UnknownMemberID.Code},
		{8, "m2", 2, kerr.UnsupportedVersion.Code},
		{9, "", -1, kerr.UnknownMemberID.Code}, // the group has members
		{9, "m2", 2, 0},
	} {
		if code := commit(tc.v, tc.member, tc.epoch); code != tc.code {
			t.Errorf("OffsetCommit v%d %s epoch %d: %s, want %s", tc.v, tc.member, tc.epoch, codeName(code), codeName(tc.code))
		}
	}
	fetch := func(member string, epoch int32) *kmsg.OffsetFetchResponseGroup {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Version = 9
		g := kmsg.NewOffsetFetchRequestGroup()
		g.Group, g.MemberID, g.MemberEpoch = "rg", kmsg.StringPtr(member), epoch
		req.Groups = append(req.Groups, g)
		return &c.roundTrip(t, req).(*kmsg.OffsetFetchResponse).Groups[0]
	}
	if g := fetch("m2", 1); g.ErrorCode != kerr.StaleMemberEpoch.Code {
		t.Errorf("OffsetFetch at a stale epoch: %s", codeName(g.ErrorCode))
	}
	if g := fetch("m2", 2); g.ErrorCode != 0 || len(g.Topics) != 1 || g.Topics[0].Partitions[0].Offset != 5 {
		t.Errorf("OffsetFetch: %+v", g)
	}

	// The other group APIs.
	join := c.roundTrip(t, joinReq(9, "rg", "", nil)).(*kmsg.JoinGroupResponse)
	if join.ErrorCode != kerr.MemberIDRequired.Code { // a classic member may join (cgroup_classic_test.go)
		t.Errorf("classic JoinGroup into a consumer group: %s", codeName(join.ErrorCode))
	}
	hb := c.roundTrip(t, heartbeatReq(4, "rg", "m1", 2)).(*kmsg.HeartbeatResponse)
	if hb.ErrorCode != kerr.UnknownMemberID.Code {
		t.Errorf("classic Heartbeat into a consumer group: %s", codeName(hb.ErrorCode))
	}
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version, lg.TypesFilter = 5, []string{"Consumer"}
	lr := c.roundTrip(t, lg).(*kmsg.ListGroupsResponse)
	if len(lr.Groups) != 1 || lr.Groups[0].Group != "rg" || lr.Groups[0].GroupType != "consumer" || lr.Groups[0].GroupState != "Stable" {
		t.Errorf("ListGroups v5 consumer: %+v", lr.Groups)
	}
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Version, dg.Groups = 5, []string{"rg"}
	if d := c.roundTrip(t, dg).(*kmsg.DescribeGroupsResponse).Groups[0]; d.State != "Dead" || d.ErrorCode != 0 {
		t.Errorf("DescribeGroups of a consumer group: %s %s", d.State, codeName(d.ErrorCode))
	}
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Version, del.Groups = 2, []string{"rg"}
	if d := c.roundTrip(t, del).(*kmsg.DeleteGroupsResponse).Groups[0]; d.ErrorCode != kerr.NonEmptyGroup.Code {
		t.Errorf("DeleteGroups of a group with members: %s", codeName(d.ErrorCode))
	}
	cd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cd.Version, cd.Groups = 1, []string{"rg", "nope"}
	cr := c.roundTrip(t, cd).(*kmsg.ConsumerGroupDescribeResponse)
	if g := cr.Groups[0]; g.ErrorCode != 0 || g.State != "Stable" || g.Epoch != 2 || g.AssignmentEpoch != 2 || len(g.Members) != 2 ||
		g.Members[0].MemberType != 1 || g.Members[0].Assignment.TopicPartitions[0].Topic != "t2" {
		t.Errorf("ConsumerGroupDescribe: %+v", g)
	}
	if g := cr.Groups[1]; g.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Errorf("ConsumerGroupDescribe of no group: %s", codeName(g.ErrorCode))
	}

	// Leaving: m1 goes, m2 then gets both partitions.
	if r = c.cgHeartbeat(t, cgBeat("rg", "m1", -1, id, nil)); r.ErrorCode != 0 || r.MemberEpoch != -1 {
		t.Fatalf("leave: %s epoch %d", codeName(r.ErrorCode), r.MemberEpoch)
	}
	if r = c.cgHeartbeat(t, cgBeat("rg", "m1", 2, id, nil)); r.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("after leaving: %s", codeName(r.ErrorCode))
	}
	r = c.cgHeartbeat(t, cgBeat("rg", "m2", 2, id, []int32{give}))
	if r.ErrorCode != 0 || r.MemberEpoch != 3 || !slices.Equal(assigned(r, id), []int32{0, 1}) {
		t.Fatalf("m2 alone: %s epoch %d assignment %v", codeName(r.ErrorCode), r.MemberEpoch, assigned(r, id))
	}
	if r = c.cgHeartbeat(t, cgBeat("rg", "m2", -1, id, nil)); r.ErrorCode != 0 {
		t.Fatalf("m2 leave: %s", codeName(r.ErrorCode))
	}
	// Empty now: a classic member may take the group over, offsets kept.
	join = c.roundTrip(t, joinReq(3, "rg", "", nil)).(*kmsg.JoinGroupResponse)
	if join.ErrorCode != 0 {
		t.Errorf("classic JoinGroup into an empty consumer group: %s", codeName(join.ErrorCode))
	}
	if r = c.cgHeartbeat(t, cgJoin("rg", "m3", "t2")); r.ErrorCode != 0 {
		t.Errorf("consumer join into a classic group with a member (an upgrade): %s", codeName(r.ErrorCode))
	}
}

func TestCGStaticMembers(t *testing.T) {
	cfg := fast848
	cfg.consumerMaxSize = 2
	ts := startGroupServer(t, "", cfg)
	ts.createTopic(t, "st", 4)
	id := ts.topicID(t, "st")
	c := dialRaw(t, ts.addr)
	static := func(req *kmsg.ConsumerGroupHeartbeatRequest, inst string) *kmsg.ConsumerGroupHeartbeatRequest {
		req.InstanceID = kmsg.StringPtr(inst)
		return req
	}
	r := c.cgHeartbeat(t, static(cgJoin("sg", "a1", "st"), "ia"))
	if r.ErrorCode != 0 || len(assigned(r, id)) != 4 {
		t.Fatalf("a1: %s %v", codeName(r.ErrorCode), assigned(r, id))
	}
	if r = c.cgHeartbeat(t, static(cgJoin("sg", "a2", "st"), "ia")); r.ErrorCode != kerr.UnreleasedInstanceID.Code {
		t.Fatalf("second member for instance ia: %s, want UNRELEASED_INSTANCE_ID", codeName(r.ErrorCode))
	}
	if r = c.cgHeartbeat(t, static(cgBeat("sg", "other", 1, id, nil), "ia")); r.ErrorCode != kerr.FencedInstanceID.Code {
		t.Fatalf("instance ia with another member id: %s, want FENCED_INSTANCE_ID", codeName(r.ErrorCode))
	}
	r = c.cgHeartbeat(t, static(cgJoin("sg", "b1", "st"), "ib"))
	if r.ErrorCode != 0 {
		t.Fatalf("b1: %s", codeName(r.ErrorCode))
	}
	if r = c.cgHeartbeat(t, cgJoin("sg", "c1", "st")); r.ErrorCode != kerr.GroupMaxSizeReached.Code {
		t.Fatalf("third member of a group of at most 2: %s", codeName(r.ErrorCode))
	}
	// a1 revokes what b1 is to get; both settle at epoch 2.
	r = c.cgHeartbeat(t, static(cgBeat("sg", "a1", 1, id, []int32{0, 1, 2, 3}), "ia"))
	keep := assigned(r, id)
	if len(keep) != 2 {
		t.Fatalf("a1 keeps %v", keep)
	}
	r = c.cgHeartbeat(t, static(cgBeat("sg", "a1", 1, id, keep), "ia"))
	if r.MemberEpoch != 2 {
		t.Fatalf("a1 epoch %d", r.MemberEpoch)
	}
	// a1 goes away for now (epoch -2): its partitions wait for it.
	if r = c.cgHeartbeat(t, static(cgBeat("sg", "a1", -2, id, nil), "ia")); r.ErrorCode != 0 || r.MemberEpoch != -2 {
		t.Fatalf("static leave: %s epoch %d", codeName(r.ErrorCode), r.MemberEpoch)
	}
	r = c.cgHeartbeat(t, static(cgBeat("sg", "b1", 2, id, []int32{}), "ib"))
	if got := assigned(r, id); len(got) != 2 || slices.Contains(got, keep[0]) || slices.Contains(got, keep[1]) {
		t.Fatalf("b1 got %v while a1 (%v) is away", got, keep)
	}
	// The instance comes back as a new member and takes a1's place.
	r = c.cgHeartbeat(t, static(cgJoin("sg", "a3", "st"), "ia"))
	if r.ErrorCode != 0 || r.MemberEpoch != 2 || !slices.Equal(assigned(r, id), keep) {
		t.Fatalf("a3 for instance ia: %s epoch %d %v, want epoch 2 and %v", codeName(r.ErrorCode), r.MemberEpoch, assigned(r, id), keep)
	}
	cd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cd.Groups = []string{"sg"}
	g := c.roundTrip(t, cd).(*kmsg.ConsumerGroupDescribeResponse).Groups[0]
	if g.Epoch != 2 || len(g.Members) != 2 || g.Members[0].MemberID != "a3" || *g.Members[0].InstanceID != "ia" {
		t.Fatalf("after the static rejoin: %+v", g)
	}
}

// A consumer group left empty without offsets is removed after the empty
// group retention, as classic groups are.
func TestCGEmptyGroupRetired(t *testing.T) {
	cfg := fast848
	cfg.emptyGroupRetention = time.Millisecond
	ts := startGroupServer(t, "", cfg)
	c := dialRaw(t, ts.addr)
	if r := c.cgHeartbeat(t, cgJoin("gone", "m", "t")); r.ErrorCode != 0 {
		t.Fatal(codeName(r.ErrorCode))
	}
	if r := c.cgHeartbeat(t, cgBeat("gone", "m", -1, [16]byte{}, nil)); r.ErrorCode != 0 {
		t.Fatal(codeName(r.ErrorCode))
	}
	waitFor(t, "the empty group to go", func() bool {
		cd := kmsg.NewPtrConsumerGroupDescribeRequest()
		cd.Groups = []string{"gone"}
		return c.roundTrip(t, cd).(*kmsg.ConsumerGroupDescribeResponse).Groups[0].ErrorCode == kerr.GroupIDNotFound.Code
	})
}
