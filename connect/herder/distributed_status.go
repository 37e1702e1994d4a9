package herder

// Statuses in distributed mode: the runtime's callbacks are queued and
// written to the status topic by one goroutine, so a callback never waits
// on Kafka or on the herder's lock. Per connector or task only the latest
// state is kept, which is all the status topic (compacted) keeps anyway.

import (
	"context"
	"sync"
	"time"

	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

// statusKey names a connector (task -1) or a task.
type statusKey struct {
	conn string
	task int
}

type statusWrite struct {
	st   distributed.Status
	safe bool // PutTaskSafe/PutConnectorSafe: yield to a later generation
}

type statusQueue struct {
	d       *Distributed
	mu      sync.Mutex
	cond    *sync.Cond
	pending map[statusKey]statusWrite
	topics  []distributed.TopicStatus
	last    map[statusKey]distributed.Status
	targets map[string]distributed.TargetState // configured connectors' target states
	closed  bool
	done    chan struct{}
}

func (q *statusQueue) init(d *Distributed) {
	q.d = d
	q.cond = sync.NewCond(&q.mu)
	q.pending = map[statusKey]statusWrite{}
	q.last = map[statusKey]distributed.Status{}
	q.targets = map[string]distributed.TargetState{}
	q.done = make(chan struct{})
	q.noteTargets(d.configs.Snapshot())
	go q.run()
}

// noteTargets records the configured connectors: statuses of others (a
// deleted connector's tasks stopping) are not written, so they do not
// outlive the tombstones.
func (q *statusQueue) noteTargets(snap distributed.Snapshot) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.targets = map[string]distributed.TargetState{}
	for name, cs := range snap.Connectors {
		q.targets[name] = cs.TargetState
	}
}

func (q *statusQueue) put(k statusKey, s runtime.State, trace string, safe bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	target, ok := q.targets[k.conn]
	if !ok || q.closed {
		return
	}
	if s == runtime.Running && target == distributed.Paused {
		s = runtime.Paused
	}
	st := distributed.Status{State: s, WorkerID: q.d.cfg.WorkerID, Generation: q.d.currentGeneration()}
	if trace != "" {
		st.Trace = &trace
	}
	q.pending[k] = statusWrite{st: st, safe: safe}
	q.cond.Broadcast()
}

func (q *statusQueue) connector(name string, s runtime.State, trace string) {
	q.put(statusKey{name, -1}, s, trace, false)
}

func (q *statusQueue) connectorSafe(name string, s runtime.State) {
	q.put(statusKey{name, -1}, s, "", true)
}

func (q *statusQueue) task(id runtime.TaskID, s runtime.State, trace string) {
	q.put(statusKey{id.Connector, id.Task}, s, trace, false)
}

func (q *statusQueue) taskSafe(id runtime.TaskID, s runtime.State) {
	q.put(statusKey{id.Connector, id.Task}, s, "", true)
}

func (q *statusQueue) topic(ts distributed.TopicStatus) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.targets[ts.Connector]; !ok || q.closed {
		return
	}
	q.topics = append(q.topics, ts)
	q.cond.Broadcast()
}

// close writes what is queued, then stops the writer.
func (q *statusQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
	<-q.done
}

func (q *statusQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		for len(q.pending) == 0 && len(q.topics) == 0 && !q.closed {
			q.cond.Wait()
		}
		batch, topics := q.pending, q.topics
		q.pending, q.topics = map[statusKey]statusWrite{}, nil
		closed := q.closed
		for k, w := range batch {
			if last, ok := q.last[k]; ok && sameStatus(last, w.st) {
				delete(batch, k)
				continue
			}
			q.last[k] = w.st
		}
		q.mu.Unlock()
		q.write(batch, topics)
		if closed {
			return
		}
	}
}

func sameStatus(a, b distributed.Status) bool {
	return a.State == b.State && a.Generation == b.Generation && a.WorkerID == b.WorkerID &&
		(a.Trace == nil) == (b.Trace == nil) && (a.Trace == nil || *a.Trace == *b.Trace)
}

func (q *statusQueue) write(batch map[statusKey]statusWrite, topics []distributed.TopicStatus) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := q.d.statuses
	for k, w := range batch {
		q.mu.Lock()
		_, configured := q.targets[k.conn]
		q.mu.Unlock()
		if !configured {
			continue // deleted while queued: its statuses are tombstones now
		}
		var err error
		switch {
		case k.task < 0 && w.safe:
			err = s.PutConnectorSafe(ctx, k.conn, w.st)
		case k.task < 0:
			err = s.PutConnector(ctx, k.conn, w.st)
		case w.safe:
			err = s.PutTaskSafe(ctx, runtime.TaskID{Connector: k.conn, Task: k.task}, w.st)
		default:
			err = s.PutTask(ctx, runtime.TaskID{Connector: k.conn, Task: k.task}, w.st)
		}
		if err != nil {
			q.d.log.Warn("connect: writing a status", "connector", k.conn, "task", k.task, "err", err)
			q.mu.Lock()
			delete(q.last, k)
			q.mu.Unlock()
		}
	}
	for _, ts := range topics {
		if err := s.PutTopic(ctx, ts); err != nil {
			q.d.log.Warn("connect: writing an active topic", "connector", ts.Connector, "topic", ts.Topic, "err", err)
		}
	}
}

// ConnectorState implements runtime.StatusListener.
func (d *Distributed) ConnectorState(name string, s runtime.State, trace string) {
	d.status.connector(name, s, trace)
}

// TaskState implements runtime.StatusListener.
func (d *Distributed) TaskState(id runtime.TaskID, s runtime.State, trace string) {
	d.status.task(id, s, trace)
}

// ActiveTopic implements runtime.TopicListener: KIP-558's status-topic
// record, written once per topic a task uses.
func (d *Distributed) ActiveTopic(connectorName, topic string) {
	for _, t := range d.statuses.Topics(connectorName) {
		if t.Topic == topic {
			return
		}
	}
	d.status.topic(distributed.TopicStatus{Topic: topic, Connector: connectorName, DiscoverTimestamp: time.Now().UnixMilli()})
}

// The distributed herder hears the worker's states and active topics.
var (
	_ runtime.StatusListener = (*Distributed)(nil)
	_ runtime.TopicListener  = (*Distributed)(nil)
)
