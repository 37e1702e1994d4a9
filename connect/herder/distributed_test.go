package herder_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/herder/herdertest"
	"github.com/streambridge/bridge/connect/rest"
	"github.com/streambridge/bridge/connect/runtime"
)

// dworker is one distributed herder over a fake worker.
type dworker struct {
	id string
	h  *herder.Distributed
	w  *herdertest.Worker
}

// startDistributed starts a herder whose REST API (connect/rest) is served
// on 127.0.0.1, the address being its worker id, so that requests it
// forwards reach the other herders.
func startDistributed(t *testing.T, ctx context.Context, brokers []string, protocol string) *dworker {
	t.Helper()
	var api atomic.Pointer[rest.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := api.Load(); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		http.Error(w, "starting", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	id := srv.Listener.Addr().String()
	h, err := herder.OpenDistributed(ctx, herder.DistributedConfig{
		Brokers:  brokers,
		Member:   distributed.MemberConfig{GroupID: "connect-cluster", Protocol: protocol, SessionTimeout: time.Second, HeartbeatInterval: 100 * time.Millisecond, RebalanceTimeout: 5 * time.Second, MaxDelay: 300 * time.Millisecond},
		URL:      "http://" + id + "/",
		WorkerID: id,
		Registry: herdertest.Registry(),
	})
	if err != nil {
		t.Fatal(err)
	}
	w := herdertest.NewWorker(h)
	if err := h.Start(w); err != nil {
		t.Fatal(err)
	}
	api.Store(rest.New(rest.Config{Herder: h}))
	return &dworker{id: id, h: h, w: w}
}

// waitFor polls cond until it holds; the test's context bounds it.
func waitFor(t *testing.T, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	last := ""
	for {
		ok, why := cond()
		if ok {
			return
		}
		last = why
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %s", what, last)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// settled says whether every live worker reports the connector's status as
// want, with each of its tasks running on exactly one of the workers.
func settled(ws []*dworker, name, want string, tasks int) (bool, string) {
	ids := map[string]bool{}
	for _, w := range ws {
		ids[w.id] = true
	}
	running := map[string]int{}
	for _, w := range ws {
		for task, st := range w.w.Tasks() {
			if strings.HasPrefix(task, name+"-") {
				running[task]++
				if want == "PAUSED" && st != "paused" || want == "RUNNING" && st != "running" {
					return false, fmt.Sprintf("%s: task %s is %s", w.id, task, st)
				}
			}
		}
	}
	if len(running) != tasks {
		return false, fmt.Sprintf("tasks running: %v", running)
	}
	for task, n := range running {
		if n != 1 {
			return false, fmt.Sprintf("task %s runs on %d workers", task, n)
		}
	}
	for _, w := range ws {
		st, err := w.h.Status(name)
		if err != nil {
			return false, err.Error()
		}
		if st.Connector.State != want || len(st.Tasks) != tasks {
			return false, fmt.Sprintf("%s: %+v", w.id, st)
		}
		if want != "STOPPED" && !ids[st.Connector.WorkerID] {
			return false, fmt.Sprintf("%s: connector on %q", w.id, st.Connector.WorkerID)
		}
		for _, ts := range st.Tasks {
			if ts.State != want || !ids[ts.WorkerID] {
				return false, fmt.Sprintf("%s: %+v", w.id, st)
			}
		}
	}
	return true, ""
}

// Three distributed herders share one connector's tasks; pause, resume,
// stop, restart and delete sent to any of them act on the whole cluster;
// when one leaves, its tasks move to the others. Under each group protocol.
func TestDistributedHerdersShareWork(t *testing.T) {
	for _, protocol := range []string{"sessioned", "eager"} {
		t.Run(protocol, func(t *testing.T) { testDistributedHerders(t, protocol) })
	}
}

func testDistributedHerders(t *testing.T, protocol string) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ws := []*dworker{startDistributed(t, ctx, brokers, protocol), startDistributed(t, ctx, brokers, protocol), startDistributed(t, ctx, brokers, protocol)}
	defer func() {
		for _, w := range ws {
			w.h.Close()
		}
	}()
	waitFor(t, ctx, "every worker ready", func() (bool, string) {
		for _, w := range ws {
			if !w.h.Ready() {
				return false, w.id + " not ready"
			}
		}
		return true, ""
	})

	cfg := connect.Config{"connector.class": herdertest.SourceClass, "topic": "t", "tasks.max": "3", "name": "copy"}
	info, created, err := ws[0].h.Put(ctx, "copy", cfg, false, "")
	if err != nil || !created || info.Name != "copy" {
		t.Fatalf("Put = %+v, %v, %v", info, created, err)
	}
	if _, _, err := ws[1].h.Put(ctx, "copy", cfg, false, ""); err == nil || err.(*herder.Error).Code != 409 {
		t.Fatalf("second create on another worker: %v, want 409", err)
	}
	waitFor(t, ctx, "three running tasks", func() (bool, string) { return settled(ws, "copy", "RUNNING", 3) })

	steps := []struct {
		name  string
		do    func(h *herder.Distributed) error
		want  string
		tasks int
	}{
		{"pause", func(h *herder.Distributed) error { return h.Pause("copy") }, "PAUSED", 3},
		{"resume", func(h *herder.Distributed) error { return h.Resume("copy") }, "RUNNING", 3},
		{"stop", func(h *herder.Distributed) error { return h.Stop("copy") }, "STOPPED", 0},
		{"resume from stopped", func(h *herder.Distributed) error { return h.Resume("copy") }, "RUNNING", 3},
	}
	for i, s := range steps {
		h := ws[(i+1)%len(ws)].h
		if err := s.do(h); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		waitFor(t, ctx, s.name, func() (bool, string) { return settled(ws, "copy", s.want, s.tasks) })
	}

	// A restart with its tasks, sent to one worker, restarts every task
	// wherever it runs.
	before := 0
	for _, w := range ws {
		w.w.Calls()
	}
	if st, err := ws[2].h.Restart("copy", true, false); err != nil || st == nil || st.Connector.State != "RESTARTING" {
		t.Fatalf("restart: %+v, %v", st, err)
	}
	waitFor(t, ctx, "every task restarted", func() (bool, string) {
		for _, w := range ws {
			for _, c := range w.w.Calls() {
				if strings.HasPrefix(c, "StartTask copy-") {
					before++
				}
			}
		}
		return before >= 3, fmt.Sprintf("%d tasks restarted", before)
	})
	waitFor(t, ctx, "running after the restart", func() (bool, string) { return settled(ws, "copy", "RUNNING", 3) })

	// A task restart sent to a worker that does not run the task is
	// forwarded to the one that does (through its REST API).
	for _, w := range ws {
		w.w.Calls()
	}
	var other *dworker
	for _, w := range ws {
		if _, runs := w.w.Tasks()["copy-0"]; !runs {
			other = w
		}
	}
	if err := other.h.RestartTask(runtime.TaskID{Connector: "copy", Task: 0}); err != nil {
		t.Fatalf("forwarded task restart: %v", err)
	}
	restartedOn := []string{}
	for _, w := range ws {
		if slices.Contains(w.w.Calls(), "StartTask copy-0") {
			restartedOn = append(restartedOn, w.id)
		}
	}
	if len(restartedOn) == 0 || slices.Contains(restartedOn, other.id) {
		t.Errorf("task 0 restarted on %v; sent to %s", restartedOn, other.id)
	}
	if err := other.h.RestartTask(runtime.TaskID{Connector: "copy", Task: 7}); err == nil || err.(*herder.Error).Code != 404 {
		t.Errorf("restart of a task that does not exist: %v", err)
	}

	// Offsets (KIP-875) need the connector stopped, cluster-wide.
	part := map[string]any{"file": "a"}
	body := herder.Offsets{Offsets: []runtime.SourceOffset{{Partition: part, Offset: map[string]any{"position": int64(5)}}}}
	if _, err := ws[0].h.AlterOffsets(ctx, "copy", body); err == nil || err.(*herder.Error).Code != 400 {
		t.Fatalf("altering the offsets of a running connector: %v", err)
	}
	if err := ws[1].h.Stop("copy"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "stopped", func() (bool, string) { return settled(ws, "copy", "STOPPED", 0) })
	if _, err := ws[2].h.AlterOffsets(ctx, "copy", body); err != nil {
		t.Fatal(err)
	}
	got, err := ws[0].h.GetOffsets(ctx, "copy")
	if err != nil || len(got.Offsets) != 1 || got.Offsets[0].Offset["position"] != int64(5) {
		t.Fatalf("offsets read on another worker: %+v, %v", got, err)
	}
	if err := ws[0].h.Resume("copy"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "resumed", func() (bool, string) { return settled(ws, "copy", "RUNNING", 3) })

	// One worker leaves: its tasks move to the two others.
	ws[0].h.Close()
	ws = ws[1:]
	waitFor(t, ctx, "tasks moved", func() (bool, string) { return settled(ws, "copy", "RUNNING", 3) })

	if err := ws[1].h.Delete(ctx, "copy"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "deleted everywhere", func() (bool, string) {
		for _, w := range ws {
			if n := w.h.Connectors(); len(n) != 0 {
				return false, fmt.Sprintf("%s lists %v", w.id, n)
			}
			if len(w.w.Tasks()) != 0 || len(w.w.Running()) != 0 {
				return false, fmt.Sprintf("%s runs %v %v", w.id, w.w.Running(), slices.Sorted(maps.Keys(w.w.Tasks())))
			}
		}
		return true, ""
	})
}
