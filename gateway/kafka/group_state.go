package kafka

// The classic group state machine, after Apache Kafka's
// GroupMetadataManager and ClassicGroup: every method here runs with the
// group's mutex held.
//
//	Empty --join--> PreparingRebalance --all joined or deadline--> CompletingRebalance
//	CompletingRebalance --leader's SyncGroup--> Stable
//	Stable/CompletingRebalance --join, leave, expiry--> PreparingRebalance
//	PreparingRebalance --nobody left--> Empty;  Empty --DeleteGroups--> Dead

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var (
	notCoordinatorCode = kerr.NotCoordinator.Code
	unknownMemberCode  = kerr.UnknownMemberID.Code
)

func (g *group) transition(to groupState) {
	if to == groupEmpty && g.state != groupEmpty {
		g.emptySince = time.Now()
	}
	g.prevState, g.state = g.state, to
}

// rebalanceTimeout is the longest rebalance timeout of the members: how
// long a join phase waits for members to rejoin, and a sync phase for them
// to sync.
func (g *group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalance)
	}
	return d
}

// hasAllMembersJoined reports whether the join phase has everyone: every
// member waits in JoinGroup and no member id handed out by
// MEMBER_ID_REQUIRED is still to come back.
func (g *group) hasAllMembersJoined() bool {
	if len(g.pending) > 0 {
		return false
	}
	for _, m := range g.members {
		if m.join == nil {
			return false
		}
	}
	return true
}

func (g *group) canRebalance() bool {
	return g.state == groupStable || g.state == groupCompletingRebalance || g.state == groupEmpty
}

// supportsProtocols reports whether a member with these protocols may join:
// into an empty group anything with a type and a protocol; otherwise the
// group's protocol type and one protocol every member supports.
func (g *group) supportsProtocols(protocolType string, protocols []kmsg.JoinGroupRequestProtocol) bool {
	if g.state == groupEmpty {
		return protocolType != "" && len(protocols) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	counts := g.protocolCounts()
	for _, p := range protocols {
		if counts[p.Name] == len(g.members) {
			return true
		}
	}
	return false
}

func (g *group) protocolCounts() map[string]int {
	counts := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			counts[p.Name]++
		}
	}
	return counts
}

// selectProtocol picks the group's protocol: among those every member
// supports, each member votes for the first it lists; most votes win, ties
// going to the earliest member's preference so the choice is stable.
func (g *group) selectProtocol() string {
	counts := g.protocolCounts()
	ms := g.sortedMembers()
	votes := map[string]int{}
	for _, m := range ms {
		for _, p := range m.protocols {
			if counts[p.Name] == len(g.members) {
				votes[p.Name]++
				break
			}
		}
	}
	best, bestVotes := "", 0
	for _, m := range ms {
		for _, p := range m.protocols {
			if v := votes[p.Name]; v > bestVotes {
				best, bestVotes = p.Name, v
			}
		}
	}
	return best
}

// addMember adds a member that joined (answered when the join phase
// completes through p) and starts or advances a rebalance.
func (g *group) addMember(m *member, p *parked) {
	if g.state == groupPreparingRebalance && g.prevState == groupEmpty {
		g.newMemberAdded = true
	}
	if m.instanceID != nil {
		g.static[*m.instanceID] = m.id
	}
	if len(g.members) == 0 {
		g.protocolType = m.protocolType
	}
	if g.leader == "" {
		g.leader = m.id
	}
	g.members[m.id] = m
	g.order = append(g.order, m.id)
	if t := g.pending[m.id]; t != nil {
		t.stop()
		delete(g.pending, m.id)
	}
	m.isNew = true
	m.join = p
	// A new member's session cannot run while its JoinGroup is parked
	// (it cannot heartbeat); a client that went away meanwhile is
	// dropped after newMemberJoinTimeout instead.
	g.scheduleSession(m, g.c.cfg.newMemberJoinTimeout)
	g.maybePrepareRebalanceOrCompleteJoin()
}

// updateMember takes a known member's new JoinGroup.
func (g *group) updateMember(m *member, req *kmsg.JoinGroupRequest, p *parked) {
	m.protocols = req.Protocols
	m.session = time.Duration(req.SessionTimeoutMillis) * time.Millisecond
	m.rebalance = joinRebalanceTimeout(req)
	if m.join != nil && p != nil {
		// Its earlier JoinGroup (from another connection) is
		// superseded; the member rejoins with the newer one.
		resp := m.join.req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = kerr.RebalanceInProgress.Code
		resp.MemberID = m.id
		m.join.answer(resp)
	}
	m.join = p
}

// joinRebalanceTimeout is a JoinGroup's rebalance timeout: v0 has none and
// uses the session timeout.
func joinRebalanceTimeout(req *kmsg.JoinGroupRequest) time.Duration {
	ms := req.RebalanceTimeoutMillis
	if req.Version == 0 || ms < 0 {
		ms = req.SessionTimeoutMillis
	}
	return time.Duration(ms) * time.Millisecond
}

func (g *group) maybePrepareRebalanceOrCompleteJoin() {
	if g.canRebalance() {
		g.prepareRebalance()
	} else {
		g.maybeCompleteJoinPhase()
	}
}

// maybeCompleteJoinPhase ends the join phase once everyone joined, except
// in a group's first rebalance, which waits out the initial delay.
func (g *group) maybeCompleteJoinPhase() {
	if g.state == groupPreparingRebalance && g.prevState != groupEmpty && g.hasAllMembersJoined() {
		g.completeJoin()
	}
}

// prepareRebalance starts a join phase: members waiting in SyncGroup are
// told to rejoin, and the phase ends when everyone joined or at the
// rebalance timeout (a first rebalance waits initialRebalanceDelay,
// extended while members keep arriving, up to the rebalance timeout).
func (g *group) prepareRebalance() {
	if g.state == groupCompletingRebalance {
		g.propagateAssignment(nil, kerr.RebalanceInProgress.Code)
	}
	g.clearPendingSync()
	g.cleanupTimer.stop()
	initial := g.state == groupEmpty
	g.transition(groupPreparingRebalance)
	if initial {
		delay := g.c.cfg.initialRebalanceDelay
		remaining := max(g.rebalanceTimeout()-delay, 0)
		g.newMemberAdded = false
		g.schedule(&g.joinTimer, delay, func() { g.tryCompleteInitialRebalance(delay, remaining) })
		return
	}
	if g.hasAllMembersJoined() {
		g.completeJoin()
		return
	}
	g.schedule(&g.joinTimer, g.rebalanceTimeout(), g.completeJoin)
}

func (g *group) tryCompleteInitialRebalance(delay, remaining time.Duration) {
	if g.state != groupPreparingRebalance {
		return
	}
	if g.newMemberAdded && remaining > 0 {
		g.newMemberAdded = false
		next := min(g.c.cfg.initialRebalanceDelay, remaining)
		left := max(remaining-delay, 0)
		g.schedule(&g.joinTimer, next, func() { g.tryCompleteInitialRebalance(next, left) })
		return
	}
	g.completeJoin()
}

// completeJoin ends the join phase: dynamic members that did not rejoin are
// dropped (static ones stay: they may come back with their instance id),
// the generation advances, and every joined member gets its JoinGroup
// response, the leader with the member list to assign.
func (g *group) completeJoin() {
	if g.state != groupPreparingRebalance {
		return
	}
	g.joinTimer.stop()
	for _, m := range g.sortedMembers() {
		if m.join == nil && m.instanceID == nil {
			g.removeMember(m)
		}
	}
	if !g.electJoinedLeader() && len(g.members) > 0 {
		// Only static members that have not rejoined: wait for them
		// or for their sessions to end.
		g.schedule(&g.joinTimer, g.rebalanceTimeout(), g.completeJoin)
		return
	}
	g.generation++
	g.clearPendingSync()
	if len(g.members) == 0 {
		g.protocol = ""
		g.transition(groupEmpty)
		g.c.s.log.Info("kafka: consumer group is empty", "group", g.name, "generation", g.generation)
		if err := g.storeMetadata(nil); err != nil {
			// Kafka only warns too: the previous generation comes
			// back after a restart and its members time out.
			g.c.s.log.Warn("kafka: storing empty group failed", "group", g.name, "err", err)
		}
		g.maybeRetire()
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(groupCompletingRebalance)
	g.c.counters.rebalances.Add(1)
	g.c.s.log.Info("kafka: consumer group rebalanced", "group", g.name, "generation", g.generation,
		"members", len(g.members), "protocol", g.protocol, "leader", g.leader)
	for _, m := range g.sortedMembers() {
		if m.join != nil {
			m.join.answer(g.joinResponse(m.join.req.(*kmsg.JoinGroupRequest), m.id))
			m.join = nil
		}
		g.scheduleSession(m, m.session)
		m.isNew = false
		g.pendingSync[m.id] = true
	}
	gen := g.generation
	g.schedule(&g.syncTimer, g.rebalanceTimeout(), func() { g.expirePendingSync(gen) })
}

// electJoinedLeader keeps the leader if it rejoined, else makes the first
// member that did the leader; false when nobody rejoined.
func (g *group) electJoinedLeader() bool {
	if l := g.members[g.leader]; l != nil && l.join != nil {
		return true
	}
	for _, m := range g.sortedMembers() {
		if m.join != nil {
			g.leader = m.id
			return true
		}
	}
	return false
}

// joinResponse is a successful JoinGroup response for memberID at the
// current generation; the leader's carries the members and their metadata.
func (g *group) joinResponse(req *kmsg.JoinGroupRequest, memberID string) *kmsg.JoinGroupResponse {
	resp := req.ResponseKind().(*kmsg.JoinGroupResponse)
	resp.Generation = g.generation
	resp.ProtocolType = kmsg.StringPtr(g.protocolType)
	resp.Protocol = kmsg.StringPtr(g.protocol)
	resp.LeaderID = g.leader
	resp.MemberID = memberID
	if memberID == g.leader {
		resp.Members = g.currentMembers()
	}
	return resp
}

// currentMembers lists the members for the leader to assign.
func (g *group) currentMembers() []kmsg.JoinGroupResponseMember {
	ms := g.sortedMembers()
	out := make([]kmsg.JoinGroupResponseMember, 0, len(ms))
	for _, m := range ms {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadataFor(g.protocol)
		out = append(out, jm)
	}
	return out
}

// propagateAssignment answers every member waiting in SyncGroup: with its
// assignment from assign (nil: reset every assignment) when code is 0, with
// code otherwise. A member told its assignment starts its session again.
func (g *group) propagateAssignment(assign map[string][]byte, code int16) {
	for _, m := range g.sortedMembers() {
		m.assignment = g.assignmentOrEmpty(assign[m.id])
		if code != 0 {
			m.assignment = nil
		}
		if m.sync == nil {
			continue
		}
		resp := m.sync.req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = code
		if code == 0 {
			resp.ProtocolType = kmsg.StringPtr(g.protocolType)
			resp.Protocol = kmsg.StringPtr(g.protocol)
			resp.MemberAssignment = m.assignment
		} else {
			resp.MemberAssignment = []byte{}
		}
		m.sync.answer(resp)
		m.sync = nil
		g.scheduleSession(m, m.session)
	}
}

func (g *group) clearPendingSync() {
	clear(g.pendingSync)
	g.syncTimer.stop()
}

// expirePendingSync drops the members that got their JoinGroup response of
// generation gen but never sent SyncGroup, and rebalances without them.
func (g *group) expirePendingSync(gen int32) {
	if gen != g.generation || len(g.pendingSync) == 0 {
		return
	}
	if g.state != groupCompletingRebalance && g.state != groupStable {
		return
	}
	for id := range g.pendingSync {
		if m := g.members[id]; m != nil {
			g.c.s.log.Info("kafka: group member did not sync in time", "group", g.name, "member", id)
			g.removeMember(m)
		}
	}
	g.prepareRebalance()
}

// scheduleSession (re)starts the member's session timer.
func (g *group) scheduleSession(m *member, d time.Duration) {
	g.schedule(&m.timer, d, func() { g.expireMember(m) })
}

// expireMember is a member's session timer firing. A member waiting in
// JoinGroup or SyncGroup counts as alive (the group answers it in time),
// unless it is new: then its JoinGroup has waited newMemberJoinTimeout.
func (g *group) expireMember(m *member) {
	if g.members[m.id] != m {
		return
	}
	if !m.isNew && (m.join != nil || m.sync != nil) {
		return
	}
	g.c.counters.expiries.Add(1)
	g.c.s.log.Info("kafka: group member session expired", "group", g.name, "member", m.id,
		"client_id", m.clientID, "session_timeout", m.session)
	g.removeMember(m)
	switch g.state {
	case groupStable, groupCompletingRebalance:
		g.maybePrepareRebalanceOrCompleteJoin()
	case groupPreparingRebalance:
		if g.hasAllMembersJoined() {
			g.completeJoin()
		}
	}
}

// removeMember drops a member, answering what it has parked with
// UNKNOWN_MEMBER_ID (a client still there rejoins), and hands leadership
// on. It does not rebalance: callers decide.
func (g *group) removeMember(m *member) {
	m.answerParked(unknownMemberCode)
	m.timer.stop()
	delete(g.members, m.id)
	for i, id := range g.order {
		if id == m.id {
			g.order = append(g.order[:i:i], g.order[i+1:]...)
			break
		}
	}
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if len(g.order) > 0 {
			g.leader = g.order[0]
		}
	}
	delete(g.pendingSync, m.id)
}

// addPending records a member id handed out with MEMBER_ID_REQUIRED; the
// member has a session timeout to come back with it.
func (g *group) addPending(id string, session time.Duration) {
	t := &groupTimer{}
	g.pending[id] = t
	g.schedule(t, session, func() {
		if g.pending[id] != t {
			return
		}
		delete(g.pending, id)
		if g.state == groupPreparingRebalance && g.hasAllMembersJoined() {
			g.completeJoin()
		}
		g.maybeRetire()
	})
}

// validateMember is Kafka's check of a member's identity: a static
// member's instance id must map to its member id (else it is fenced), and
// the member must exist.
func (g *group) validateMember(memberID string, instanceID *string) int16 {
	if instanceID != nil {
		known, ok := g.static[*instanceID]
		switch {
		case !ok:
			return unknownMemberCode
		case known != memberID:
			return kerr.FencedInstanceID.Code
		}
	}
	if g.members[memberID] == nil {
		return unknownMemberCode
	}
	return 0
}

// subscribedTopics returns the topics the members subscribe to, from their
// consumer protocol metadata; ok is false when that is unknown (not the
// consumer protocol, no protocol selected yet, or metadata that does not
// parse).
func (g *group) subscribedTopics() (topics map[string]bool, ok bool) {
	if g.protocolType != "consumer" {
		return nil, false
	}
	topics = map[string]bool{}
	if len(g.members) == 0 {
		return topics, true
	}
	if g.protocol == "" {
		return nil, false
	}
	for _, m := range g.members {
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.metadataFor(g.protocol)); err != nil {
			return nil, false
		}
		for _, t := range meta.Topics {
			topics[t] = true
		}
	}
	return topics, true
}

// isSubscribedTo reports whether a member consumes topic; when the group
// cannot tell, a consumer group is assumed to (Kafka's rule, which errs on
// keeping offsets).
func (g *group) isSubscribedTo(topic string) bool {
	if g.cg != nil {
		for _, m := range g.cg.members {
			if m.subscribes(topic) {
				return true
			}
		}
		return false
	}
	topics, ok := g.subscribedTopics()
	if !ok {
		return g.protocolType == "consumer"
	}
	return topics[topic]
}
