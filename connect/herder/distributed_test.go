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

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/herder/herdertest"
	"github.com/streambridge/bridge/connect/rest"
)

// dworker is one distributed herder over a fake worker.
type dworker struct {
	id  string
	url string // its REST API
	h   *herder.Distributed
	w   *herdertest.Worker
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
	return &dworker{id: id, url: srv.URL, h: h, w: w}
}

// send sends a request to the worker's REST API, again while it answers
// 409 for a rebalance under way (Kafka Connect's clients retry those), and
// returns the final status and body.
func (w *dworker) send(t *testing.T, ctx context.Context, method, path, body string) (int, string) {
	t.Helper()
	for {
		code, answer := call(t, ctx, method, w.url+path, body)
		if !herdertest.Rebalancing(code, answer) {
			return code, answer
		}
		select {
		case <-ctx.Done():
			return code, answer
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// call sends one request with a JSON body (when not empty).
func call(t *testing.T, ctx context.Context, method, url, body string) (int, string) {
	t.Helper()
	code, answer, err := herdertest.Send(ctx, method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return code, answer
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

	// Changes go through the REST API, which forwards them to the leader.
	create := `{"name":"copy","config":{"connector.class":"` + herdertest.SourceClass + `","topic":"t","tasks.max":"3"}}`
	if code, body := ws[0].send(t, ctx, "POST", "/connectors", create); code != 201 || !strings.Contains(body, `"name":"copy"`) {
		t.Fatalf("create: %d %s", code, body)
	}
	if code, body := ws[1].send(t, ctx, "POST", "/connectors", create); code != 409 || !strings.Contains(body, "Connector copy already exists") {
		t.Fatalf("second create on another worker: %d %s, want 409", code, body)
	}
	waitFor(t, ctx, "three running tasks", func() (bool, string) { return settled(ws, "copy", "RUNNING", 3) })

	steps := []struct {
		name  string
		path  string
		want  string
		tasks int
	}{
		{"pause", "/connectors/copy/pause", "PAUSED", 3},
		{"resume", "/connectors/copy/resume", "RUNNING", 3},
		{"stop", "/connectors/copy/stop", "STOPPED", 0},
		{"resume from stopped", "/connectors/copy/resume", "RUNNING", 3},
	}
	for i, s := range steps {
		if code, body := ws[(i+1)%len(ws)].send(t, ctx, "PUT", s.path, ""); code != 202 {
			t.Fatalf("%s: %d %s", s.name, code, body)
		}
		waitFor(t, ctx, s.name, func() (bool, string) { return settled(ws, "copy", s.want, s.tasks) })
	}

	// A restart with its tasks, sent to one worker, restarts every task
	// wherever it runs.
	before := 0
	for _, w := range ws {
		w.w.Calls()
	}
	if code, body := ws[2].send(t, ctx, "POST", "/connectors/copy/restart?includeTasks=true", ""); code != 202 || !strings.Contains(body, `"connector":{"state":"RESTARTING"`) {
		t.Fatalf("restart: %d %s", code, body)
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
	if code, body := other.send(t, ctx, "POST", "/connectors/copy/tasks/0/restart", ""); code != 204 {
		t.Fatalf("forwarded task restart: %d %s", code, body)
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
	if code, body := other.send(t, ctx, "POST", "/connectors/copy/tasks/7/restart", ""); code != 404 {
		t.Errorf("restart of a task that does not exist: %d %s", code, body)
	}

	// Offsets (KIP-875) need the connector stopped, cluster-wide.
	offsets := `{"offsets":[{"partition":{"file":"a"},"offset":{"position":5}}]}`
	if code, body := ws[0].send(t, ctx, "PATCH", "/connectors/copy/offsets", offsets); code != 400 {
		t.Fatalf("altering the offsets of a running connector: %d %s", code, body)
	}
	if code, body := ws[1].send(t, ctx, "PUT", "/connectors/copy/stop", ""); code != 202 {
		t.Fatalf("stop: %d %s", code, body)
	}
	waitFor(t, ctx, "stopped", func() (bool, string) { return settled(ws, "copy", "STOPPED", 0) })
	if code, body := ws[2].send(t, ctx, "PATCH", "/connectors/copy/offsets", offsets); code != 200 {
		t.Fatalf("altering the offsets of a stopped connector: %d %s", code, body)
	}
	got, err := ws[0].h.GetOffsets(ctx, "copy")
	if err != nil || len(got.Offsets) != 1 || fmt.Sprint(got.Offsets[0].Offset["position"]) != "5" {
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

	if code, body := ws[1].send(t, ctx, "DELETE", "/connectors/copy", ""); code != 204 {
		t.Fatalf("delete: %d %s", code, body)
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

// blockRebalances joins the Connect group as a member that takes part in
// one round and then never rejoins: the next rebalance waits for it (up to
// its rebalance timeout) until leave is called.
func blockRebalances(t *testing.T, ctx context.Context, brokers []string, group string) (leave func()) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	join := kmsg.NewPtrJoinGroupRequest()
	join.Group, join.ProtocolType = group, distributed.ProtocolType
	join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 60000, 60000
	p := kmsg.NewJoinGroupRequestProtocol()
	p.Name = distributed.ProtocolSessioned
	p.Metadata = distributed.EncodeWorkerState(2, distributed.WorkerState{URL: "http://127.0.0.1:9/", ConfigOffset: -1})
	join.Protocols = append(join.Protocols, p)
	var resp *kmsg.JoinGroupResponse
	for {
		if resp, err = join.RequestWith(ctx, cl); err != nil {
			t.Fatal(err)
		}
		if resp.ErrorCode == kerr.MemberIDRequired.Code {
			join.MemberID = resp.MemberID
			continue
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			t.Fatal(err)
		}
		break
	}
	sync := kmsg.NewPtrSyncGroupRequest()
	sync.Group, sync.Generation, sync.MemberID = group, resp.Generation, resp.MemberID
	sync.ProtocolType, sync.Protocol = kmsg.StringPtr(distributed.ProtocolType), resp.Protocol
	if sresp, err := sync.RequestWith(ctx, cl); err != nil || sresp.ErrorCode != 0 {
		t.Fatalf("SyncGroup: %v %v", err, sresp)
	}
	return func() {
		leave := kmsg.NewPtrLeaveGroupRequest()
		leave.Group = group
		m := kmsg.NewLeaveGroupRequestMember()
		m.MemberID = resp.MemberID
		leave.Members = append(leave.Members, m)
		if _, err := leave.RequestWith(ctx, cl); err != nil {
			t.Error(err)
		}
		cl.Close()
	}
}

// While a config change that needs a rebalance (a new connector) has been
// read but the rebalance has not completed, every worker answers writes
// with Kafka's 409 and still serves reads; once it completes, a write sent
// to any worker reaches the leader, and a request already forwarded
// (forward=false) that reaches a worker other than the leader is refused
// with Kafka's other 409.
func TestDistributedRebalanceConflicts(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.GroupMinSessionTimeout(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ws := []*dworker{startDistributed(t, ctx, c.ListenAddrs(), "sessioned"), startDistributed(t, ctx, c.ListenAddrs(), "sessioned")}
	defer func() {
		for _, w := range ws {
			w.h.Close()
		}
	}()
	waitFor(t, ctx, "both workers ready", func() (bool, string) { return ws[0].h.Ready() && ws[1].h.Ready(), "" })
	leave := blockRebalances(t, ctx, c.ListenAddrs(), "connect-cluster")

	connector := func(name string) string {
		return `{"name":"` + name + `","config":{"connector.class":"` + herdertest.SourceClass + `","topic":"t","tasks.max":"1"}}`
	}
	if code, body := ws[0].send(t, ctx, "POST", "/connectors", connector("one")); code != 201 {
		t.Fatalf("create: %d %s", code, body)
	}
	// The new connector needs a rebalance, which waits for the blocker:
	// once each worker has read it, its writes answer 409. A worker may
	// refuse writes before it has read the connector (its group is
	// rebalancing already), so both are waited for.
	sameConfig := `{"connector.class":"` + herdertest.SourceClass + `","topic":"t","tasks.max":"1"}`
	for _, w := range ws {
		waitFor(t, ctx, w.id+" refusing writes, connector one read", func() (bool, string) {
			code, body := call(t, ctx, "PUT", w.url+"/connectors/one/config", sameConfig)
			if code != 409 {
				return false, fmt.Sprintf("PUT config: %d %s", code, body)
			}
			code, body = call(t, ctx, "GET", w.url+"/connectors/one", "")
			return code == 200, fmt.Sprintf("GET: %d %s", code, body)
		})
	}
	stale := `{"error_code":409,"message":"` + herder.StaleConfigMessage + `"}` + "\n"
	for _, w := range ws {
		for _, req := range []struct{ method, path, body string }{
			{"POST", "/connectors", connector("two")},
			{"PUT", "/connectors/one/config", sameConfig},
			{"PATCH", "/connectors/one/config", `{"tasks.max":"2"}`},
			{"PUT", "/connectors/one/stop", ""},
			{"POST", "/connectors/one/restart?includeTasks=true", ""},
			{"POST", "/connectors/one/tasks/0/restart", ""},
			{"DELETE", "/connectors/one", ""},
			{"DELETE", "/connectors/one/offsets", ""},
		} {
			if code, body := call(t, ctx, req.method, w.url+req.path, req.body); code != 409 || body != stale {
				t.Errorf("%s: %s %s during the rebalance: %d %s", w.id, req.method, req.path, code, body)
			}
		}
		for _, path := range []string{"/connectors", "/connectors/one", "/connectors/one/config", "/connectors/one/status"} {
			if code, body := call(t, ctx, "GET", w.url+path, ""); code != 200 {
				t.Errorf("%s: GET %s during the rebalance: %d %s", w.id, path, code, body)
			}
		}
	}

	leave()
	for i, w := range ws {
		name := fmt.Sprintf("after-%d", i)
		if code, body := w.send(t, ctx, "POST", "/connectors", connector(name)); code != 201 {
			t.Fatalf("%s: create after the rebalance: %d %s", w.id, code, body)
		}
		// A create through a follower is written by the leader; the
		// follower serves it once it has read the config topic that far,
		// as in Kafka Connect, so its GET may lag the 201 briefly.
		waitFor(t, ctx, w.id+" serving "+name, func() (bool, string) {
			code, body := call(t, ctx, "GET", w.url+"/connectors/"+name, "")
			return code == 200, fmt.Sprintf("GET %s: %d %s", name, code, body)
		})
	}
	// The same connector created through both workers at once: the leader
	// serves both creates one after the other, so exactly one is created.
	results := make(chan string, len(ws))
	for _, w := range ws {
		go func() {
			code, body, err := herdertest.Send(ctx, "POST", w.url+"/connectors", connector("race"))
			for err == nil && herdertest.Rebalancing(code, body) {
				time.Sleep(20 * time.Millisecond)
				code, body, err = herdertest.Send(ctx, "POST", w.url+"/connectors", connector("race"))
			}
			results <- fmt.Sprintf("%d %v %s", code, err, body)
		}()
	}
	var created, exists int
	for range ws {
		switch r := <-results; {
		case strings.HasPrefix(r, "201 <nil>"):
			created++
		case strings.HasPrefix(r, "409 <nil>") && strings.Contains(r, "Connector race already exists"):
			exists++
		default:
			t.Errorf("concurrent create: %s", r)
		}
	}
	if created != 1 || exists != 1 {
		t.Errorf("concurrent creates: %d created, %d already existing", created, exists)
	}

	// One of the two is the leader: it serves a request marked as already
	// forwarded; the other refuses it instead of forwarding a third time.
	codes := map[int]string{}
	for _, w := range ws {
		code, body := w.send(t, ctx, "DELETE", "/connectors/nope?forward=false", "")
		codes[code] = body
	}
	conflicting := `{"error_code":409,"message":"Cannot complete request because of a conflicting operation (e.g. worker rebalance)"}` + "\n"
	if len(codes) != 2 || codes[409] != conflicting || !strings.Contains(codes[404], "nope") {
		t.Errorf("forward=false on the leader and on the other worker: %v", codes)
	}
}
