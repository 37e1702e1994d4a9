package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// WorkerConfig configures a Worker. Registry, Kafka and Offsets are required.
type WorkerConfig struct {
	// Registry holds the plugins connector configurations name.
	Registry *connect.Registry
	// Kafka are the client options every task's client starts from: the
	// seed brokers and the cluster's TLS and SASL settings.
	Kafka []kgo.Opt
	// Producer and Consumer follow Kafka for source tasks' producers and
	// sink tasks' consumers: the security options of the worker's
	// producer. and consumer. settings, which may differ from each other.
	// Kafka then holds no TLS or SASL option, since a second kgo.SASL
	// adds a mechanism rather than replacing the first.
	Producer, Consumer []kgo.Opt
	// Offsets stores source connectors' positions.
	Offsets OffsetStore
	// Status hears state changes; nil drops them.
	Status StatusListener
	// Props are the worker's own properties (connect-standalone.properties):
	// key.converter and value.converter with their prefixed settings are the
	// defaults of connectors that name none.
	Props connect.Config
	// OffsetFlushInterval is how often tasks commit (offset.flush.interval.ms);
	// 0 means Kafka's default, 60 s.
	OffsetFlushInterval time.Duration
	// NewChain builds a connector's transformation chain from its
	// configuration; nil means connect/transform.NewChain.
	NewChain func(reg *connect.Registry, cfg connect.Config) (Chain, error)
	// Metrics receives the per-connector and per-task figures; nil keeps them
	// unregistered.
	Metrics *Metrics
	Logger  *slog.Logger

	// ExactlyOnce, when set, runs every source task with a transactional
	// producer (exactly.once.source.support=enabled, source_eos.go).
	ExactlyOnce *ExactlyOnceConfig
}

// Chain is a connector's transformation chain: Apply returns nil for a record
// a transform dropped.
type Chain interface {
	Apply(rec *connect.Record) (*connect.Record, error)
}

// DefaultConverter is the converter of connectors and workers that name none:
// bytes pass through unchanged, which is what a copy between Kafka, Kinesis
// and SQS wants. Kafka Connect has no default (its sample properties name
// JsonConverter); a connector that produces strings or structs (the file
// source) names one.
const DefaultConverter = "org.apache.kafka.connect.converters.ByteArrayConverter"

// Worker runs connectors and tasks. Its methods are safe for concurrent use.
type Worker struct {
	cfg WorkerConfig
	log *slog.Logger

	mu         sync.Mutex
	connectors map[string]*connectorRun
	tasks      map[TaskID]*taskRun
	closed     bool
}

// NewWorker returns a Worker that runs nothing yet.
func NewWorker(cfg WorkerConfig) (*Worker, error) {
	if cfg.Registry == nil || cfg.Offsets == nil || len(cfg.Kafka) == 0 {
		return nil, errors.New("connect worker: Registry, Kafka and Offsets are required")
	}
	if cfg.OffsetFlushInterval <= 0 {
		cfg.OffsetFlushInterval = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Props == nil {
		cfg.Props = connect.Config{}
	}
	return &Worker{
		cfg:        cfg,
		log:        cfg.Logger,
		connectors: make(map[string]*connectorRun),
		tasks:      make(map[TaskID]*taskRun),
	}, nil
}

func (w *Worker) connectorState(name string, s State, trace string) {
	if w.cfg.Status != nil {
		w.cfg.Status.ConnectorState(name, s, trace)
	}
}

func (w *Worker) taskState(id TaskID, s State, trace string) {
	if w.cfg.Status != nil {
		w.cfg.Status.TaskState(id, s, trace)
	}
}

func (w *Worker) activeTopic(connector, topic string) {
	if tl, ok := w.cfg.Status.(TopicListener); ok {
		tl.ActiveTopic(connector, topic)
	}
}

// plugin finds the connector plugin cfg names.
func (w *Worker) plugin(cfg connect.Config) (connect.Plugin, error) {
	class := cfg[connect.ConnectorClassConfig]
	p, ok := w.cfg.Registry.Lookup(class)
	if !ok || (p.Type != connect.PluginSource && p.Type != connect.PluginSink) {
		return connect.Plugin{}, fmt.Errorf("Failed to find any class that implements Connector and which name matches %s", class)
	}
	return p, nil
}

// connectorRun is a started connector.
type connectorRun struct {
	name   string
	conn   connect.Connector
	cancel context.CancelFunc
	mu     sync.Mutex // serializes TaskConfigs with Stop
}

func (c *connectorRun) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.conn.TaskConfigs(maxTasks)
}

// connectorContext is the connect.ConnectorContext of one connector.
type connectorContext struct {
	w     *Worker
	name  string
	hooks Hooks
}

func (cc connectorContext) RequestTaskReconfiguration() {
	if cc.hooks.Reconfigure != nil {
		cc.hooks.Reconfigure(cc.name)
	}
}

func (cc connectorContext) RaiseError(err error) {
	cc.w.log.Error("connector failed", "connector", cc.name, "err", err)
	cc.w.connectorState(cc.name, Failed, err.Error())
}

// StartConnector starts the connector cfg describes under name. A connector
// already running under that name is stopped first.
func (w *Worker) StartConnector(ctx context.Context, name string, cfg connect.Config, hooks Hooks) (ConnectorHandle, error) {
	p, err := w.plugin(cfg)
	if err != nil {
		w.connectorState(name, Failed, err.Error())
		return nil, err
	}
	w.StopConnector(name)
	var conn connect.Connector
	if p.Type == connect.PluginSource {
		conn = p.NewSource()
	} else {
		conn = p.NewSink()
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	run := &connectorRun{name: name, conn: conn, cancel: cancel}
	if err := conn.Start(cctx, connectorContext{w, name, hooks}, cfg); err != nil {
		cancel()
		w.log.Error("connector failed to start", "connector", name, "err", err)
		w.connectorState(name, Failed, err.Error())
		return nil, err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		cancel()
		_ = conn.Stop()
		return nil, errors.New("connect worker closed")
	}
	w.connectors[name] = run
	w.mu.Unlock()
	w.log.Info("connector started", "connector", name, "class", p.Class)
	w.connectorState(name, Running, "")
	return run, nil
}

// StopConnector stops a running connector; it does nothing when none runs
// under name. Its tasks are stopped separately (StopTask).
func (w *Worker) StopConnector(name string) {
	w.mu.Lock()
	run := w.connectors[name]
	delete(w.connectors, name)
	w.mu.Unlock()
	if run == nil {
		return
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	run.cancel()
	if err := run.conn.Stop(); err != nil {
		w.log.Warn("connector stop", "connector", name, "err", err)
	}
	w.log.Info("connector stopped", "connector", name)
}

// StartTask starts task id of the connector connCfg describes with taskCfg.
// The task runs until StopTask; its failures are reported as states.
func (w *Worker) StartTask(id TaskID, connCfg, taskCfg connect.Config) error {
	p, err := w.plugin(connCfg)
	if err != nil {
		w.taskState(id, Failed, err.Error())
		return err
	}
	w.StopTask(id)
	t, err := w.newTask(id, p, connCfg, taskCfg)
	if err != nil {
		w.log.Error("task failed to start", "task", id, "err", err)
		w.taskState(id, Failed, err.Error())
		return err
	}
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		t.close()
		return errors.New("connect worker closed")
	}
	w.tasks[id] = t
	w.mu.Unlock()
	go t.run()
	return nil
}

// StopTask stops a task: it stops taking records, commits what the target
// acknowledged, and stops. It blocks until the task has stopped.
func (w *Worker) StopTask(id TaskID) {
	w.mu.Lock()
	t := w.tasks[id]
	delete(w.tasks, id)
	w.mu.Unlock()
	if t != nil {
		t.stop()
	}
}

// PauseTask makes a task stop taking records, keeping its position and its
// consumer group membership.
func (w *Worker) PauseTask(id TaskID) { w.withTask(id, func(t *taskRun) { t.setPaused(true) }) }

// ResumeTask undoes PauseTask.
func (w *Worker) ResumeTask(id TaskID) { w.withTask(id, func(t *taskRun) { t.setPaused(false) }) }

func (w *Worker) withTask(id TaskID, f func(*taskRun)) {
	w.mu.Lock()
	t := w.tasks[id]
	w.mu.Unlock()
	if t != nil {
		f(t)
	}
}

// Close stops every task and connector.
func (w *Worker) Close() {
	w.mu.Lock()
	w.closed = true
	var ids []TaskID
	for id := range w.tasks {
		ids = append(ids, id)
	}
	var names []string
	for n := range w.connectors {
		names = append(names, n)
	}
	w.mu.Unlock()
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Go(func() { w.StopTask(id) })
	}
	wg.Wait()
	for _, n := range names {
		w.StopConnector(n)
	}
}
