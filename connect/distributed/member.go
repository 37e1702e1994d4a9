package distributed

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/connect/runtime"
)

// MemberConfig configures a worker's group membership (Kafka Connect's
// DistributedConfig names in parentheses).
type MemberConfig struct {
	GroupID string // group.id, required
	URL     string // this worker's advertised REST URL, sent to the leader
	// Protocol is connect.protocol: "sessioned" (default), "compatible" or
	// "eager". A worker offers its protocol and every older one; the
	// coordinator elects one all members offer.
	Protocol          string
	SessionTimeout    time.Duration // session.timeout.ms, 10 s
	RebalanceTimeout  time.Duration // rebalance.timeout.ms, 60 s
	HeartbeatInterval time.Duration // heartbeat.interval.ms, 3 s
	// MaxDelay is scheduled.rebalance.max.delay.ms (5 min): how long the
	// leader holds a departed member's work for it. Negative means 0.
	MaxDelay time.Duration
	// Config returns the config topic as this worker read it; required.
	Config func() ClusterConfig
	// CatchUp reads the config topic to its end (ConfigStore.ReadToEnd);
	// called when the leader is behind another member or an assignment
	// says CONFIG_MISMATCH. Optional.
	CatchUp func(ctx context.Context) error
	// OnAssignment hears every completed rebalance, and in the eager
	// protocol the revocation of everything before each rejoin. It runs on
	// the member's goroutine and must stop revoked work before returning:
	// the member rejoins right after.
	OnAssignment func(Change)
	Now          func() time.Time              // for tests; time.Now
	Logf         func(format string, a ...any) // optional
}

// Change is one step of a member's assignment.
type Change struct {
	Generation   int32
	MemberID     string
	Protocol     string
	Leader       string
	LeaderURL    string
	ConfigOffset int64
	Error        int16 // ConfigMismatch: nothing changed; the member catches up and rejoins
	Delay        time.Duration

	Assigned      []string
	AssignedTasks []runtime.TaskID
	Revoked       []string
	RevokedTasks  []runtime.TaskID
}

// Member is one worker in a Connect group: it joins with JoinGroup/SyncGroup
// (protocol type "connect") through kgo's coordinator routing, assigns when
// it is the leader, heartbeats in the background, rejoins when the group
// rebalances, when it was asked to revoke work or when a scheduled delay
// ends, and leaves cleanly on Close.
type Member struct {
	cl     *kgo.Client
	cfg    MemberConfig
	cancel context.CancelFunc
	done   chan struct{}
	rejoin chan struct{}

	assignor IncrementalAssignor
	contact  time.Time // last completed round or heartbeat (run's goroutine only)

	mu         sync.Mutex
	memberID   string
	generation int32
	lastDone   int32  // generation of the last completed SyncGroup, -1 none
	protocol   string // elected in the last completed round
	current    *Assignment
	running    workSet
}

// NewMember starts joining. cl must reach the cluster; the member does not
// close it.
func NewMember(cl *kgo.Client, cfg MemberConfig) (*Member, error) {
	if cfg.GroupID == "" {
		return nil, errors.New("group.id is required")
	}
	if cfg.Config == nil || cfg.OnAssignment == nil {
		return nil, errors.New("distributed: MemberConfig needs Config and OnAssignment")
	}
	switch cfg.Protocol {
	case "":
		cfg.Protocol = "sessioned"
	case "sessioned", "compatible", "eager":
	default:
		return nil, fmt.Errorf("Invalid value %s for configuration connect.protocol: String must be one of: eager, compatible, sessioned", cfg.Protocol)
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.SessionTimeout, 10*time.Second)
	def(&cfg.RebalanceTimeout, time.Minute)
	def(&cfg.HeartbeatInterval, 3*time.Second)
	def(&cfg.MaxDelay, 5*time.Minute)
	if cfg.MaxDelay < 0 {
		cfg.MaxDelay = 0
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Member{
		cl: cl, cfg: cfg, cancel: cancel, done: make(chan struct{}), rejoin: make(chan struct{}, 1),
		assignor: IncrementalAssignor{MaxDelay: cfg.MaxDelay, Now: cfg.Now},
		lastDone: -1, generation: -1, running: newWorkSet(),
	}
	go m.run(ctx)
	return m, nil
}

// RequestRejoin makes the member rejoin, as a worker does when its config
// changed (a new connector or task count).
func (m *Member) RequestRejoin() {
	select {
	case m.rejoin <- struct{}{}:
	default:
	}
}

// Running returns what this member runs now and the generation of the last
// assignment its OnAssignment has finished handling.
func (m *Member) Running() (connectors []string, tasks []runtime.TaskID, generation int32) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.running.connList(), m.running.taskList(), m.lastDone
}

// Close leaves the group (LeaveGroup) after stopping the member's loop.
func (m *Member) Close(ctx context.Context) error {
	m.cancel()
	<-m.done
	m.mu.Lock()
	id := m.memberID
	m.mu.Unlock()
	if id == "" {
		return nil
	}
	req := kmsg.NewPtrLeaveGroupRequest()
	req.Group = m.cfg.GroupID
	req.MemberID = id
	mem := kmsg.NewLeaveGroupRequestMember()
	mem.MemberID = id
	req.Members = append(req.Members, mem)
	resp, err := req.RequestWith(ctx, m.cl)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil && !errors.Is(err, kerr.UnknownMemberID) {
		return err
	}
	return nil
}

// Kill stops the member without leaving: the coordinator notices only when
// the session times out, as after a crash.
func (m *Member) Kill() {
	m.cancel()
	<-m.done
}

func (m *Member) run(ctx context.Context) {
	defer close(m.done)
	m.contact = m.cfg.Now()
	for ctx.Err() == nil {
		wait, err := m.joinAndSync(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			m.cfg.Logf("connect group %s: %v", m.cfg.GroupID, err)
			m.revokeIfCutOff()
			sleep(ctx, min(m.cfg.HeartbeatInterval, time.Second))
			continue
		}
		m.contact = m.cfg.Now()
		m.heartbeat(ctx, wait)
	}
}

// revokeIfCutOff stops everything once the member has been out of the
// group longer than the scheduled rebalance delay: by then the leader has
// given its work to others (KAFKA-9184), and running it twice is worse
// than not running it until the member is back.
func (m *Member) revokeIfCutOff() {
	m.mu.Lock()
	idle := m.running.empty()
	m.mu.Unlock()
	if !idle && m.cfg.Now().Sub(m.contact) > max(m.cfg.MaxDelay, m.cfg.SessionTimeout) {
		m.cfg.Logf("connect group %s: out of the group for longer than %s; stopping all connectors and tasks", m.cfg.GroupID, m.cfg.MaxDelay)
		m.revokeAll()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// protocols lists what this member offers, most preferred first.
func (m *Member) protocols() []kmsg.JoinGroupRequestProtocol {
	offset := m.cfg.Config().Offset // outside m.mu: it is the caller's code
	m.mu.Lock()
	state := WorkerState{URL: m.cfg.URL, ConfigOffset: offset, Assignment: m.current}
	m.mu.Unlock()
	var names []string
	switch m.cfg.Protocol {
	case "sessioned":
		names = []string{ProtocolSessioned, ProtocolCompatible, ProtocolEager}
	case "compatible":
		names = []string{ProtocolCompatible, ProtocolEager}
	default:
		names = []string{ProtocolEager}
	}
	out := make([]kmsg.JoinGroupRequestProtocol, 0, len(names))
	for _, n := range names {
		v, _ := protocolVersion(n)
		p := kmsg.NewJoinGroupRequestProtocol()
		p.Name = n
		p.Metadata = EncodeWorkerState(v, state)
		out = append(out, p)
	}
	return out
}

// rejoinWait says when the member must rejoin without being told: now
// (revocations to confirm) or after a scheduled delay.
type rejoinWait struct {
	now   bool
	delay time.Duration
}

func (m *Member) joinAndSync(ctx context.Context) (rejoinWait, error) {
	m.mu.Lock()
	eager := m.protocol == ProtocolEager && !m.running.empty()
	m.mu.Unlock()
	if eager {
		m.revokeAll()
	}
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group = m.cfg.GroupID
	join.SessionTimeoutMillis = int32(m.cfg.SessionTimeout / time.Millisecond)
	join.RebalanceTimeoutMillis = int32(m.cfg.RebalanceTimeout / time.Millisecond)
	join.ProtocolType = ProtocolType
	var resp *kmsg.JoinGroupResponse
	for {
		m.mu.Lock()
		join.MemberID = m.memberID
		m.mu.Unlock()
		join.Protocols = m.protocols()
		var err error
		resp, err = join.RequestWith(ctx, m.cl)
		if err != nil {
			return rejoinWait{}, fmt.Errorf("JoinGroup: %w", err)
		}
		switch err := kerr.ErrorForCode(resp.ErrorCode); {
		case err == nil:
		case errors.Is(err, kerr.MemberIDRequired):
			m.setMember(resp.MemberID, -1)
			continue
		case errors.Is(err, kerr.UnknownMemberID):
			m.setMember("", -1)
			continue
		default:
			return rejoinWait{}, fmt.Errorf("JoinGroup: %w", err)
		}
		break
	}
	m.setMember(resp.MemberID, resp.Generation)
	protocol := ""
	if resp.Protocol != nil {
		protocol = *resp.Protocol
	}
	version, ok := protocolVersion(protocol)
	if !ok {
		return rejoinWait{}, fmt.Errorf("JoinGroup: the coordinator elected unknown protocol %q", protocol)
	}

	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group = m.cfg.GroupID
	sync.Generation = resp.Generation
	sync.MemberID = resp.MemberID
	sync.ProtocolType = kmsg.StringPtr(ProtocolType)
	sync.Protocol = kmsg.StringPtr(protocol)
	if resp.LeaderID == resp.MemberID {
		assignments, err := m.lead(ctx, resp, version)
		if err != nil {
			return rejoinWait{}, err
		}
		for id, a := range assignments {
			ga := kmsg.NewSyncGroupRequestGroupAssignment()
			ga.MemberID = id
			ga.MemberAssignment = EncodeAssignment(a)
			sync.GroupAssignment = append(sync.GroupAssignment, ga)
		}
	}
	sresp, err := sync.RequestWith(ctx, m.cl)
	if err != nil {
		return rejoinWait{}, fmt.Errorf("SyncGroup: %w", err)
	}
	if err := kerr.ErrorForCode(sresp.ErrorCode); err != nil {
		if errors.Is(err, kerr.UnknownMemberID) {
			m.setMember("", -1)
		}
		return rejoinWait{}, fmt.Errorf("SyncGroup: %w", err)
	}
	a, err := DecodeAssignment(sresp.MemberAssignment)
	if err != nil {
		return rejoinWait{}, fmt.Errorf("SyncGroup: %w", err)
	}
	return m.apply(ctx, resp.Generation, protocol, a), nil
}

func (m *Member) setMember(id string, generation int32) {
	m.mu.Lock()
	m.memberID, m.generation = id, generation
	m.mu.Unlock()
}

// lead computes the group's assignments from the members' metadata.
func (m *Member) lead(ctx context.Context, resp *kmsg.JoinGroupResponse, version int16) (map[string]Assignment, error) {
	in := AssignInput{Leader: resp.MemberID, Version: version, Members: map[string]WorkerState{}, Generation: resp.Generation}
	var maxOffset int64 = -1
	for _, mem := range resp.Members {
		s, err := DecodeWorkerState(mem.ProtocolMetadata)
		if err != nil {
			// Failing the round would stall the whole group on one
			// member: count it as running nothing at config offset -1.
			m.cfg.Logf("connect group %s: member %s: %v", m.cfg.GroupID, mem.MemberID, err)
			s = WorkerState{ConfigOffset: -1}
		}
		in.Members[mem.MemberID] = s
		maxOffset = max(maxOffset, s.ConfigOffset)
	}
	in.LeaderURL = in.Members[resp.MemberID].URL
	in.Config = m.cfg.Config()
	if in.Config.Offset < maxOffset && m.cfg.CatchUp != nil {
		if err := m.cfg.CatchUp(ctx); err != nil {
			return nil, err
		}
		in.Config = m.cfg.Config()
	}
	if in.Config.Offset < maxOffset {
		return mismatch(in, maxOffset), nil
	}
	m.mu.Lock()
	in.LastCompleted = m.lastDone
	m.mu.Unlock()
	if version == 0 {
		return EagerAssign(in), nil
	}
	return m.assignor.Assign(in), nil
}

// apply folds a into what the member runs and tells the listener.
func (m *Member) apply(ctx context.Context, generation int32, protocol string, a Assignment) rejoinWait {
	m.mu.Lock()
	ch := Change{
		Generation: generation, MemberID: m.memberID, Protocol: protocol, Leader: a.Leader, LeaderURL: a.LeaderURL,
		ConfigOffset: a.ConfigOffset, Error: a.Error, Delay: time.Duration(a.Delay) * time.Millisecond,
	}
	m.protocol = protocol
	if a.Error != NoError {
		m.mu.Unlock()
		m.cfg.OnAssignment(ch)
		if m.cfg.CatchUp != nil {
			if err := m.cfg.CatchUp(ctx); err != nil {
				m.cfg.Logf("connect group %s: reading the config topic: %v", m.cfg.GroupID, err)
			}
		}
		return rejoinWait{now: true}
	}
	if protocol == ProtocolEager {
		m.running = workOf(a.Connectors, a.Tasks)
		ch.Assigned, ch.AssignedTasks = slices.Clone(a.Connectors), slices.Clone(a.Tasks)
	} else {
		revoked := workOf(a.RevokedConnectors, a.RevokedTasks).intersect(m.running)
		m.running = m.running.minus(revoked)
		m.running.add(a.Connectors, a.Tasks)
		ch.Assigned, ch.AssignedTasks = slices.Clone(a.Connectors), slices.Clone(a.Tasks)
		ch.Revoked, ch.RevokedTasks = revoked.connList(), revoked.taskList()
	}
	full := a
	full.Connectors, full.Tasks = m.running.connList(), m.running.taskList()
	m.current = &full
	m.mu.Unlock()
	m.cfg.OnAssignment(ch)
	// Running reports the new generation only once the listener acted on it.
	m.mu.Lock()
	m.lastDone = generation
	m.mu.Unlock()
	return rejoinWait{now: protocol != ProtocolEager && (len(a.RevokedConnectors) > 0 || len(a.RevokedTasks) > 0), delay: ch.Delay}
}

// revokeAll tells the listener everything stops (eager rebalances).
func (m *Member) revokeAll() {
	m.mu.Lock()
	ch := Change{Generation: m.lastDone, MemberID: m.memberID, Protocol: m.protocol,
		Revoked: m.running.connList(), RevokedTasks: m.running.taskList()}
	m.running = newWorkSet()
	m.current = nil
	m.mu.Unlock()
	m.cfg.OnAssignment(ch)
}

// heartbeat keeps the membership alive until the group rebalances, the
// member is told to rejoin, or its scheduled delay ends.
func (m *Member) heartbeat(ctx context.Context, wait rejoinWait) {
	if wait.now {
		return
	}
	var delayC <-chan time.Time
	if wait.delay > 0 {
		t := time.NewTimer(wait.delay)
		defer t.Stop()
		delayC = t.C
	}
	tick := time.NewTicker(m.cfg.HeartbeatInterval)
	defer tick.Stop()
	lastOK := m.cfg.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.rejoin:
			return
		case <-delayC:
			return
		case <-tick.C:
		}
		m.mu.Lock()
		req := kmsg.NewPtrHeartbeatRequest()
		req.Group, req.Generation, req.MemberID = m.cfg.GroupID, m.generation, m.memberID
		m.mu.Unlock()
		// A heartbeat answered after the session ended is worthless: wait
		// no longer than a session, so a stalled request ends in a rejoin
		// (and, past the scheduled delay, in revokeIfCutOff) rather than
		// in a member that silently runs work the group gave to others.
		hctx, cancel := context.WithTimeout(ctx, m.cfg.SessionTimeout)
		resp, err := req.RequestWith(hctx, m.cl)
		cancel()
		if err != nil {
			if m.cfg.Now().Sub(lastOK) > m.cfg.SessionTimeout {
				m.cfg.Logf("connect group %s: no heartbeat answered for %s: %v", m.cfg.GroupID, m.cfg.SessionTimeout, err)
				return
			}
			continue
		}
		switch err := kerr.ErrorForCode(resp.ErrorCode); {
		case err == nil:
			lastOK = m.cfg.Now()
			m.contact = lastOK
		case errors.Is(err, kerr.RebalanceInProgress):
			return
		case errors.Is(err, kerr.UnknownMemberID), errors.Is(err, kerr.FencedInstanceID):
			// The session expired: join again as a new member, offering what
			// this worker still runs so the leader can sort out duplicates.
			m.cfg.Logf("connect group %s: heartbeat: %v; joining again", m.cfg.GroupID, err)
			m.setMember("", -1)
			return
		default:
			m.cfg.Logf("connect group %s: heartbeat: %v", m.cfg.GroupID, err)
			return
		}
	}
}
