// KIP-848 consumer groups: the "consumer" group protocol, where the
// coordinator assigns partitions and members learn their assignment from
// ConsumerGroupHeartbeat. Apache Kafka 4.x's GroupMetadataManager and
// CurrentAssignmentBuilder are the specification.
//
// A consumer-protocol group is a group (group.go) whose cg field is set: it
// shares the coordinator's map of groups, the group mutex, the committed
// offsets and their storage with classic groups, and keeps its members
// here, not in the classic members map, so the classic state machine sees
// it as Empty and never touches it.
//
// # Epochs
//
// The group epoch goes up whenever what the assignment depends on changes:
// a member joins or goes, a subscription or the preferred assignor changes,
// or a subscribed topic is created, deleted or grows partitions (topics are
// re-resolved on every heartbeat, so regex subscriptions pick up new topics
// within a heartbeat interval). The target assignment is computed by the
// server-side assignor (cgroup_assign.go) when its epoch is behind the
// group's. Each member then reconciles towards its target on its
// heartbeats: partitions it must give up are revoked first (it stays at its
// epoch, UNREVOKED_PARTITIONS, until its heartbeat no longer reports them
// owned, or its rebalance timeout fences it), and partitions another member
// still owns are held back (UNRELEASED_PARTITIONS) until released, so no
// partition is ever owned by two members.
//
// Files: cgroup.go (state, reconciliation), cgroup_assign.go (uniform and
// range assignors), cgroup_persist.go (what survives a restart),
// consumergroupheartbeat.go and consumergroupdescribe.go (the APIs).
package kafka

import (
	"bytes"
	"context"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/streambridge/bridge/store"
)

// Member epochs with a meaning of their own in ConsumerGroupHeartbeat.
const (
	cgJoinEpoch        = 0
	cgLeaveEpoch       = -1
	cgStaticLeaveEpoch = -2
)

// cgMemberState is a member's reconciliation state (Kafka's MemberState).
type cgMemberState int8

const (
	cgStable cgMemberState = iota
	cgUnrevoked
	cgUnreleased
)

// cgAssignment is a set of partitions by topic id, each list sorted.
type cgAssignment map[[16]byte][]int32

func (a cgAssignment) has(id [16]byte, p int32) bool {
	_, ok := slices.BinarySearch(a[id], p)
	return ok
}

func (a cgAssignment) count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

func (a cgAssignment) equal(b cgAssignment) bool {
	if a.count() != b.count() {
		return false
	}
	for id, ps := range a {
		if !slices.Equal(ps, b[id]) {
			return false
		}
	}
	return true
}

// add puts p in a, keeping the topic's list sorted.
func (a cgAssignment) add(id [16]byte, p int32) {
	ps := a[id]
	i, ok := slices.BinarySearch(ps, p)
	if !ok {
		a[id] = slices.Insert(ps, i, p)
	}
}

// cgTopic is a subscribed topic as the group last resolved it.
type cgTopic struct {
	id         [16]byte
	partitions int32
}

// cgMember is one member of a consumer-protocol group.
type cgMember struct {
	id         string
	instanceID *string
	rackID     *string
	clientID   string
	clientHost string
	epoch      int32 // cgStaticLeaveEpoch while a static member is away
	prevEpoch  int32
	state      cgMemberState
	rebalance  time.Duration
	names      []string // SubscribedTopicNames
	regex      string   // SubscribedTopicRegex, "" for none
	re         *regexp.Regexp
	// describes reports whether the member's principal may DESCRIBE a
	// topic, from its latest heartbeat; nil (no authorizer, or a member
	// restored after a restart that has not heartbeated since) allows
	// every topic. A regex subscription matches only topics it allows,
	// as Kafka 4 narrows resolved regexes by the member's ACLs.
	describes func(topic string) bool
	assignor  string // ServerAssignor, "" for the group's default

	assigned      cgAssignment
	pendingRevoke cgAssignment

	timer      groupTimer // session timeout
	revokeWait groupTimer // rebalance timeout while partitions are unrevoked

	// classic is set for a member that uses the classic protocol
	// (JoinGroup and SyncGroup) in this group: cgroup_classic.go.
	classic *cgClassic
}

// subscribes reports whether the member consumes topic.
func (m *cgMember) subscribes(topic string) bool {
	return slices.Contains(m.names, topic) || m.regexMatches(topic)
}

// regexMatches reports whether the member's regex subscription takes
// topic: it matches and the member may describe the topic.
func (m *cgMember) regexMatches(topic string) bool {
	return m.re != nil && m.re.MatchString(topic) && (m.describes == nil || m.describes(topic))
}

// consumerGroup is the KIP-848 state of a group; guarded by the group's mutex.
type consumerGroup struct {
	epoch           int32 // group epoch
	assignmentEpoch int32 // target assignment epoch
	assignor        string
	members         map[string]*cgMember
	static          map[string]string // instance id -> member id
	target          map[string]cgAssignment
	topics          map[string]cgTopic // resolved subscriptions, by name
	stored          []byte             // the record last written
	bumpPending     bool               // a refresh that was to bump the epoch failed
}

func newConsumerGroup() *consumerGroup {
	return &consumerGroup{
		members: map[string]*cgMember{},
		static:  map[string]string{},
		target:  map[string]cgAssignment{},
		topics:  map[string]cgTopic{},
	}
}

// cgStateName is the group state ConsumerGroupDescribe and ListGroups give.
func (cg *consumerGroup) stateName() string {
	switch {
	case len(cg.members) == 0:
		return "Empty"
	case cg.epoch != cg.assignmentEpoch:
		return "Assigning"
	}
	for _, m := range cg.members {
		if m.epoch != cg.assignmentEpoch || m.state != cgStable {
			return "Reconciling"
		}
	}
	return "Stable"
}

// sortedMembers returns the members by id: assignors and descriptions
// are deterministic.
func (cg *consumerGroup) sortedMembers() []*cgMember {
	ms := make([]*cgMember, 0, len(cg.members))
	for _, m := range cg.members {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
	return ms
}

// topicName returns the name of a resolved topic id, "" if unknown.
func (cg *consumerGroup) topicName(id [16]byte) string {
	for name, t := range cg.topics {
		if t.id == id {
			return name
		}
	}
	return ""
}

// resolveTopics returns the existing topics the members subscribe to, by
// name or regex, from the store.
func (cg *consumerGroup) resolveTopics(ctx context.Context, st store.Store) (map[string]cgTopic, error) {
	want := map[string]bool{}
	anyRegex := false
	for _, m := range cg.members {
		for _, n := range m.names {
			want[n] = true
		}
		anyRegex = anyRegex || m.re != nil
	}
	if anyRegex {
		names, err := st.ListStreams(ctx)
		if err != nil {
			return nil, err
		}
		for _, n := range names {
			for _, m := range cg.members {
				if m.regexMatches(n) {
					want[n] = true
					break
				}
			}
		}
	}
	out := make(map[string]cgTopic, len(want))
	for n := range want {
		s, err := st.DescribeStream(ctx, n)
		if err != nil {
			continue // not there (yet): not assigned
		}
		out[n] = cgTopic{id: topicID(s), partitions: int32(len(s.Partitions))}
	}
	return out, nil
}

func sameTopics(a, b map[string]cgTopic) bool {
	if len(a) != len(b) {
		return false
	}
	for n, t := range a {
		if b[n] != t {
			return false
		}
	}
	return true
}

// preferredAssignor is the assignor most members ask for; ties and no
// preference go to the first of cgAssignors (uniform).
func (cg *consumerGroup) preferredAssignor() string {
	votes := map[string]int{}
	for _, m := range cg.members {
		if m.assignor != "" {
			votes[m.assignor]++
		}
	}
	best := cgAssignors[0]
	for _, a := range cgAssignors {
		if votes[a] > votes[best] {
			best = a
		}
	}
	return best
}

// refresh re-resolves the subscriptions and bumps the group epoch when
// they changed (or force is set); then brings the target assignment up to
// the group epoch.
func (cg *consumerGroup) refresh(ctx context.Context, st store.Store, force bool) error {
	force = force || cg.bumpPending
	topics, err := cg.resolveTopics(ctx, st)
	if err != nil {
		// The change that asked for a new epoch is already in the
		// members: the next heartbeat must still bump it.
		cg.bumpPending = force
		return err
	}
	cg.bumpPending = false
	assignor := cg.preferredAssignor()
	if force || !sameTopics(topics, cg.topics) || assignor != cg.assignor {
		cg.epoch++
		cg.topics = topics
		cg.assignor = assignor
	}
	if cg.assignmentEpoch < cg.epoch {
		cg.target = assign(cg.assignor, cg.sortedMembers(), cg.topics, cg.target)
		cg.assignmentEpoch = cg.epoch
	}
	return nil
}

// owners maps every partition some member other than except owns
// (assigned or still to be revoked) to that member.
func (cg *consumerGroup) owned(except *cgMember) map[[16]byte]map[int32]bool {
	out := map[[16]byte]map[int32]bool{}
	for _, m := range cg.members {
		if m == except {
			continue
		}
		for _, a := range []cgAssignment{m.assigned, m.pendingRevoke} {
			for id, ps := range a {
				if out[id] == nil {
					out[id] = map[int32]bool{}
				}
				for _, p := range ps {
					out[id][p] = true
				}
			}
		}
	}
	return out
}

// ownsAny reports whether the partitions a member reported owning
// (nil: unknown, so assumed) include any of revoke.
func ownsAny(owned cgAssignment, revoke cgAssignment) bool {
	if owned == nil {
		return true
	}
	for id, ps := range owned {
		for _, p := range ps {
			if revoke.has(id, p) {
				return true
			}
		}
	}
	return false
}

// reconcile moves m towards its target assignment, Kafka's
// CurrentAssignmentBuilder: owned is what the member's heartbeat says it
// owns, nil when it did not say.
func (cg *consumerGroup) reconcile(m *cgMember, owned cgAssignment) {
	switch m.state {
	case cgStable:
		if m.epoch != cg.assignmentEpoch {
			cg.nextAssignment(m, m.epoch, owned)
		}
	case cgUnrevoked:
		if ownsAny(owned, m.pendingRevoke) {
			return
		}
		cg.nextAssignment(m, m.epoch+1, owned)
	case cgUnreleased:
		cg.nextAssignment(m, m.epoch, owned)
	}
}

// nextAssignment is CurrentAssignmentBuilder.computeNextAssignment.
func (cg *consumerGroup) nextAssignment(m *cgMember, epoch int32, owned cgAssignment) {
	target := cg.target[m.id]
	others := cg.owned(m)
	assigned, revoke, add := cgAssignment{}, cgAssignment{}, cgAssignment{}
	unreleased := false
	ids := map[[16]byte]bool{}
	for id := range target {
		ids[id] = true
	}
	for id := range m.assigned {
		ids[id] = true
	}
	for id := range ids {
		for _, p := range m.assigned[id] {
			if target.has(id, p) {
				assigned.add(id, p)
			} else {
				revoke.add(id, p)
			}
		}
		for _, p := range target[id] {
			switch {
			case assigned.has(id, p):
			case others[id][p]:
				unreleased = true
			default:
				add.add(id, p)
			}
		}
	}
	setEpoch := func(e int32) {
		if e != m.epoch {
			m.prevEpoch, m.epoch = m.epoch, e
		}
	}
	switch {
	case len(revoke) > 0 && ownsAny(owned, revoke):
		m.state = cgUnrevoked
		setEpoch(epoch)
		m.assigned, m.pendingRevoke = assigned, revoke
		return
	case len(add) > 0:
		for id, ps := range add {
			for _, p := range ps {
				assigned.add(id, p)
			}
		}
	}
	m.state = cgStable
	if unreleased {
		m.state = cgUnreleased
	}
	setEpoch(cg.assignmentEpoch)
	m.assigned, m.pendingRevoke = assigned, cgAssignment{}
}

// checkEpoch is Kafka's throwIfMemberEpochIsInvalid: a member may be one
// epoch behind if what it owns is within its assignment (the response with
// the new epoch was lost).
func (m *cgMember) checkEpoch(epoch int32, owned cgAssignment) int16 {
	switch {
	case epoch > m.epoch:
		return kerr.FencedMemberEpoch.Code
	case epoch < m.epoch:
		if epoch != m.prevEpoch || !subsetOf(owned, m.assigned) {
			return kerr.FencedMemberEpoch.Code
		}
	}
	return 0
}

// subsetOf reports whether every partition of a (nil: none) is in b.
func subsetOf(a, b cgAssignment) bool {
	for id, ps := range a {
		for _, p := range ps {
			if !b.has(id, p) {
				return false
			}
		}
	}
	return true
}

// removeCGMember drops m for good (left, expired or fenced) and bumps the
// group epoch so the others get its partitions.
// When only classic members remain the group may become a classic group
// instead (maybeDowngrade): then g.cg is nil afterwards.
func (g *group) removeCGMember(m *cgMember, why string) {
	cg := g.cg
	g.forgetCGMember(m, why)
	if g.maybeDowngrade() {
		return
	}
	cg.epoch++
	if len(cg.members) == 0 {
		g.emptySince = time.Now()
	}
	g.c.s.log.Info("kafka: consumer group member removed", "group", g.name, "member", m.id, "reason", why, "group_epoch", cg.epoch)
}

// forgetCGMember drops m from the group's maps and stops its timers; the
// caller bumps the epoch (removeCGMember).
func (g *group) forgetCGMember(m *cgMember, why string) {
	cg := g.cg
	m.timer.stop()
	m.revokeWait.stop()
	m.stopClassicTimers()
	delete(cg.members, m.id)
	delete(cg.target, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	if why != "" {
		g.c.s.log.Debug("kafka: consumer group member goes", "group", g.name, "member", m.id, "reason", why)
	}
}

// scheduleCGSession (re)starts m's session timer: the broker's
// group.consumer.session.timeout.ms.
func (g *group) scheduleCGSession(m *cgMember) {
	d := g.c.cfg.consumerSessionTimeout
	if m.classic != nil {
		d = m.classic.session // a classic member's own
	}
	g.schedule(&m.timer, d, func() {
		if g.cg == nil || g.cg.members[m.id] != m {
			return
		}
		g.c.counters.expiries.Add(1)
		g.removeCGMember(m, "session timeout")
		g.storeAfterTimer()
	})
}

// watchRevocation arms m's rebalance timeout while it has partitions to
// revoke: a member that does not give them up in time is fenced.
func (g *group) watchRevocation(m *cgMember) {
	// Classic members have Kafka's join and sync timers instead
	// (cgroup_classic.go).
	if m.state != cgUnrevoked || m.classic != nil {
		m.revokeWait.stop()
		return
	}
	if m.revokeWait.t != nil {
		return // already counting since the revocation began
	}
	g.schedule(&m.revokeWait, m.rebalance, func() {
		if g.cg == nil || g.cg.members[m.id] != m || m.state != cgUnrevoked {
			return
		}
		g.removeCGMember(m, "partitions not revoked within the rebalance timeout")
		g.storeAfterTimer()
	})
}

// stopCGTimers stops the timers of a consumer group's members.
func (g *group) stopCGTimers() {
	if g.cg == nil {
		return
	}
	for _, m := range g.cg.members {
		m.timer.stop()
		m.revokeWait.stop()
		m.stopClassicTimers()
	}
}

// cgHasMembers reports whether g is a consumer-protocol group with members.
func (g *group) cgHasMembers() bool { return g.cg != nil && len(g.cg.members) > 0 }

// cgTopicIDLess orders topic ids for stable output.
func cgTopicIDLess(a, b [16]byte) bool { return bytes.Compare(a[:], b[:]) < 0 }
