package distributed

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/streambridge/bridge/connect/runtime"
)

// ClusterConfig is what the leader assigns from: the config topic's
// connectors with the number of tasks of their last commit record, and the
// offset of the last config record read.
type ClusterConfig struct {
	Offset     int64
	Connectors map[string]int
}

func (c ClusterConfig) work() workSet {
	w := newWorkSet()
	for name, n := range c.Connectors {
		w.conns[name] = struct{}{}
		for i := range n {
			w.tasks[runtime.TaskID{Connector: name, Task: i}] = struct{}{}
		}
	}
	return w
}

// AssignInput is one rebalance as the leader sees it.
type AssignInput struct {
	Leader    string
	LeaderURL string
	// Version is the elected protocol's version (0 eager, 1 compatible, 2 sessioned).
	Version int16
	Members map[string]WorkerState
	Config  ClusterConfig
	// Generation is the one being formed; LastCompleted the last one this
	// leader completed (-1 none): a leader that missed rounds forgets its
	// view of the previous assignment.
	Generation    int32
	LastCompleted int32
}

func sortedMembers(m map[string]WorkerState) []string {
	out := make([]string, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// mismatch answers every member CONFIG_MISMATCH: the leader is behind the
// config topic and must not assign from a stale view.
func mismatch(in AssignInput, maxOffset int64) map[string]Assignment {
	out := map[string]Assignment{}
	for id := range in.Members {
		out[id] = Assignment{Version: in.Version, Error: ConfigMismatch, Leader: in.Leader, LeaderURL: in.LeaderURL, ConfigOffset: maxOffset}
	}
	return out
}

// EagerAssign is Kafka's EagerAssignor: everything is handed out anew,
// round-robin over the members sorted by id: first every connector, then,
// going on round the same circle, every task (connectors sorted, tasks in
// order).
func EagerAssign(in AssignInput) map[string]Assignment {
	members := sortedMembers(in.Members)
	out := map[string]Assignment{}
	for _, id := range members {
		out[id] = Assignment{Version: 0, Leader: in.Leader, LeaderURL: in.LeaderURL, ConfigOffset: in.Config.Offset}
	}
	if len(members) == 0 {
		return out
	}
	names := make([]string, 0, len(in.Config.Connectors))
	for n := range in.Config.Connectors {
		names = append(names, n)
	}
	slices.Sort(names)
	next := 0
	take := func() string { id := members[next%len(members)]; next++; return id }
	for _, name := range names {
		id := take()
		a := out[id]
		a.Connectors = append(a.Connectors, name)
		out[id] = a
	}
	for _, name := range names {
		for i := range in.Config.Connectors[name] {
			id := take()
			a := out[id]
			a.Tasks = append(a.Tasks, runtime.TaskID{Connector: name, Task: i})
			out[id] = a
		}
	}
	return out
}

// IncrementalAssignor is Kafka's IncrementalCooperativeAssignor (KIP-415):
// members keep what they run; only deleted, duplicated and load-balancing
// work is revoked, new work goes to the least loaded, and work of a member
// that left waits up to MaxDelay (scheduled.rebalance.max.delay.ms) for it
// to come back before it is reassigned. It keeps state between rebalances
// and is used by one leader goroutine at a time.
type IncrementalAssignor struct {
	MaxDelay time.Duration
	Now      func() time.Time

	previous           workSet
	previousRevocation workSet
	previousGeneration int32
	previousMembers    map[string]bool
	revokedInPrevious  bool
	successiveRevoking int
	candidates         []string
	scheduled          time.Time
	delay              time.Duration
	initialized        bool
}

func (a *IncrementalAssignor) init() {
	if a.initialized {
		return
	}
	a.initialized = true
	a.previous = newWorkSet()
	a.previousRevocation = newWorkSet()
	a.previousGeneration = -1
	if a.Now == nil {
		a.Now = time.Now
	}
}

// Assign computes every member's incremental assignment.
func (a *IncrementalAssignor) Assign(in AssignInput) map[string]Assignment {
	a.init()
	if a.previousGeneration != in.LastCompleted {
		a.previous = newWorkSet()
	}
	members := sortedMembers(in.Members)
	held := map[string]workSet{}
	active := newWorkSet()
	for _, id := range members {
		var w workSet
		if s := in.Members[id].Assignment; s != nil {
			w = workOf(s.Connectors, s.Tasks)
		} else {
			w = newWorkSet()
		}
		held[id] = w
		active.addSet(w)
	}
	configured := in.Config.work()

	// A revocation that did not take effect: start again from what runs.
	if !a.previousRevocation.empty() {
		if !a.previousRevocation.intersect(active).empty() {
			a.previous = workOf(active.connList(), active.taskList())
		}
		a.previousRevocation = newWorkSet()
	}
	// Deleted: what was or is assigned but is no longer configured.
	union := workOf(a.previous.connList(), a.previous.taskList())
	union.addSet(active)
	deleted := union.minus(configured)
	duplicated := duplicates(members, held)
	lost := a.previous.minus(active, deleted)
	created := configured.minus(a.previous, active)

	toRevoke := map[string]workSet{}
	revoke := func(id string, w workSet) {
		if w.empty() {
			return
		}
		if toRevoke[id].conns == nil {
			toRevoke[id] = newWorkSet()
		}
		toRevoke[id].addSet(w)
	}
	current := map[string]workSet{}
	next := make([]*workerLoad, 0, len(members))
	for _, id := range members {
		revoke(id, held[id].intersect(deleted))
		revoke(id, held[id].intersect(duplicated))
		current[id] = held[id].minus(deleted)
		l := &workerLoad{worker: id, conns: held[id].connList(), tasks: held[id].taskList()}
		if r, ok := toRevoke[id]; ok {
			l.remove(r)
		}
		next = append(next, l)
	}

	toAssign := workOf(created.connList(), created.taskList())
	a.handleLost(lost, toAssign, next)

	if a.delay == 0 {
		lb := balanceRevocations(configured, next)
		switch {
		case a.revokedInPrevious && len(lb) > 0:
			a.successiveRevoking++
			a.delay = a.backoff(a.successiveRevoking)
			if a.delay != 0 {
				a.scheduled = a.Now().Add(a.delay)
			} else {
				for _, l := range next {
					if r, ok := lb[l.worker]; ok {
						revoke(l.worker, r)
						l.remove(r)
					}
				}
			}
		case len(lb) > 0:
			for _, l := range next {
				if r, ok := lb[l.worker]; ok {
					revoke(l.worker, r)
					l.remove(r)
				}
			}
			a.revokedInPrevious = true
		case a.revokedInPrevious:
			a.revokedInPrevious = false
			a.successiveRevoking = 0
		}
	} else {
		a.revokedInPrevious = false
	}

	assignLeastLoaded(next, toAssign)

	out := map[string]Assignment{}
	prev := newWorkSet()
	for _, l := range next {
		now := workOf(l.conns, l.tasks)
		prev.addSet(now)
		added := now.minus(current[l.worker])
		asg := Assignment{
			Version: in.Version, Leader: in.Leader, LeaderURL: in.LeaderURL, ConfigOffset: in.Config.Offset,
			Connectors: added.connList(), Tasks: added.taskList(), Delay: int32(a.delay / time.Millisecond),
		}
		if r, ok := toRevoke[l.worker]; ok {
			asg.RevokedConnectors, asg.RevokedTasks = r.connList(), r.taskList()
			a.previousRevocation.addSet(r)
		}
		out[l.worker] = asg
	}
	prev.addSet(lost)
	a.previous = prev
	a.previousGeneration = in.Generation
	a.previousMembers = map[string]bool{}
	for _, id := range members {
		a.previousMembers[id] = true
	}
	return out
}

// handleLost decides whether work whose owner disappeared is reassigned
// now (added to toAssign, or given straight to the members that joined
// empty while it waited) or waits for the scheduled rebalance.
func (a *IncrementalAssignor) handleLost(lost, toAssign workSet, next []*workerLoad) {
	if lost.empty() && !a.revokedInPrevious {
		a.resetDelay()
		return
	}
	now := a.Now()
	allBack := true
	present := map[string]*workerLoad{}
	for _, l := range next {
		present[l.worker] = l
	}
	for id := range a.previousMembers {
		if present[id] == nil {
			allBack = false
		}
	}
	switch {
	case a.scheduled.IsZero() && allBack:
		// Nobody left: the work is missing because a member missed the
		// last assignment. Hand it out as new.
		toAssign.addSet(lost)
		return
	case a.MaxDelay == 0:
		toAssign.addSet(lost)
		return
	}
	if !a.scheduled.IsZero() && !now.Before(a.scheduled) {
		var picked []*workerLoad
		for _, id := range a.candidates {
			if l := present[id]; l != nil {
				picked = append(picked, l)
			}
		}
		if len(picked) > 0 {
			for i, c := range lost.connList() {
				picked[i%len(picked)].conns = append(picked[i%len(picked)].conns, c)
			}
			for i, t := range lost.taskList() {
				picked[i%len(picked)].tasks = append(picked[i%len(picked)].tasks, t)
			}
		} else {
			toAssign.addSet(lost)
		}
		a.resetDelay()
		a.revokedInPrevious = false
		return
	}
	for _, l := range next {
		if l.empty() && !slices.Contains(a.candidates, l.worker) {
			a.candidates = append(a.candidates, l.worker)
		}
	}
	if now.Before(a.scheduled) {
		a.delay = min(a.scheduled.Sub(now), a.MaxDelay)
	} else {
		a.delay = a.MaxDelay
	}
	a.scheduled = now.Add(a.delay)
}

func (a *IncrementalAssignor) resetDelay() {
	a.candidates = nil
	a.scheduled = time.Time{}
	a.delay = 0
}

// backoff is Kafka's ExponentialBackoff(1 ms, ×40, MaxDelay, no jitter)
// for successive rebalances that each revoke to balance load.
func (a *IncrementalAssignor) backoff(attempts int) time.Duration {
	maxMs := float64(a.MaxDelay / time.Millisecond)
	if maxMs <= 0 {
		return 0
	}
	expMax := 0.0
	if maxMs > 1 {
		expMax = math.Log(maxMs) / math.Log(40)
	}
	term := math.Pow(40, math.Min(float64(attempts), expMax))
	return time.Duration(math.Min(term, maxMs)) * time.Millisecond
}

// duplicates returns what more than one member holds.
func duplicates(members []string, held map[string]workSet) workSet {
	conns := map[string]int{}
	tasks := map[runtime.TaskID]int{}
	for _, id := range members {
		for c := range held[id].conns {
			conns[c]++
		}
		for t := range held[id].tasks {
			tasks[t]++
		}
	}
	out := newWorkSet()
	for c, n := range conns {
		if n > 1 {
			out.conns[c] = struct{}{}
		}
	}
	for t, n := range tasks {
		if n > 1 {
			out.tasks[t] = struct{}{}
		}
	}
	return out
}

// balanceRevocations revokes from each worker what it runs beyond a
// perfectly balanced share (Kafka's performLoadBalancingRevocations).
func balanceRevocations(configured workSet, workers []*workerLoad) map[string]workSet {
	out := map[string]workSet{}
	if configured.empty() || !slices.ContainsFunc(workers, func(l *workerLoad) bool { return !l.empty() }) {
		return out
	}
	get := func(id string) workSet {
		if _, ok := out[id]; !ok {
			out[id] = newWorkSet()
		}
		return out[id]
	}
	for id, cs := range excess(len(configured.conns), workers, func(l *workerLoad) []string { return l.conns }) {
		get(id).add(cs, nil)
	}
	for id, ts := range excess(len(configured.tasks), workers, func(l *workerLoad) []runtime.TaskID { return l.tasks }) {
		get(id).add(nil, ts)
	}
	return out
}

func excess[E any](total int, workers []*workerLoad, of func(*workerLoad) []E) map[string][]E {
	n := len(workers)
	minEach, extras := total/n, total%n
	atMin, atExtra := 0, 0
	for _, l := range workers {
		switch len(of(l)) {
		case minEach:
			atMin++
		case minEach + 1:
			atExtra++
		}
	}
	out := map[string][]E{}
	if atExtra == extras && atMin+atExtra == n {
		return out
	}
	given := 0
	for _, l := range workers {
		have := len(of(l))
		if have <= minEach {
			continue
		}
		limit := minEach
		if given < extras {
			given++
			if have == minEach+1 {
				continue
			}
			limit = minEach + 1
		}
		out[l.worker] = slices.Clone(of(l)[:have-limit])
	}
	return out
}

// assignLeastLoaded gives each connector, then each task, to the worker
// running the fewest of its kind (ties to the lowest id).
func assignLeastLoaded(workers []*workerLoad, w workSet) {
	if len(workers) == 0 {
		return
	}
	least := func(size func(*workerLoad) int) *workerLoad {
		return slices.MinFunc(workers, func(x, y *workerLoad) int {
			if c := cmp.Compare(size(x), size(y)); c != 0 {
				return c
			}
			return cmp.Compare(x.worker, y.worker)
		})
	}
	for _, c := range w.connList() {
		l := least(func(l *workerLoad) int { return len(l.conns) })
		l.conns = append(l.conns, c)
	}
	for _, t := range w.taskList() {
		l := least(func(l *workerLoad) int { return len(l.tasks) })
		l.tasks = append(l.tasks, t)
	}
}
