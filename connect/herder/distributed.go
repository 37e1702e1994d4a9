package herder

// The distributed herder: Kafka Connect's DistributedHerder over the
// Kafka-topic stores and the group membership of connect/distributed.
//
// Invariants:
//   - Configurations, target states, task configurations and restart
//     requests are written to the config topic and nowhere else; every
//     worker acts on what it reads back, so a REST request served by any
//     worker changes the whole cluster.
//   - Connector configurations, deletions, stops, restarts and offset
//     changes are written by the group's leader only, one at a time
//     (leaderState.writes); other workers answer a ForwardError naming it,
//     and no worker writes while a rebalance it knows of is pending
//     (distributed_leader.go). Pause and resume are written by any worker.
//   - A worker runs only what its Member assigned it. Revoked work is
//     stopped inside OnAssignment, before the member rejoins, so no
//     connector or task runs on two workers of one generation.
//   - The worker that runs a connector is the only one that computes and
//     writes its task configurations (Kafka forwards them to the leader,
//     which writes them; with one owner per connector by assignment the
//     config topic gets the same single writer per connector).
//   - Statuses go to the status topic with worker_id = this worker's
//     advertised host:port and the group generation; a worker answers the
//     status of work running elsewhere from that topic.
//   - The config store's listener and the runtime's status callbacks never
//     block on d.mu: they queue and wake the reconcile goroutine, which is
//     the only caller of the worker besides OnAssignment's revocations.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/runtime"
)

// DistributedConfig configures a distributed herder (Kafka Connect's
// DistributedConfig names in the comments).
type DistributedConfig struct {
	Brokers []string  // bootstrap.servers
	Client  []kgo.Opt // TLS, SASL, client id of every client
	// Offsets, Configs and Statuses name the internal topics
	// (offset.storage.*, config.storage.*, status.storage.*); Brokers and
	// Client are filled in from above.
	Offsets, Configs, Statuses distributed.Options
	// Member is the group membership: GroupID (group.id) is required; URL,
	// Config, CatchUp and OnAssignment are set by the herder.
	Member distributed.MemberConfig
	// URL is this worker's advertised REST URL (http://host:port), sent to
	// the group and used to forward task restarts.
	URL string
	// WorkerID is the worker_id of status records: the advertised
	// host:port, as Kafka writes it.
	WorkerID  string
	Registry  *connect.Registry
	Groups    GroupOffsets
	ClusterID func(ctx context.Context) (string, error)
	Logger    *slog.Logger

	// ExactlyOnceSource is exactly.once.source.support (KIP-618,
	// distributed_eos.go); empty is disabled.
	ExactlyOnceSource ExactlyOnceSourceSupport
}

// Distributed is a distributed herder. Open it with OpenDistributed, build
// the worker with its Offsets and itself as the status listener, then Start.
type Distributed struct {
	cfg      DistributedConfig
	log      *slog.Logger
	local    *Herder // validation and connector types only; never started
	configs  *distributed.ConfigStore
	statuses *distributed.StatusStore
	offsets  *distributed.OffsetStore
	client   *kgo.Client // the member's
	member   *distributed.Member
	lead     leaderState // who serves changes (distributed_leader.go)

	mu       sync.Mutex // the worker calls and what runs
	worker   Worker
	closed   bool
	assigned assignment
	conns    map[string]*runningConn
	tasks    map[runtime.TaskID]*runningTask
	ctx      context.Context // the connectors' lifetime
	cancel   context.CancelFunc

	evMu        sync.Mutex // pending events; never held across a call out
	wake        chan struct{}
	stop        chan struct{}
	loopDone    chan struct{}
	restarts    []distributed.ConfigChange
	reconfigure map[string]bool
	lastCluster map[string]int
	generation  int32
	joined      bool

	status statusQueue

	eos exactlyOnceState // distributed_eos.go
}

// assignment is what the member gave this worker.
type assignment struct {
	conns        map[string]bool
	tasks        map[runtime.TaskID]bool
	configOffset int64
}

type runningConn struct {
	handle runtime.ConnectorHandle // nil when it failed to start
	config connect.Config
	target distributed.TargetState
}

type runningTask struct {
	connConfig connect.Config
	config     connect.Config
	paused     bool
	started    bool // false: StartTask failed; retried on a restart or a new config
}

// requestTimeout bounds one write to the internal topics.
const requestTimeout = 30 * time.Second

// OpenDistributed opens the three internal topics (creating missing ones)
// and reads them to their ends. Nothing runs until Start.
func OpenDistributed(ctx context.Context, cfg DistributedConfig) (*Distributed, error) {
	if cfg.Registry == nil {
		return nil, errors.New("herder: no plugin registry")
	}
	if cfg.Member.GroupID == "" {
		return nil, errors.New("group.id is required in distributed mode")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	fill := func(o distributed.Options) distributed.Options {
		o.Brokers, o.Client = cfg.Brokers, cfg.Client
		return o
	}
	d := &Distributed{
		cfg: cfg, log: log, local: &Herder{cfg: Config{Registry: cfg.Registry}, log: log},
		conns: map[string]*runningConn{}, tasks: map[runtime.TaskID]*runningTask{},
		assigned: assignment{conns: map[string]bool{}, tasks: map[runtime.TaskID]bool{}, configOffset: -1},
		wake:     make(chan struct{}, 1), stop: make(chan struct{}), loopDone: make(chan struct{}),
		reconfigure: map[string]bool{}, generation: -1,
	}
	d.lead.init()
	d.initExactlyOnce()
	var err error
	if d.offsets, err = distributed.OpenOffsetStore(ctx, fill(d.cfg.Offsets)); err != nil {
		return nil, err
	}
	if d.statuses, err = distributed.OpenStatusStore(ctx, fill(cfg.Statuses)); err != nil {
		d.offsets.Close()
		return nil, err
	}
	d.configs, err = distributed.OpenConfigStore(ctx, distributed.ConfigOptions{Options: fill(d.cfg.Configs), OnChange: d.onConfigChange})
	if err != nil {
		d.offsets.Close()
		d.statuses.Close()
		return nil, err
	}
	d.lastCluster = d.configs.Cluster().Connectors
	d.status.init(d)
	return d, nil
}

// Offsets returns the store of source offsets the worker must use: the
// offset.storage.topic.
func (d *Distributed) Offsets() runtime.OffsetStore { return d.offsets }

// Start hands the herder its worker and joins the group.
func (d *Distributed) Start(w Worker) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.worker != nil || d.closed {
		return errors.New("herder: already started or closed")
	}
	d.worker = w
	d.ctx, d.cancel = context.WithCancel(context.Background())
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(d.cfg.Brokers...)}, d.cfg.Client...)...)
	if err != nil {
		return err
	}
	mc := d.cfg.Member
	mc.URL = d.cfg.URL
	mc.Config = d.configs.Cluster
	mc.CatchUp = d.configs.ReadToEnd
	mc.OnAssignment = d.onAssignment
	if mc.Logf == nil {
		mc.Logf = func(format string, a ...any) { d.log.Info("connect group: " + fmt.Sprintf(format, a...)) }
	}
	m, err := distributed.NewMember(cl, mc)
	if err != nil {
		cl.Close()
		return err
	}
	d.client, d.member = cl, m
	go d.loop()
	return nil
}

// Ready reports whether the worker has joined the group once (GET /health).
func (d *Distributed) Ready() bool {
	d.evMu.Lock()
	defer d.evMu.Unlock()
	return d.joined
}

// Close stops every connector and task (tasks make their final commit),
// then leaves the group, so that the work moves only once it has stopped
// here; then it closes the worker and the stores.
func (d *Distributed) Close() {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return
	}
	d.closed = true
	started := d.worker != nil
	d.mu.Unlock()
	if started {
		close(d.stop)
		<-d.loopDone
		d.mu.Lock()
		d.stopAllLocked()
		d.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := d.member.Close(ctx); err != nil {
			d.log.Warn("connect: leaving the group", "err", err)
		}
		cancel()
		d.cancel()
		d.worker.Close()
		d.client.Close()
	}
	d.status.close()
	d.eos.close()
	d.configs.Close()
	d.statuses.Close()
	d.offsets.Close()
}

// stopAllLocked stops what runs here and says so in the status topic.
func (d *Distributed) stopAllLocked() {
	for _, id := range slices.SortedFunc(maps.Keys(d.tasks), compareTaskIDs) {
		d.stopTaskLocked(id)
	}
	for _, name := range slices.Sorted(maps.Keys(d.conns)) {
		d.stopConnectorLocked(name)
	}
}

func compareTaskIDs(a, b runtime.TaskID) int {
	if c := strings.Compare(a.Connector, b.Connector); c != 0 {
		return c
	}
	return a.Task - b.Task
}

// onAssignment is the member's listener: it stops revoked work before
// returning and leaves starting the assigned work to the reconcile loop.
func (d *Distributed) onAssignment(ch distributed.Change) {
	d.lead.noteAssignment(ch)
	d.evMu.Lock()
	if ch.Error == distributed.NoError && ch.Generation >= 0 {
		d.generation = ch.Generation
	}
	d.evMu.Unlock()
	d.mu.Lock()
	for _, id := range ch.RevokedTasks {
		delete(d.assigned.tasks, id)
		d.stopTaskLocked(id)
	}
	for _, name := range ch.Revoked {
		delete(d.assigned.conns, name)
		d.stopConnectorLocked(name)
	}
	if ch.Error == distributed.NoError {
		for _, name := range ch.Assigned {
			d.assigned.conns[name] = true
		}
		for _, id := range ch.AssignedTasks {
			d.assigned.tasks[id] = true
		}
		d.assigned.configOffset = max(d.assigned.configOffset, ch.ConfigOffset)
	}
	d.mu.Unlock()
	if ch.Error == distributed.NoError && ch.MemberID != "" {
		d.evMu.Lock()
		if ch.Generation >= 0 {
			d.joined = true
		}
		d.evMu.Unlock()
		d.log.Info("connect: assignment", "generation", ch.Generation, "leader", ch.LeaderURL,
			"assigned", ch.Assigned, "assigned_tasks", taskNames(ch.AssignedTasks),
			"revoked", ch.Revoked, "revoked_tasks", taskNames(ch.RevokedTasks), "delay", ch.Delay)
	}
	d.poke()
}

func taskNames(ids []runtime.TaskID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Connector + "-" + strconv.Itoa(id.Task)
	}
	return out
}

// onConfigChange hears what any worker wrote to the config topic. A new or
// removed connector, or a new task count, changes what the group assigns,
// so the member rejoins (DistributedHerder's needsReconfigRebalance).
func (d *Distributed) onConfigChange(ch distributed.ConfigChange) {
	d.evMu.Lock()
	switch ch.Kind {
	case distributed.RestartRequested:
		d.restarts = append(d.restarts, ch)
	case distributed.ConnectorConfigUpdated, distributed.ConnectorConfigRemoved, distributed.TaskConfigsCommitted:
		c := d.configs.Cluster()
		if !maps.Equal(c.Connectors, d.lastCluster) {
			d.lastCluster = c.Connectors
			if d.member != nil {
				d.lead.noteRebalanceNeeded(c.Offset)
				d.member.RequestRejoin()
			}
		}
	}
	d.evMu.Unlock()
	d.poke()
}

// requestReconfigure is the connectors' Hooks.Reconfigure.
func (d *Distributed) requestReconfigure(name string) {
	d.evMu.Lock()
	d.reconfigure[name] = true
	d.evMu.Unlock()
	d.poke()
}

func (d *Distributed) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// loop reconciles what runs here with the assignment and the config topic
// whenever either changes, and every few seconds as a safety net.
func (d *Distributed) loop() {
	defer close(d.loopDone)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-d.wake:
		case <-tick.C:
		}
		d.reconcile()
	}
}

func (d *Distributed) currentGeneration() int32 {
	d.evMu.Lock()
	defer d.evMu.Unlock()
	return d.generation
}
