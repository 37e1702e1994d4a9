package distributed

import (
	"context"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

// The pieces together, as a distributed herder will use them: workers
// assign from the config topic and write the status of what they run to
// the status topic; after one worker crashes and its work moves, the
// status topic names a live worker for every task.
func TestWorkersWriteStatusesOfTheirAssignment(t *testing.T) {
	for _, c := range clusters {
		t.Run(c.name, func(t *testing.T) {
			brokers := c.start(t)
			ctx := testCtx(t)
			cs := openConfigs(t, brokers, nil)
			for _, name := range []string{"orders", "payments"} {
				must(t, cs.PutConnectorConfig(ctx, name, connect.Config{"connector.class": "X"}))
				must(t, cs.PutTaskConfigs(ctx, name, []connect.Config{{}, {}, {}}))
			}
			type node struct {
				w      *worker
				id     string
				status *StatusStore
			}
			start := func(name string) *node {
				st, err := OpenStatusStore(ctx, Options{Brokers: brokers})
				must(t, err)
				t.Cleanup(st.Close)
				n := &node{w: &worker{name: name}, id: name + ":8083", status: st}
				m, err := NewMember(newClient(t, brokers), MemberConfig{
					GroupID: "connect-cluster", URL: "http://" + n.id, SessionTimeout: time.Second,
					HeartbeatInterval: 100 * time.Millisecond, MaxDelay: 300 * time.Millisecond,
					Config: cs.Cluster, CatchUp: cs.ReadToEnd, Logf: t.Logf,
					OnAssignment: func(ch Change) {
						n.w.heard(ch)
						for _, id := range ch.RevokedTasks {
							if err := st.PutTaskSafe(ctx, id, Status{State: runtime.Unassigned, WorkerID: n.id, Generation: ch.Generation}); err != nil {
								t.Errorf("status: %v", err)
							}
						}
						for _, id := range ch.AssignedTasks {
							if err := st.PutTask(ctx, id, Status{State: runtime.Running, WorkerID: n.id, Generation: ch.Generation}); err != nil {
								t.Errorf("status: %v", err)
							}
						}
					},
				})
				must(t, err)
				// A test that fails before its end must not leave the
				// member logging into it.
				t.Cleanup(m.Kill)
				n.w.m = m
				return n
			}
			nodes := []*node{start("w1"), start("w2"), start("w3")}
			waitStable(t, ctx, cs.Cluster(), nodes[0].w, nodes[1].w, nodes[2].w)
			nodes[0].w.m.Kill()
			waitStable(t, ctx, cs.Cluster(), nodes[1].w, nodes[2].w)

			reader, err := OpenStatusStore(ctx, Options{Brokers: brokers})
			must(t, err)
			defer reader.Close()
			live := map[string]bool{nodes[1].id: true, nodes[2].id: true}
			for _, name := range []string{"orders", "payments"} {
				for n := range 3 {
					st, ok := reader.Task(runtime.TaskID{Connector: name, Task: n})
					if !ok || st.State != runtime.Running || !live[st.WorkerID] {
						t.Errorf("%s-%d: %+v", name, n, st)
					}
				}
			}
			for _, n := range nodes[1:] {
				cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				must(t, n.w.m.Close(cctx))
				cancel()
			}
		})
	}
}
