package herder

import (
	"fmt"
	"maps"
	"slices"

	"github.com/streambridge/bridge/connect/runtime"
)

// ConnectorStatus is GET /connectors/{name}/status (Kafka's
// ConnectorStateInfo).
type ConnectorStatus struct {
	Name      string      `json:"name"`
	Connector StateInfo   `json:"connector"`
	Tasks     []TaskState `json:"tasks"`
	Type      string      `json:"type"`
}

// StateInfo is a connector's state.
type StateInfo struct {
	State    string `json:"state"`
	Trace    string `json:"trace,omitempty"`
	WorkerID string `json:"worker_id"`
}

// TaskState is a task's state. Progress is StreamBridge's addition (the
// issue's "progress in the status endpoint"): what a running task has done
// since it started, when the worker reports it; Kafka clients ignore it.
type TaskState struct {
	ID       int               `json:"id"`
	State    string            `json:"state"`
	Trace    string            `json:"trace,omitempty"`
	WorkerID string            `json:"worker_id"`
	Progress *runtime.Progress `json:"progress,omitempty"`
}

// progressReporter is a worker that counts its tasks' progress
// (runtime.Worker does).
type progressReporter interface {
	TaskProgress(id runtime.TaskID) (runtime.Progress, bool)
}

// Status returns a connector's status and its tasks'.
func (h *Herder) Status(name string) (ConnectorStatus, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.connectors[name]
	if !ok {
		return ConnectorStatus{}, &Error{404, fmt.Sprintf("No status found for connector %s", name)}
	}
	return h.status(name, c.stored), nil
}

// status builds the status of a connector whose stored state is s; h.mu is
// held. Tasks are those of the stored task configurations, so a task the
// worker has not reported yet is UNASSIGNED.
func (h *Herder) status(name string, s stored) ConnectorStatus {
	out := h.statusSnapshot(name, s)
	// Asked without statusMu: the worker may report a state (which takes
	// statusMu) while holding what TaskProgress needs.
	if pr, ok := h.worker.(progressReporter); ok {
		for i := range out.Tasks {
			if p, ok := pr.TaskProgress(runtime.TaskID{Connector: name, Task: out.Tasks[i].ID}); ok {
				out.Tasks[i].Progress = &p
			}
		}
	}
	return out
}

func (h *Herder) statusSnapshot(name string, s stored) ConnectorStatus {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	st := h.statusOf(name)
	out := ConnectorStatus{
		Name:      name,
		Connector: StateInfo{State: string(st.state), Trace: st.trace, WorkerID: h.cfg.WorkerID},
		Tasks:     []TaskState{},
		Type:      h.connectorType(s.Config),
	}
	ids := slices.Sorted(maps.Keys(st.tasks))
	for i := range s.Tasks {
		if !slices.Contains(ids, i) {
			ids = append(ids, i)
		}
	}
	slices.Sort(ids)
	for _, i := range ids {
		ts, ok := st.tasks[i]
		if !ok {
			ts.state = runtime.Unassigned
		}
		out.Tasks = append(out.Tasks, TaskState{ID: i, State: string(ts.state), Trace: ts.trace, WorkerID: h.cfg.WorkerID})
	}
	return out
}

// TaskStatus returns one task's state.
func (h *Herder) TaskStatus(id runtime.TaskID) (TaskState, error) {
	st, err := h.Status(id.Connector)
	if err == nil {
		for _, t := range st.Tasks {
			if t.ID == id.Task {
				return t, nil
			}
		}
	}
	return TaskState{}, &Error{404, fmt.Sprintf("No status found for task %s-%d", id.Connector, id.Task)}
}
