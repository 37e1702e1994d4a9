package kafka

// Mixed groups over raw requests (cgroup_classic.go): a classic member in a
// consumer group step by step, the migration policy's refusals, upgrades
// and downgrades, and a restart of a mixed group.

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// mixJoin is a classic JoinGroup v9 on cooperative-sticky subscribing to
// topic, with the partitions of it the member owns (v1 metadata).
func mixJoin(group, memberID, topic string, owned ...int32) *kmsg.JoinGroupRequest {
	req := joinReq(9, group, memberID, nil, "cooperative-sticky")
	m := kmsg.NewConsumerMemberMetadata()
	m.Version, m.Topics = 1, []string{topic}
	if len(owned) > 0 {
		op := kmsg.NewConsumerMemberMetadataOwnedPartition()
		op.Topic, op.Partitions = topic, owned
		m.OwnedPartitions = append(m.OwnedPartitions, op)
	}
	req.Protocols[0].Metadata = m.AppendTo(nil)
	return req
}

// syncedPartitions decodes a SyncGroup's ConsumerMemberAssignment: the
// partitions of topic.
func syncedPartitions(t *testing.T, resp *kmsg.SyncGroupResponse, topic string) []int32 {
	t.Helper()
	var a kmsg.ConsumerMemberAssignment
	if err := a.ReadFrom(resp.MemberAssignment); err != nil {
		t.Fatalf("assignment %x: %v", resp.MemberAssignment, err)
	}
	out := []int32{}
	for _, at := range a.Topics {
		if at.Topic == topic {
			out = append(out, at.Partitions...)
		}
	}
	slices.Sort(out)
	return out
}

func describeCG(t *testing.T, c *rawConn, group string) kmsg.ConsumerGroupDescribeResponseGroup {
	t.Helper()
	cd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cd.Version, cd.Groups = 1, []string{group}
	return c.roundTrip(t, cd).(*kmsg.ConsumerGroupDescribeResponse).Groups[0]
}

// classicJoinCG joins a classic member to a consumer group: the
// MEMBER_ID_REQUIRED round, then the join, answered at once.
func classicJoinCG(t *testing.T, c *rawConn, group, topic string) *kmsg.JoinGroupResponse {
	t.Helper()
	r := c.roundTrip(t, mixJoin(group, "", topic)).(*kmsg.JoinGroupResponse)
	wantCode(t, "first classic join", r.ErrorCode, kerr.MemberIDRequired)
	r = c.roundTrip(t, mixJoin(group, r.MemberID, topic)).(*kmsg.JoinGroupResponse)
	wantCode(t, "classic join", r.ErrorCode, nil)
	return r
}

// A classic member joins a consumer group whose member owns everything:
// it waits for the partition to be released, is told to rejoin once it is,
// and gets it; its generation is its member epoch throughout; when the
// consumer-protocol member leaves the group becomes classic again.
func TestMixedClassicMemberSteps(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "mx", 2)
	id := ts.topicID(t, "mx")
	c := dialRaw(t, ts.addr)
	r := c.cgHeartbeat(t, cgJoin("mg", "m1", "mx"))
	if r.ErrorCode != 0 || r.MemberEpoch != 1 || !slices.Equal(assigned(r, id), []int32{0, 1}) {
		t.Fatalf("m1: %s epoch %d %v", codeName(r.ErrorCode), r.MemberEpoch, assigned(r, id))
	}
	if j := c.roundTrip(t, joinReq(9, "mg", "", nil)).(*kmsg.JoinGroupResponse); j.ErrorCode != kerr.MemberIDRequired.Code {
		t.Fatalf("classic join without id: %s", codeName(j.ErrorCode))
	}
	other := joinReq(9, "mg", "x", nil)
	other.ProtocolType = "connect"
	wantCode(t, "classic join of another protocol type", c.roundTrip(t, other).(*kmsg.JoinGroupResponse).ErrorCode, kerr.InconsistentGroupProtocol)

	j := classicJoinCG(t, c, "mg", "mx")
	cm := j.MemberID
	if j.Generation != 2 || j.LeaderID == cm || len(j.Members) != 0 || j.Protocol == nil || *j.Protocol != "cooperative-sticky" {
		t.Fatalf("classic join answer %+v: want generation 2 (the bumped group epoch), not leader, cooperative-sticky", j)
	}
	sync := func(gen int32, protocol string) *kmsg.SyncGroupResponse {
		req := syncReq(5, "mg", cm, gen, nil)
		req.ProtocolType, req.Protocol = kmsg.StringPtr("consumer"), kmsg.StringPtr(protocol)
		return c.roundTrip(t, req).(*kmsg.SyncGroupResponse)
	}
	for _, tc := range []struct {
		name     string
		gen      int32
		protocol string
		want     *kerr.Error
	}{
		{"old generation", 1, "cooperative-sticky", kerr.IllegalGeneration},
		{"other protocol", 2, "range", kerr.InconsistentGroupProtocol},
		{"ok", 2, "cooperative-sticky", nil},
	} {
		s := sync(tc.gen, tc.protocol)
		wantCode(t, "sync "+tc.name, s.ErrorCode, tc.want)
		if tc.want == nil && len(syncedPartitions(t, s, "mx")) != 0 {
			t.Fatalf("classic member got %v while m1 still owns everything", syncedPartitions(t, s, "mx"))
		}
	}
	hb := func(gen int32) int16 {
		return c.roundTrip(t, heartbeatReq(4, "mg", cm, gen)).(*kmsg.HeartbeatResponse).ErrorCode
	}
	wantCode(t, "heartbeat while waiting for m1", hb(2), nil)
	wantCode(t, "heartbeat at an old generation", hb(1), kerr.IllegalGeneration)

	// m1 revokes what the classic member is to get.
	r = c.cgHeartbeat(t, cgBeat("mg", "m1", 1, id, []int32{0, 1}))
	keep := assigned(r, id)
	if len(keep) != 1 {
		t.Fatalf("m1 keeps %v", keep)
	}
	if r = c.cgHeartbeat(t, cgBeat("mg", "m1", 1, id, keep)); r.MemberEpoch != 2 {
		t.Fatalf("m1 epoch %d after revoking", r.MemberEpoch)
	}
	wantCode(t, "heartbeat once the partition is free", hb(2), kerr.RebalanceInProgress)
	j = c.roundTrip(t, mixJoin("mg", cm, "mx")).(*kmsg.JoinGroupResponse)
	wantCode(t, "rejoin", j.ErrorCode, nil)
	s := sync(j.Generation, "cooperative-sticky")
	got := syncedPartitions(t, s, "mx")
	if s.ErrorCode != 0 || len(got) != 1 || got[0] == keep[0] {
		t.Fatalf("classic member after rejoining: %s %v (m1 keeps %v)", codeName(s.ErrorCode), got, keep)
	}
	wantCode(t, "heartbeat when reconciled", hb(2), nil)

	d := describeCG(t, c, "mg")
	if d.ErrorCode != 0 || d.State != "Stable" || len(d.Members) != 2 {
		t.Fatalf("described %+v", d)
	}
	for _, m := range d.Members {
		want := int8(1)
		if m.MemberID == cm {
			want = 0
		}
		if m.MemberType != want || len(m.Assignment.TopicPartitions) != 1 {
			t.Fatalf("member %s: type %d assignment %+v", m.MemberID, m.MemberType, m.Assignment)
		}
	}
	lg := kmsg.NewPtrListGroupsRequest()
	lg.Version = 5
	if l := c.roundTrip(t, lg).(*kmsg.ListGroupsResponse); len(l.Groups) != 1 || l.Groups[0].GroupType != "consumer" {
		t.Fatalf("ListGroups %+v", l.Groups)
	}

	// Commits: the classic member's generation is its member epoch.
	wantCode(t, "commit at an old generation", c.roundTrip(t, commitReq(8, "mg", cm, 1, "mx", map[int32]int64{got[0]: 3})).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode, kerr.IllegalGeneration)
	wantCode(t, "commit", c.roundTrip(t, commitReq(8, "mg", cm, 2, "mx", map[int32]int64{got[0]: 3})).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode, nil)

	// LeaveGroup cannot name a consumer-protocol member.
	lv := kmsg.NewPtrLeaveGroupRequest()
	lv.Version, lv.Group = 5, "mg"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = "m1"
	lv.Members = []kmsg.LeaveGroupRequestMember{lm}
	if l := c.roundTrip(t, lv).(*kmsg.LeaveGroupResponse); l.ErrorCode != 0 || l.Members[0].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("LeaveGroup of m1: %s / %s", codeName(l.ErrorCode), codeName(l.Members[0].ErrorCode))
	}

	// Downgrade: m1 leaves, the group is classic again and rebalances.
	if r = c.cgHeartbeat(t, cgBeat("mg", "m1", -1, id, nil)); r.ErrorCode != 0 {
		t.Fatalf("m1 leave: %s", codeName(r.ErrorCode))
	}
	if d := describeCG(t, c, "mg"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("ConsumerGroupDescribe after the downgrade: %s", codeName(d.ErrorCode))
	}
	if dg := describe(t, c, 5, "mg"); dg.State != "PreparingRebalance" || dg.ProtocolType != "consumer" || len(dg.Members) != 1 {
		t.Fatalf("DescribeGroups after the downgrade: %+v", dg)
	}
	wantCode(t, "heartbeat after the downgrade", hb(2), kerr.RebalanceInProgress)
	j = c.roundTrip(t, mixJoin("mg", cm, "mx", got...)).(*kmsg.JoinGroupResponse)
	if j.ErrorCode != 0 || j.LeaderID != cm || j.Generation != 3 || len(j.Members) != 1 {
		t.Fatalf("classic rejoin after the downgrade: %+v", j)
	}
	all := kmsg.NewConsumerMemberAssignment()
	at := kmsg.NewConsumerMemberAssignmentTopic()
	at.Topic, at.Partitions = "mx", []int32{0, 1}
	all.Topics = append(all.Topics, at)
	req := syncReq(5, "mg", cm, 3, map[string][]byte{cm: all.AppendTo(nil)})
	if s = c.roundTrip(t, req).(*kmsg.SyncGroupResponse); s.ErrorCode != 0 || !slices.Equal(syncedPartitions(t, s, "mx"), []int32{0, 1}) {
		t.Fatalf("leader's sync after the downgrade: %s", codeName(s.ErrorCode))
	}
	if dg := describe(t, c, 5, "mg"); dg.State != "Stable" {
		t.Fatalf("classic group after the downgrade: %s", dg.State)
	}
}

// classicGroup makes a one-member classic group on range owning both
// partitions of topic; assignment overrides the leader's assignment.
func classicGroup(t *testing.T, c *rawConn, group, topic string, assignment []byte) (string, int32) {
	t.Helper()
	j := c.roundTrip(t, mixJoin(group, "", topic)).(*kmsg.JoinGroupResponse)
	j = c.roundTrip(t, mixJoin(group, j.MemberID, topic)).(*kmsg.JoinGroupResponse)
	wantCode(t, "classic join", j.ErrorCode, nil)
	if assignment == nil {
		a := kmsg.NewConsumerMemberAssignment()
		at := kmsg.NewConsumerMemberAssignmentTopic()
		at.Topic, at.Partitions = topic, []int32{0, 1}
		a.Topics = append(a.Topics, at)
		assignment = a.AppendTo(nil)
	}
	s := c.roundTrip(t, syncReq(5, group, j.MemberID, j.Generation, map[string][]byte{j.MemberID: assignment})).(*kmsg.SyncGroupResponse)
	wantCode(t, "classic sync", s.ErrorCode, nil)
	return j.MemberID, j.Generation
}

// The migration policy: which conversions happen, and Kafka's answers when
// one may not.
func TestMixedMigrationPolicy(t *testing.T) {
	for _, tc := range []struct {
		policy              string
		upgrade, downgrades bool
	}{
		{"bidirectional", true, true},
		{"", true, true},
		{"upgrade", true, false},
		{"downgrade", false, true},
		{"disabled", false, false},
	} {
		t.Run("policy="+tc.policy, func(t *testing.T) {
			cfg := fast848
			cfg.migrationPolicy = tc.policy
			ts := startGroupServer(t, "", cfg)
			ts.createTopic(t, "mp", 2)
			id := ts.topicID(t, "mp")
			c := dialRaw(t, ts.addr)
			cm, gen := classicGroup(t, c, "pg", "mp", nil)
			r := c.cgHeartbeat(t, cgJoin("pg", "n1", "mp"))
			if !tc.upgrade {
				if r.ErrorCode != kerr.GroupIDNotFound.Code {
					t.Fatalf("848 join to a classic group: %s, want GROUP_ID_NOT_FOUND", codeName(r.ErrorCode))
				}
				wantCode(t, "classic heartbeat after the refusal", c.roundTrip(t, heartbeatReq(4, "pg", cm, gen)).(*kmsg.HeartbeatResponse).ErrorCode, nil)
				return
			}
			if r.ErrorCode != 0 || r.MemberEpoch != gen+1 || len(assigned(r, id)) != 0 {
				t.Fatalf("848 join upgrading the group: %s epoch %d %v (generation was %d)", codeName(r.ErrorCode), r.MemberEpoch, assigned(r, id), gen)
			}
			d := describeCG(t, c, "pg")
			if len(d.Members) != 2 || d.Epoch != gen+1 {
				t.Fatalf("upgraded group: %+v", d)
			}
			for _, m := range d.Members {
				if m.MemberID == cm && (m.MemberType != 0 || m.MemberEpoch != gen || len(m.Assignment.TopicPartitions[0].Partitions) != 2) {
					t.Fatalf("converted classic member: %+v", m)
				}
			}
			// The classic member learns of the new epoch, rejoins
			// still owning both, and gives one up.
			wantCode(t, "classic heartbeat after the upgrade", c.roundTrip(t, heartbeatReq(4, "pg", cm, gen)).(*kmsg.HeartbeatResponse).ErrorCode, kerr.RebalanceInProgress)
			j := c.roundTrip(t, mixJoin("pg", cm, "mp", 0, 1)).(*kmsg.JoinGroupResponse)
			if j.ErrorCode != 0 || j.Generation != gen {
				t.Fatalf("rejoin while revoking: %s generation %d, want %d", codeName(j.ErrorCode), j.Generation, gen)
			}
			s := c.roundTrip(t, syncReq(5, "pg", cm, j.Generation, nil)).(*kmsg.SyncGroupResponse)
			kept := syncedPartitions(t, s, "mp")
			if s.ErrorCode != 0 || len(kept) != 1 {
				t.Fatalf("sync while revoking: %s %v", codeName(s.ErrorCode), kept)
			}
			j = c.roundTrip(t, mixJoin("pg", cm, "mp", kept...)).(*kmsg.JoinGroupResponse)
			if j.ErrorCode != 0 || j.Generation != gen+1 {
				t.Fatalf("rejoin after revoking: %s generation %d", codeName(j.ErrorCode), j.Generation)
			}
			r = c.cgHeartbeat(t, cgBeat("pg", "n1", gen+1, id, []int32{}))
			if got := assigned(r, id); len(got) != 1 || got[0] == kept[0] {
				t.Fatalf("848 member gets %v, classic keeps %v", got, kept)
			}
			if r = c.cgHeartbeat(t, cgBeat("pg", "n1", gen+1, id, nil)); r.ErrorCode != 0 {
				t.Fatal(codeName(r.ErrorCode))
			}
			if r = c.cgHeartbeat(t, cgBeat("pg", "n1", -1, id, nil)); r.ErrorCode != 0 {
				t.Fatalf("leave: %s", codeName(r.ErrorCode))
			}
			d = describeCG(t, c, "pg")
			if tc.downgrades {
				if d.ErrorCode != kerr.GroupIDNotFound.Code || describe(t, c, 5, "pg").State != "PreparingRebalance" {
					t.Fatalf("after the last 848 member left: %s, want a classic group rebalancing", codeName(d.ErrorCode))
				}
				return
			}
			if d.ErrorCode != 0 || len(d.Members) != 1 || d.Members[0].MemberType != 0 {
				t.Fatalf("without downgrades the group stays a consumer group: %+v", d)
			}
		})
	}
}

// Groups that cannot be upgraded whatever the policy.
func TestMixedUpgradeRefused(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "mr", 2)
	c := dialRaw(t, ts.addr)
	// Not the consumer protocol.
	other := joinReq(3, "conn2", "", nil)
	other.ProtocolType = "connect"
	j := c.roundTrip(t, other).(*kmsg.JoinGroupResponse)
	wantCode(t, "connect join", j.ErrorCode, nil)
	wantCode(t, "848 join to a connect group", c.cgHeartbeat(t, cgJoin("conn2", "n", "mr")).ErrorCode, kerr.GroupIDNotFound)
	// An assignment that is not a ConsumerMemberAssignment.
	classicGroup(t, c, "bad", "mr", []byte("not an assignment"))
	r := c.cgHeartbeat(t, cgJoin("bad", "n", "mr"))
	if r.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("upgrade of a group with a malformed assignment: %s", codeName(r.ErrorCode))
	}
	if dg := describe(t, c, 5, "bad"); dg.State != "Stable" || len(dg.Members) != 1 {
		t.Fatalf("the refused group is unchanged: %+v", dg)
	}
}

// A mixed group survives a restart: members, types, epochs; the classic
// member carries on at its generation.
func TestMixedRestart(t *testing.T) {
	r := newRestartable(t)
	r.stop()
	r.cfg = fast848
	r.start()
	r.ts.createTopic(t, "mz", 2)
	id := r.ts.topicID(t, "mz")
	c := dialRaw(t, r.ts.addr)
	if h := c.cgHeartbeat(t, cgJoin("rz", "n1", "mz")); h.ErrorCode != 0 {
		t.Fatal(codeName(h.ErrorCode))
	}
	j := classicJoinCG(t, c, "rz", "mz")
	before := describeCG(t, c, "rz")
	c.Close()

	r.stop()
	r.start()
	c = dialRaw(t, r.ts.addr)
	after := describeCG(t, c, "rz")
	if after.ErrorCode != 0 || after.Epoch != before.Epoch || len(after.Members) != 2 {
		t.Fatalf("after the restart %+v, before %+v", after, before)
	}
	for i, m := range before.Members {
		a := after.Members[i]
		if a.MemberID != m.MemberID || a.MemberType != m.MemberType || a.MemberEpoch != m.MemberEpoch {
			t.Fatalf("member %+v after the restart, was %+v", a, m)
		}
	}
	wantCode(t, "classic heartbeat after the restart", c.roundTrip(t, heartbeatReq(4, "rz", j.MemberID, j.Generation)).(*kmsg.HeartbeatResponse).ErrorCode, nil)
	// The downgrade is stored too.
	if h := c.cgHeartbeat(t, cgBeat("rz", "n1", -1, id, nil)); h.ErrorCode != 0 {
		t.Fatal(codeName(h.ErrorCode))
	}
	c.Close()
	r.stop()
	r.start()
	c = dialRaw(t, r.ts.addr)
	if d := describeCG(t, c, "rz"); d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Fatalf("downgraded group after a restart: %s", codeName(d.ErrorCode))
	}
	if dg := describe(t, c, 5, "rz"); len(dg.Members) != 1 || dg.Members[0].MemberID != j.MemberID {
		t.Fatalf("downgraded group after a restart: %+v", dg)
	}
}

// A classic member in a consumer group goes when it misses its session,
// its SyncGroup or its rejoin (each within its own timeouts); static
// classic members are replaced and fenced; the group size limit holds.
func TestMixedClassicEdges(t *testing.T) {
	members := func(t *testing.T, c *rawConn, group string) int { return len(describeCG(t, c, group).Members) }
	setup := func(t *testing.T, cfg groupConfig) (*testServer, *rawConn, [16]byte) {
		ts := startGroupServer(t, "", cfg)
		ts.createTopic(t, "me", 2)
		c := dialRaw(t, ts.addr)
		if r := c.cgHeartbeat(t, cgJoin("eg", "n1", "me")); r.ErrorCode != 0 {
			t.Fatal(codeName(r.ErrorCode))
		}
		return ts, c, ts.topicID(t, "me")
	}
	join := func(t *testing.T, c *rawConn, session, rebalance int32) *kmsg.JoinGroupResponse {
		req := mixJoin("eg", "", "me")
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = session, rebalance
		j := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
		req.MemberID = j.MemberID
		j = c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
		wantCode(t, "classic join", j.ErrorCode, nil)
		return j
	}
	t.Run("session timeout", func(t *testing.T) {
		_, c, _ := setup(t, fast848)
		j := join(t, c, 800, 30000)
		wantCode(t, "sync", c.roundTrip(t, syncReq(5, "eg", j.MemberID, j.Generation, nil)).(*kmsg.SyncGroupResponse).ErrorCode, nil)
		waitFor(t, "the silent classic member to expire", func() bool { return members(t, c, "eg") == 1 })
	})
	t.Run("no sync", func(t *testing.T) {
		_, c, _ := setup(t, fast848)
		j := join(t, c, 30000, 600)
		waitFor(t, "the member that never synced to go", func() bool { return members(t, c, "eg") == 1 })
		wantCode(t, "heartbeat of the removed member", c.roundTrip(t, heartbeatReq(4, "eg", j.MemberID, j.Generation)).(*kmsg.HeartbeatResponse).ErrorCode, kerr.UnknownMemberID)
	})
	t.Run("no rejoin", func(t *testing.T) {
		_, c, _ := setup(t, fast848)
		j := join(t, c, 30000, 600)
		wantCode(t, "sync", c.roundTrip(t, syncReq(5, "eg", j.MemberID, j.Generation, nil)).(*kmsg.SyncGroupResponse).ErrorCode, nil)
		if r := c.cgHeartbeat(t, cgJoin("eg", "n2", "me")); r.ErrorCode != 0 {
			t.Fatal(codeName(r.ErrorCode))
		}
		wantCode(t, "heartbeat behind the group epoch", c.roundTrip(t, heartbeatReq(4, "eg", j.MemberID, j.Generation)).(*kmsg.HeartbeatResponse).ErrorCode, kerr.RebalanceInProgress)
		waitFor(t, "the member that never rejoined to go", func() bool { return members(t, c, "eg") == 2 })
	})
	t.Run("static", func(t *testing.T) {
		_, c, _ := setup(t, fast848)
		req := mixJoin("eg", "", "me")
		req.InstanceID = kmsg.StringPtr("ci")
		first := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
		wantCode(t, "static join (no member id round)", first.ErrorCode, nil)
		second := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
		wantCode(t, "static rejoin without member id", second.ErrorCode, nil)
		if second.MemberID == first.MemberID || second.Generation != first.Generation {
			t.Fatalf("replacement %+v of %+v: want a new member id, same generation", second, first)
		}
		hb := heartbeatReq(4, "eg", first.MemberID, first.Generation)
		hb.InstanceID = kmsg.StringPtr("ci")
		wantCode(t, "heartbeat of the replaced member", c.roundTrip(t, hb).(*kmsg.HeartbeatResponse).ErrorCode, kerr.FencedInstanceID)
		if n := members(t, c, "eg"); n != 2 {
			t.Fatalf("%d members after the replacement, want 2", n)
		}
		// LeaveGroup by instance id alone (the admin client's way).
		lv := kmsg.NewPtrLeaveGroupRequest()
		lv.Version, lv.Group = 5, "eg"
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.InstanceID = kmsg.StringPtr("ci")
		lv.Members = append(lv.Members, lm)
		if l := c.roundTrip(t, lv).(*kmsg.LeaveGroupResponse); l.Members[0].ErrorCode != 0 || members(t, c, "eg") != 1 {
			t.Fatalf("static leave: %s", codeName(l.Members[0].ErrorCode))
		}
	})
	t.Run("protocol switch", func(t *testing.T) {
		_, c, _ := setup(t, fast848)
		j := join(t, c, 30000, 30000)
		if r := c.cgHeartbeat(t, cgBeat("eg", j.MemberID, j.Generation, [16]byte{}, nil)); r.ErrorCode != kerr.UnknownMemberID.Code {
			t.Fatalf("consumer heartbeat of a classic member: %s", codeName(r.ErrorCode))
		}
		if r := c.cgHeartbeat(t, cgJoin("eg", j.MemberID, "me")); r.ErrorCode != 0 {
			t.Fatalf("consumer join of a classic member: %s", codeName(r.ErrorCode))
		}
		for _, m := range describeCG(t, c, "eg").Members {
			if m.MemberType != 1 {
				t.Fatalf("member %s has type %d after switching", m.MemberID, m.MemberType)
			}
		}
		wantCode(t, "classic heartbeat after switching", c.roundTrip(t, heartbeatReq(4, "eg", j.MemberID, j.Generation)).(*kmsg.HeartbeatResponse).ErrorCode, kerr.UnknownMemberID)
	})
	t.Run("max size", func(t *testing.T) {
		cfg := fast848
		cfg.consumerMaxSize = 1
		ts, c, _ := setup(t, cfg)
		wantCode(t, "classic join to a full group", c.roundTrip(t, mixJoin("eg", "", "me")).(*kmsg.JoinGroupResponse).ErrorCode, kerr.GroupMaxSizeReached)
		classicGroup(t, c, "full", "me", nil)
		if r := c.cgHeartbeat(t, cgJoin("full", "n", "me")); r.ErrorCode != kerr.GroupMaxSizeReached.Code {
			t.Fatalf("848 join to a classic group at the max size: %s", codeName(r.ErrorCode))
		}
		if kind, _ := groupKind(t, ts, "full"); kind != "classic" {
			t.Fatalf("the refused group is %s", kind)
		}
	})
	t.Run("instance id of a classic member", func(t *testing.T) {
		ts := startGroupServer(t, "", fast848)
		ts.createTopic(t, "me", 2)
		c := dialRaw(t, ts.addr)
		req := mixJoin("cs", "", "me")
		req.InstanceID = kmsg.StringPtr("ci")
		j := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
		wantCode(t, "static classic join", j.ErrorCode, nil)
		cj := cgJoin("cs", "n", "me")
		cj.InstanceID = kmsg.StringPtr("ci")
		if r := c.cgHeartbeat(t, cj); r.ErrorCode != kerr.UnreleasedInstanceID.Code {
			t.Fatalf("848 join with a classic member's instance id: %s", codeName(r.ErrorCode))
		}
		if kind, _ := groupKind(t, ts, "cs"); kind != "classic" {
			t.Fatalf("the refused group is %s", kind)
		}
	})
}

// A classic static member taking the instance id of the last
// consumer-protocol member (a rolling downgrade of a static group) turns
// the group classic at once, without a rebalance: it syncs there and gets
// the partitions of the member it replaced.
func TestMixedStaticReplacementDowngrade(t *testing.T) {
	ts := startGroupServer(t, "", fast848)
	ts.createTopic(t, "sr", 2)
	id := ts.topicID(t, "sr")
	c := dialRaw(t, ts.addr)
	s1 := cgJoin("srg", "s1", "sr")
	s1.InstanceID = kmsg.StringPtr("si")
	if r := c.cgHeartbeat(t, s1); r.ErrorCode != 0 {
		t.Fatal(codeName(r.ErrorCode))
	}
	j := classicJoinCG(t, c, "srg", "sr")
	beat := func(epoch int32, owned []int32) *kmsg.ConsumerGroupHeartbeatResponse {
		req := cgBeat("srg", "s1", epoch, id, owned)
		req.InstanceID = kmsg.StringPtr("si")
		return c.cgHeartbeat(t, req)
	}
	keep := assigned(beat(1, []int32{0, 1}), id)
	if r := beat(1, keep); r.MemberEpoch != 2 || len(keep) != 1 {
		t.Fatalf("s1 keeps %v at epoch %d", keep, r.MemberEpoch)
	}
	wantCode(t, "classic heartbeat", c.roundTrip(t, heartbeatReq(4, "srg", j.MemberID, 2)).(*kmsg.HeartbeatResponse).ErrorCode, kerr.RebalanceInProgress)
	j = c.roundTrip(t, mixJoin("srg", j.MemberID, "sr")).(*kmsg.JoinGroupResponse)
	wantCode(t, "classic rejoin", j.ErrorCode, nil)
	wantCode(t, "classic sync", c.roundTrip(t, syncReq(5, "srg", j.MemberID, j.Generation, nil)).(*kmsg.SyncGroupResponse).ErrorCode, nil)
	if r := beat(-2, nil); r.ErrorCode != 0 {
		t.Fatalf("s1 static leave: %s", codeName(r.ErrorCode))
	}

	req := mixJoin("srg", "", "sr")
	req.InstanceID = kmsg.StringPtr("si")
	rj := c.roundTrip(t, req).(*kmsg.JoinGroupResponse)
	if rj.ErrorCode != 0 || rj.Generation != 2 {
		t.Fatalf("classic static replacement: %s generation %d", codeName(rj.ErrorCode), rj.Generation)
	}
	if kind, _ := groupKind(t, ts, "srg"); kind != "classic" {
		t.Fatalf("after the replacement the group is %s", kind)
	}
	if dg := describe(t, c, 5, "srg"); dg.State != "Stable" || len(dg.Members) != 2 {
		t.Fatalf("DescribeGroups after the replacement: %+v", dg)
	}
	sr := syncReq(5, "srg", rj.MemberID, rj.Generation, nil)
	sr.InstanceID = kmsg.StringPtr("si")
	s := c.roundTrip(t, sr).(*kmsg.SyncGroupResponse)
	if s.ErrorCode != 0 || !slices.Equal(syncedPartitions(t, s, "sr"), keep) {
		t.Fatalf("the replacement's sync: %s %v, want s1's %v", codeName(s.ErrorCode), syncedPartitions(t, s, "sr"), keep)
	}
	wantCode(t, "the other member's heartbeat (no rebalance)", c.roundTrip(t, heartbeatReq(4, "srg", j.MemberID, 2)).(*kmsg.HeartbeatResponse).ErrorCode, nil)
}
