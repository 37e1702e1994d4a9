// SyncGroup (key 14), versions 0-5: after a join phase the leader sends
// every member's assignment and each member receives its own. Followers
// that sync before the leader wait (parked, see group.go); the leader's
// assignment is stored with the group's metadata before anyone is answered
// and the group becomes Stable. A member the leader left out gets an empty
// assignment (for the "consumer" protocol an encoded ConsumerMemberAssignment
// with no partitions, which every client decodes; never null).
//
// Errors, in Kafka's order: UNKNOWN_MEMBER_ID (no such group or member,
// or the group is Empty), FENCED_INSTANCE_ID, ILLEGAL_GENERATION,
// INCONSISTENT_GROUP_PROTOCOL (v5: protocol type or name not the group's),
// REBALANCE_IN_PROGRESS (a new join phase started: rejoin).
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.SyncGroup, MinVersion: 0, MaxVersion: 5, Handle: handleSyncGroup})
}

func handleSyncGroup(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.SyncGroupRequest)
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode, resp.MemberAssignment = kerr.GroupAuthorizationFailed.Code, []byte{}
		return Respond(resp), nil
	}
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		resp, p := syncGroup(r.Server, req)
		if p == nil {
			return resp, nil
		}
		return waitParked(ctx, p)
	}), nil
}

func syncGroup(s *Server, req *kmsg.SyncGroupRequest) (kmsg.Response, *parked) {
	resp := req.ResponseKind().(*kmsg.SyncGroupResponse)
	resp.MemberAssignment = []byte{}
	fail := func(code int16) (kmsg.Response, *parked) {
		resp.ErrorCode = code
		return resp, nil
	}
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	c, err := s.groupCoordinator()
	if err != nil {
		return fail(coordinatorErrorCode(s, err))
	}
	g, err := c.group(req.Group, false)
	if err != nil {
		return fail(coordinatorErrorCode(s, err))
	}
	if g == nil {
		return fail(unknownMemberCode)
	}
	defer g.mu.Unlock()
	if g.cg != nil {
		return fail(g.cgClassicSync(req, resp)) // cgroup_classic.go
	}

	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return fail(code)
	}
	if req.Generation != g.generation {
		return fail(kerr.IllegalGeneration.Code)
	}
	if req.ProtocolType != nil && g.protocolType != "" && *req.ProtocolType != g.protocolType ||
		req.Protocol != nil && g.protocol != "" && *req.Protocol != g.protocol {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	m := g.members[req.MemberID]
	switch g.state {
	case groupEmpty:
		return fail(unknownMemberCode)
	case groupPreparingRebalance:
		return fail(kerr.RebalanceInProgress.Code)
	case groupStable:
		g.syncedMember(m.id)
		resp.ProtocolType = kmsg.StringPtr(g.protocolType)
		resp.Protocol = kmsg.StringPtr(g.protocol)
		resp.MemberAssignment = g.assignmentOrEmpty(m.assignment)
		return resp, nil
	}

	// CompletingRebalance: wait for the leader's assignment.
	if m.sync != nil {
		// A SyncGroup from another connection is superseded.
		old := m.sync.req.ResponseKind().(*kmsg.SyncGroupResponse)
		old.ErrorCode = kerr.RebalanceInProgress.Code
		old.MemberAssignment = []byte{}
		m.sync.answer(old)
	}
	p := newParked(req)
	m.sync = p
	g.syncedMember(m.id)
	if m.id != g.leader {
		return nil, p
	}
	assign := make(map[string][]byte, len(req.GroupAssignment))
	for _, a := range req.GroupAssignment {
		assign[a.MemberID] = a.MemberAssignment
	}
	if err := g.storeMetadata(assign); err != nil {
		// Kafka's answer when the group log cannot be written: the
		// members rejoin, and the next leader's sync tries again.
		g.c.s.log.Warn("kafka: storing group assignment failed", "group", g.name, "err", err)
		g.propagateAssignment(nil, coordinatorErrorCode(g.c.s, err))
		g.maybePrepareRebalanceOrCompleteJoin()
		return nil, p
	}
	g.propagateAssignment(assign, 0)
	g.transition(groupStable)
	return nil, p
}

// syncedMember notes that a member sent SyncGroup for this generation; the
// sync deadline is moot once everyone has.
func (g *group) syncedMember(id string) {
	delete(g.pendingSync, id)
	if len(g.pendingSync) == 0 {
		g.syncTimer.stop()
	}
}
