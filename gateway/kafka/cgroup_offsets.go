package kafka

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// validateOffsetCommit is Kafka's ConsumerGroup.validateOffsetCommit: epoch
// -1 (the admin client, or a consumer without group management) commits
// into a group without members; otherwise the member must exist, commit
// with OffsetCommit v9+ and its current member epoch
// (STALE_MEMBER_EPOCH).
func (cg *consumerGroup) validateOffsetCommit(memberID string, epoch int32, version int16) int16 {
	if epoch < 0 && len(cg.members) == 0 {
		return 0
	}
	m := cg.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case m.classic != nil:
		// A classic member commits with its member epoch as the
		// generation, at any version.
		if epoch != m.epoch {
			return kerr.IllegalGeneration.Code
		}
		return 0
	case version < 9:
		return kerr.UnsupportedVersion.Code
	case epoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// checkFetchMember is Kafka's validateOffsetFetch for an OffsetFetch v9
// group with a member epoch: for a consumer-protocol group the member must
// exist at that epoch. Classic groups and unknown groups do not check.
func checkFetchMember(r *Request, name, memberID string, epoch int32) int16 {
	if !r.groupAllowed(kmsg.ACLOperationDescribe, name) {
		return kerr.GroupAuthorizationFailed.Code
	}
	c, err := r.Server.groupCoordinator()
	if err != nil {
		return coordinatorErrorCode(r.Server, err)
	}
	g, err := c.group(name, false)
	if err != nil {
		return coordinatorErrorCode(r.Server, err)
	}
	if g == nil {
		return 0
	}
	defer g.mu.Unlock()
	if g.cg == nil {
		return 0
	}
	m := g.cg.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case epoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// classicJoinToConsumerGroup decides a JoinGroup for a group that uses the
// consumer protocol without members: it becomes a classic group (keeping
// its offsets), as Kafka converts an empty group. One with members takes
// the classic member in (cgroup_classic.go; joinGroup routes it there
// first). The caller holds g.mu.
func (g *group) classicJoinToConsumerGroup() int16 {
	if g.cg == nil {
		return 0
	}
	g.stopCGTimers()
	g.cg = nil
	g.protocolType, g.protocol, g.leader = "", "", ""
	if g.persisted {
		if err := g.storeMetadata(nil); err != nil {
			return coordinatorErrorCode(g.c.s, err)
		}
	}
	g.c.s.log.Info("kafka: empty consumer-protocol group converted to a classic group", "group", g.name)
	return 0
}
