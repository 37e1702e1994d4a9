package herder

// What the REST API asks a distributed herder. Reads come from this
// worker's view of the config and status topics; changes are records in
// the config topic, acted on by whichever workers run the connector. As in
// Kafka, the group's leader writes them: another worker answers a
// ForwardError naming the leader, which the REST layer forwards to
// (distributed_leader.go); a task restart goes to the worker running the
// task. Pause and resume are written by any worker, as Kafka writes them.

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

func (d *Distributed) timeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), requestTimeout)
}

// fresh reads the config topic to its end, so a request sees every change
// acknowledged before it, on any worker.
func (d *Distributed) fresh(ctx context.Context) (distributed.Snapshot, error) {
	if err := d.configs.ReadToEnd(ctx); err != nil {
		return distributed.Snapshot{}, &Error{500, fmt.Sprintf("Failed to read the config topic: %v", err)}
	}
	return d.configs.Snapshot(), nil
}

func (d *Distributed) lookup(name string) (distributed.ConnectorSnapshot, error) {
	cs, ok := d.configs.Snapshot().Connectors[name]
	if !ok {
		return cs, notFound(name)
	}
	return cs, nil
}

// Connectors implements the REST API's list, sorted.
func (d *Distributed) Connectors() []string { return d.configs.Snapshot().ConnectorNames() }

// Info returns a connector's configuration and committed tasks.
func (d *Distributed) Info(name string) (ConnectorInfo, error) {
	cs, err := d.lookup(name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	return d.info(name, cs), nil
}

func (d *Distributed) info(name string, cs distributed.ConnectorSnapshot) ConnectorInfo {
	return d.local.info(name, stored{Config: cs.Config, Tasks: cs.Tasks})
}

// ConnectorConfig returns a connector's configuration.
func (d *Distributed) ConnectorConfig(name string) (connect.Config, error) {
	cs, err := d.lookup(name)
	return cs.Config, err
}

// TaskConfigs returns a connector's committed task configurations.
func (d *Distributed) TaskConfigs(name string) ([]TaskInfo, error) {
	cs, err := d.lookup(name)
	if err != nil {
		return nil, err
	}
	out := []TaskInfo{}
	for i, c := range cs.Tasks {
		out = append(out, TaskInfo{ID: runtime.TaskID{Connector: name, Task: i}, Config: c})
	}
	return out, nil
}

// Put creates a connector or replaces its configuration (see Herder.Put),
// on the leader.
func (d *Distributed) Put(ctx context.Context, name string, cfg connect.Config, replace bool, initial TargetState) (ConnectorInfo, bool, error) {
	cfg = cloneConfig(cfg)
	if err := d.local.checkValid(ctx, cfg); err != nil {
		return ConnectorInfo{}, false, err
	}
	snap, release, err := d.asLeader(ctx, "Only the leader can set connector configs.")
	if err != nil {
		return ConnectorInfo{}, false, err
	}
	defer release()
	return d.put(ctx, snap, name, cfg, replace, initial)
}

// put is Put on the leader, its write lock held.
func (d *Distributed) put(ctx context.Context, snap distributed.Snapshot, name string, cfg connect.Config, replace bool, initial TargetState) (ConnectorInfo, bool, error) {
	var err error
	cs, exists := snap.Connectors[name]
	switch {
	case exists && !replace:
		return ConnectorInfo{}, false, &Error{409, fmt.Sprintf("Connector %s already exists", name)}
	case exists && maps.Equal(cs.Config, cfg):
		return d.info(name, cs), false, nil
	case exists:
		err = d.configs.PutConnectorConfig(ctx, name, cfg)
	case initial == "" || initial == TargetRunning:
		err = d.configs.PutConnectorConfig(ctx, name, cfg)
	default:
		err = d.configs.PutConnectorConfigWithState(ctx, name, cfg, topicState(initial))
	}
	if err != nil {
		return ConnectorInfo{}, false, &Error{500, fmt.Sprintf("Failed to write the connector configuration: %v", err)}
	}
	d.log.Info("connect: connector configured", "connector", name, "created", !exists)
	cs = d.configs.Snapshot().Connectors[name]
	return d.info(name, distributed.ConnectorSnapshot{Config: cfg, Tasks: cs.Tasks}), !exists, nil
}

// topicState maps the REST API's target states to the config topic's:
// RUNNING is STARTED there.
func topicState(t TargetState) distributed.TargetState {
	switch t {
	case TargetPaused:
		return distributed.Paused
	case TargetStopped:
		return distributed.Stopped
	}
	return distributed.Started
}

// Patch changes some settings of a connector's configuration (KIP-477).
func (d *Distributed) Patch(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error) {
	if n, ok := patch[connect.NameConfig]; ok && (n == nil || *n != name) {
		v := "null"
		if n != nil {
			v = *n
		}
		return ConnectorInfo{}, badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", v, name)
	}
	snap, release, err := d.asLeader(ctx, "Only the leader can set connector configs.")
	if err != nil {
		return ConnectorInfo{}, err
	}
	defer release()
	cs, ok := snap.Connectors[name]
	if !ok {
		return ConnectorInfo{}, notFound(name)
	}
	cfg := cloneConfig(cs.Config)
	for k, v := range patch {
		if v == nil {
			delete(cfg, k)
		} else {
			cfg[k] = *v
		}
	}
	if err := d.local.checkValid(ctx, cfg); err != nil {
		return ConnectorInfo{}, err
	}
	info, _, err := d.put(ctx, snap, name, cfg, true, "")
	return info, err
}

// Delete removes a connector cluster-wide: the tombstones of its
// configuration and target state, then of its statuses; its source offsets
// are deleted as the standalone herder deletes them.
func (d *Distributed) Delete(ctx context.Context, name string) error {
	snap, release, err := d.asLeader(ctx, "Only the leader can delete connector configs.")
	if err != nil {
		return err
	}
	defer release()
	cs, ok := snap.Connectors[name]
	if !ok {
		return notFound(name)
	}
	if err := d.configs.RemoveConnector(ctx, name); err != nil {
		return &Error{500, fmt.Sprintf("Failed to delete connector %s: %v", name, err)}
	}
	d.status.noteTargets(d.configs.Snapshot())
	if err := d.statuses.DeleteConnector(ctx, name, len(cs.Tasks)); err != nil {
		d.log.Warn("connect: deleting statuses", "connector", name, "err", err)
	}
	d.log.Info("connect: connector deleted", "connector", name)
	return d.local.resetOffsetsIn(ctx, d.offsets, name)
}

// Pause pauses a connector cluster-wide, from any worker.
func (d *Distributed) Pause(name string) error { return d.setTarget(name, distributed.Paused) }

// Resume resumes a paused or stopped connector cluster-wide, from any
// worker.
func (d *Distributed) Resume(name string) error { return d.setTarget(name, distributed.Started) }

// Stop stops a connector and its tasks cluster-wide (KIP-875), on the
// leader; the worker that owns the connector then writes its empty task
// set.
func (d *Distributed) Stop(name string) error { return d.setTarget(name, distributed.Stopped) }

func (d *Distributed) setTarget(name string, t distributed.TargetState) error {
	ctx, cancel := d.timeout()
	defer cancel()
	var snap distributed.Snapshot
	var err error
	if t == distributed.Stopped {
		var release func()
		snap, release, err = d.asLeader(ctx, "Only the leader can transition connectors to the STOPPED state.")
		if err == nil {
			defer release()
		}
	} else {
		snap, err = d.fresh(ctx)
	}
	if err != nil {
		return err
	}
	cs, ok := snap.Connectors[name]
	if !ok {
		return notFound(name)
	}
	if cs.TargetState == t {
		return nil
	}
	if err := d.configs.PutTargetState(ctx, name, t); err != nil {
		return &Error{500, fmt.Sprintf("Failed to write the target state of connector %s: %v", name, err)}
	}
	d.log.Info("connect: target state changed", "connector", name, "from", cs.TargetState, "to", t)
	return nil
}

// Restart writes a restart record every worker running part of the
// connector acts on (KIP-745). The answer is the status as it is, with
// what will restart marked RESTARTING; nil without either flag (204).
func (d *Distributed) Restart(name string, includeTasks, onlyFailed bool) (*ConnectorStatus, error) {
	ctx, cancel := d.timeout()
	defer cancel()
	snap, release, err := d.asLeader(ctx, "Only the leader can process restart requests.")
	if err != nil {
		return nil, err
	}
	defer release()
	cs, ok := snap.Connectors[name]
	if !ok {
		return nil, notFound(name)
	}
	var status *ConnectorStatus
	if includeTasks || onlyFailed {
		st := d.status2(name, cs)
		if !onlyFailed || st.Connector.State == string(runtime.Failed) {
			st.Connector.State, st.Connector.Trace = string(runtime.Restarting), ""
		}
		for i, t := range st.Tasks {
			if includeTasks && (!onlyFailed || t.State == string(runtime.Failed)) {
				st.Tasks[i].State, st.Tasks[i].Trace = string(runtime.Restarting), ""
			}
		}
		status = &st
	}
	if cs.TargetState == distributed.Stopped {
		return status, nil
	}
	if err := d.configs.PutRestartRequest(ctx, name, includeTasks, onlyFailed); err != nil {
		return nil, &Error{500, fmt.Sprintf("Failed to restart connector %s: %v", name, err)}
	}
	return status, nil
}

// RestartTask restarts one task where it runs: here, or on the worker the
// status topic names, or, when none does, on the leader, which knows the
// assignment (a ForwardError the REST layer forwards, as Kafka's
// NotAssignedException and NotLeaderException are).
func (d *Distributed) RestartTask(id runtime.TaskID) error {
	if err := d.lead.rebalancePending(); err != nil {
		return err
	}
	cs, err := d.lookup(id.Connector)
	if err != nil {
		return err
	}
	if id.Task < 0 || id.Task >= len(cs.Tasks) {
		return &Error{404, fmt.Sprintf("Task %s-%d not found", id.Connector, id.Task)}
	}
	d.mu.Lock()
	if rt, ok := d.tasks[id]; ok && !d.closed {
		if rt.started {
			d.worker.StopTask(id)
		}
		rt.started = d.worker.StartTask(id, cloneConfig(rt.connConfig), cloneConfig(rt.config)) == nil
		if rt.started && rt.paused {
			d.worker.PauseTask(id)
		}
		d.mu.Unlock()
		return nil
	}
	d.mu.Unlock()
	const notHere = "Cannot restart task since it is not assigned to this member"
	if owner := d.taskOwnerURL(d.statuses.Task(id)); owner != "" {
		return &ForwardError{URL: owner, Message: notHere}
	}
	if err := d.lead.route(notHere); err != nil {
		return err
	}
	// The leader, and no worker says it runs the task: it is between
	// owners.
	return &ForwardError{Message: notHere}
}

// Status returns a connector's status and its tasks' from the status
// topic, with the progress of the tasks this worker runs.
func (d *Distributed) Status(name string) (ConnectorStatus, error) {
	cs, ok := d.configs.Snapshot().Connectors[name]
	if !ok {
		return ConnectorStatus{}, &Error{404, fmt.Sprintf("No status found for connector %s", name)}
	}
	out := d.status2(name, cs)
	d.mu.Lock()
	w := d.worker
	local := map[int]bool{}
	for id := range d.tasks {
		if id.Connector == name {
			local[id.Task] = true
		}
	}
	d.mu.Unlock()
	if pr, ok := w.(progressReporter); ok {
		for i := range out.Tasks {
			if !local[out.Tasks[i].ID] {
				continue
			}
			if p, ok := pr.TaskProgress(runtime.TaskID{Connector: name, Task: out.Tasks[i].ID}); ok {
				out.Tasks[i].Progress = &p
			}
		}
	}
	return out, nil
}

// status2 builds the status answer from the status topic: the committed
// tasks, UNASSIGNED (no worker) for those no worker has reported yet.
func (d *Distributed) status2(name string, cs distributed.ConnectorSnapshot) ConnectorStatus {
	out := ConnectorStatus{Name: name, Tasks: []TaskState{}, Type: d.local.connectorType(cs.Config)}
	if st, ok := d.statuses.Connector(name); ok {
		out.Connector = StateInfo{State: string(st.State), Trace: deref(st.Trace), WorkerID: st.WorkerID}
	} else {
		out.Connector = StateInfo{State: string(runtime.Unassigned)}
	}
	if cs.TargetState == distributed.Stopped {
		out.Connector = StateInfo{State: string(runtime.Stopped), WorkerID: out.Connector.WorkerID}
	}
	tasks := d.statuses.Tasks(name)
	for i := range cs.Tasks {
		ts := TaskState{ID: i, State: string(runtime.Unassigned)}
		if st, ok := tasks[i]; ok {
			ts.State, ts.Trace, ts.WorkerID = string(st.State), deref(st.Trace), st.WorkerID
		}
		out.Tasks = append(out.Tasks, ts)
	}
	return out
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TaskStatus returns one task's state.
func (d *Distributed) TaskStatus(id runtime.TaskID) (TaskState, error) {
	st, err := d.Status(id.Connector)
	if err == nil {
		for _, t := range st.Tasks {
			if t.ID == id.Task {
				return t, nil
			}
		}
	}
	return TaskState{}, &Error{404, fmt.Sprintf("No status found for task %s-%d", id.Connector, id.Task)}
}

// ActiveTopics returns the topics of the connector's status-topic records.
func (d *Distributed) ActiveTopics(name string) []string {
	out := []string{}
	for _, t := range d.statuses.Topics(name) {
		out = append(out, t.Topic)
	}
	slices.Sort(out)
	return out
}

// ResetActiveTopics writes tombstones for the connector's topic records.
func (d *Distributed) ResetActiveTopics(name string) error {
	if _, err := d.lookup(name); err != nil {
		return err
	}
	ctx, cancel := d.timeout()
	defer cancel()
	if err := d.statuses.DeleteTopics(ctx, name); err != nil {
		return &Error{500, fmt.Sprintf("Failed to reset the active topics of connector %s: %v", name, err)}
	}
	return nil
}

// GetOffsets returns a connector's offsets (KIP-875).
func (d *Distributed) GetOffsets(ctx context.Context, name string) (Offsets, error) {
	cs, err := d.lookup(name)
	if err != nil {
		return Offsets{}, err
	}
	return d.local.offsetsOf(ctx, d.offsetStoreOf(ctx, cs.Config), d.cfg.Groups, name, cs.Config)
}

// AlterOffsets changes a stopped connector's offsets.
func (d *Distributed) AlterOffsets(ctx context.Context, name string, body Offsets) (string, error) {
	cs, err := d.stoppedForOffsets(ctx, name)
	if err != nil {
		return "", err
	}
	return d.local.alterOffsetsIn(ctx, d.offsetStoreOf(ctx, cs.Config), d.cfg.Groups, name, cs.Config, body)
}

// ResetOffsets removes a stopped connector's offsets.
func (d *Distributed) ResetOffsets(ctx context.Context, name string) (string, error) {
	cs, err := d.stoppedForOffsets(ctx, name)
	if err != nil {
		return "", err
	}
	return d.local.resetOffsetsOf(ctx, d.offsetStoreOf(ctx, cs.Config), d.cfg.Groups, name, cs.Config)
}

// stoppedForOffsets checks that the connector is STOPPED and that its task
// set is empty, so that no task of it runs anywhere while its offsets change.
func (d *Distributed) stoppedForOffsets(ctx context.Context, name string) (distributed.ConnectorSnapshot, error) {
	snap, release, err := d.asLeader(ctx, "Only the leader can process external offsets modification requests")
	if err != nil {
		return distributed.ConnectorSnapshot{}, err
	}
	defer release()
	cs, ok := snap.Connectors[name]
	if !ok {
		return cs, notFound(name)
	}
	if cs.TargetState != distributed.Stopped {
		return cs, badRequest("Connectors must be in the STOPPED state before their offsets can be modified. This can be done for the specified connector by issuing a 'PUT' request to the '/connectors/%s/stop' endpoint", name)
	}
	if len(cs.Tasks) > 0 {
		return cs, &Error{409, "Cannot complete request momentarily due to stale configuration (typically caused by a concurrent config change)"}
	}
	return cs, nil
}

// Validate checks a connector configuration (the validate endpoint).
func (d *Distributed) Validate(ctx context.Context, cfg connect.Config) (ConfigInfos, error) {
	return d.local.Validate(ctx, cfg)
}

// Registry returns the plugins.
func (d *Distributed) Registry() *connect.Registry { return d.cfg.Registry }

// ClusterID returns the Kafka cluster's id, or "".
func (d *Distributed) ClusterID(ctx context.Context) string {
	if d.cfg.ClusterID == nil {
		return ""
	}
	id, err := d.cfg.ClusterID(ctx)
	if err != nil {
		return ""
	}
	return id
}
