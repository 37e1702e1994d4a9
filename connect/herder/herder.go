// Package herder holds the herders of StreamBridge's Kafka
// Connect-compatible workers: a herder decides what runs, keeps every
// connector's configuration, target state (RUNNING, PAUSED, STOPPED) and
// task configurations, hears the states the worker reports, and answers what
// the REST API (connect/rest) asks, with Kafka Connect's semantics and
// wording. Herder is the standalone one (state in files, below); Distributed
// (distributed*.go) keeps the same state in a Kafka cluster's internal
// topics and shares the work with the other workers of its group, see
// distributed.go for its invariants.
//
// The standalone herder's invariants:
//
// Invariants:
//   - Configurations, target states and task configurations are on disk
//     (Config.StateDir/connectors.json, written to a temporary file, fsynced
//     and renamed) before a call that changed them returns, so a restarted
//     worker resumes exactly what was acknowledged.
//   - A configuration is stored only after it passed Validate: a bad one is
//     refused by POST and PUT with per-field errors, never by a task failing
//     later.
//   - One mutex serializes every change; worker calls are made with it held,
//     so the worker never sees two changes of one connector at once. Worker
//     callbacks (states, Hooks.Reconfigure) never take it synchronously from
//     inside a worker call: states have their own lock and reconfiguration
//     runs on a goroutine of its own.
//   - Statuses and active topics live in memory only (Kafka standalone keeps
//     them in memory too).
package herder

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

// Worker is what the herder drives: exactly the methods of runtime.Worker
// (connect/runtime/api.go, "The Worker's methods").
type Worker interface {
	StartConnector(ctx context.Context, name string, cfg connect.Config, hooks runtime.Hooks) (runtime.ConnectorHandle, error)
	// StopConnector blocks until the connector has stopped.
	StopConnector(name string)
	StartTask(id runtime.TaskID, connCfg, taskCfg connect.Config) error
	// StopTask makes a final commit, then stops the task; it blocks.
	StopTask(id runtime.TaskID)
	PauseTask(id runtime.TaskID)
	ResumeTask(id runtime.TaskID)
	Close()
}

// TargetState is what a connector should be doing, as the user asked.
type TargetState string

// The target states (Kafka Connect's TargetState).
const (
	TargetRunning TargetState = "RUNNING"
	TargetPaused  TargetState = "PAUSED"
	TargetStopped TargetState = "STOPPED"
)

// Config is what a Herder is built from.
type Config struct {
	// StateDir holds connectors.json (configurations, target states, task
	// configurations) and, unless Offsets is set, offsets.json (source
	// offsets). Created if missing. Empty keeps everything in memory.
	StateDir string
	// Registry resolves connector, converter, transform and predicate
	// classes.
	Registry *connect.Registry
	// Offsets keeps source connectors' positions; nil opens a
	// FileOffsetStore in StateDir (an in-memory one without a StateDir).
	Offsets runtime.OffsetStore
	// Groups reads and alters sink connectors' consumer group offsets
	// (KIP-875); nil answers those requests with an error.
	Groups GroupOffsets
	// WorkerID is the worker's name in statuses (Kafka: the REST
	// listener's advertised host:port).
	WorkerID string
	// ClusterID returns the Kafka cluster's id for GET /; nil or an error
	// leaves it empty.
	ClusterID func(ctx context.Context) (string, error)
	Logger    *slog.Logger
}

// Herder is a standalone herder. Build it with New, hand it to the worker as
// its runtime.StatusListener, then Start it with the worker.
type Herder struct {
	cfg     Config
	log     *slog.Logger
	offsets runtime.OffsetStore
	file    string // connectors.json, "" in memory

	// exactlyOnce is set on a distributed herder's validator: whether the
	// worker has exactly-once source support enabled (validate_eos.go).
	exactlyOnce *bool

	mu         sync.Mutex // serializes changes and worker calls
	worker     Worker
	ctx        context.Context // the connectors' lifetime
	cancel     context.CancelFunc
	connectors map[string]*connector
	closed     bool
	reconfigs  sync.WaitGroup

	statusMu sync.Mutex // statuses and topics; never held across a worker call
	statuses map[string]*connStatus
	topics   map[string][]string
	// paused are the connectors whose target is PAUSED: a worker may
	// report a task RUNNING from its own goroutine after the herder paused
	// it, and the status must say PAUSED all the same.
	paused map[string]bool
}

// connector is what the herder knows of one connector.
type connector struct {
	stored // persisted
	handle runtime.ConnectorHandle
	// running are the tasks the worker runs now.
	running map[int]bool
}

// stored is one connector's persisted state.
type stored struct {
	Config connect.Config   `json:"config"`
	Target TargetState      `json:"target_state"`
	Tasks  []connect.Config `json:"tasks"`
}

// connStatus is a connector's status and its tasks'.
type connStatus struct {
	state runtime.State
	trace string
	tasks map[int]taskStatus
}

type taskStatus struct {
	state runtime.State
	trace string
}

const (
	connectorsFile = "connectors.json"
	offsetsFile    = "offsets.json"
)

// New builds a herder and loads the stored state; nothing runs until Start.
func New(cfg Config) (*Herder, error) {
	if cfg.Registry == nil {
		return nil, errors.New("herder: no plugin registry")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Herder{
		cfg:        cfg,
		log:        log,
		offsets:    cfg.Offsets,
		connectors: map[string]*connector{},
		statuses:   map[string]*connStatus{},
		topics:     map[string][]string{},
		paused:     map[string]bool{},
	}
	if cfg.StateDir != "" {
		h.file = filepath.Join(cfg.StateDir, connectorsFile)
		loaded, err := loadState(h.file)
		if err != nil {
			return nil, err
		}
		for name, s := range loaded {
			h.connectors[name] = &connector{stored: s}
			h.paused[name] = s.Target == TargetPaused
		}
	}
	if h.offsets == nil {
		path := ""
		if cfg.StateDir != "" {
			path = filepath.Join(cfg.StateDir, offsetsFile)
		}
		fo, err := OpenFileOffsetStore(path)
		if err != nil {
			return nil, err
		}
		h.offsets = fo
	}
	return h, nil
}

// Offsets returns the store of source offsets the worker must use.
func (h *Herder) Offsets() runtime.OffsetStore { return h.offsets }

// Start hands the herder its worker and starts every stored connector in
// its target state. A connector that fails to start is reported FAILED in
// its status; Start itself fails only when called twice or after Close.
func (h *Herder) Start(w Worker) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.worker != nil || h.closed {
		return errors.New("herder: already started or closed")
	}
	h.worker = w
	h.ctx, h.cancel = context.WithCancel(context.Background())
	names := make([]string, 0, len(h.connectors))
	for name := range h.connectors {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		h.startLocked(name)
	}
	return nil
}

// Ready reports whether Start has run (GET /health).
func (h *Herder) Ready() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.worker != nil && !h.closed
}

// Close stops every connector and task (tasks make their final commit) and
// the worker. The stored state is left as it is, so the next Start resumes.
func (h *Herder) Close() {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return
	}
	h.closed = true
	if h.worker != nil {
		for name := range h.connectors {
			h.stopLocked(name)
		}
		h.cancel()
		h.worker.Close()
	}
	h.mu.Unlock()
	h.reconfigs.Wait()
}

// ConnectorState implements runtime.StatusListener.
func (h *Herder) ConnectorState(name string, s runtime.State, trace string) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	if s == runtime.Running && h.paused[name] {
		s = runtime.Paused
	}
	st := h.statusOf(name)
	st.state, st.trace = s, trace
}

// TaskState implements runtime.StatusListener.
func (h *Herder) TaskState(id runtime.TaskID, s runtime.State, trace string) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	if s == runtime.Running && h.paused[id.Connector] {
		s = runtime.Paused
	}
	h.statusOf(id.Connector).tasks[id.Task] = taskStatus{s, trace}
}

// noteTarget records a connector's target state for the status listener.
func (h *Herder) noteTarget(name string, t TargetState) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	if t == "" {
		delete(h.paused, name)
		return
	}
	h.paused[name] = t == TargetPaused
}

// statusOf returns name's status, made on first use; statusMu is held.
func (h *Herder) statusOf(name string) *connStatus {
	st, ok := h.statuses[name]
	if !ok {
		st = &connStatus{state: runtime.Unassigned, tasks: map[int]taskStatus{}}
		h.statuses[name] = st
	}
	return st
}

// ActiveTopic records that a connector's task produced to or consumed from
// topic (Kafka Connect's active topics, KIP-558). The runtime calls it the
// first time a task uses a topic.
func (h *Herder) ActiveTopic(connectorName, topic string) {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	if !slices.Contains(h.topics[connectorName], topic) {
		h.topics[connectorName] = append(h.topics[connectorName], topic)
		slices.Sort(h.topics[connectorName])
	}
}

// ActiveTopics returns the topics a connector has used since they were last
// reset, sorted (empty for an unknown connector, as Kafka answers).
func (h *Herder) ActiveTopics(name string) []string {
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	return append([]string{}, h.topics[name]...)
}

// ResetActiveTopics forgets a connector's active topics.
func (h *Herder) ResetActiveTopics(name string) error {
	if _, err := h.get(name); err != nil {
		return err
	}
	h.statusMu.Lock()
	defer h.statusMu.Unlock()
	delete(h.topics, name)
	return nil
}

// ClusterID returns the Kafka cluster's id, or "" when it is unknown.
func (h *Herder) ClusterID(ctx context.Context) string {
	if h.cfg.ClusterID == nil {
		return ""
	}
	id, err := h.cfg.ClusterID(ctx)
	if err != nil {
		h.log.Warn("connect: cannot read the Kafka cluster id", "err", err)
		return ""
	}
	return id
}

// get returns a copy of name's stored state.
func (h *Herder) get(name string) (stored, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.connectors[name]
	if !ok {
		return stored{}, notFound(name)
	}
	return c.stored.clone(), nil
}

func (s stored) clone() stored {
	out := stored{Config: cloneConfig(s.Config), Target: s.Target}
	for _, t := range s.Tasks {
		out.Tasks = append(out.Tasks, cloneConfig(t))
	}
	return out
}

func cloneConfig(c connect.Config) connect.Config {
	out := make(connect.Config, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

// Error is a refusal with the HTTP status the REST API answers it with.
type Error struct {
	Code    int
	Message string
}

func (e *Error) Error() string { return e.Message }

func notFound(name string) error {
	return &Error{404, fmt.Sprintf("Connector %s not found", name)}
}

func badRequest(format string, args ...any) error {
	return &Error{400, fmt.Sprintf(format, args...)}
}

// Registry returns the plugins the herder resolves classes with.
func (h *Herder) Registry() *connect.Registry { return h.cfg.Registry }

// The runtime's Worker is what the herder drives in production.
var _ Worker = (*runtime.Worker)(nil)

// The herder hears the worker's states and active topics.
var (
	_ runtime.StatusListener = (*Herder)(nil)
	_ runtime.TopicListener  = (*Herder)(nil)
)
