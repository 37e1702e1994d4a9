// ConsumerGroupHeartbeat (key 68), versions 0-1: the KIP-848 consumer group
// protocol. A member joins with epoch 0 and its subscription (topic names
// or, v1, a regex), then heartbeats every HeartbeatIntervalMillis with its
// epoch and the partitions it owns; the answer carries its new epoch and,
// when it changed, its assignment (by topic id). Epoch -1 leaves, -2 leaves
// for now as a static member (its partitions wait for it for a session
// timeout). From v1 the client makes its member id (KIP-1082); v0 members
// joining without one get one from the coordinator. The coordinator logic
// is in cgroup.go.
//
// READ on the group is needed (GROUP_AUTHORIZATION_FAILED) and DESCRIBE on
// each topic subscribed by name (TOPIC_AUTHORIZATION_FAILED); a regex
// subscription takes only the topics the member may describe, checked
// again whenever the group's topics are resolved (Kafka 4's filter).
//
// Errors, as Kafka: INVALID_REQUEST for a request that breaks the rules
// (no member id from v1, a first heartbeat without rebalance timeout or
// subscription or with owned partitions, an epoch below -2, an empty
// instance or rack id, a static leave without instance id),
// INVALID_REGULAR_EXPRESSION, UNSUPPORTED_ASSIGNOR, GROUP_ID_NOT_FOUND
// for an unknown group or a classic group with members that cannot be
// upgraded (cgroup_classic.go),
// UNKNOWN_MEMBER_ID, FENCED_MEMBER_EPOCH, FENCED_INSTANCE_ID,
// UNRELEASED_INSTANCE_ID (an instance id still held by a member that did
// not leave) and GROUP_MAX_SIZE_REACHED.
package kafka

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/internal/uuid"
)

func init() {
	register(API{Key: kmsg.ConsumerGroupHeartbeat, MinVersion: 0, MaxVersion: 1, Handle: handleConsumerGroupHeartbeat})
}

func handleConsumerGroupHeartbeat(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.ConsumerGroupHeartbeatRequest)
	if !r.groupAllowed(kmsg.ACLOperationRead, req.Group) {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return Respond(resp), nil
	}
	// Kafka 4 also wants DESCRIBE on every topic subscribed by name.
	var denied []string
	for _, t := range req.SubscribedTopicNames {
		if !r.topicAllowed(kmsg.ACLOperationDescribe, t) {
			denied = append(denied, t)
		}
	}
	if len(denied) > 0 {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.TopicAuthorizationFailed.Code
		resp.ErrorMessage = kmsg.StringPtr("The member is not authorized to access topics: " + strings.Join(denied, ", ") + ".")
		return Respond(resp), nil
	}
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		resp := consumerGroupHeartbeat(ctx, r, req)
		if resp.ErrorCode != 0 {
			r.Server.log.Debug("kafka: consumer group heartbeat refused", "group", req.Group, "member", req.MemberID,
				"epoch", req.MemberEpoch, "err", kerr.ErrorForCode(resp.ErrorCode), "msg", deref(resp.ErrorMessage))
		}
		return resp, nil
	}), nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// validateCGHeartbeat is Kafka's throwIfConsumerGroupHeartbeatRequestIsInvalid.
func validateCGHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest) (int16, string) {
	bad := func(msg string) (int16, string) { return kerr.InvalidRequest.Code, msg }
	empty := func(s *string) bool { return s != nil && *s == "" }
	switch {
	case req.MemberID == "" && (req.Version >= 1 || req.MemberEpoch > 0 || req.MemberEpoch == cgLeaveEpoch):
		return bad("MemberId can't be empty.")
	case req.Group == "":
		return bad("GroupId can't be empty.")
	case empty(req.InstanceID):
		return bad("InstanceId can't be empty.")
	case empty(req.RackID):
		return bad("RackId can't be empty.")
	}
	switch {
	case req.MemberEpoch == cgJoinEpoch:
		switch {
		case req.RebalanceTimeoutMillis == -1:
			return bad("RebalanceTimeoutMs must be provided in first request.")
		case req.Topics == nil || len(req.Topics) > 0:
			return bad("TopicPartitions must be empty when (re-)joining.")
		case req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
			return bad("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
		}
	case req.MemberEpoch == cgStaticLeaveEpoch:
		if req.InstanceID == nil {
			return bad("InstanceId can't be null.")
		}
	case req.MemberEpoch < cgStaticLeaveEpoch:
		return bad("MemberEpoch is invalid.")
	}
	if req.SubscribedTopicRegex != nil && *req.SubscribedTopicRegex != "" {
		if _, err := regexp.Compile(*req.SubscribedTopicRegex); err != nil {
			return kerr.InvalidRegularExpression.Code, "SubscribedTopicRegex is not a valid regular expression: " + err.Error()
		}
	}
	if req.ServerAssignor != nil && !validAssignor(*req.ServerAssignor) {
		return kerr.UnsupportedAssignor.Code, "ServerAssignor " + *req.ServerAssignor + " is not supported. Supported assignors: uniform, range."
	}
	return 0, ""
}

func consumerGroupHeartbeat(ctx context.Context, r *Request, req *kmsg.ConsumerGroupHeartbeatRequest) *kmsg.ConsumerGroupHeartbeatResponse {
	s := r.Server
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	fail := func(code int16, msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		resp.ErrorCode = code
		if msg != "" {
			resp.ErrorMessage = kmsg.StringPtr(msg)
		}
		return resp
	}
	if code, msg := validateCGHeartbeat(req); code != 0 {
		return fail(code, msg)
	}
	c, err := s.groupCoordinator()
	if err != nil {
		return fail(coordinatorErrorCode(s, err), "")
	}
	g, err := c.group(req.Group, req.MemberEpoch == cgJoinEpoch)
	if err != nil {
		return fail(coordinatorErrorCode(s, err), "")
	}
	if g == nil {
		return fail(kerr.GroupIDNotFound.Code, "Group "+req.Group+" not found.")
	}
	defer g.mu.Unlock()
	if g.cg == nil {
		// A classic group: an empty one becomes a consumer group on a
		// join; one with members is upgraded if the migration policy
		// allows it (cgroup_classic.go).
		if code, msg := g.upgradeForHeartbeat(ctx, req); code != 0 {
			return fail(code, msg)
		}
	}
	code, msg := g.cgHeartbeat(ctx, r, req, resp)
	g.maybeRetire() // a group made for a failed join, or left empty
	if code != 0 {
		return fail(code, msg)
	}
	return resp
}

// cgHeartbeat runs one heartbeat against g's consumer group, filling resp.
func (g *group) cgHeartbeat(ctx context.Context, r *Request, req *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) (int16, string) {
	cg := g.cg
	s := g.c.s
	if req.MemberEpoch == cgLeaveEpoch || req.MemberEpoch == cgStaticLeaveEpoch {
		return g.cgLeave(req, resp)
	}
	var owned cgAssignment
	if req.Topics != nil {
		owned = cgAssignment{}
		for _, t := range req.Topics {
			for _, p := range t.Partitions {
				owned.add(t.TopicID, p)
			}
		}
	}
	memberID := req.MemberID
	if memberID == "" { // v0 join: the coordinator names the member
		memberID = uuid.New().String()
	}
	m := cg.members[memberID]
	if m != nil && m.classic != nil {
		// A classic member (cgroup_classic.go): only a join moves it
		// to this protocol.
		if req.MemberEpoch != cgJoinEpoch {
			return kerr.UnknownMemberID.Code, "Member " + memberID + " uses the classic protocol."
		}
		m.stopClassicTimers()
		m.classic = nil
	}
	joined := false
	if req.InstanceID != nil {
		known, ok := cg.static[*req.InstanceID]
		if req.MemberEpoch == cgJoinEpoch {
			if ok && known != memberID {
				old := cg.members[known]
				if old.epoch != cgStaticLeaveEpoch {
					return kerr.UnreleasedInstanceID.Code, "Static member " + known + " with instance id " + *req.InstanceID + " is not released yet."
				}
				// The returning instance takes the old member's
				// place and assignment: no rebalance.
				m = g.replaceCGStatic(old, memberID)
			}
		} else {
			switch {
			case !ok:
				return kerr.UnknownMemberID.Code, "Instance id " + *req.InstanceID + " is unknown."
			case known != memberID:
				return kerr.FencedInstanceID.Code, "Instance id " + *req.InstanceID + " belongs to another member."
			}
		}
	}
	if m == nil {
		if req.MemberEpoch != cgJoinEpoch {
			return kerr.UnknownMemberID.Code, "Member " + memberID + " is not a member of group " + g.name + "."
		}
		if max := g.c.cfg.consumerMaxSize; max > 0 && len(cg.members) >= max {
			return kerr.GroupMaxSizeReached.Code, "The consumer group has reached its maximum capacity of " + strconv.Itoa(max) + " members."
		}
		m = &cgMember{id: memberID, assigned: cgAssignment{}, pendingRevoke: cgAssignment{}}
		cg.members[memberID] = m
		if req.InstanceID != nil {
			cg.static[*req.InstanceID] = memberID
		}
		joined = true
		s.log.Info("kafka: consumer group member joins", "group", g.name, "member", memberID, "client_id", r.ClientID)
	} else if req.MemberEpoch != cgJoinEpoch {
		if code := m.checkEpoch(req.MemberEpoch, owned); code != 0 {
			return code, "The member epoch " + strconv.Itoa(int(req.MemberEpoch)) + " is not the coordinator's " + strconv.Itoa(int(m.epoch)) + "; the member must rejoin."
		}
	}
	before := m.assigned
	changed := joined
	if req.InstanceID != nil { // null: unchanged, as every optional field
		m.instanceID = req.InstanceID
	}
	if req.RackID != nil {
		m.rackID = req.RackID
	}
	m.clientID, m.clientHost = r.ClientID, clientHost(r.Remote)
	m.describes = r.topicDescriber()
	if req.RebalanceTimeoutMillis != -1 {
		m.rebalance = time.Duration(req.RebalanceTimeoutMillis) * time.Millisecond
	}
	if req.SubscribedTopicNames != nil && !equalStrings(req.SubscribedTopicNames, m.names) {
		m.names = append([]string{}, req.SubscribedTopicNames...)
		changed = true
	}
	if req.SubscribedTopicRegex != nil && *req.SubscribedTopicRegex != m.regex {
		m.regex, m.re = *req.SubscribedTopicRegex, nil
		if m.regex != "" {
			m.re = regexp.MustCompile(m.regex) // validated
		}
		changed = true
	}
	if req.ServerAssignor != nil && *req.ServerAssignor != m.assignor {
		m.assignor = *req.ServerAssignor
	}
	if err := cg.refresh(ctx, s.store, changed); err != nil {
		return coordinatorErrorCode(s, err), ""
	}
	cg.reconcile(m, owned)
	g.watchRevocation(m)
	g.scheduleCGSession(m)
	if err := g.storeCG(); err != nil {
		return coordinatorErrorCode(s, err), ""
	}
	resp.MemberID = kmsg.StringPtr(m.id)
	resp.MemberEpoch = m.epoch
	resp.HeartbeatIntervalMillis = int32(g.c.cfg.consumerHeartbeatInterval.Milliseconds())
	full := req.RebalanceTimeoutMillis != -1 && (req.SubscribedTopicNames != nil || req.SubscribedTopicRegex != nil) && req.Topics != nil
	if req.MemberEpoch == cgJoinEpoch || full || !before.equal(m.assigned) {
		a := kmsg.NewConsumerGroupHeartbeatResponseAssignment()
		a.Topics = []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}
		for _, id := range sortedTopicIDs(m.assigned) {
			t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
			t.TopicID, t.Partitions = id, append([]int32{}, m.assigned[id]...)
			a.Topics = append(a.Topics, t)
		}
		resp.Assignment = &a
	}
	return 0, ""
}

// cgLeave handles epochs -1 (leave) and -2 (static member away for now).
func (g *group) cgLeave(req *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) (int16, string) {
	cg := g.cg
	var m *cgMember
	if req.InstanceID != nil {
		known, ok := cg.static[*req.InstanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID.Code, "Instance id " + *req.InstanceID + " is unknown."
		case known != req.MemberID:
			return kerr.FencedInstanceID.Code, "Instance id " + *req.InstanceID + " belongs to another member."
		}
		m = cg.members[known]
	} else if m = cg.members[req.MemberID]; m == nil {
		return kerr.UnknownMemberID.Code, "Member " + req.MemberID + " is not a member of group " + g.name + "."
	}
	resp.MemberID = kmsg.StringPtr(m.id)
	resp.MemberEpoch = req.MemberEpoch
	if req.MemberEpoch == cgStaticLeaveEpoch {
		// Kept with its assignment for a session timeout, in which
		// the instance may come back under a new member id.
		m.prevEpoch, m.epoch = m.epoch, cgStaticLeaveEpoch
		m.revokeWait.stop()
		g.scheduleCGSession(m)
		g.c.s.log.Info("kafka: static consumer group member left for now", "group", g.name, "member", m.id, "instance_id", *m.instanceID)
	} else {
		g.removeCGMember(m, "left the group")
	}
	if err := g.storeCG(); err != nil {
		return coordinatorErrorCode(g.c.s, err), ""
	}
	return 0, ""
}

// replaceCGStatic gives a static member's place to a new member id with the
// same instance id.
func (g *group) replaceCGStatic(old *cgMember, id string) *cgMember {
	cg := g.cg
	old.timer.stop()
	old.revokeWait.stop()
	m := &cgMember{
		id: id, instanceID: old.instanceID, rackID: old.rackID, rebalance: old.rebalance,
		names: old.names, regex: old.regex, re: old.re, describes: old.describes, assignor: old.assignor,
		epoch: old.prevEpoch, prevEpoch: old.prevEpoch, state: old.state,
		assigned: old.assigned, pendingRevoke: old.pendingRevoke,
	}
	delete(cg.members, old.id)
	cg.members[id] = m
	cg.target[id] = cg.target[old.id]
	delete(cg.target, old.id)
	cg.static[*old.instanceID] = id
	g.c.s.log.Info("kafka: static consumer group member replaced", "group", g.name, "instance_id", *old.instanceID, "old_member", old.id, "member", id)
	return m
}

func sortedTopicIDs(a cgAssignment) [][16]byte {
	ids := make([][16]byte, 0, len(a))
	for id := range a {
		ids = append(ids, id)
	}
	sortIDs(ids)
	return ids
}

func sortIDs(ids [][16]byte) {
	for i := 1; i < len(ids); i++ {
		for j := i; j > 0 && cgTopicIDLess(ids[j], ids[j-1]); j-- {
			ids[j], ids[j-1] = ids[j-1], ids[j]
		}
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
