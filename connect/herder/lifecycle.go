package herder

// What happens to a connector: created, reconfigured, paused, resumed,
// stopped, restarted, deleted. Every change is persisted before the worker
// is told, and answered once the worker has done it.

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

// ConnectorInfo is a connector's configuration and tasks (Kafka's
// ConnectorInfo).
type ConnectorInfo struct {
	Name   string           `json:"name"`
	Config connect.Config   `json:"config"`
	Tasks  []runtime.TaskID `json:"tasks"`
	Type   string           `json:"type"`
}

// TaskInfo is one task's configuration (Kafka's TaskInfo).
type TaskInfo struct {
	ID     runtime.TaskID `json:"id"`
	Config connect.Config `json:"config"`
}

// Connectors returns the connectors' names, sorted.
func (h *Herder) Connectors() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string{}, slices.Sorted(maps.Keys(h.connectors))...)
}

// Info returns a connector's configuration and tasks.
func (h *Herder) Info(name string) (ConnectorInfo, error) {
	s, err := h.get(name)
	if err != nil {
		return ConnectorInfo{}, err
	}
	return h.info(name, s), nil
}

func (h *Herder) info(name string, s stored) ConnectorInfo {
	info := ConnectorInfo{Name: name, Config: s.Config, Tasks: []runtime.TaskID{}, Type: h.connectorType(s.Config)}
	for i := range s.Tasks {
		info.Tasks = append(info.Tasks, runtime.TaskID{Connector: name, Task: i})
	}
	return info
}

// connectorType is "source", "sink" or "unknown", as Kafka reports it.
func (h *Herder) connectorType(cfg connect.Config) string {
	if p, ok := h.cfg.Registry.Lookup(cfg[connect.ConnectorClassConfig]); ok && (p.Type == connect.PluginSource || p.Type == connect.PluginSink) {
		return string(p.Type)
	}
	return "unknown"
}

// ConnectorConfig returns a connector's configuration.
func (h *Herder) ConnectorConfig(name string) (connect.Config, error) {
	s, err := h.get(name)
	return s.Config, err
}

// TaskConfigs returns a connector's task configurations.
func (h *Herder) TaskConfigs(name string) ([]TaskInfo, error) {
	s, err := h.get(name)
	if err != nil {
		return nil, err
	}
	out := []TaskInfo{}
	for i, c := range s.Tasks {
		out = append(out, TaskInfo{ID: runtime.TaskID{Connector: name, Task: i}, Config: c})
	}
	return out, nil
}

// Put creates a connector, or replaces its configuration when replace is
// set (PUT) and it exists. initial is the target state of a new connector
// (KIP-980; empty means RUNNING). created says which happened.
func (h *Herder) Put(ctx context.Context, name string, cfg connect.Config, replace bool, initial TargetState) (info ConnectorInfo, created bool, err error) {
	mode := putCreate
	if replace {
		mode = putCreateOrReplace
	}
	return h.put(ctx, name, cfg, mode, nil, initial)
}

// putMode says what put may do.
type putMode int

const (
	putCreate          putMode = iota // POST: a new connector only
	putCreateOrReplace                // PUT .../config
	putReplaceIf                      // PATCH: an existing connector whose config is still the one read
)

// errConfigChanged makes Patch read the configuration again: another request
// changed it between Patch's read and its write.
var errConfigChanged = errors.New("the configuration changed meanwhile")

func (h *Herder) put(ctx context.Context, name string, cfg connect.Config, mode putMode, read connect.Config, initial TargetState) (info ConnectorInfo, created bool, err error) {
	cfg = cloneConfig(cfg)
	if err := h.checkValid(ctx, cfg); err != nil {
		return ConnectorInfo{}, false, err
	}
	if initial == "" {
		initial = TargetRunning
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.usable(); err != nil {
		return ConnectorInfo{}, false, err
	}
	c, exists := h.connectors[name]
	switch {
	case mode == putReplaceIf && !exists:
		return ConnectorInfo{}, false, notFound(name)
	case mode == putReplaceIf && !maps.Equal(c.Config, read):
		return ConnectorInfo{}, false, errConfigChanged
	case exists && mode == putCreate:
		return ConnectorInfo{}, false, &Error{409, fmt.Sprintf("Connector %s already exists", name)}
	case exists && maps.Equal(c.Config, cfg):
		return h.info(name, c.stored.clone()), false, nil
	case exists:
		h.stopLocked(name)
		old := c.Config
		c.Config = cfg
		if err := h.persistLocked(); err != nil {
			c.Config = old
			h.startLocked(name)
			return ConnectorInfo{}, false, err
		}
	default:
		c = &connector{stored: stored{Config: cfg, Target: initial}}
		h.connectors[name] = c
		if err := h.persistLocked(); err != nil {
			delete(h.connectors, name)
			return ConnectorInfo{}, false, err
		}
		h.noteTarget(name, initial)
		created = true
	}
	h.log.Info("connect: connector configured", "connector", name, "created", created, "target_state", c.Target)
	h.startLocked(name)
	return h.info(name, c.stored.clone()), created, nil
}

// Patch changes some settings of a connector's configuration (KIP-477): a
// nil value removes the setting.
func (h *Herder) Patch(ctx context.Context, name string, patch map[string]*string) (ConnectorInfo, error) {
	if n, ok := patch[connect.NameConfig]; ok && (n == nil || *n != name) {
		v := "null"
		if n != nil {
			v = *n
		}
		return ConnectorInfo{}, badRequest("Connector name configuration (%s) doesn't match connector name in the URL (%s)", v, name)
	}
	for {
		s, err := h.get(name)
		if err != nil {
			return ConnectorInfo{}, err
		}
		cfg := cloneConfig(s.Config)
		for k, v := range patch {
			if v == nil {
				delete(cfg, k)
			} else {
				cfg[k] = *v
			}
		}
		info, _, err := h.put(ctx, name, cfg, putReplaceIf, s.Config, "")
		if !errors.Is(err, errConfigChanged) {
			return info, err
		}
	}
}

// Delete stops a connector and forgets it, with its source offsets. A sink
// connector's consumer group is left alone, as Kafka leaves it.
func (h *Herder) Delete(ctx context.Context, name string) error {
	h.mu.Lock()
	c, ok := h.connectors[name]
	if !ok {
		h.mu.Unlock()
		return notFound(name)
	}
	h.stopLocked(name)
	delete(h.connectors, name)
	if err := h.persistLocked(); err != nil {
		h.connectors[name] = c
		h.startLocked(name)
		h.mu.Unlock()
		return err
	}
	h.mu.Unlock()
	h.noteTarget(name, "")
	h.statusMu.Lock()
	delete(h.statuses, name)
	delete(h.topics, name)
	h.statusMu.Unlock()
	h.log.Info("connect: connector deleted", "connector", name)
	return h.resetSourceOffsets(ctx, name)
}

// Pause pauses a connector's tasks. A stopped connector is started paused.
func (h *Herder) Pause(name string) error { return h.setTarget(name, TargetPaused) }

// Resume resumes a paused or stopped connector.
func (h *Herder) Resume(name string) error { return h.setTarget(name, TargetRunning) }

// Stop stops a connector and its tasks and drops its task configurations,
// keeping its configuration (KIP-875): the state in which its offsets may
// be altered.
func (h *Herder) Stop(name string) error { return h.setTarget(name, TargetStopped) }

func (h *Herder) setTarget(name string, target TargetState) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.usable(); err != nil {
		return err
	}
	c, ok := h.connectors[name]
	if !ok {
		return notFound(name)
	}
	from := c.Target
	if from == target {
		return nil
	}
	prevTasks := c.Tasks
	c.Target = target
	if target == TargetStopped {
		h.stopLocked(name)
		c.Tasks = nil
	}
	if err := h.persistLocked(); err != nil {
		c.Target, c.Tasks = from, prevTasks
		return err
	}
	h.noteTarget(name, target)
	h.log.Info("connect: target state changed", "connector", name, "from", from, "to", target)
	switch {
	case target == TargetStopped:
		h.statusMu.Lock()
		st := h.statusOf(name)
		st.state, st.trace, st.tasks = runtime.Stopped, "", map[int]taskStatus{}
		h.statusMu.Unlock()
	case from == TargetStopped:
		h.startLocked(name)
	case target == TargetPaused:
		for i := range c.Tasks {
			id := runtime.TaskID{Connector: name, Task: i}
			if c.running[i] {
				h.worker.PauseTask(id)
				h.TaskState(id, runtime.Paused, "")
			}
		}
		h.setConnectorStateUnlessFailed(name, runtime.Paused)
	default: // paused → running
		for i := range c.Tasks {
			id := runtime.TaskID{Connector: name, Task: i}
			if c.running[i] {
				h.worker.ResumeTask(id)
				h.TaskState(id, runtime.Running, "")
			}
		}
		h.setConnectorStateUnlessFailed(name, runtime.Running)
	}
	return nil
}

// Restart restarts a connector and, with includeTasks, its tasks; with
// onlyFailed only those that failed. Without either flag it returns a nil
// status (the REST API then answers 204); otherwise the status as it was
// with what is restarted marked RESTARTING (202).
func (h *Herder) Restart(name string, includeTasks, onlyFailed bool) (*ConnectorStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.usable(); err != nil {
		return nil, err
	}
	c, ok := h.connectors[name]
	if !ok {
		return nil, notFound(name)
	}
	if !includeTasks && !onlyFailed {
		if c.Target != TargetStopped {
			h.restartConnectorLocked(name, nil)
		}
		return nil, nil
	}
	status := h.status(name, c.stored)
	restartConn := !onlyFailed || status.Connector.State == string(runtime.Failed)
	var tasks []int
	for i, t := range status.Tasks {
		if includeTasks && (!onlyFailed || t.State == string(runtime.Failed)) {
			tasks = append(tasks, t.ID)
			status.Tasks[i].State, status.Tasks[i].Trace = string(runtime.Restarting), ""
		}
	}
	if restartConn {
		status.Connector.State, status.Connector.Trace = string(runtime.Restarting), ""
	}
	if c.Target == TargetStopped {
		return &status, nil
	}
	for _, i := range tasks {
		h.stopTaskLocked(name, i)
	}
	if restartConn {
		h.restartConnectorLocked(name, tasks)
	} else {
		for _, i := range tasks {
			h.startTaskLocked(name, i)
		}
	}
	return &status, nil
}

// restartConnectorLocked stops and starts the connector instance, then
// starts the stopped tasks again (all of them if the connector now gives
// other task configurations).
func (h *Herder) restartConnectorLocked(name string, stoppedTasks []int) {
	c := h.connectors[name]
	if c.handle != nil {
		h.worker.StopConnector(name)
		c.handle = nil
	}
	if !h.startConnectorLocked(name) {
		for _, i := range stoppedTasks {
			h.startTaskLocked(name, i)
		}
		return
	}
	if h.taskConfigsChangedLocked(name) {
		h.restartAllTasksLocked(name)
		return
	}
	for _, i := range stoppedTasks {
		h.startTaskLocked(name, i)
	}
}

// RestartTask restarts one task.
func (h *Herder) RestartTask(id runtime.TaskID) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.usable(); err != nil {
		return err
	}
	c, ok := h.connectors[id.Connector]
	if !ok {
		return notFound(id.Connector)
	}
	if id.Task < 0 || id.Task >= len(c.Tasks) {
		return &Error{404, fmt.Sprintf("Task %s-%d not found", id.Connector, id.Task)}
	}
	h.stopTaskLocked(id.Connector, id.Task)
	h.startTaskLocked(id.Connector, id.Task)
	return nil
}

// usable refuses changes before Start and after Close; h.mu is held.
func (h *Herder) usable() error {
	if h.worker == nil || h.closed {
		return &Error{503, "The worker is not running"}
	}
	return nil
}

// startLocked starts a connector and its tasks in its target state.
func (h *Herder) startLocked(name string) {
	c := h.connectors[name]
	if c.Target == TargetStopped {
		h.statusMu.Lock()
		st := h.statusOf(name)
		st.state, st.trace, st.tasks = runtime.Stopped, "", map[int]taskStatus{}
		h.statusMu.Unlock()
		return
	}
	if !h.startConnectorLocked(name) {
		return
	}
	h.taskConfigsChangedLocked(name)
	h.pruneTaskStatuses(name)
	for i := range c.Tasks {
		h.startTaskLocked(name, i)
	}
}

// startConnectorLocked starts the connector instance; false when it failed.
func (h *Herder) startConnectorLocked(name string) bool {
	c := h.connectors[name]
	h.ConnectorState(name, runtime.Unassigned, "")
	handle, err := h.worker.StartConnector(h.ctx, name, cloneConfig(c.Config), runtime.Hooks{Reconfigure: h.requestReconfigure})
	if err != nil {
		h.log.Warn("connect: connector failed to start", "connector", name, "err", err)
		h.ConnectorState(name, runtime.Failed, err.Error())
		return false
	}
	c.handle = handle
	state := runtime.Running
	if c.Target == TargetPaused {
		state = runtime.Paused
	}
	h.setConnectorStateUnlessFailed(name, state)
	return true
}

// setConnectorStateUnlessFailed sets a state the herder knows from what it
// did, unless the worker has reported a failure meanwhile.
func (h *Herder) setConnectorStateUnlessFailed(name string, s runtime.State) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	if st := h.statusOf(name); st.state != runtime.Failed {
		st.state, st.trace = s, ""
	}
}

// taskConfigsChangedLocked asks the running connector for its task
// configurations and stores them; it reports whether they changed. A
// connector that fails to answer is FAILED and keeps its previous ones.
func (h *Herder) taskConfigsChangedLocked(name string) bool {
	c := h.connectors[name]
	if c.handle == nil {
		return false
	}
	maxTasks := 1
	if n, err := strconv.Atoi(strings.TrimSpace(c.Config[connect.TasksMaxConfig])); err == nil && n > 0 {
		maxTasks = n
	}
	cfgs, err := c.handle.TaskConfigs(maxTasks)
	if err != nil {
		h.log.Warn("connect: connector failed to give task configurations", "connector", name, "err", err)
		h.ConnectorState(name, runtime.Failed, err.Error())
		return false
	}
	if len(cfgs) > maxTasks {
		h.log.Warn("connect: connector gave more task configurations than tasks.max; the rest are ignored", "connector", name, "got", len(cfgs), "tasks.max", maxTasks)
		cfgs = cfgs[:maxTasks]
	}
	if slices.EqualFunc(cfgs, c.Tasks, func(a, b connect.Config) bool { return maps.Equal(a, b) }) {
		return false
	}
	prev := c.Tasks
	c.Tasks = nil
	for _, tc := range cfgs {
		c.Tasks = append(c.Tasks, cloneConfig(tc))
	}
	if err := h.persistLocked(); err != nil {
		h.log.Error("connect: cannot store task configurations", "connector", name, "err", err)
		c.Tasks = prev
		return false
	}
	return true
}

// restartAllTasksLocked stops every running task, forgets the statuses of
// tasks that no longer exist and starts the current ones.
func (h *Herder) restartAllTasksLocked(name string) {
	c := h.connectors[name]
	for i := range c.running {
		h.stopTaskLocked(name, i)
	}
	h.pruneTaskStatuses(name)
	for i := range c.Tasks {
		h.startTaskLocked(name, i)
	}
}

// pruneTaskStatuses forgets the statuses of tasks beyond the current task
// configurations.
func (h *Herder) pruneTaskStatuses(name string) {
	n := len(h.connectors[name].Tasks)
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	st := h.statusOf(name)
	for i := range st.tasks {
		if i >= n {
			delete(st.tasks, i)
		}
	}
}

func (h *Herder) startTaskLocked(name string, i int) {
	c := h.connectors[name]
	id := runtime.TaskID{Connector: name, Task: i}
	h.TaskState(id, runtime.Unassigned, "")
	if err := h.worker.StartTask(id, cloneConfig(c.Config), cloneConfig(c.Tasks[i])); err != nil {
		h.log.Warn("connect: task failed to start", "task", fmt.Sprintf("%s-%d", name, i), "err", err)
		h.TaskState(id, runtime.Failed, err.Error())
		return
	}
	if c.running == nil {
		c.running = map[int]bool{}
	}
	c.running[i] = true
	state := runtime.Running
	if c.Target == TargetPaused {
		h.worker.PauseTask(id)
		state = runtime.Paused
	}
	h.statusMu.Lock()
	if st := h.statusOf(name); st.tasks[i].state != runtime.Failed {
		st.tasks[i] = taskStatus{state: state}
	}
	h.statusMu.Unlock()
}

func (h *Herder) stopTaskLocked(name string, i int) {
	c := h.connectors[name]
	if !c.running[i] {
		return
	}
	h.worker.StopTask(runtime.TaskID{Connector: name, Task: i})
	delete(c.running, i)
}

// stopLocked stops a connector's tasks, then the connector, as Kafka does.
func (h *Herder) stopLocked(name string) {
	c := h.connectors[name]
	for _, i := range slices.Sorted(maps.Keys(c.running)) {
		h.stopTaskLocked(name, i)
	}
	if c.handle != nil {
		h.worker.StopConnector(name)
		c.handle = nil
	}
}

// requestReconfigure is Hooks.Reconfigure. The worker may call it from
// inside one of its own calls, which the herder makes with h.mu held, so
// the work happens on a goroutine of its own.
func (h *Herder) requestReconfigure(name string) {
	go func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		c, ok := h.connectors[name]
		if h.closed || !ok || c.handle == nil || c.Target == TargetStopped {
			return
		}
		if h.taskConfigsChangedLocked(name) {
			h.log.Info("connect: task configurations changed; restarting tasks", "connector", name, "tasks", len(c.Tasks))
			h.restartAllTasksLocked(name)
		}
	}()
}
