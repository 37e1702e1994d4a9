// Package herdertest holds what tests of the herder and the REST API share:
// a fake worker that records what it is asked and reports states as a real
// one would, and a registry of small test plugins. The real worker's own
// behaviour is connect/runtime's to test.
package herdertest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"sync"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

// Worker is a fake herder.Worker. Connectors give as many task
// configurations as their "test.tasks" setting says (tasks.max when
// unset), each {"task.index": i, plus the connector's "test.task.value"}.
// A connector whose "test.fail" setting is "start" fails to start; a task
// whose connector has "test.fail" = "task" fails to start.
type Worker struct {
	Listener runtime.StatusListener

	mu         sync.Mutex
	connectors map[string]connect.Config
	hooks      map[string]runtime.Hooks
	tasks      map[runtime.TaskID]string // "running" or "paused"
	calls      []string
	closed     bool
}

// NewWorker returns a fake worker reporting to l (which may be set later,
// before the first call, through the Listener field).
func NewWorker(l runtime.StatusListener) *Worker {
	return &Worker{Listener: l, connectors: map[string]connect.Config{}, hooks: map[string]runtime.Hooks{}, tasks: map[runtime.TaskID]string{}}
}

func (w *Worker) record(format string, args ...any) {
	w.calls = append(w.calls, fmt.Sprintf(format, args...))
}

// StartConnector implements herder.Worker.
func (w *Worker) StartConnector(_ context.Context, name string, cfg connect.Config, hooks runtime.Hooks) (runtime.ConnectorHandle, error) {
	w.mu.Lock()
	w.record("StartConnector %s", name)
	if _, dup := w.connectors[name]; dup {
		w.mu.Unlock()
		return nil, fmt.Errorf("connector %s is already running", name)
	}
	if cfg["test.fail"] == "start" {
		w.mu.Unlock()
		err := errors.New("the test connector was told to fail")
		w.Listener.ConnectorState(name, runtime.Failed, err.Error())
		return nil, err
	}
	w.connectors[name] = cfg
	w.hooks[name] = hooks
	w.mu.Unlock()
	w.Listener.ConnectorState(name, runtime.Running, "")
	return handle{w, name}, nil
}

type handle struct {
	w    *Worker
	name string
}

func (h handle) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	h.w.mu.Lock()
	cfg := h.w.connectors[h.name]
	h.w.mu.Unlock()
	n := maxTasks
	if s, ok := cfg["test.tasks"]; ok {
		v, err := strconv.Atoi(s)
		if err != nil {
			return nil, err
		}
		n = min(v, maxTasks)
	}
	out := make([]connect.Config, n)
	for i := range out {
		out[i] = connect.Config{"task.index": strconv.Itoa(i), "test.task.value": cfg["test.task.value"]}
	}
	return out, nil
}

// StopConnector implements herder.Worker.
func (w *Worker) StopConnector(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("StopConnector %s", name)
	delete(w.connectors, name)
	delete(w.hooks, name)
}

// StartTask implements herder.Worker.
func (w *Worker) StartTask(id runtime.TaskID, connCfg, taskCfg connect.Config) error {
	w.mu.Lock()
	w.record("StartTask %s-%d", id.Connector, id.Task)
	if _, dup := w.tasks[id]; dup {
		w.mu.Unlock()
		return fmt.Errorf("task %v is already running", id)
	}
	if connCfg["test.fail"] == "task" {
		w.mu.Unlock()
		w.Listener.TaskState(id, runtime.Failed, "the test task was told to fail")
		return nil // a task that fails after starting: the worker reports it
	}
	w.tasks[id] = "running"
	w.mu.Unlock()
	w.Listener.TaskState(id, runtime.Running, "")
	return nil
}

// StopTask implements herder.Worker.
func (w *Worker) StopTask(id runtime.TaskID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("StopTask %s-%d", id.Connector, id.Task)
	delete(w.tasks, id)
}

// PauseTask implements herder.Worker.
func (w *Worker) PauseTask(id runtime.TaskID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("PauseTask %s-%d", id.Connector, id.Task)
	if _, ok := w.tasks[id]; ok {
		w.tasks[id] = "paused"
	}
}

// ResumeTask implements herder.Worker.
func (w *Worker) ResumeTask(id runtime.TaskID) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("ResumeTask %s-%d", id.Connector, id.Task)
	if _, ok := w.tasks[id]; ok {
		w.tasks[id] = "running"
	}
}

// Close implements herder.Worker.
func (w *Worker) Close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record("Close")
	w.closed = true
}

// Calls returns the calls made so far and forgets them.
func (w *Worker) Calls() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.calls
	w.calls = nil
	return out
}

// Running returns the running connectors, sorted.
func (w *Worker) Running() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Sorted(maps.Keys(w.connectors))
}

// Tasks returns every task's state ("running", "paused") by "name-N".
func (w *Worker) Tasks() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := map[string]string{}
	for id, s := range w.tasks {
		out[fmt.Sprintf("%s-%d", id.Connector, id.Task)] = s
	}
	return out
}

// RequestReconfiguration calls a running connector's Hooks.Reconfigure, as
// a connector asking for new task configurations does, after changing its
// "test.tasks" setting to tasks.
func (w *Worker) RequestReconfiguration(name string, tasks int) {
	w.mu.Lock()
	cfg := maps.Clone(w.connectors[name])
	cfg["test.tasks"] = strconv.Itoa(tasks)
	w.connectors[name] = cfg
	hooks := w.hooks[name]
	w.mu.Unlock()
	hooks.Reconfigure(name)
}

// FailTask reports a running task FAILED, as a task that crashed.
func (w *Worker) FailTask(id runtime.TaskID, trace string) {
	w.Listener.TaskState(id, runtime.Failed, trace)
}

// The test plugins' classes.
const (
	SourceClass    = "io.streambridge.test.TestSourceConnector"
	SinkClass      = "io.streambridge.test.TestSinkConnector"
	TransformClass = "io.streambridge.test.Upper"
	PredicateClass = "io.streambridge.test.Always"
	ConverterClass = "io.streambridge.test.TestConverter"
)

// Registry returns the test plugins: a source with a required "topic", a
// sink with a "dir" (its Validate refuses "/"), a transform with a required
// "field" whose Configure refuses "bad", a predicate and a converter whose
// Configure refuses "fail=true".
func Registry() *connect.Registry {
	var r connect.Registry
	r.Register(
		connect.Plugin{Class: SourceClass, Type: connect.PluginSource, Version: "1.0", Doc: "test source",
			Config: connect.ConfigDef{
				{Name: "topic", Type: connect.ConfigString, Required: true, Importance: connect.High, Group: "Test", Doc: "Topic to write to.", Check: connect.NonEmpty},
				{Name: "secret", Type: connect.ConfigPassword, Importance: connect.Low, Group: "Test", Doc: "A secret."},
			},
			NewSource: func() connect.SourceConnector { return &sourceConnector{} }},
		connect.Plugin{Class: SinkClass, Type: connect.PluginSink, Version: "1.0", Doc: "test sink",
			Config: connect.ConfigDef{
				{Name: "dir", Type: connect.ConfigString, Default: "/tmp", Importance: connect.High, Doc: "Directory."},
			},
			NewSink: func() connect.SinkConnector { return &connector{} }},
		connect.Plugin{Class: TransformClass, Type: connect.PluginTransformation, Doc: "test transform",
			Config:       connect.ConfigDef{{Name: "field", Type: connect.ConfigString, Required: true, Importance: connect.Medium, Doc: "Field."}},
			NewTransform: func() connect.Transform { return &transform{} }},
		connect.Plugin{Class: PredicateClass, Type: connect.PluginPredicate, Doc: "test predicate",
			NewPredicate: func() connect.Predicate { return predicate{} }},
		connect.Plugin{Class: ConverterClass, Type: connect.PluginConverter, Doc: "test converter",
			NewConverter: func() connect.Converter { return converter{} }},
	)
	return &r
}

type connector struct{}

type sourceConnector struct{ connector }

func (*sourceConnector) NewTask() connect.SourceTask { return nil }

func (*connector) Start(context.Context, connect.ConnectorContext, connect.Config) error { return nil }
func (*connector) TaskConfigs(int) ([]connect.Config, error)                             { return nil, nil }
func (*connector) Stop() error                                                           { return nil }
func (*connector) NewTask() connect.SinkTask                                             { return nil }

// Validate implements connect.ConnectorValidator.
func (*connector) Validate(cfg connect.Config) map[string][]string {
	if cfg["dir"] == "/" {
		return map[string][]string{"dir": {"The sink may not write to /"}}
	}
	return nil
}

type transform struct{}

func (*transform) Configure(cfg connect.Config) error {
	if cfg["field"] == "bad" {
		return errors.New("field may not be bad")
	}
	return nil
}
func (*transform) Apply(r *connect.Record) (*connect.Record, error) { return r, nil }

type predicate struct{}

func (predicate) Configure(connect.Config) error { return nil }
func (predicate) Test(*connect.Record) bool      { return true }

type converter struct{}

func (converter) Configure(cfg connect.Config, _ bool) error {
	if cfg["fail"] == "true" {
		return errors.New("the converter was told to fail")
	}
	return nil
}
func (converter) FromConnect(string, *connect.Schema, any) ([]byte, error) { return nil, nil }
func (converter) ToConnect(string, []byte) (*connect.Schema, any, error)   { return nil, nil, nil }

// TaskProgress reports each running task's progress as 7 records in and
// 5 out, as runtime.Worker reports real figures.
func (w *Worker) TaskProgress(id runtime.TaskID) (runtime.Progress, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.tasks[id]; !ok {
		return runtime.Progress{}, false
	}
	return runtime.Progress{RecordsIn: 7, RecordsOut: 5}, true
}
