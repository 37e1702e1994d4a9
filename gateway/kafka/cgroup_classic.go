package kafka

// Mixed groups: classic members (JoinGroup, SyncGroup, Heartbeat,
// LeaveGroup) inside KIP-848 consumer groups, and the online conversions
// between classic and consumer groups (KIP-848 "Online upgrade/downgrade").
// Apache Kafka 4.0's GroupMetadataManager is the specification:
// classicGroupJoinToConsumerGroup, classicGroupSyncToConsumerGroup,
// classicGroupHeartbeatToConsumerGroup, classicGroupLeaveToConsumerGroup,
// convertToConsumerGroup, convertToClassicGroup and the broker setting
// group.consumer.migration.policy (GroupSettings.ConsumerMigrationPolicy).
//
// # Upgrade
//
// A ConsumerGroupHeartbeat join to a classic group with members converts it
// when the policy allows upgrades, its protocol type is "consumer" and it
// has no more members than group.consumer.max.size; otherwise the answer is
// GROUP_ID_NOT_FOUND, as Kafka's. Parked JoinGroups and SyncGroups are
// answered REBALANCE_IN_PROGRESS; every classic member becomes a classic
// member of the consumer group at the group's generation as its epoch, with
// its subscription from its JoinGroup metadata (kmsg.ConsumerMemberMetadata)
// and its last assignment as both its current and its target assignment.
// The joining member then bumps the group epoch, so the classic members'
// next heartbeats answer REBALANCE_IN_PROGRESS and they rejoin.
//
// # Classic members in a consumer group
//
// A JoinGroup (protocol type "consumer" and a protocol every other classic
// member supports, or INCONSISTENT_GROUP_PROTOCOL) to a consumer group with
// members is answered at once: MEMBER_ID_REQUIRED
// first for a dynamic member without an id (v4+), then the member is added
// or updated with the subscription of its first protocol's metadata, the
// group epoch goes up if that changed, and the member is reconciled towards
// its target assignment with the partitions its metadata says it owns (v1+
// metadata; none for eager members, which revoke everything before
// joining). The answer's generation is its member epoch, its protocol the
// member's first; it is never the leader and gets no member list.
// SyncGroup answers the member's current assignment (partitions it must
// give up are left out, so a cooperative client revokes them and rejoins),
// REBALANCE_IN_PROGRESS if the group epoch moved on meanwhile (unless it is
// still revoking), ILLEGAL_GENERATION for a generation that is not its
// epoch. Heartbeat answers REBALANCE_IN_PROGRESS while the member is behind
// the group epoch, must revoke, or may now take partitions it was waiting
// for. Timers as Kafka's: the member's own session timeout, the rebalance
// timeout to sync after a join and to rejoin after being told to; missing
// either removes it. OffsetCommit from a classic member checks its member
// epoch as the generation (ILLEGAL_GENERATION).
//
// # Downgrade
//
// When a removal (leave, session timeout, fencing) leaves only classic
// members and the policy allows downgrades, the group becomes a classic
// group at the group epoch as its generation, each member with its current
// assignment, and a rebalance starts: the members rejoin as in any classic
// rebalance, and the leader assigns. A classic static member replacing the
// last consumer-protocol member (same instance id) downgrades the group
// too, without a rebalance: it then syncs in the classic group.

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Values of group.consumer.migration.policy.
const (
	migrationDisabled      = "disabled"
	migrationUpgrade       = "upgrade"
	migrationDowngrade     = "downgrade"
	migrationBidirectional = "bidirectional"
)

func validMigrationPolicy(p string) bool {
	switch p {
	case "", migrationDisabled, migrationUpgrade, migrationDowngrade, migrationBidirectional:
		return true
	}
	return false
}

func (cfg groupConfig) upgradeAllowed() bool {
	return cfg.migrationPolicy == "" || cfg.migrationPolicy == migrationBidirectional || cfg.migrationPolicy == migrationUpgrade
}

func (cfg groupConfig) downgradeAllowed() bool {
	return cfg.migrationPolicy == "" || cfg.migrationPolicy == migrationBidirectional || cfg.migrationPolicy == migrationDowngrade
}

// cgClassic is what a classic member of a consumer group has beyond a
// cgMember: its JoinGroup's session timeout and protocols, and Kafka's
// join and sync timeouts.
type cgClassic struct {
	session   time.Duration
	protocols []kmsg.JoinGroupRequestProtocol
	joinWait  groupTimer // told to rejoin: must within its rebalance timeout
	syncWait  groupTimer // joined: must sync within its rebalance timeout
}

// protocol is the protocol name the member is told in JoinGroup: its first.
func (c *cgClassic) protocol() string {
	if len(c.protocols) == 0 {
		return ""
	}
	return c.protocols[0].Name
}

func (m *cgMember) stopClassicTimers() {
	if m.classic != nil {
		m.classic.joinWait.stop()
		m.classic.syncWait.stop()
	}
}

var errNotConsumerProtocol = errors.New("the embedded consumer protocol is malformed")

// upgradeForHeartbeat decides a ConsumerGroupHeartbeat to a classic group
// (g.cg nil): an empty one becomes a consumer group on a join; one with
// members is converted when the policy allows it (convertToConsumerGroup).
func (g *group) upgradeForHeartbeat(ctx context.Context, req *kmsg.ConsumerGroupHeartbeatRequest) (int16, string) {
	notConsumer := func() (int16, string) {
		g.maybeRetire()
		return kerr.GroupIDNotFound.Code, "Group " + req.Group + " is not a consumer group."
	}
	if req.MemberEpoch != cgJoinEpoch {
		return notConsumer()
	}
	if g.state == groupEmpty && len(g.members) == 0 && len(g.pending) == 0 {
		g.cg = newConsumerGroup()
		g.protocolType, g.protocol, g.leader = "consumer", "", ""
		g.cleanupTimer.stop()
		return 0, ""
	}
	cfg := g.c.cfg
	switch {
	case !cfg.upgradeAllowed():
		g.c.s.log.Info("kafka: cannot upgrade classic group: the migration policy does not allow it", "group", g.name, "policy", cfg.migrationPolicy)
		return notConsumer()
	case g.protocolType != "consumer":
		g.c.s.log.Info("kafka: cannot upgrade classic group: it does not use the consumer protocol", "group", g.name, "protocol_type", g.protocolType)
		return notConsumer()
	case cfg.consumerMaxSize > 0 && len(g.members) > cfg.consumerMaxSize:
		g.c.s.log.Info("kafka: cannot upgrade classic group: more members than the consumer group max size", "group", g.name)
		return notConsumer()
	}
	if max := cfg.consumerMaxSize; max > 0 && len(g.members) >= max {
		// Kafka converts, then refuses the joining member and rolls
		// the conversion back: the group stays classic.
		return kerr.GroupMaxSizeReached.Code, "The consumer group has reached its maximum capacity of " + strconv.Itoa(max) + " members."
	}
	if req.InstanceID != nil && g.members[g.static[*req.InstanceID]] != nil {
		// The same: the instance id is a classic member's, which is
		// not a static member that left (UNRELEASED_INSTANCE_ID).
		return kerr.UnreleasedInstanceID.Code, "Static member with instance id " + *req.InstanceID + " is not released yet."
	}
	if err := g.convertToConsumer(ctx); err != nil {
		g.c.s.log.Warn("kafka: cannot upgrade classic group", "group", g.name, "err", err)
		if errors.Is(err, errNotConsumerProtocol) {
			return kerr.GroupIDNotFound.Code, "Cannot upgrade the classic group " + req.Group + " to consumer group because the embedded consumer protocol is malformed."
		}
		return coordinatorErrorCode(g.c.s, err), ""
	}
	return 0, ""
}

// convertToConsumer turns the classic group g, members and all, into a
// consumer group; see the file comment. Nothing changes if it fails.
func (g *group) convertToConsumer(ctx context.Context) error {
	st := g.c.s.store
	cg := newConsumerGroup()
	cg.epoch, cg.assignmentEpoch = g.generation, g.generation
	type conv struct {
		meta   kmsg.ConsumerMemberMetadata
		assign kmsg.ConsumerMemberAssignment
	}
	convs := map[string]*conv{}
	for _, m := range g.sortedMembers() {
		proto := g.protocol
		if proto == "" && len(m.protocols) > 0 {
			proto = m.protocols[0].Name // mid-rebalance: none chosen yet
		}
		c := &conv{}
		if err := c.meta.ReadFrom(m.metadataFor(proto)); err != nil {
			return errNotConsumerProtocol
		}
		if len(m.assignment) > 0 && !slices.Equal(m.assignment, emptyConsumerAssignment) {
			if err := c.assign.ReadFrom(m.assignment); err != nil {
				return errNotConsumerProtocol
			}
		}
		convs[m.id] = c
		cm := &cgMember{
			id: m.id, instanceID: m.instanceID, rackID: c.meta.Rack, clientID: m.clientID, clientHost: m.clientHost,
			epoch: g.generation, prevEpoch: g.generation, state: cgStable, rebalance: m.rebalance,
			names: classicTopics(c.meta.Topics), assigned: cgAssignment{}, pendingRevoke: cgAssignment{},
			classic: &cgClassic{session: m.session, protocols: m.protocols},
		}
		cg.members[m.id] = cm
		if m.instanceID != nil {
			cg.static[*m.instanceID] = m.id
		}
	}
	topics, err := cg.resolveTopics(ctx, st)
	if err != nil {
		return err
	}
	cg.topics = topics
	for id, c := range convs {
		cm := cg.members[id]
		for _, t := range c.assign.Topics {
			tt, ok := topics[t.Topic]
			if !ok {
				s, err := st.DescribeStream(ctx, t.Topic)
				if err != nil {
					continue // gone: nothing to own
				}
				tt = cgTopic{id: topicID(s), partitions: int32(len(s.Partitions))}
			}
			for _, p := range t.Partitions {
				if p >= 0 && p < tt.partitions {
					cm.assigned.add(tt.id, p)
				}
			}
		}
		target := cgAssignment{}
		for tid, ps := range cm.assigned {
			target[tid] = append([]int32(nil), ps...)
		}
		cg.target[id] = target
	}
	// Committed: the classic state goes, answering what waits on it.
	for _, m := range g.members {
		m.answerParked(kerr.RebalanceInProgress.Code)
		m.timer.stop()
	}
	g.stopTimers()
	g.members, g.order = map[string]*member{}, nil
	g.pending, g.static = map[string]*groupTimer{}, map[string]string{}
	clear(g.pendingSync)
	g.prevState, g.state = g.state, groupEmpty
	g.protocolType, g.protocol, g.leader = "consumer", "", ""
	g.cg = cg
	for _, m := range cg.members {
		g.scheduleCGSession(m)
	}
	g.c.s.log.Info("kafka: classic group upgraded to a consumer group", "group", g.name, "members", len(cg.members), "group_epoch", cg.epoch)
	// Stored now, not only after the joining member's heartbeat: that
	// may still fail (say UNRELEASED_INSTANCE_ID), and the store must
	// hold what the members see.
	if err := g.storeCG(); err != nil {
		g.c.s.log.Warn("kafka: storing upgraded group failed", "group", g.name, "err", err)
	}
	return nil
}

// classicTopics is a classic subscription as the consumer group keeps it:
// sorted, without duplicates.
func classicTopics(ts []string) []string {
	out := append([]string{}, ts...)
	sort.Strings(out)
	return slices.Compact(out)
}

// maybeDowngrade converts the consumer group back to a classic group when
// only classic members remain and the policy allows it (Kafka's
// validateOnlineDowngradeWithFencedMember); the caller has just removed a
// member. It reports whether it did.
func (g *group) maybeDowngrade() bool {
	cg := g.cg
	if cg == nil || len(cg.members) == 0 || !g.onlyClassicMembers() {
		return false
	}
	if !g.c.cfg.downgradeAllowed() {
		g.c.s.log.Info("kafka: consumer group has only classic members; the migration policy does not allow a downgrade", "group", g.name)
		return false
	}
	g.convertToClassic(true)
	return true
}

// convertToClassic is Kafka's convertToClassicGroup: the classic members
// keep their current assignments at the group epoch as the generation;
// after a removal (rebalance set) a rebalance starts.
func (g *group) convertToClassic(rebalance bool) {
	cg := g.cg
	g.stopCGTimers()
	g.cg = nil
	g.generation = cg.epoch
	g.protocolType = "consumer"
	for _, cm := range cg.sortedMembers() {
		m := &member{
			id: cm.id, instanceID: cm.instanceID, clientID: cm.clientID, clientHost: cm.clientHost,
			protocolType: "consumer", protocols: cm.classic.protocols,
			session: cm.classic.session, rebalance: cm.rebalance,
			assignment: cg.classicAssignment(cm.assigned),
		}
		g.members[m.id] = m
		g.order = append(g.order, m.id)
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
		g.scheduleSession(m, m.session)
	}
	g.prevState, g.state = g.state, groupStable
	g.protocol = g.selectProtocol()
	g.leader = g.order[0]
	g.c.s.log.Info("kafka: consumer group downgraded to a classic group", "group", g.name, "members", len(g.members), "generation", g.generation)
	if rebalance {
		g.prepareRebalance()
	}
}

// classicAssignment encodes a as the ConsumerMemberAssignment (version 0)
// SyncGroup carries, topics by name.
func (cg *consumerGroup) classicAssignment(a cgAssignment) []byte {
	out := kmsg.NewConsumerMemberAssignment()
	for _, id := range sortedTopicIDs(a) {
		name := cg.topicName(id)
		if name == "" {
			continue
		}
		t := kmsg.NewConsumerMemberAssignmentTopic()
		t.Topic, t.Partitions = name, append([]int32{}, a[id]...)
		out.Topics = append(out.Topics, t)
	}
	return out.AppendTo(nil)
}

// supportsClassicProtocols is Kafka's ConsumerGroup.supportsClassicProtocols:
// a classic member must share a protocol with every other classic member,
// so that the group can become a classic group again.
func (cg *consumerGroup) supportsClassicProtocols(memberID string, protocols []kmsg.JoinGroupRequestProtocol) bool {
	for _, p := range protocols {
		all := true
		for _, m := range cg.members {
			if m.classic == nil || m.id == memberID {
				continue
			}
			if !slices.ContainsFunc(m.classic.protocols, func(q kmsg.JoinGroupRequestProtocol) bool { return q.Name == p.Name }) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// cgClassicJoin is a JoinGroup to a consumer group with members
// (classicGroupJoinToConsumerGroup); answered at once.
func (g *group) cgClassicJoin(ctx context.Context, r *Request, req *kmsg.JoinGroupRequest) *kmsg.JoinGroupResponse {
	cg := g.cg
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.MemberID = req.MemberID
	fail := func(code int16) *kmsg.JoinGroupResponse {
		resp.ErrorCode = code
		return resp
	}
	if req.ProtocolType != "consumer" || len(req.Protocols) == 0 || !cg.supportsClassicProtocols(req.MemberID, req.Protocols) {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	var meta kmsg.ConsumerMemberMetadata
	if err := meta.ReadFrom(req.Protocols[0].Metadata); err != nil {
		return fail(kerr.InconsistentGroupProtocol.Code)
	}
	memberID := req.MemberID
	unknown := memberID == ""
	if unknown {
		memberID = newMemberID(r.ClientID, req.InstanceID)
	}
	var m *cgMember
	replacedConsumer := false // a consumer-protocol static member replaced
	if req.InstanceID != nil {
		if known, ok := cg.static[*req.InstanceID]; ok {
			switch {
			case unknown:
				old := cg.members[known]
				replacedConsumer = old.classic == nil
				old.stopClassicTimers()
				classic, epoch, prev := old.classic, old.epoch, old.prevEpoch
				m = g.replaceCGStatic(old, memberID)
				m.classic = classic
				if epoch != cgStaticLeaveEpoch { // replaced while active
					m.epoch, m.prevEpoch = epoch, prev
				}
			case known != memberID:
				return fail(kerr.FencedInstanceID.Code)
			default:
				m = cg.members[known]
			}
		}
	} else {
		m = cg.members[memberID]
	}
	if m != nil && m.classic == nil && m.epoch != cgStaticLeaveEpoch && !unknown {
		return fail(unknownMemberCode) // a consumer-protocol member's id
	}
	changed := false
	if m == nil {
		if max := g.c.cfg.consumerMaxSize; max > 0 && len(cg.members) >= max {
			return fail(kerr.GroupMaxSizeReached.Code)
		}
		if unknown && req.InstanceID == nil && req.Version >= 4 {
			resp.MemberID = memberID
			return fail(kerr.MemberIDRequired.Code)
		}
		m = &cgMember{id: memberID, assigned: cgAssignment{}, pendingRevoke: cgAssignment{}}
		cg.members[memberID] = m
		if req.InstanceID != nil {
			cg.static[*req.InstanceID] = memberID
		}
		changed = true
		g.c.s.log.Info("kafka: classic member joins consumer group", "group", g.name, "member", memberID, "client_id", r.ClientID)
	}
	if m.classic == nil {
		m.classic = &cgClassic{}
	}
	if names := classicTopics(meta.Topics); !equalStrings(names, m.names) || m.regex != "" {
		m.names, m.regex, m.re = names, "", nil
		changed = true
	}
	if meta.Rack != nil {
		m.rackID = meta.Rack
	}
	m.instanceID = req.InstanceID
	m.clientID, m.clientHost = r.ClientID, clientHost(r.Remote)
	m.rebalance = joinRebalanceTimeout(req)
	m.classic.session = time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	m.classic.protocols = req.Protocols
	if err := cg.refresh(ctx, g.c.s.store, changed); err != nil {
		return fail(coordinatorErrorCode(g.c.s, err))
	}
	owned := cgAssignment{}
	for _, op := range meta.OwnedPartitions {
		if t, ok := cg.topics[op.Topic]; ok {
			for _, p := range op.Partitions {
				owned.add(t.id, p)
			}
		}
	}
	cg.reconcile(m, owned)
	m.revokeWait.stop() // Kafka's join and sync timers stand in for it
	m.classic.joinWait.stop()
	g.scheduleCGSession(m)
	g.schedule(&m.classic.syncWait, m.rebalance, func() {
		if g.cg == nil || g.cg.members[m.id] != m {
			return
		}
		g.removeCGMember(m, "no SyncGroup within the rebalance timeout")
		g.storeAfterTimer()
	})
	if err := g.storeCG(); err != nil {
		return fail(coordinatorErrorCode(g.c.s, err))
	}
	resp.MemberID = m.id
	resp.Generation = m.epoch
	resp.ProtocolType = kmsg.StringPtr("consumer")
	resp.Protocol = kmsg.StringPtr(m.classic.protocol())
	resp.Members = []kmsg.JoinGroupResponseMember{}
	if replacedConsumer && g.onlyClassicMembers() && g.c.cfg.downgradeAllowed() {
		// Kafka's downgrade on a static replacement: the group becomes
		// classic as it is, without a rebalance; the member syncs
		// there.
		m.classic.syncWait.stop()
		g.convertToClassic(false)
		if err := g.storeCG(); err != nil {
			return fail(coordinatorErrorCode(g.c.s, err))
		}
	}
	return resp
}

// onlyClassicMembers reports whether every member of the consumer group
// uses the classic protocol.
func (g *group) onlyClassicMembers() bool {
	for _, m := range g.cg.members {
		if m.classic == nil {
			return false
		}
	}
	return true
}

// storeAfterTimer stores what a timer changed and retires the group if it
// is left with nothing.
func (g *group) storeAfterTimer() {
	if err := g.storeCG(); err != nil {
		g.c.s.log.Warn("kafka: storing consumer group failed", "group", g.name, "err", err)
	}
	g.maybeRetire()
}

// cgClassicMember finds the classic member a SyncGroup, Heartbeat or
// LeaveGroup names: UNKNOWN_MEMBER_ID if none (or a consumer-protocol
// member), FENCED_INSTANCE_ID if its instance id belongs to another.
func (g *group) cgClassicMember(memberID string, instanceID *string) (*cgMember, int16) {
	cg := g.cg
	if instanceID != nil {
		known, ok := cg.static[*instanceID]
		switch {
		case !ok:
			return nil, unknownMemberCode
		case memberID != "" && known != memberID:
			return nil, kerr.FencedInstanceID.Code
		}
		memberID = known
	}
	m := cg.members[memberID]
	if m == nil || m.classic == nil {
		return nil, unknownMemberCode
	}
	return m, 0
}

// askRejoin arms m's join timeout (Kafka's
// scheduleConsumerGroupJoinTimeoutIfAbsent): told to rejoin, it must
// within its rebalance timeout.
func (g *group) askRejoin(m *cgMember) {
	if m.classic.joinWait.t != nil {
		return
	}
	g.schedule(&m.classic.joinWait, m.rebalance, func() {
		if g.cg == nil || g.cg.members[m.id] != m {
			return
		}
		g.removeCGMember(m, "did not rejoin within the rebalance timeout")
		g.storeAfterTimer()
	})
}

// cgClassicSync is a SyncGroup to a consumer group
// (classicGroupSyncToConsumerGroup).
func (g *group) cgClassicSync(req *kmsg.SyncGroupRequest, resp *kmsg.SyncGroupResponse) int16 {
	m, code := g.cgClassicMember(req.MemberID, req.InstanceID)
	switch {
	case code != 0:
		return code
	case req.Generation != m.epoch:
		return kerr.IllegalGeneration.Code
	case req.ProtocolType != nil && *req.ProtocolType != "consumer",
		req.Protocol != nil && *req.Protocol != m.classic.protocol():
		return kerr.InconsistentGroupProtocol.Code
	case g.cg.epoch > m.epoch && m.state != cgUnrevoked:
		g.askRejoin(m)
		return kerr.RebalanceInProgress.Code
	}
	m.classic.syncWait.stop()
	g.scheduleCGSession(m)
	resp.ProtocolType = kmsg.StringPtr("consumer")
	resp.Protocol = kmsg.StringPtr(m.classic.protocol())
	resp.MemberAssignment = g.cg.classicAssignment(m.assigned)
	return 0
}

// cgClassicHeartbeat is a Heartbeat to a consumer group
// (classicGroupHeartbeatToConsumerGroup).
func (g *group) cgClassicHeartbeat(req *kmsg.HeartbeatRequest) int16 {
	m, code := g.cgClassicMember(req.MemberID, req.InstanceID)
	switch {
	case code != 0:
		return code
	case req.Generation != m.epoch:
		return kerr.IllegalGeneration.Code
	}
	g.scheduleCGSession(m)
	if m.epoch < g.cg.epoch || m.state == cgUnrevoked || m.state == cgUnreleased && !g.cg.waitingOnUnreleased(m) {
		g.askRejoin(m)
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// waitingOnUnreleased reports whether a partition of m's target that it
// does not have yet is still owned by another member.
func (cg *consumerGroup) waitingOnUnreleased(m *cgMember) bool {
	others := cg.owned(m)
	for id, ps := range cg.target[m.id] {
		for _, p := range ps {
			if !m.assigned.has(id, p) && others[id][p] {
				return true
			}
		}
	}
	return false
}

// cgClassicLeave is a LeaveGroup to a consumer group
// (classicGroupLeaveToConsumerGroup): each member named must be a classic
// member; those found are removed together, then the group rebalances or
// downgrades.
func (g *group) cgClassicLeave(leaving []kmsg.LeaveGroupRequestMember) []kmsg.LeaveGroupResponseMember {
	out := make([]kmsg.LeaveGroupResponseMember, 0, len(leaving))
	var gone []*cgMember
	for _, lm := range leaving {
		rm := kmsg.NewLeaveGroupResponseMember()
		rm.MemberID, rm.InstanceID = lm.MemberID, lm.InstanceID
		m, code := g.cgClassicMember(lm.MemberID, lm.InstanceID)
		if code == 0 && !slices.Contains(gone, m) {
			gone = append(gone, m)
		}
		rm.ErrorCode = code
		out = append(out, rm)
	}
	for i, m := range gone {
		why := "left the group (LeaveGroup)"
		if i < len(gone)-1 {
			g.forgetCGMember(m, why)
			continue
		}
		g.removeCGMember(m, why) // the last one rebalances or downgrades
	}
	return out
}
