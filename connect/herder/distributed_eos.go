package herder

// Exactly-once source support in distributed mode (KIP-618), Kafka's
// DistributedHerder with exactly.once.source.support=enabled:
//
//   - Every source task runs with a transactional producer (runtime's
//     ExactlyOnceConfig); its offsets go to the connector's
//     offsets.storage.topic when it names one, else the worker's, inside
//     the task's transactions, and every offsets reader is read_committed.
//   - Fencing rounds: task configurations committed after the connector's
//     last task-count record leave it pending fencing. The worker that runs
//     the connector (the one that writes its task configurations here; in
//     Kafka the leader, asked by the first task to start) fences the
//     transactional ids of the previous record's task count, then writes
//     tasks-fencing-<name> with the new count. A task of a pending connector
//     waits for that record before its producer starts, so no two
//     generations of a connector's tasks write at once.
//
// "preparing" is accepted and behaves as disabled: Kafka uses it to switch
// the leader's config-topic writes to a transactional producer before
// tasks use transactions; this herder has no leader writes to switch.

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

// exactlyOnceState is the distributed herder's exactly-once part.
type exactlyOnceState struct {
	enabled bool

	mu     sync.Mutex
	stores map[string]*distributed.OffsetStore // connectors' own offsets topics, by name
}

// initExactlyOnce reads the worker setting before the stores open: with
// exactly-once enabled the offsets and config stores read read_committed,
// and the validator makes DistributedHerder's checks as an enabled worker.
func (d *Distributed) initExactlyOnce() {
	enabled := d.cfg.ExactlyOnceSource == ExactlyOnceEnabled
	d.eos.enabled = enabled
	d.local.exactlyOnce = &enabled
	// Kafka's workers read both topics read_committed then: a Java leader
	// in the same group writes the config topic in transactions.
	d.cfg.Offsets.ReadCommitted = enabled
	d.cfg.Configs.ReadCommitted = enabled
}

// ExactlyOnce returns what the worker needs to run source tasks exactly
// once, or nil unless exactly.once.source.support=enabled.
func (d *Distributed) ExactlyOnce() *runtime.ExactlyOnceConfig {
	if !d.eos.enabled {
		return nil
	}
	return &runtime.ExactlyOnceConfig{GroupID: d.cfg.Member.GroupID, Offsets: d.connectorOffsets, Ready: d.fenced}
}

// workerOffsetsTopic is offset.storage.topic.
func (d *Distributed) workerOffsetsTopic() string {
	if d.cfg.Offsets.Topic != "" {
		return d.cfg.Offsets.Topic
	}
	return "connect-offsets"
}

// connectorOffsets is the offsets store of a connector's tasks: its own
// offsets.storage.topic (created like the worker's when missing) in front
// of the worker's, as Kafka's ConnectorOffsetBackingStore, or the worker's.
func (d *Distributed) connectorOffsets(ctx context.Context, _ string, connCfg connect.Config) (runtime.TransactionalOffsetStore, error) {
	topic := strings.TrimSpace(connCfg[connect.OffsetsStorageTopic])
	if topic == "" || topic == d.workerOffsetsTopic() {
		return d.offsets, nil
	}
	d.eos.mu.Lock()
	defer d.eos.mu.Unlock()
	own := d.eos.stores[topic]
	if own == nil {
		o := d.cfg.Offsets
		o.Brokers, o.Client, o.Topic, o.ReadCommitted = d.cfg.Brokers, d.cfg.Client, topic, true
		var err error
		if own, err = distributed.OpenOffsetStore(ctx, o); err != nil {
			return nil, err
		}
		if d.eos.stores == nil {
			d.eos.stores = map[string]*distributed.OffsetStore{}
		}
		d.eos.stores[topic] = own
	}
	return connectorOffsetStore{own: own, worker: d.offsets}, nil
}

func (e *exactlyOnceState) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.stores {
		s.Close()
	}
	e.stores = nil
}

// connectorOffsetStore reads a connector's own offsets topic first and the
// worker's when it has no position there (offsets stored before the
// connector had its own topic); it writes to its own.
type connectorOffsetStore struct {
	own, worker *distributed.OffsetStore
}

func (s connectorOffsetStore) Get(ctx context.Context, connector string, partition map[string]any) (map[string]any, error) {
	off, err := s.own.Get(ctx, connector, partition)
	if err != nil || off != nil {
		return off, err
	}
	return s.worker.Get(ctx, connector, partition)
}

func (s connectorOffsetStore) OffsetRecords(connector string, offsets []runtime.SourceOffset) ([]*kgo.Record, error) {
	return s.own.OffsetRecords(connector, offsets)
}

// Put writes both topics (KIP-875's PATCH and DELETE on a stopped
// connector): a position reset in its own topic must not come back from the
// worker's.
func (s connectorOffsetStore) Put(ctx context.Context, connector string, offsets []runtime.SourceOffset) error {
	if err := s.own.Put(ctx, connector, offsets); err != nil {
		return err
	}
	return s.worker.Put(ctx, connector, offsets)
}

// List returns the connector's positions, its own topic's winning.
func (s connectorOffsetStore) List(ctx context.Context, connector string) ([]runtime.SourceOffset, error) {
	own, err := s.own.List(ctx, connector)
	if err != nil {
		return nil, err
	}
	all, err := s.worker.List(ctx, connector)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, o := range own {
		b, _ := json.Marshal(o.Partition)
		seen[string(b)] = true
	}
	for _, o := range all {
		if b, _ := json.Marshal(o.Partition); !seen[string(b)] {
			own = append(own, o)
		}
	}
	return own, nil
}

// offsetStoreOf is the store the offsets endpoints use for a connector:
// with exactly-once support, its own offsets topic in front of the
// worker's when it names one; the worker's otherwise (or when the own
// topic cannot be opened: the error shows at the next task start).
func (d *Distributed) offsetStoreOf(ctx context.Context, cfg connect.Config) runtime.OffsetStore {
	if !d.eos.enabled {
		return d.offsets
	}
	s, err := d.connectorOffsets(ctx, cfg[connect.NameConfig], cfg)
	if err != nil {
		d.log.Warn("connect: opening the connector's offsets topic", "err", err)
		return d.offsets
	}
	if store, ok := s.(runtime.OffsetStore); ok {
		return store
	}
	return d.offsets
}

// fenced is the tasks' pre-producer check: it returns once the task's
// connector has had its fencing round and taskCfg is still the task's
// committed configuration. A task started from configurations that were
// replaced meanwhile waits here until the herder stops it, so its producer
// never fences the newer generation.
func (d *Distributed) fenced(ctx context.Context, id runtime.TaskID, taskCfg connect.Config) error {
	for {
		cs, ok := d.configs.Snapshot().Connectors[id.Connector]
		if !ok {
			return errors.New("the connector was deleted")
		}
		current := id.Task < len(cs.Tasks) && maps.Equal(cs.Tasks[id.Task], taskCfg)
		if !cs.PendingFencing && current {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// fenceIfPending runs a fencing round for a source connector this worker
// runs when its latest task configurations have not had one: fence the
// previous generation's transactional ids, then write the task count.
// A failure is logged and retried at the next reconcile.
func (d *Distributed) fenceIfPending(name string) {
	if !d.eos.enabled || d.client == nil {
		return
	}
	cs, ok := d.configs.Snapshot().Connectors[name]
	if !ok || !cs.PendingFencing || cs.Inconsistent {
		return
	}
	if p, found := d.cfg.Registry.Lookup(cs.Config[connect.ConnectorClassConfig]); !found || p.Type != connect.PluginSource {
		return
	}
	ids := make([]string, 0, max(cs.TaskCountRecord, 0))
	for i := range max(cs.TaskCountRecord, 0) {
		ids = append(ids, runtime.TransactionalID(d.cfg.Member.GroupID, runtime.TaskID{Connector: name, Task: i}))
	}
	ctx, cancel := context.WithTimeout(d.ctx, requestTimeout)
	defer cancel()
	if err := runtime.FenceProducers(ctx, d.client, ids); err != nil {
		d.log.Warn("connect: fencing the connector's previous tasks", "connector", name, "err", err)
		return
	}
	if err := d.configs.PutTaskCountRecord(ctx, name, len(cs.Tasks)); err != nil {
		d.log.Warn("connect: writing the task count record", "connector", name, "err", err)
		return
	}
	d.log.Info("connect: fenced the connector's previous tasks", "connector", name, "fenced", len(ids), "tasks", len(cs.Tasks))
}
