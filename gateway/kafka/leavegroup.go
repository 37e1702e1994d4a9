// LeaveGroup (key 13), versions 0-5: members leave at once instead of
// waiting for their session to end, and the group rebalances without them.
// v3+ batches members and may name them by group.instance.id alone (the
// admin client removing static members); a member id that does not match
// the instance's current one is FENCED_INSTANCE_ID. A member still waiting
// in JoinGroup is answered UNKNOWN_MEMBER_ID. v0-v2 carry the one member's
// error at the top level; v3+ per member, and UNKNOWN_MEMBER_ID at the top
// level when the group does not exist.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.LeaveGroup, MinVersion: 0, MaxVersion: 5, Handle: handleLeaveGroup})
}

func handleLeaveGroup(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.LeaveGroupRequest)
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return Respond(resp), nil
	}
	return RespondLater(func(context.Context) (kmsg.Response, error) {
		return leaveGroup(r.Server, req), nil
	}), nil
}

func leaveGroup(s *Server, req *kmsg.LeaveGroupRequest) *kmsg.LeaveGroupResponse {
	resp := req.ResponseKind().(*kmsg.LeaveGroupResponse)
	leaving := req.Members
	if req.Version < 3 {
		lm := kmsg.NewLeaveGroupRequestMember()
		lm.MemberID = req.MemberID
		leaving = []kmsg.LeaveGroupRequestMember{lm}
	}
	done := func(code int16) *kmsg.LeaveGroupResponse {
		resp.ErrorCode = code
		if req.Version < 3 && code == 0 && len(resp.Members) == 1 {
			resp.ErrorCode = resp.Members[0].ErrorCode
		}
		if req.Version < 3 {
			resp.Members = nil
		}
		return resp
	}
	if req.Group == "" {
		return done(kerr.InvalidGroupID.Code)
	}
	c, err := s.groupCoordinator()
	if err != nil {
		return done(coordinatorErrorCode(s, err))
	}
	g, err := c.group(req.Group, false)
	if err != nil {
		return done(coordinatorErrorCode(s, err))
	}
	if g == nil {
		return done(unknownMemberCode)
	}
	defer g.mu.Unlock()
	if g.cg != nil {
		resp.Members = g.cgClassicLeave(leaving) // cgroup_classic.go
		if err := g.storeCG(); err != nil {
			return done(coordinatorErrorCode(s, err))
		}
		g.maybeRetire()
		return done(0)
	}

	left := 0
	for _, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		switch {
		case lm.MemberID == "":
			// By instance id alone (admin removal).
			id, ok := "", false
			if lm.InstanceID != nil {
				id, ok = g.static[*lm.InstanceID]
			}
			if m := g.members[id]; ok && m != nil {
				g.leaveMember(m, lm.Reason)
				left++
			} else {
				rm.ErrorCode = unknownMemberCode
			}
		case g.pending[lm.MemberID] != nil:
			g.pending[lm.MemberID].stop()
			delete(g.pending, lm.MemberID)
			left++
		default:
			if code := g.validateMember(lm.MemberID, lm.InstanceID); code != 0 {
				rm.ErrorCode = code
				break
			}
			g.leaveMember(g.members[lm.MemberID], lm.Reason)
			left++
		}
		resp.Members = append(resp.Members, rm)
	}
	if left > 0 {
		switch g.state {
		case groupStable, groupCompletingRebalance:
			g.maybePrepareRebalanceOrCompleteJoin()
		case groupPreparingRebalance:
			g.maybeCompleteJoinPhase()
		}
		g.maybeRetire()
	}
	return done(0)
}

func (g *group) leaveMember(m *member, reason *string) {
	why := ""
	if reason != nil {
		why = *reason
	}
	g.c.s.log.Info("kafka: member left group", "group", g.name, "member", m.id, "client_id", m.clientID, "reason", why)
	g.removeMember(m)
}
