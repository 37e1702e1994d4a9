package herder

// Statuses overwritten by a worker that gave the work up: a worker that
// stops a task writes UNASSIGNED "safely" (only over a status of its own
// generation or older), but its write can reach the status topic after
// the new owner's RUNNING, written before the old owner had read it. The
// owner notices on its next reconcile that the topic names another worker
// for what it runs, and writes its state again (the old owner's write
// carries an older or equal generation, so it never wins twice).

import (
	"maps"
	"slices"

	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

// healStatusesLocked rewrites the status of each task and connector this
// worker runs whose status record names another worker. d.mu is held.
func (d *Distributed) healStatusesLocked() {
	for _, id := range slices.SortedFunc(maps.Keys(d.tasks), compareTaskIDs) {
		rt := d.tasks[id]
		if !rt.started {
			continue // its failure is what it reported
		}
		if st, ok := d.statuses.Task(id); ok && st.WorkerID != d.cfg.WorkerID {
			state := runtime.Running
			if rt.paused {
				state = runtime.Paused
			}
			d.status.rewrite(statusKey{id.Connector, id.Task}, state)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.conns)) {
		rc := d.conns[name]
		if rc.handle == nil {
			continue
		}
		if st, ok := d.statuses.Connector(name); ok && st.WorkerID != d.cfg.WorkerID {
			state := runtime.Running
			if rc.target == distributed.Paused {
				state = runtime.Paused
			}
			d.status.rewrite(statusKey{name, -1}, state)
		}
	}
}

// rewrite queues s for k even when it is what this worker last wrote: the
// topic holds another worker's record since.
func (q *statusQueue) rewrite(k statusKey, s runtime.State) {
	q.mu.Lock()
	delete(q.last, k)
	q.mu.Unlock()
	q.put(k, s, "", false)
}
