package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/transform"
)

// shutdownGrace bounds a stopping task's last flush and commit (Kafka
// Connect's task.shutdown.graceful.timeout.ms).
const shutdownGrace = 5 * time.Second

// loop is a task's body: a source or a sink runner.
type loop interface {
	// run runs the task until ctx is done (a stop: commit what can be
	// committed, then return nil) or the task fails (return the error).
	run(ctx context.Context) error
}

// taskRun is one started task: its loop's goroutine, its pause switch and
// its stop.
type taskRun struct {
	w      *Worker
	id     TaskID
	log    *slog.Logger
	body   loop
	cancel context.CancelFunc
	ctx    context.Context
	done   chan struct{}

	progress progress

	mu      sync.Mutex
	paused  bool
	resumed chan struct{} // closed when paused turns false
}

func (w *Worker) newTask(id TaskID, p connect.Plugin, connCfg, taskCfg connect.Config) (*taskRun, error) {
	ctx, cancel := context.WithCancel(context.Background())
	t := &taskRun{
		w: w, id: id, cancel: cancel, ctx: ctx, done: make(chan struct{}),
		log: w.log.With("connector", id.Connector, "task", id.Task),
	}
	t.progress.id, t.progress.metrics = id, w.cfg.Metrics
	var err error
	switch {
	case p.Type == connect.PluginSource && w.cfg.ExactlyOnce != nil:
		t.body, err = newExactlyOnceSourceRunner(t, p.NewSource().NewTask(), connCfg, taskCfg)
	case p.Type == connect.PluginSource:
		t.body, err = newSourceRunner(t, p.NewSource().NewTask(), connCfg, taskCfg)
	default:
		t.body, err = newSinkRunner(t, p.NewSink().NewTask(), connCfg, taskCfg)
	}
	if err != nil {
		cancel()
		return nil, err
	}
	return t, nil
}

func (t *taskRun) run() {
	defer close(t.done)
	// A PauseTask may come before this goroutine runs; the state then
	// stays the one it reported.
	t.mu.Lock()
	if !t.paused {
		t.w.taskState(t.id, Running, "")
	}
	t.mu.Unlock()
	t.log.Info("task started")
	err := t.body.run(t.ctx)
	switch {
	case err != nil && t.ctx.Err() == nil:
		t.log.Error("task failed", "err", err)
		t.w.taskState(t.id, Failed, trace(err))
		t.w.cfg.Metrics.taskFailed(t.id)
	default:
		t.log.Info("task stopped")
	}
}

// stop ends the task and waits for its loop to return.
func (t *taskRun) stop() {
	t.cancel()
	t.setPaused(false)
	<-t.done
}

// close releases a task that never ran.
func (t *taskRun) close() { t.cancel() }

func (t *taskRun) setPaused(p bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p == t.paused {
		return
	}
	t.paused = p
	if p {
		t.resumed = make(chan struct{})
		t.w.taskState(t.id, Paused, "")
		return
	}
	close(t.resumed)
	if t.ctx.Err() == nil {
		t.w.taskState(t.id, Running, "")
	}
}

// waitWhilePaused blocks while the task is paused; it returns false when the
// task is stopping.
func (t *taskRun) waitWhilePaused(ctx context.Context) bool {
	t.mu.Lock()
	paused, resumed := t.paused, t.resumed
	t.mu.Unlock()
	if paused {
		select {
		case <-resumed:
		case <-ctx.Done():
		}
	}
	return ctx.Err() == nil
}

// trace is a failed task's or connector's trace for the status endpoint.
func trace(err error) string {
	return fmt.Sprintf("org.apache.kafka.connect.errors.ConnectException: %v", err)
}

// converter builds the key or value converter of a connector: the class and
// settings the connector names, else the worker's, else DefaultConverter.
// As in Kafka Connect, a connector that names its own class takes only its
// own prefixed settings.
func (w *Worker) converter(connCfg connect.Config, isKey bool) (connect.Converter, error) {
	name := connect.ValueConverterConfig
	if isKey {
		name = connect.KeyConverterConfig
	}
	from := connCfg
	class := connCfg[name]
	if class == "" {
		from, class = w.cfg.Props, w.cfg.Props[name]
	}
	if class == "" {
		class = DefaultConverter
	}
	p, ok := w.cfg.Registry.Lookup(class)
	if !ok || p.Type != connect.PluginConverter {
		return nil, fmt.Errorf("Invalid value %s for configuration %s: Class %s could not be found.", class, name, class)
	}
	settings := connect.Config{}
	for k, v := range from {
		if rest, ok := strings.CutPrefix(k, name+"."); ok {
			settings[rest] = v
		}
	}
	c := p.NewConverter()
	if err := c.Configure(settings, isKey); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// chain builds the connector's transformation chain, or nil without transforms.
func (w *Worker) chain(connCfg connect.Config) (Chain, error) {
	if strings.TrimSpace(connCfg[connect.TransformsConfig]) == "" {
		return nil, nil
	}
	if w.cfg.NewChain != nil {
		return w.cfg.NewChain(w.cfg.Registry, connCfg)
	}
	c, err := transform.NewChain(w.cfg.Registry, connCfg)
	if err != nil {
		return nil, err // not a nil *transform.Chain in a non-nil Chain
	}
	return c, nil
}

// common parses the settings every connector has.
func common(t connect.PluginType, connCfg connect.Config) (connect.Values, error) {
	vals, errs := connect.CommonDef(t).Parse(connCfg)
	if len(errs) > 0 {
		var msgs []string
		for _, k := range slices.Sorted(maps.Keys(errs)) {
			msgs = append(msgs, errs[k]...)
		}
		return vals, errors.New(strings.Join(msgs, "; "))
	}
	return vals, nil
}
