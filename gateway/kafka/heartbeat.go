// Heartbeat (key 12), versions 0-4: a member tells the group it is alive,
// which restarts its session timer. The answer is how a member learns of a
// rebalance: REBALANCE_IN_PROGRESS while the group is in its join phase
// (the member rejoins), ILLEGAL_GENERATION for a generation that is not
// the group's, UNKNOWN_MEMBER_ID for a member (or group) the group does not
// know or an Empty group, FENCED_INSTANCE_ID for a replaced static member.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.Heartbeat, MinVersion: 0, MaxVersion: 4, Handle: handleHeartbeat})
}

func handleHeartbeat(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.HeartbeatRequest)
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return Respond(resp), nil
	}
	return RespondLater(func(context.Context) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.HeartbeatResponse)
		resp.ErrorCode = heartbeat(r.Server, req)
		return resp, nil
	}), nil
}

func heartbeat(s *Server, req *kmsg.HeartbeatRequest) int16 {
	if req.Group == "" {
		return kerr.InvalidGroupID.Code
	}
	c, err := s.groupCoordinator()
	if err != nil {
		return coordinatorErrorCode(s, err)
	}
	g, err := c.group(req.Group, false)
	if err != nil {
		return coordinatorErrorCode(s, err)
	}
	if g == nil {
		return unknownMemberCode
	}
	defer g.mu.Unlock()
	if g.cg != nil {
		return g.cgClassicHeartbeat(req) // cgroup_classic.go
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		return code
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	m := g.members[req.MemberID]
	switch g.state {
	case groupEmpty:
		return unknownMemberCode
	case groupPreparingRebalance:
		g.scheduleSession(m, m.session)
		return kerr.RebalanceInProgress.Code
	default:
		// CompletingRebalance too: members may heartbeat between
		// their JoinGroup response and their SyncGroup.
		g.scheduleSession(m, m.session)
		return 0
	}
}
