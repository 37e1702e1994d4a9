package herder

// Reconciling what runs on this worker with its assignment and the config
// topic: start assigned connectors and tasks in their target state, restart
// those whose configuration changed or that a restart record names, stop
// what was deleted or stopped, and write a connector's task configurations
// when this worker runs it.

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

func (d *Distributed) reconcile() {
	d.evMu.Lock()
	restarts := d.restarts
	d.restarts = nil
	reconfig := d.reconfigure
	d.reconfigure = map[string]bool{}
	d.evMu.Unlock()

	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed || d.worker == nil {
		return
	}
	snap := d.configs.Snapshot()
	if snap.Offset < d.assigned.configOffset {
		// The leader assigned from further in the config topic than this
		// worker has read: catch up before starting anything.
		ctx, cancel := context.WithTimeout(d.ctx, requestTimeout)
		err := d.configs.ReadToEnd(ctx)
		cancel()
		if err != nil {
			d.log.Warn("connect: reading the config topic", "err", err)
			return
		}
		snap = d.configs.Snapshot()
	}
	d.status.noteTargets(snap)
	restartConn, restartTask := d.restartPlan(restarts)

	for _, name := range slices.Sorted(maps.Keys(d.conns)) {
		if !d.assigned.conns[name] {
			d.stopConnectorLocked(name)
		}
	}
	for _, id := range slices.SortedFunc(maps.Keys(d.tasks), compareTaskIDs) {
		if !d.assigned.tasks[id] {
			d.stopTaskLocked(id)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.assigned.conns)) {
		d.reconcileConnector(name, snap, restartConn[name], reconfig[name])
	}
	for _, id := range slices.SortedFunc(maps.Keys(d.assigned.tasks), compareTaskIDs) {
		d.reconcileTask(id, snap, restartTask[id])
	}
	d.healStatusesLocked()
}

// restartPlan turns restart records into the connectors and tasks of this
// worker to restart (KIP-745's onlyFailed reads the status topic).
func (d *Distributed) restartPlan(reqs []distributed.ConfigChange) (map[string]bool, map[runtime.TaskID]bool) {
	conns, tasks := map[string]bool{}, map[runtime.TaskID]bool{}
	for _, r := range reqs {
		if d.assigned.conns[r.Connector] {
			st, _ := d.statuses.Connector(r.Connector)
			if !r.OnlyFailed || st.State == runtime.Failed {
				conns[r.Connector] = true
			}
		}
		if !r.IncludeTasks {
			continue
		}
		for id := range d.assigned.tasks {
			if id.Connector != r.Connector {
				continue
			}
			st, _ := d.statuses.Task(id)
			if !r.OnlyFailed || st.State == runtime.Failed {
				tasks[id] = true
			}
		}
	}
	return conns, tasks
}

func (d *Distributed) reconcileConnector(name string, snap distributed.Snapshot, restart, reconfig bool) {
	cs, ok := snap.Connectors[name]
	rc := d.conns[name]
	if !ok {
		d.stopConnectorLocked(name)
		return
	}
	if cs.TargetState == distributed.Stopped {
		d.stopConnectorLocked(name)
		d.status.connector(name, runtime.Stopped, "")
		if len(cs.Tasks) > 0 || cs.Inconsistent {
			// KIP-875: a stopped connector has no tasks; its owner writes
			// the empty set so every worker stops them.
			d.writeTaskConfigs(name, cs, nil)
		}
		return
	}
	if rc != nil && (restart || !maps.Equal(rc.config, cs.Config)) {
		d.stopConnectorLocked(name)
		rc = nil
	}
	if rc == nil {
		if restart {
			d.status.connector(name, runtime.Restarting, "")
		}
		rc = &runningConn{config: cloneConfig(cs.Config), target: cs.TargetState}
		d.conns[name] = rc
		h, err := d.worker.StartConnector(d.ctx, name, cloneConfig(cs.Config), runtime.Hooks{Reconfigure: d.requestReconfigure})
		if err != nil {
			d.log.Warn("connect: connector failed to start", "connector", name, "err", err)
			return
		}
		rc.handle = h
		reconfig = true
	}
	if rc.target != cs.TargetState {
		rc.target = cs.TargetState
		state := runtime.Running
		if cs.TargetState == distributed.Paused {
			state = runtime.Paused
		}
		if rc.handle != nil {
			d.status.connector(name, state, "")
		}
	}
	if rc.handle != nil && (reconfig || cs.Inconsistent) {
		d.publishTaskConfigs(name, rc, cs)
	}
	if rc.handle != nil {
		d.fenceIfPending(name)
	}
}

// publishTaskConfigs asks the running connector for its task configurations
// and writes them when they differ from the committed ones.
func (d *Distributed) publishTaskConfigs(name string, rc *runningConn, cs distributed.ConnectorSnapshot) {
	maxTasks := 1
	if n, err := strconv.Atoi(strings.TrimSpace(cs.Config[connect.TasksMaxConfig])); err == nil && n > 0 {
		maxTasks = n
	}
	cfgs, err := rc.handle.TaskConfigs(maxTasks)
	if err != nil {
		d.log.Warn("connect: connector failed to give task configurations", "connector", name, "err", err)
		d.status.connector(name, runtime.Failed, err.Error())
		return
	}
	if len(cfgs) > maxTasks {
		cfgs = cfgs[:maxTasks]
	}
	if !cs.Inconsistent && slices.EqualFunc(cfgs, cs.Tasks, func(a, b connect.Config) bool { return maps.Equal(a, b) }) {
		return
	}
	d.writeTaskConfigs(name, cs, cfgs)
}

func (d *Distributed) writeTaskConfigs(name string, cs distributed.ConnectorSnapshot, cfgs []connect.Config) {
	ctx, cancel := context.WithTimeout(d.ctx, requestTimeout)
	defer cancel()
	if err := d.configs.PutTaskConfigs(ctx, name, cfgs); err != nil {
		d.log.Error("connect: cannot write task configurations", "connector", name, "err", err)
		return
	}
	d.log.Info("connect: task configurations written", "connector", name, "tasks", len(cfgs), "before", len(cs.Tasks))
}

func (d *Distributed) reconcileTask(id runtime.TaskID, snap distributed.Snapshot, restart bool) {
	cs, ok := snap.Connectors[id.Connector]
	rt := d.tasks[id]
	if !ok || cs.TargetState == distributed.Stopped || id.Task >= len(cs.Tasks) {
		// Deleted, stopped, or a task beyond the committed ones: the next
		// rebalance revokes it.
		d.stopTaskLocked(id)
		return
	}
	want := cs.Tasks[id.Task]
	if rt != nil && (restart || !maps.Equal(rt.config, want) || !maps.Equal(rt.connConfig, cs.Config)) {
		d.stopTaskLocked(id)
		rt = nil
	}
	paused := cs.TargetState == distributed.Paused
	if rt == nil {
		if restart {
			d.status.task(id, runtime.Restarting, "")
		}
		rt = &runningTask{connConfig: cloneConfig(cs.Config), config: cloneConfig(want)}
		d.tasks[id] = rt
		if err := d.worker.StartTask(id, cloneConfig(cs.Config), cloneConfig(want)); err != nil {
			d.log.Warn("connect: task failed to start", "task", taskNames([]runtime.TaskID{id})[0], "err", err)
			return
		}
		rt.started = true
		if paused {
			d.worker.PauseTask(id)
			rt.paused = true
			d.status.task(id, runtime.Paused, "")
		}
		return
	}
	if rt.started && rt.paused != paused {
		rt.paused = paused
		// The runtime reports these states too; a worker that does not
		// (the tests' fake) still gets them written.
		if paused {
			d.worker.PauseTask(id)
			d.status.task(id, runtime.Paused, "")
		} else {
			d.worker.ResumeTask(id)
			d.status.task(id, runtime.Running, "")
		}
	}
}

// stopTaskLocked stops a task this worker runs (its final commit included)
// and marks it UNASSIGNED unless a later generation wrote its status.
func (d *Distributed) stopTaskLocked(id runtime.TaskID) {
	rt, ok := d.tasks[id]
	if !ok {
		return
	}
	delete(d.tasks, id)
	if rt.started {
		d.worker.StopTask(id)
	}
	d.status.taskSafe(id, runtime.Unassigned)
}

func (d *Distributed) stopConnectorLocked(name string) {
	rc, ok := d.conns[name]
	if !ok {
		return
	}
	delete(d.conns, name)
	if rc.handle != nil {
		d.worker.StopConnector(name)
	}
	d.status.connectorSafe(name, runtime.Unassigned)
}
