// The group coordinator: Kafka's classic consumer group protocol (KIP-62
// session and rebalance timeouts, KIP-394 member ids, KIP-345 static
// membership) and committed offsets, with the Apache Kafka GroupCoordinator
// as the specification. This node coordinates every group.
//
// # Files
//
//   - group.go: the coordinator, the group and member types, timers.
//   - group_state.go: the state machine (Empty, PreparingRebalance,
//     CompletingRebalance, Stable, Dead) that JoinGroup, SyncGroup,
//     Heartbeat, LeaveGroup and the timers drive.
//   - group_persist.go: what survives a restart, in the store's state area.
//   - group_metrics.go: the bridge_kafka_consumer_group* metrics.
//   - one file per API: findcoordinator.go, joingroup.go, syncgroup.go,
//     heartbeat.go, leavegroup.go, offsetcommit.go, offsetfetch.go,
//     listgroups.go, describegroups.go, deletegroups.go, offsetdelete.go.
//
// # Concurrency
//
// Each group has its own mutex; the coordinator's mutex guards only the map
// of groups and is never held while a group's is taken (a group's may be
// held while taking the coordinator's, to remove the group). Nothing runs
// on a shared loop: a timer per member (session timeout) and per group
// (join and sync deadlines, initial rebalance delay, empty-group cleanup)
// calls back into the group under its mutex, and a sequence number per timer
// makes a callback that lost a race with Stop do nothing.
//
// Every group API answers through RespondLater, so its work runs on the
// connection's writer goroutine once the responses before it are written:
// requests of one connection take effect in the order they were sent, as
// Kafka processes one request per connection at a time. A JoinGroup or
// SyncGroup that must wait parks on a channel there, leaving the reader
// free; every parked request is answered exactly once, by the state machine,
// by a member's removal or fencing, or with NOT_COORDINATOR when the server
// shuts down.
//
// # Restarts
//
// Committed offsets are written durably before OffsetCommit answers. The
// group's metadata (protocol, generation, leader, members with their
// subscriptions and assignments) is written where Kafka writes it: when the
// leader's assignment completes a rebalance, when the group becomes empty,
// and when a static member is replaced. A restarted bridge loads groups
// the way a Kafka coordinator taking over does: a group with members comes
// back Stable at its last stored generation with every member's session
// timer started afresh, so members that are still alive carry on (and
// rejoin if they were mid-rebalance: their generation is then unknown and
// they get ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS), and members that
// died with the bridge expire after their session timeout. A group without
// members comes back Empty with its offsets. Clients see what a Kafka
// coordinator failover gives them: their connections break, they find the
// coordinator again (node 0), and either carry on or, told
// UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION or REBALANCE_IN_PROGRESS, rejoin;
// consumption resumes from the last commit, so nothing committed is lost
// and nothing uncommitted is skipped. The coordinator (and with it the
// restored session timers and the metrics) starts with the first group
// request after a restart.
//
// KIP-848 consumer groups (ConsumerGroupHeartbeat) live in the same groups
// (cgroup.go), and committed offsets of groups empty for
// offsets.retention.minutes expire (offset_expiry.go). Transactional offset
// commits (TxnOffsetCommit) are pending in their transaction
// (txn_coordinator.go) and written here when it commits.
//
// Not implemented: the classic group size limit (group.max.size).
package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/internal/uuid"
)

// groupConfig holds the coordinator's settings; defaults are Kafka's.
type groupConfig struct {
	minSessionTimeout time.Duration // group.min.session.timeout.ms
	maxSessionTimeout time.Duration // group.max.session.timeout.ms
	// initialRebalanceDelay (group.initial.rebalance.delay.ms) holds the
	// first rebalance of an empty group open for more members, so that
	// consumers started together get one rebalance, not one each.
	initialRebalanceDelay time.Duration
	// newMemberJoinTimeout bounds a new member's parked JoinGroup
	// (KIP-394): its session timer cannot run while it waits.
	newMemberJoinTimeout time.Duration
	// emptyGroupRetention is how long an empty group without offsets
	// stays listed (Kafka removes them at its periodic cleanup, every
	// offsets.retention.check.interval.ms).
	emptyGroupRetention time.Duration
	maxMetadataBytes    int // offset.metadata.max.bytes

	// KIP-848 consumer groups (cgroup.go): the broker's
	// group.consumer.session.timeout.ms and
	// group.consumer.heartbeat.interval.ms, which members cannot choose,
	// and group.consumer.max.size (0: no limit).
	consumerSessionTimeout    time.Duration
	consumerHeartbeatInterval time.Duration
	consumerMaxSize           int
	// offsetsRetention (offsets.retention.minutes) and how often it is
	// applied (offsets.retention.check.interval.ms); see offset_expiry.go.
	offsetsRetention      time.Duration
	offsetsRetentionCheck time.Duration
	// migrationPolicy is group.consumer.migration.policy
	// (cgroup_classic.go); "" means bidirectional.
	migrationPolicy string
}

var defaultGroupConfig = groupConfig{
	minSessionTimeout:     6 * time.Second,
	maxSessionTimeout:     30 * time.Minute,
	initialRebalanceDelay: 3 * time.Second,
	newMemberJoinTimeout:  5 * time.Minute,
	emptyGroupRetention:   10 * time.Minute,
	maxMetadataBytes:      4096,

	consumerSessionTimeout:    45 * time.Second,
	consumerHeartbeatInterval: 5 * time.Second,
	offsetsRetention:          7 * 24 * time.Hour,
	offsetsRetentionCheck:     10 * time.Minute,
}

// groupConfigOverrides lets a test give one server other settings
// (*Server -> groupConfig); it must be set before the server's first group
// request.
var groupConfigOverrides sync.Map

// coordinators holds each server's coordinator (*Server -> *coordinator).
// Server has no field for it: the coordinator is made on the first group
// request, loading what the store holds, and closed when the server starts
// draining.
var (
	coordinators    sync.Map
	coordinatorInit sync.Mutex
)

// errCoordinatorClosed answers group requests while the server shuts down:
// NOT_COORDINATOR, so clients look for the coordinator again (and find this
// node once it is back).
var errCoordinatorClosed = errors.New("group coordinator is shut down")

// groupCoordinator returns s's coordinator, making and loading it on first
// use.
func (s *Server) groupCoordinator() (*coordinator, error) {
	if v, ok := coordinators.Load(s); ok {
		return v.(*coordinator), nil
	}
	coordinatorInit.Lock()
	defer coordinatorInit.Unlock()
	if v, ok := coordinators.Load(s); ok {
		return v.(*coordinator), nil
	}
	select {
	case <-s.draining:
		return nil, errCoordinatorClosed
	default:
	}
	cfg := s.groupSettings()
	if v, ok := groupConfigOverrides.Load(s); ok {
		cfg = v.(groupConfig).withConsumerDefaults()
	}
	c := &coordinator{s: s, cfg: cfg, groups: map[string]*group{}}
	// The groups loaded serve every later request: no one request's end
	// should cut the load short.
	if err := c.load(context.Background()); err != nil {
		return nil, fmt.Errorf("loading consumer groups: %w", err)
	}
	coordinators.Store(s, c)
	unregister := c.registerMetrics()
	c.startOffsetExpiry()
	go func() {
		<-s.draining
		c.close()
		c.stopOffsetExpiry()
		unregister()
		coordinators.Delete(s)
		groupConfigOverrides.Delete(s)
	}()
	return c, nil
}

// coordinator holds every group of one server.
type coordinator struct {
	s        *Server
	cfg      groupConfig
	counters groupCounters

	mu     sync.Mutex
	groups map[string]*group
	closed bool

	expiry chan struct{} // closed to stop the offset expiry loop
}

// group returns the group called name locked, creating it (Empty) when
// create is set; nil, nil when it does not exist. The caller unlocks it.
func (c *coordinator) group(name string, create bool) (*group, error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return nil, errCoordinatorClosed
		}
		g := c.groups[name]
		if g == nil {
			if !create {
				c.mu.Unlock()
				return nil, nil
			}
			g = newGroup(c, name)
			c.groups[name] = g
		}
		c.mu.Unlock()
		g.mu.Lock()
		if !g.gone {
			return g, nil
		}
		// Removed between the lookup and the lock: look again.
		g.mu.Unlock()
	}
}

// all returns a snapshot of the groups, sorted by name.
func (c *coordinator) all() []*group {
	c.mu.Lock()
	gs := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		gs = append(gs, g)
	}
	c.mu.Unlock()
	sort.Slice(gs, func(i, j int) bool { return gs[i].name < gs[j].name })
	return gs
}

// close answers every parked request with NOT_COORDINATOR and stops every
// timer: the server is going away, and its connections cannot finish while
// a JoinGroup waits.
func (c *coordinator) close() {
	c.mu.Lock()
	c.closed = true
	gs := make([]*group, 0, len(c.groups))
	for _, g := range c.groups {
		gs = append(gs, g)
	}
	c.mu.Unlock()
	for _, g := range gs {
		g.mu.Lock()
		for _, m := range g.members {
			m.answerParked(notCoordinatorCode)
			m.timer.stop()
		}
		g.stopTimers()
		g.stopCGTimers()
		g.gone = true
		g.mu.Unlock()
	}
}

// groupState is a classic group's state; String gives Kafka's names, which
// ListGroups and DescribeGroups report and admin tools match on.
type groupState int8

const (
	groupEmpty groupState = iota
	groupPreparingRebalance
	groupCompletingRebalance
	groupStable
	groupDead
)

func (s groupState) String() string {
	switch s {
	case groupEmpty:
		return "Empty"
	case groupPreparingRebalance:
		return "PreparingRebalance"
	case groupCompletingRebalance:
		return "CompletingRebalance"
	case groupStable:
		return "Stable"
	default:
		return "Dead"
	}
}

// group is one consumer group. Every field is guarded by mu.
type group struct {
	c    *coordinator
	name string

	mu sync.Mutex
	// gone is set when the group was deleted or the coordinator closed:
	// lookups retry, timers do nothing.
	gone bool

	state     groupState
	prevState groupState
	// protocolType is set by the first member ("consumer" for consumers;
	// "" for groups that only hold offsets, which Kafka calls simple).
	protocolType string
	protocol     string // the selected protocol (assignor); "" unless members
	generation   int32
	leader       string

	members map[string]*member
	order   []string // member ids in the order they were added
	// pending are members given an id by MEMBER_ID_REQUIRED that have not
	// joined with it yet (KIP-394), each with a session timer.
	pending map[string]*groupTimer
	static  map[string]string // group.instance.id -> member id
	// pendingSync are members that got the JoinGroup response of this
	// generation but have not sent SyncGroup.
	pendingSync map[string]bool
	// newMemberAdded extends the initial rebalance delay.
	newMemberAdded bool

	joinTimer    groupTimer // join deadline or initial delay
	syncTimer    groupTimer // pending sync deadline
	cleanupTimer groupTimer // removal of an empty group without offsets

	offsets map[string]map[int32]committedOffset // topic -> partition ->

	persisted bool // its metadata record is in the store

	// cg is set while the group uses the KIP-848 consumer protocol
	// (cgroup.go); its members are there, and the classic state stays
	// Empty.
	cg *consumerGroup
	// emptySince is when the group last became empty (or was loaded
	// empty): offsets expire offsetsRetention after it (offset_expiry.go).
	emptySince time.Time
}

func newGroup(c *coordinator, name string) *group {
	return &group{
		c:           c,
		name:        name,
		members:     map[string]*member{},
		pending:     map[string]*groupTimer{},
		static:      map[string]string{},
		pendingSync: map[string]bool{},
		offsets:     map[string]map[int32]committedOffset{},
		emptySince:  time.Now(),
	}
}

// member is one member of a group.
type member struct {
	id           string
	instanceID   *string // static membership (KIP-345)
	clientID     string
	clientHost   string
	protocolType string
	protocols    []kmsg.JoinGroupRequestProtocol
	session      time.Duration
	rebalance    time.Duration
	assignment   []byte

	// isNew is set from its first JoinGroup until that join completes:
	// a parked new member expires after newMemberJoinTimeout.
	isNew bool
	// join and sync are the member's parked JoinGroup and SyncGroup.
	join *parked
	sync *parked

	timer groupTimer // session timeout
}

// parked is a JoinGroup or SyncGroup waiting for the group.
type parked struct {
	req kmsg.Request
	ch  chan kmsg.Response // buffered: answering never blocks
}

func newParked(req kmsg.Request) *parked {
	return &parked{req: req, ch: make(chan kmsg.Response, 1)}
}

func (p *parked) answer(resp kmsg.Response) { p.ch <- resp }

// answerParked answers the member's parked requests, if any, with code.
func (m *member) answerParked(code int16) {
	if m.join != nil {
		resp := m.join.req.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = code
		resp.MemberID = m.id
		m.join.answer(resp)
		m.join = nil
	}
	if m.sync != nil {
		resp := m.sync.req.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = code
		resp.MemberAssignment = []byte{}
		m.sync.answer(resp)
		m.sync = nil
	}
}

// metadataFor returns the member's metadata for protocol.
func (m *member) metadataFor(protocol string) []byte {
	for _, p := range m.protocols {
		if p.Name == protocol {
			return p.Metadata
		}
	}
	return []byte{}
}

// matches reports whether a JoinGroup brings the same protocols and
// metadata: a follower rejoining unchanged needs no rebalance.
func (m *member) matches(protocols []kmsg.JoinGroupRequestProtocol) bool {
	if len(protocols) != len(m.protocols) {
		return false
	}
	for i, p := range protocols {
		if p.Name != m.protocols[i].Name || string(p.Metadata) != string(m.protocols[i].Metadata) {
			return false
		}
	}
	return true
}

// groupTimer is a timer whose callback runs under the group's mutex, and
// not at all once the timer was stopped or rescheduled, or the group is
// gone: a sequence number settles the race between Stop and a callback
// already waiting for the mutex.
type groupTimer struct {
	t   *time.Timer
	seq uint64
}

// schedule (re)arms gt to run fn after d; the caller holds g.mu.
func (g *group) schedule(gt *groupTimer, d time.Duration, fn func()) {
	gt.stop()
	seq := gt.seq
	gt.t = time.AfterFunc(d, func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.gone || gt.seq != seq {
			return
		}
		gt.t = nil
		gt.seq++
		fn()
	})
}

// stop disarms gt; the caller holds the group's mutex.
func (gt *groupTimer) stop() {
	if gt.t != nil {
		gt.t.Stop()
		gt.t = nil
	}
	gt.seq++
}

func (g *group) stopTimers() {
	g.joinTimer.stop()
	g.syncTimer.stop()
	g.cleanupTimer.stop()
	for _, t := range g.pending {
		t.stop()
	}
}

// remove drops g from the coordinator for good (deleted, or empty and
// unneeded). The caller holds g.mu; parked requests must be answered.
func (g *group) remove() {
	for _, m := range g.members {
		m.answerParked(unknownMemberCode)
		m.timer.stop()
	}
	g.stopTimers()
	g.stopCGTimers()
	g.gone = true
	g.state = groupDead
	g.c.mu.Lock()
	if g.c.groups[g.name] == g {
		delete(g.c.groups, g.name)
	}
	g.c.mu.Unlock()
}

// hasOffsets reports whether the group holds any committed offset.
func (g *group) hasOffsets() bool {
	for _, ps := range g.offsets {
		if len(ps) > 0 {
			return true
		}
	}
	return false
}

// maybeRetire removes an empty group that holds nothing: at once if it was
// never stored (a JoinGroup that failed, offsets all deleted), after
// emptyGroupRetention if it was, as Kafka's periodic cleanup would.
func (g *group) maybeRetire() {
	if g.gone || g.state != groupEmpty || len(g.members) > 0 || len(g.pending) > 0 || g.cgHasMembers() || g.hasOffsets() {
		return
	}
	if !g.persisted {
		g.remove()
		return
	}
	g.schedule(&g.cleanupTimer, g.c.cfg.emptyGroupRetention, func() {
		if g.state != groupEmpty || len(g.members) > 0 || len(g.pending) > 0 || g.cgHasMembers() || g.hasOffsets() {
			return
		}
		if err := g.deleteStored(); err != nil {
			g.c.s.log.Warn("kafka: removing empty group failed", "group", g.name, "err", err)
			return
		}
		g.remove()
	})
}

// sortedMembers returns the members in the order they were added: leader
// election and member lists are deterministic.
func (g *group) sortedMembers() []*member {
	ms := make([]*member, 0, len(g.order))
	for _, id := range g.order {
		if m := g.members[id]; m != nil {
			ms = append(ms, m)
		}
	}
	return ms
}

// newMemberID makes a member id the way Kafka does: the client id (or the
// group instance id) and a random UUID.
func newMemberID(clientID string, instanceID *string) string {
	prefix := clientID
	if instanceID != nil {
		prefix = *instanceID
	}
	return prefix + "-" + uuid.NewString()
}

// clientHost is a member's host as Kafka reports it: "/" and the address.
func clientHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		host = a.String()
	}
	return "/" + host
}

// emptyConsumerAssignment is a ConsumerMemberAssignment (version 0) with no
// partitions: what a "consumer" member gets when the leader assigned it
// nothing. Kafka sends zero bytes there, which some clients (kafka-python)
// cannot decode; the encoded empty assignment means the same to every
// client.
var emptyConsumerAssignment = func() []byte {
	a := kmsg.NewConsumerMemberAssignment()
	return a.AppendTo(nil)
}()

// assignmentOrEmpty is what a member is sent for assignment a: never null,
// and for the consumer protocol a decodable empty assignment.
func (g *group) assignmentOrEmpty(a []byte) []byte {
	if len(a) > 0 {
		return a
	}
	if g.protocolType == "consumer" {
		return append([]byte(nil), emptyConsumerAssignment...)
	}
	return []byte{}
}
