package kafka

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Offset expiry with a short retention, applied directly at chosen times
// (no wall-clock thresholds): which offsets go when, by Kafka's rule.
func TestOffsetExpiryRule(t *testing.T) {
	cfg := fast848
	cfg.offsetsRetention = time.Hour
	ts := startGroupServer(t, "", cfg)
	ts.createTopic(t, "e", 1)
	ts.createTopic(t, "f", 1)
	c := dialRaw(t, ts.addr)
	commit := func(group, member string, gen int32, topic string) {
		t.Helper()
		resp := c.roundTrip(t, commitReq(9, group, member, gen, topic, map[int32]int64{0: 7})).(*kmsg.OffsetCommitResponse)
		if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
			t.Fatalf("commit %s/%s: %s", group, topic, codeName(code))
		}
	}
	// A simple group, a classic group that went empty, and a
	// consumer-protocol group with a member subscribed to "e" only.
	commit("simple", "", -1, "e")
	id, gen := joinOne(t, c, 9, "classic")
	commit("classic", id, gen, "e")
	lv := kmsg.NewPtrLeaveGroupRequest()
	lv.Version, lv.Group = 3, "classic"
	lm := kmsg.NewLeaveGroupRequestMember()
	lm.MemberID = id
	lv.Members = append(lv.Members, lm)
	if r := c.roundTrip(t, lv).(*kmsg.LeaveGroupResponse); r.ErrorCode != 0 {
		t.Fatalf("leave: %s", codeName(r.ErrorCode))
	}
	commit("cg", "", -1, "e")
	commit("cg", "", -1, "f")
	if r := c.cgHeartbeat(t, cgJoin("cg", "m", "e")); r.ErrorCode != 0 {
		t.Fatalf("join: %s", codeName(r.ErrorCode))
	}

	co, err := ts.groupCoordinator()
	if err != nil {
		t.Fatal(err)
	}
	offsets := func(group string) int {
		g, _ := co.group(group, false)
		if g == nil {
			return -1 // the group is gone
		}
		defer g.mu.Unlock()
		n := 0
		for _, ps := range g.offsets {
			n += len(ps)
		}
		return n
	}
	now := time.Now()
	co.expireOffsets(now.Add(59 * time.Minute))
	for _, g := range []string{"simple", "classic", "cg"} {
		if n := offsets(g); n != map[string]int{"simple": 1, "classic": 1, "cg": 2}[g] {
			t.Fatalf("before the retention: %s has %d offsets", g, n)
		}
	}
	co.expireOffsets(now.Add(61 * time.Minute))
	if n := offsets("simple"); n != -1 {
		t.Errorf("simple group after retention: %d offsets, want the group gone", n)
	}
	if n := offsets("classic"); n != -1 {
		t.Errorf("emptied classic group after retention: %d offsets, want the group gone", n)
	}
	if n := offsets("cg"); n != 1 {
		t.Errorf("consumer group with a member on e: %d offsets, want e's only", n)
	}
	// Gone from the store too: OffsetFetch finds nothing for the simple group.
	fr := kmsg.NewPtrOffsetFetchRequest()
	fr.Version, fr.Group = 7, "simple"
	resp := c.roundTrip(t, fr).(*kmsg.OffsetFetchResponse)
	if resp.ErrorCode != 0 || len(resp.Topics) != 0 {
		t.Errorf("OffsetFetch of an expired group: %s %+v", kerr.ErrorForCode(resp.ErrorCode), resp.Topics)
	}
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Version, del.Groups = 2, []string{"simple"}
	if d := c.roundTrip(t, del).(*kmsg.DeleteGroupsResponse).Groups[0]; d.ErrorCode != kerr.GroupIDNotFound.Code {
		t.Errorf("DeleteGroups of an expired group: %s", codeName(d.ErrorCode))
	}
}

// The periodic check runs by itself: with a 50ms retention checked every
// 20ms a simple group's offsets go away.
func TestOffsetExpiryPeriodic(t *testing.T) {
	cfg := fast848
	cfg.offsetsRetention = 50 * time.Millisecond
	cfg.offsetsRetentionCheck = 20 * time.Millisecond
	ts := startGroupServer(t, "", cfg)
	ts.createTopic(t, "e", 1)
	c := dialRaw(t, ts.addr)
	resp := c.roundTrip(t, commitReq(9, "short", "", -1, "e", map[int32]int64{0: 7})).(*kmsg.OffsetCommitResponse)
	if code := resp.Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatal(codeName(code))
	}
	waitFor(t, "the group's offsets to expire", func() bool {
		lg := kmsg.NewPtrListGroupsRequest()
		lg.Version = 5
		return len(c.roundTrip(t, lg).(*kmsg.ListGroupsResponse).Groups) == 0
	})
}
