// JoinGroup (key 11), versions 0-9: a member enters a group or rejoins it
// for a rebalance. The response waits (parked, see group.go) until the join
// phase ends: when every known member has rejoined, or at the longest
// rebalance timeout; a group's first rebalance also waits the initial
// rebalance delay (3s), longer while members keep arriving. The leader's
// response lists every member with its metadata for the protocol all
// members support that got the most first-choice votes.
//
// From v4 a member without an id gets one with MEMBER_ID_REQUIRED and must
// join again with it (KIP-394); before v4 it joins at once. A static member
// (group.instance.id, v5+) that rejoins without its member id replaces its
// previous incarnation, which is fenced (FENCED_INSTANCE_ID); in a Stable
// group whose protocol does not change this takes no rebalance (KIP-345),
// and from v9 a returning leader is told to keep the current assignment
// (SkipAssignment, KIP-814). Errors: INVALID_GROUP_ID, INVALID_SESSION_TIMEOUT
// (outside 6s-30min), INCONSISTENT_GROUP_PROTOCOL, UNKNOWN_MEMBER_ID,
// FENCED_INSTANCE_ID. A JoinGroup for a KIP-848 group with members makes
// the caller a classic member of it, answered at once
// (cgroup_classic.go).
package kafka

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.JoinGroup, MinVersion: 0, MaxVersion: 9, Handle: handleJoinGroup})
}

func handleJoinGroup(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.JoinGroupRequest)
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return Respond(resp), nil
	}
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		resp, p := joinGroup(ctx, r, req)
		if p == nil {
			return resp, nil
		}
		return waitParked(ctx, p)
	}), nil
}

// waitParked waits for a parked request's answer; a connection that closes
// meanwhile stops waiting (the group still answers into the buffer).
func waitParked(ctx context.Context, p *parked) (kmsg.Response, error) {
	select {
	case resp := <-p.ch:
		return resp, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func kmsgProtocol(name string, metadata []byte) kmsg.JoinGroupRequestProtocol {
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name, p.Metadata = name, metadata
	return p
}

// joinGroup returns either a response now or the parked request to wait on.
func joinGroup(ctx context.Context, r *Request, req *kmsg.JoinGroupRequest) (kmsg.Response, *parked) {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.MemberID = req.MemberID
	fail := func(code int16) (kmsg.Response, *parked) {
		resp.ErrorCode = code
		return resp, nil
	}
	s := r.Server
	if req.Group == "" {
		return fail(kerr.InvalidGroupID.Code)
	}
	c, err := s.groupCoordinator()
	if err != nil {
		return fail(coordinatorErrorCode(s, err))
	}
	session := time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	if session < c.cfg.minSessionTimeout || session > c.cfg.maxSessionTimeout {
		return fail(kerr.InvalidSessionTimeout.Code)
	}
	newMember := req.MemberID == ""
	g, err := c.group(req.Group, newMember)
	if err != nil {
		return fail(coordinatorErrorCode(s, err))
	}
	if g == nil {
		return fail(unknownMemberCode)
	}
	defer g.mu.Unlock()
	if g.cgHasMembers() {
		// A classic member in a consumer group (cgroup_classic.go).
		return g.cgClassicJoin(ctx, r, req), nil
	}
	if code := g.classicJoinToConsumerGroup(); code != 0 {
		return fail(code)
	}
	var p *parked
	if newMember {
		resp, p = g.joinNew(r, req, resp)
	} else {
		resp, p = g.joinExisting(r, req, resp)
	}
	if p == nil && resp.ErrorCode != 0 {
		g.maybeRetire() // a group made for a join that failed
	}
	if p != nil {
		return nil, p
	}
	return resp, nil
}

// joinNew handles a join without a member id.
func (g *group) joinNew(r *Request, req *kmsg.JoinGroupRequest, resp *kmsg.JoinGroupResponse) (*kmsg.JoinGroupResponse, *parked) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
		return resp, nil
	}
	id := newMemberID(r.ClientID, req.InstanceID)
	if req.InstanceID != nil {
		if old, ok := g.static[*req.InstanceID]; ok && g.members[old] != nil {
			return g.replaceStatic(req, resp, old, id)
		}
	} else if req.Version >= 4 {
		g.addPending(id, time.Duration(req.SessionTimeoutMillis)*time.Millisecond)
		resp.MemberID = id
		resp.ErrorCode = kerr.MemberIDRequired.Code
		return resp, nil
	}
	return nil, g.addJoiner(r, req, id)
}

// addJoiner adds a member joining under id with what its JoinGroup says,
// and parks its join until the rebalance completes.
func (g *group) addJoiner(r *Request, req *kmsg.JoinGroupRequest, id string) *parked {
	m := &member{
		id:           id,
		instanceID:   req.InstanceID,
		clientID:     r.ClientID,
		clientHost:   clientHost(r.Remote),
		protocolType: req.ProtocolType,
		protocols:    req.Protocols,
		session:      time.Duration(req.SessionTimeoutMillis) * time.Millisecond,
		rebalance:    joinRebalanceTimeout(req),
	}
	p := newParked(req)
	g.addMember(m, p)
	return p
}

// joinExisting handles a join with a member id.
func (g *group) joinExisting(r *Request, req *kmsg.JoinGroupRequest, resp *kmsg.JoinGroupResponse) (*kmsg.JoinGroupResponse, *parked) {
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		resp.ErrorCode = kerr.InconsistentGroupProtocol.Code
		return resp, nil
	}
	if _, ok := g.pending[req.MemberID]; ok {
		// Back with the id MEMBER_ID_REQUIRED gave it: it joins now.
		return nil, g.addJoiner(r, req, req.MemberID)
	}
	if code := g.validateMember(req.MemberID, req.InstanceID); code != 0 {
		resp.ErrorCode = code
		return resp, nil
	}
	m := g.members[req.MemberID]
	switch g.state {
	case groupPreparingRebalance:
		p := newParked(req)
		g.updateMember(m, req, p)
		g.maybePrepareRebalanceOrCompleteJoin()
		return nil, p
	case groupCompletingRebalance:
		if m.matches(req.Protocols) {
			// It missed the response of this generation: same again.
			return g.joinResponse(req, m.id), nil
		}
	case groupStable:
		if g.leader != m.id && m.matches(req.Protocols) {
			// A follower with nothing new: it may sync at once.
			resp := g.joinResponse(req, m.id)
			return resp, nil
		}
		// The leader rejoining (say, for new topic metadata) or
		// changed metadata: rebalance.
	default:
		resp.ErrorCode = unknownMemberCode
		return resp, nil
	}
	p := newParked(req)
	g.updateMember(m, req, p)
	g.maybePrepareRebalanceOrCompleteJoin()
	return nil, p
}

// renameMember puts m, known until now as from, under the id to in every
// index the group keeps, and restarts its session timer.
func (g *group) renameMember(from, to string, m *member, instanceID string) {
	delete(g.members, from)
	g.members[to] = m
	for i, id := range g.order {
		if id == from {
			g.order[i] = to
		}
	}
	if g.leader == from {
		g.leader = to
	}
	if g.pendingSync[from] {
		delete(g.pendingSync, from)
		g.pendingSync[to] = true
	}
	g.static[instanceID] = to
	g.scheduleSession(m, m.session)
}

// replaceStatic handles a static member joining without its member id while
// the group knows its instance id: the old incarnation is fenced and the
// new one takes over its place, assignment included.
func (g *group) replaceStatic(req *kmsg.JoinGroupRequest, resp *kmsg.JoinGroupResponse, oldID, newID string) (*kmsg.JoinGroupResponse, *parked) {
	old := g.members[oldID]
	currentLeader := g.leader
	old.answerParked(kerr.FencedInstanceID.Code)
	old.timer.stop()

	m := &member{
		id:           newID,
		instanceID:   old.instanceID,
		clientID:     old.clientID,
		clientHost:   old.clientHost,
		protocolType: old.protocolType,
		protocols:    old.protocols,
		session:      old.session,
		rebalance:    old.rebalance,
		assignment:   old.assignment,
	}
	g.renameMember(oldID, newID, m, *req.InstanceID)

	p := newParked(req)
	g.updateMember(m, req, p)

	switch g.state {
	case groupStable:
		if g.protocol != g.selectProtocol() {
			g.maybePrepareRebalanceOrCompleteJoin()
			return nil, p
		}
		// Nothing changes for the group: record the new member id and
		// answer at once.
		m.join = nil
		if err := g.storeMetadata(nil); err != nil {
			g.c.s.log.Warn("kafka: storing replaced static member failed", "group", g.name, "err", err)
			// Put the old incarnation back; the new one may retry.
			g.renameMember(newID, oldID, old, *req.InstanceID)
			resp.MemberID = ""
			resp.ErrorCode = coordinatorErrorCode(g.c.s, err)
			return resp, nil
		}
		out := req.ResponseKind().(*kmsg.JoinGroupResponse)
		out.Generation = g.generation
		out.ProtocolType = kmsg.StringPtr(g.protocolType)
		out.Protocol = kmsg.StringPtr(g.protocol)
		out.MemberID = newID
		if req.Version >= 9 {
			out.LeaderID = g.leader
			if g.leader == newID {
				out.Members = g.currentMembers()
				out.SkipAssignment = true
			}
		} else {
			// Before v9 a leader cannot be told to keep the
			// assignment: it hears of the old leader id and acts
			// as a follower, so the assignment stays as it is.
			out.LeaderID = currentLeader
		}
		return out, nil
	case groupCompletingRebalance:
		// The leader may be assigning to the old member id: start
		// over so the new id gets an assignment.
		g.prepareRebalance()
	default:
		g.maybeCompleteJoinPhase()
	}
	return nil, p
}
