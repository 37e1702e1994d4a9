package distributed

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
)

// worker is a test member with its own client and a log of the changes it
// heard.
type worker struct {
	name string
	m    *Member
	mu   sync.Mutex
	log  []Change
}

func (w *worker) heard(c Change) {
	w.mu.Lock()
	w.log = append(w.log, c)
	w.mu.Unlock()
}

type memberOpts struct {
	protocol string
	maxDelay time.Duration
	config   func() ClusterConfig
}

func startWorker(t *testing.T, brokers []string, name string, o memberOpts) *worker {
	t.Helper()
	w := &worker{name: name}
	m, err := NewMember(newClient(t, brokers), MemberConfig{
		GroupID: "connect-cluster", URL: "http://" + name + ":8083", Protocol: o.protocol,
		SessionTimeout: time.Second, HeartbeatInterval: 100 * time.Millisecond, RebalanceTimeout: 5 * time.Second,
		MaxDelay: o.maxDelay, Config: o.config, OnAssignment: w.heard, Logf: t.Logf,
	})
	must(t, err)
	w.m = m
	return w
}

// waitStable polls until the workers agree on one generation and together
// run every configured piece exactly once; the test's context bounds it.
func waitStable(t *testing.T, ctx context.Context, cfg ClusterConfig, workers ...*worker) int32 {
	t.Helper()
	for {
		gen, ok := stable(cfg, workers)
		if ok {
			return gen
		}
		select {
		case <-ctx.Done():
			for _, w := range workers {
				c, tk, g := w.m.Running()
				t.Logf("%s gen %d: %v %v", w.name, g, c, tk)
			}
			t.Fatal("the group never settled")
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func stable(cfg ClusterConfig, workers []*worker) (int32, bool) {
	want := cfg.work()
	count := map[string]int{}
	var gen int32 = -2
	for _, w := range workers {
		conns, tasks, g := w.m.Running()
		if gen != -2 && g != gen {
			return 0, false
		}
		gen = g
		for _, c := range conns {
			count[c]++
		}
		for _, tk := range tasks {
			count[fmt.Sprintf("%s/%d", tk.Connector, tk.Task)]++
		}
	}
	if len(count) != len(want.conns)+len(want.tasks) {
		return 0, false
	}
	for _, c := range want.connList() {
		if count[c] != 1 {
			return 0, false
		}
	}
	for _, tk := range want.taskList() {
		if count[fmt.Sprintf("%s/%d", tk.Connector, tk.Task)] != 1 {
			return 0, false
		}
	}
	return gen, gen >= 0
}

func staticConfig() ClusterConfig {
	return ClusterConfig{Offset: 7, Connectors: map[string]int{"a": 2, "b": 3, "c": 1}}
}

func closeWorker(t *testing.T, w *worker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	must(t, w.m.Close(ctx))
}

func TestMembersShareWork(t *testing.T) {
	for _, c := range clusters {
		for _, protocol := range []string{"sessioned", "compatible", "eager"} {
			t.Run(c.name+"/"+protocol, func(t *testing.T) {
				brokers := c.start(t)
				ctx := testCtx(t)
				o := memberOpts{protocol: protocol, maxDelay: 300 * time.Millisecond, config: staticConfig}
				ws := []*worker{startWorker(t, brokers, "w1", o), startWorker(t, brokers, "w2", o), startWorker(t, brokers, "w3", o)}
				waitStable(t, ctx, staticConfig(), ws...)
				for _, w := range ws {
					w.mu.Lock()
					last := w.log[len(w.log)-1]
					w.mu.Unlock()
					want := map[string]string{"eager": ProtocolEager, "compatible": ProtocolCompatible, "sessioned": ProtocolSessioned}[protocol]
					if last.Protocol != want || last.LeaderURL == "" || last.ConfigOffset != 7 {
						t.Fatalf("%s: last change %+v", w.name, last)
					}
				}
				for _, w := range ws {
					closeWorker(t, w)
				}
			})
		}
	}
}

// A member that stops heartbeating without leaving (a crash) keeps its
// work out of the group until the coordinator drops it after the session
// timeout and the leader's scheduled delay ends; then its work moves.
func TestCrashedMemberWorkMoves(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			o := memberOpts{maxDelay: 500 * time.Millisecond, config: staticConfig}
			ws := []*worker{startWorker(t, brokers, "w1", o), startWorker(t, brokers, "w2", o), startWorker(t, brokers, "w3", o)}
			gen := waitStable(t, ctx, staticConfig(), ws...)
			// Crash the member that is not the leader, so the leader keeps
			// its view and schedules the delay.
			victim := ws[2]
			for _, w := range ws {
				w.mu.Lock()
				last := w.log[len(w.log)-1]
				w.mu.Unlock()
				if last.Leader != last.MemberID {
					victim = w
				}
			}
			victim.m.Kill()
			var rest []*worker
			for _, w := range ws {
				if w != victim {
					rest = append(rest, w)
				}
			}
			after := waitStable(t, ctx, staticConfig(), rest...)
			if after <= gen {
				t.Fatalf("generation %d after the crash, %d before", after, gen)
			}
			sawDelay := false
			for _, w := range rest {
				w.mu.Lock()
				for _, ch := range w.log {
					if ch.Generation > gen && ch.Delay > 0 {
						sawDelay = true
					}
				}
				w.mu.Unlock()
				closeWorker(t, w)
			}
			if !sawDelay {
				t.Fatal("the crashed member's work moved without a scheduled delay")
			}
		})
	}
}

// A rolling restart: each worker in turn leaves and a new one joins; every
// stable generation runs every piece once.
func TestRollingRestart(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			o := memberOpts{maxDelay: 300 * time.Millisecond, config: staticConfig}
			ws := []*worker{startWorker(t, brokers, "w1", o), startWorker(t, brokers, "w2", o), startWorker(t, brokers, "w3", o)}
			last := waitStable(t, ctx, staticConfig(), ws...)
			for i := range ws {
				closeWorker(t, ws[i])
				ws[i] = startWorker(t, brokers, fmt.Sprintf("w%d-restarted", i+1), o)
				gen := waitStable(t, ctx, staticConfig(), ws...)
				if gen <= last {
					t.Fatalf("restart %d: generation %d after %d", i, gen, last)
				}
				last = gen
			}
			for _, w := range ws {
				closeWorker(t, w)
			}
		})
	}
}

// Work of a connector added to the config reaches the group when a member
// rejoins (as a worker does after reading a new config record).
func TestMembersFollowConfigStore(t *testing.T) {
	brokers := startBridge(t)
	ctx := testCtx(t)
	cs := openConfigs(t, brokers, nil)
	must(t, cs.PutConnectorConfig(ctx, "a", map[string]string{"connector.class": "X"}))
	must(t, cs.PutTaskConfigs(ctx, "a", []connect.Config{{}, {}}))
	o := memberOpts{maxDelay: 300 * time.Millisecond, config: cs.Cluster}
	ws := []*worker{startWorker(t, brokers, "w1", o), startWorker(t, brokers, "w2", o)}
	waitStable(t, ctx, cs.Cluster(), ws...)
	must(t, cs.PutConnectorConfig(ctx, "b", map[string]string{"connector.class": "X"}))
	must(t, cs.PutTaskConfigs(ctx, "b", []connect.Config{{}, {}, {}}))
	ws[1].m.RequestRejoin()
	waitStable(t, ctx, cs.Cluster(), ws...)
	_, tasks1, _ := ws[0].m.Running()
	_, tasks2, _ := ws[1].m.Running()
	if len(tasks1)+len(tasks2) != 5 || len(tasks1) < 2 || len(tasks2) < 2 {
		t.Fatalf("tasks %v / %v", tasks1, tasks2)
	}
	for _, w := range ws {
		closeWorker(t, w)
	}
}

// Workers offering different protocols settle on one all of them speak.
func TestMixedProtocols(t *testing.T) {
	tests := []struct {
		protocols []string
		elected   string
	}{
		{[]string{"sessioned", "sessioned", "compatible"}, ProtocolCompatible},
		{[]string{"sessioned", "eager", "compatible"}, ProtocolEager},
	}
	for _, tt := range tests {
		t.Run(tt.elected, func(t *testing.T) {
			brokers := startKfake(t)
			ctx := testCtx(t)
			var ws []*worker
			for i, p := range tt.protocols {
				ws = append(ws, startWorker(t, brokers, fmt.Sprintf("w%d", i), memberOpts{protocol: p, maxDelay: 300 * time.Millisecond, config: staticConfig}))
			}
			waitStable(t, ctx, staticConfig(), ws...)
			for _, w := range ws {
				w.mu.Lock()
				last := w.log[len(w.log)-1]
				w.mu.Unlock()
				if last.Protocol != tt.elected {
					t.Fatalf("%s elected %q", w.name, last.Protocol)
				}
				closeWorker(t, w)
			}
		})
	}
}

// A leader that has read less of the config topic than another member
// catches up before it assigns (CatchUp), so the group assigns from the
// newest config.
func TestLeaderCatchesUp(t *testing.T) {
	brokers := startKfake(t)
	ctx := testCtx(t)
	var mu sync.Mutex
	behind := ClusterConfig{Offset: 5, Connectors: map[string]int{"a": 1}}
	ahead := ClusterConfig{Offset: 9, Connectors: map[string]int{"a": 1, "b": 2}}
	leaderView, caughtUp := behind, 0
	leaderCfg := func() ClusterConfig { mu.Lock(); defer mu.Unlock(); return leaderView }
	w1 := &worker{name: "w1"}
	m, err := NewMember(newClient(t, brokers), MemberConfig{
		GroupID: "connect-cluster", URL: "http://w1:8083", SessionTimeout: time.Second, HeartbeatInterval: 100 * time.Millisecond,
		MaxDelay: 300 * time.Millisecond, Config: leaderCfg, OnAssignment: w1.heard, Logf: t.Logf,
		CatchUp: func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			leaderView = ahead
			caughtUp++
			return nil
		},
	})
	must(t, err)
	w1.m = m
	waitStable(t, ctx, behind, w1)
	w2 := startWorker(t, brokers, "w2", memberOpts{maxDelay: 300 * time.Millisecond, config: func() ClusterConfig { return ahead }})
	waitStable(t, ctx, ahead, w1, w2)
	mu.Lock()
	n := caughtUp
	mu.Unlock()
	if n == 0 {
		t.Fatal("the leader assigned without catching up")
	}
	w1.mu.Lock()
	last := w1.log[len(w1.log)-1]
	w1.mu.Unlock()
	if last.ConfigOffset != 9 {
		t.Fatalf("assigned from config offset %d", last.ConfigOffset)
	}
	closeWorker(t, w1)
	closeWorker(t, w2)
}
