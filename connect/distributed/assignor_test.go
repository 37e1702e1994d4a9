package distributed

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect/runtime"
)

func tid(c string, n int) runtime.TaskID { return runtime.TaskID{Connector: c, Task: n} }

func TestEagerAssign(t *testing.T) {
	in := AssignInput{Leader: "a", LeaderURL: "http://a", Config: ClusterConfig{Offset: 9, Connectors: map[string]int{"c1": 2, "c2": 1}},
		Members: map[string]WorkerState{"a": {}, "b": {}, "c": {}}}
	got := EagerAssign(in)
	// Kafka's EagerAssignor: sorted members in a circle; the connectors,
	// then the tasks, going on round the same circle.
	want := map[string]Assignment{
		"a": {Leader: "a", LeaderURL: "http://a", ConfigOffset: 9, Connectors: []string{"c1"}, Tasks: []runtime.TaskID{tid("c1", 1)}},
		"b": {Leader: "a", LeaderURL: "http://a", ConfigOffset: 9, Connectors: []string{"c2"}, Tasks: []runtime.TaskID{tid("c2", 0)}},
		"c": {Leader: "a", LeaderURL: "http://a", ConfigOffset: 9, Tasks: []runtime.TaskID{tid("c1", 0)}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

// group simulates members that apply incremental assignments as Member
// does, and rejoin at once after a revocation.
type group struct {
	t        *testing.T
	assignor *IncrementalAssignor
	clock    *time.Time
	members  map[string]workSet
	gen      int32
	last     int32
	delay    int32
}

func newGroup(t *testing.T, maxDelay time.Duration, members ...string) *group {
	clock := time.Unix(1000, 0)
	g := &group{t: t, clock: &clock, members: map[string]workSet{}, last: -1}
	g.assignor = &IncrementalAssignor{MaxDelay: maxDelay, Now: func() time.Time { return *g.clock }}
	for _, m := range members {
		g.members[m] = newWorkSet()
	}
	return g
}

// round runs one rebalance and reports whether anything was revoked.
func (g *group) round(cfg ClusterConfig) bool {
	g.gen++
	in := AssignInput{Leader: "leader", Version: 2, Config: cfg, Generation: g.gen, LastCompleted: g.last, Members: map[string]WorkerState{}}
	for id, w := range g.members {
		in.Members[id] = WorkerState{Assignment: &Assignment{Connectors: w.connList(), Tasks: w.taskList()}}
	}
	out := g.assignor.Assign(in)
	// Cooperative: nothing is handed to a member while another still runs
	// it; revoked work moves only in a later round.
	for id, a := range out {
		for other, w := range g.members {
			if other == id {
				continue
			}
			for _, c := range a.Connectors {
				if w.hasConn(c) {
					g.t.Fatalf("connector %s given to %s while %s runs it", c, id, other)
				}
			}
			for _, tk := range a.Tasks {
				if w.hasTask(tk) {
					g.t.Fatalf("task %v given to %s while %s runs it", tk, id, other)
				}
			}
		}
	}
	revoked := false
	for id, a := range out {
		w := g.members[id].minus(workOf(a.RevokedConnectors, a.RevokedTasks))
		w.add(a.Connectors, a.Tasks)
		g.members[id] = w
		revoked = revoked || len(a.RevokedConnectors)+len(a.RevokedTasks) > 0
		g.delay = a.Delay
	}
	g.last = g.gen
	return revoked
}

// settle runs rounds until no member has revocations to confirm.
func (g *group) settle(cfg ClusterConfig) {
	for range 10 {
		if !g.round(cfg) {
			return
		}
	}
	g.t.Fatal("no stable assignment after 10 rounds")
}

// owners maps each piece of work to the members running it.
func (g *group) owners() map[string][]string {
	out := map[string][]string{}
	for id, w := range g.members {
		for _, c := range w.connList() {
			out[c] = append(out[c], id)
		}
		for _, t := range w.taskList() {
			k := fmt.Sprintf("%s-%d", t.Connector, t.Task)
			out[k] = append(out[k], id)
		}
	}
	return out
}

// checkOnce fails unless every configured piece runs exactly once and
// nothing else runs.
func (g *group) checkOnce(cfg ClusterConfig) {
	g.t.Helper()
	owners := g.owners()
	want := cfg.work()
	for _, c := range want.connList() {
		if len(owners[c]) != 1 {
			g.t.Fatalf("connector %s runs on %v", c, owners[c])
		}
		delete(owners, c)
	}
	for _, t := range want.taskList() {
		k := fmt.Sprintf("%s-%d", t.Connector, t.Task)
		if len(owners[k]) != 1 {
			g.t.Fatalf("task %s runs on %v", k, owners[k])
		}
		delete(owners, k)
	}
	if len(owners) > 0 {
		g.t.Fatalf("runs what is not configured: %v", owners)
	}
}

func (g *group) loads() []int {
	var out []int
	for _, id := range slices.Sorted(func(yield func(string) bool) {
		for id := range g.members {
			if !yield(id) {
				return
			}
		}
	}) {
		out = append(out, len(g.members[id].conns)+len(g.members[id].tasks))
	}
	return out
}

func cfg3() ClusterConfig {
	return ClusterConfig{Offset: 10, Connectors: map[string]int{"a": 3, "b": 3, "c": 3}}
}

func TestIncrementalAssignor(t *testing.T) {
	const maxDelay = time.Minute
	tests := []struct {
		name string
		run  func(t *testing.T, g *group)
	}{
		{"fresh group balanced", func(t *testing.T, g *group) {
			if g.round(cfg3()) {
				t.Fatal("a fresh group revoked something")
			}
			g.checkOnce(cfg3())
			if l := g.loads(); !reflect.DeepEqual(l, []int{4, 4, 4}) {
				t.Fatalf("loads %v", l)
			}
		}},
		{"joiner gets a share, others keep the rest", func(t *testing.T, g *group) {
			g.settle(cfg3())
			before := g.owners()
			g.members["w4"] = newWorkSet()
			g.settle(cfg3())
			g.checkOnce(cfg3())
			moved := 0
			for k, o := range g.owners() {
				if o[0] != before[k][0] {
					moved++
					if o[0] != "w4" {
						t.Fatalf("%s moved between old members: %v → %v", k, before[k], o)
					}
				}
			}
			// Connectors and tasks balance apart: 3 connectors over 4
			// members leave the joiner none, 9 tasks give it 2.
			if moved != 2 {
				t.Fatalf("%d pieces moved to the joiner, want 2", moved)
			}
		}},
		{"departed member's work waits for the delay", func(t *testing.T, g *group) {
			g.settle(cfg3())
			gone := g.members["w2"]
			delete(g.members, "w2")
			g.round(cfg3())
			if g.delay != int32(maxDelay/time.Millisecond) {
				t.Fatalf("delay %d", g.delay)
			}
			for k, o := range g.owners() {
				if len(o) != 1 {
					t.Fatalf("%s on %v", k, o)
				}
			}
			if n := len(g.owners()); n != 12-len(gone.conns)-len(gone.tasks) {
				t.Fatalf("lost work reassigned before the delay: %d pieces run", n)
			}
			*g.clock = g.clock.Add(maxDelay)
			g.settle(cfg3())
			g.checkOnce(cfg3())
		}},
		{"member back within the delay gets the lost work", func(t *testing.T, g *group) {
			g.settle(cfg3())
			delete(g.members, "w3")
			g.round(cfg3())
			*g.clock = g.clock.Add(maxDelay / 2)
			g.members["w3-new"] = newWorkSet()
			g.round(cfg3())
			if g.delay <= 0 || g.delay > int32(maxDelay/2/time.Millisecond) {
				t.Fatalf("remaining delay %d", g.delay)
			}
			*g.clock = g.clock.Add(maxDelay / 2)
			g.settle(cfg3())
			g.checkOnce(cfg3())
			if n := len(g.members["w3-new"].conns) + len(g.members["w3-new"].tasks); n != 4 {
				t.Fatalf("the returning member runs %d pieces, want the 4 lost", n)
			}
		}},
		{"deleted connector revoked", func(t *testing.T, g *group) {
			g.settle(cfg3())
			cfg := ClusterConfig{Offset: 11, Connectors: map[string]int{"a": 3, "b": 3}}
			if !g.round(cfg) {
				t.Fatal("nothing revoked")
			}
			g.settle(cfg)
			g.checkOnce(cfg)
		}},
		{"fewer tasks revoked", func(t *testing.T, g *group) {
			g.settle(cfg3())
			cfg := ClusterConfig{Offset: 11, Connectors: map[string]int{"a": 1, "b": 3, "c": 3}}
			g.settle(cfg)
			g.checkOnce(cfg)
		}},
		{"duplicates revoked then reassigned once", func(t *testing.T, g *group) {
			g.settle(cfg3())
			w1 := g.members["w1"]
			g.members["w2"].addSet(w1)
			g.settle(cfg3())
			g.checkOnce(cfg3())
		}},
		{"leader change forgets the previous view", func(t *testing.T, g *group) {
			g.settle(cfg3())
			delete(g.members, "w1")
			g.assignor = &IncrementalAssignor{MaxDelay: maxDelay, Now: g.assignor.Now}
			g.settle(cfg3())
			g.checkOnce(cfg3())
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newGroup(t, maxDelay, "w1", "w2", "w3"))
		})
	}
}

func TestIncrementalAssignorNoDelay(t *testing.T) {
	g := newGroup(t, 0, "w1", "w2", "w3")
	g.settle(cfg3())
	delete(g.members, "w1")
	g.settle(cfg3())
	g.checkOnce(cfg3())
	if g.delay != 0 {
		t.Fatalf("delay %d with scheduled.rebalance.max.delay.ms=0", g.delay)
	}
}

func TestBackoff(t *testing.T) {
	a := IncrementalAssignor{MaxDelay: 5 * time.Minute}
	for i, want := range []time.Duration{40 * time.Millisecond, 1600 * time.Millisecond, 64 * time.Second, 5 * time.Minute, 5 * time.Minute} {
		if got := a.backoff(i + 1); got != want {
			t.Errorf("backoff(%d) = %v, want %v", i+1, got, want)
		}
	}
}

// Random histories of joins, departures, config changes and time passing:
// whatever happened, once the delay has passed and the group settled,
// every piece runs exactly once, and no round ever gives a member what
// another runs (checked in round).
func TestIncrementalAssignorRandomHistories(t *testing.T) {
	for seed := range int64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(seed), 1))
			const maxDelay = time.Minute
			g := newGroup(t, maxDelay, "w0", "w1", "w2")
			cfg := cfg3()
			next := 3
			for range 12 {
				switch r.IntN(5) {
				case 0:
					g.members[fmt.Sprintf("w%d", next)] = newWorkSet()
					next++
				case 1:
					if len(g.members) > 1 {
						ids := slices.Sorted(maps.Keys(g.members))
						delete(g.members, ids[r.IntN(len(ids))])
					}
				case 2:
					cfg = ClusterConfig{Offset: cfg.Offset + 1, Connectors: maps.Clone(cfg.Connectors)}
					cfg.Connectors[fmt.Sprintf("c%d", r.IntN(4))] = r.IntN(5)
				case 3:
					cfg = ClusterConfig{Offset: cfg.Offset + 1, Connectors: maps.Clone(cfg.Connectors)}
					for name := range cfg.Connectors {
						delete(cfg.Connectors, name)
						break
					}
				case 4:
					*g.clock = g.clock.Add(time.Duration(r.IntN(90)) * time.Second)
				}
				g.round(cfg)
			}
			*g.clock = g.clock.Add(2 * maxDelay)
			g.settle(cfg)
			*g.clock = g.clock.Add(2 * maxDelay)
			g.settle(cfg)
			g.checkOnce(cfg)
		})
	}
}
