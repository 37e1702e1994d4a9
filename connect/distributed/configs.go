package distributed

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/runtime"
)

// TargetState is what a connector should be doing (Kafka's TargetState).
type TargetState string

// The target states.
const (
	Started TargetState = "STARTED"
	Paused  TargetState = "PAUSED"
	Stopped TargetState = "STOPPED"
)

// ConnectorSnapshot is one connector as the config topic describes it.
type ConnectorSnapshot struct {
	Config connect.Config
	// Tasks are the task configurations of the last commit record; task
	// configs written after it stay invisible until their commit.
	Tasks       []connect.Config
	TargetState TargetState
	// Inconsistent is set when a commit record named more tasks than were
	// written before it (Kafka's "inconsistent" connectors): Tasks then
	// keeps the previous commit's and the connector must regenerate them.
	Inconsistent bool
	// TaskCountRecord is the count of the last task-count record
	// (tasks-fencing-<name>, KIP-618), -1 without one: the tasks whose
	// transactional ids a fencing round must fence.
	TaskCountRecord int
	// PendingFencing is set when task configurations were committed after
	// the last task-count record: with exactly-once source support, no
	// task of this generation may start before a fencing round.
	PendingFencing bool
}

// Snapshot is the config topic read up to Offset, Kafka's ClusterConfigState.
type Snapshot struct {
	// Offset is the offset after the last record read (-1 when the topic
	// was empty), the value workers compare in the group protocol.
	Offset     int64
	Connectors map[string]ConnectorSnapshot
}

// Cluster is what the leader assigns from. An inconsistent connector
// counts no tasks, as ClusterConfigState.tasks answers, so none of its
// stale tasks run until it writes a complete set.
func (s Snapshot) Cluster() ClusterConfig {
	c := ClusterConfig{Offset: s.Offset, Connectors: map[string]int{}}
	for name, cs := range s.Connectors {
		if cs.Inconsistent {
			c.Connectors[name] = 0
			continue
		}
		c.Connectors[name] = len(cs.Tasks)
	}
	return c
}

// ConfigChangeKind says what a ConfigChange is about.
type ConfigChangeKind int

// What OnChange hears (ConfigBackingStore.UpdateListener's calls).
const (
	ConnectorConfigUpdated ConfigChangeKind = iota
	ConnectorConfigRemoved
	TaskConfigsCommitted
	TargetStateChanged
	RestartRequested
	// TaskCountRecorded: a fencing round ended (tasks-fencing-<name>).
	TaskCountRecorded
)

// ConfigChange is one update read from the config topic.
type ConfigChange struct {
	Kind      ConfigChangeKind
	Connector string
	Tasks     []runtime.TaskID // TaskConfigsCommitted
	// IncludeTasks and OnlyFailed are a RestartRequested's options
	// (POST /connectors/{name}/restart?includeTasks=…&onlyFailed=…).
	IncludeTasks bool
	OnlyFailed   bool
}

// ConfigStore keeps connector configurations in the config.storage.topic
// (default connect-configs, one partition, so one total order) with
// KafkaConfigBackingStore's records:
//
//	connector-<name>     {"properties":{…}}              null deletes the connector
//	task-<name>-<n>      {"properties":{…}}              visible after the commit
//	commit-<name>        {"tasks":N}
//	target-state-<name>  {"state":"PAUSED","state.v2":"STOPPED"}
//
//	restart-connector-<name> {"include-tasks":true,"only-failed":false}
//
//	tasks-fencing-<name>     {"task-count":N}            KIP-618, configs_eos.go
//
// Other keys (session keys, logger levels) are read past. Every Put returns once its records are
// acknowledged and read back, so Snapshot reflects them.
type ConfigStore struct {
	producer *kgo.Client
	log      *kafkaLog
	onChange func(ConfigChange)

	mu       sync.Mutex
	started  bool
	offset   int64
	conns    map[string]*ConnectorSnapshot
	deferred map[string]map[int]connect.Config
}

// ConfigOptions are Options plus the listener of other workers' writes.
type ConfigOptions struct {
	Options
	// OnChange hears each update read from the topic after the initial
	// read, on the reader's goroutine; it must not block for long.
	OnChange func(ConfigChange)
}

// OpenConfigStore creates the topic if needed and reads it to its end.
func OpenConfigStore(ctx context.Context, o ConfigOptions) (*ConfigStore, error) {
	producer, err := newProducer(o.Options)
	if err != nil {
		return nil, err
	}
	o.Partitions = 1
	spec := o.spec("connect-configs", 1, "config.storage.topic", "connector configurations")
	if err := EnsureTopic(ctx, producer, spec); err != nil {
		producer.Close()
		return nil, err
	}
	s := &ConfigStore{producer: producer, onChange: o.OnChange, offset: -1,
		conns: map[string]*ConnectorSnapshot{}, deferred: map[string]map[int]connect.Config{}}
	if s.log, err = openLogIsolated(ctx, producer, o.Brokers, o.Client, spec.Name, s.applyRecord, o.ReadCommitted); err != nil {
		producer.Close()
		return nil, err
	}
	s.mu.Lock()
	s.started = true
	s.mu.Unlock()
	return s, nil
}

// Close stops reading and writing.
func (s *ConfigStore) Close() {
	s.log.close()
	s.producer.Close()
}

// ReadToEnd waits until everything written before the call has been read.
func (s *ConfigStore) ReadToEnd(ctx context.Context) error { return s.log.readToEnd(ctx) }

// Snapshot returns a copy of the current view.
func (s *ConfigStore) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Snapshot{Offset: s.offset, Connectors: make(map[string]ConnectorSnapshot, len(s.conns))}
	for name, c := range s.conns {
		if c.Config == nil {
			continue // a target state or commit without a connector config
		}
		cp := *c
		cp.Config = maps.Clone(c.Config)
		cp.Tasks = make([]connect.Config, len(c.Tasks))
		for i, t := range c.Tasks {
			cp.Tasks[i] = maps.Clone(t)
		}
		out.Connectors[name] = cp
	}
	return out
}

// Cluster is Snapshot().Cluster(), for MemberConfig.Config.
func (s *ConfigStore) Cluster() ClusterConfig { return s.Snapshot().Cluster() }

// propertiesValue is {"properties":{…}} with the keys sorted, as
// JsonConverter writes the struct (one field, a map of strings).
func propertiesValue(cfg connect.Config) []byte {
	b, _ := json.Marshal(struct {
		Properties map[string]string `json:"properties"`
	}{Properties: nonNil(cfg)})
	return unescapeHTML(b)
}

func nonNil(c connect.Config) map[string]string {
	if c == nil {
		return map[string]string{}
	}
	return c
}

// unescapeHTML undoes encoding/json's \u003c \u003e \u0026, which Jackson
// does not write.
func unescapeHTML(b []byte) []byte {
	s := string(b)
	if !strings.Contains(s, `\u00`) {
		return b
	}
	r := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&")
	return []byte(r.Replace(s))
}

// TargetStateValue is Kafka 3.5+'s target state record: "state" is what
// older workers understand (STOPPED falls back to PAUSED), "state.v2" the
// real one.
func TargetStateValue(t TargetState) []byte {
	old := t
	if t == Stopped {
		old = Paused
	}
	return fmt.Appendf(nil, `{"state":%q,"state.v2":%q}`, old, t)
}

// PutConnectorConfig writes connector-<name>.
func (s *ConfigStore) PutConnectorConfig(ctx context.Context, name string, cfg connect.Config) error {
	return s.write(ctx, &kgo.Record{Key: []byte("connector-" + name), Value: propertiesValue(cfg)})
}

// PutConnectorConfigWithState writes target-state-<name> then
// connector-<name>, as Kafka does when a connector is created in a state
// other than STARTED (KIP-980).
func (s *ConfigStore) PutConnectorConfigWithState(ctx context.Context, name string, cfg connect.Config, t TargetState) error {
	return s.write(ctx,
		&kgo.Record{Key: []byte("target-state-" + name), Value: TargetStateValue(t)},
		&kgo.Record{Key: []byte("connector-" + name), Value: propertiesValue(cfg)})
}

// PutTaskConfigs writes task-<name>-<n> for each task, then
// commit-<name> {"tasks":N}: readers apply the tasks only at the commit.
func (s *ConfigStore) PutTaskConfigs(ctx context.Context, name string, tasks []connect.Config) error {
	recs := make([]*kgo.Record, 0, len(tasks)+1)
	for i, t := range tasks {
		recs = append(recs, &kgo.Record{Key: []byte("task-" + name + "-" + strconv.Itoa(i)), Value: propertiesValue(t)})
	}
	recs = append(recs, &kgo.Record{Key: []byte("commit-" + name), Value: fmt.Appendf(nil, `{"tasks":%d}`, len(tasks))})
	return s.write(ctx, recs...)
}

// PutTargetState writes target-state-<name>.
func (s *ConfigStore) PutTargetState(ctx context.Context, name string, t TargetState) error {
	switch t {
	case Started, Paused, Stopped:
	default:
		return fmt.Errorf("unknown target state %q", t)
	}
	return s.write(ctx, &kgo.Record{Key: []byte("target-state-" + name), Value: TargetStateValue(t)})
}

// PutRestartRequest writes restart-connector-<name>: the leader's record
// that every worker running part of the connector restarts it (KIP-745).
func (s *ConfigStore) PutRestartRequest(ctx context.Context, name string, includeTasks, onlyFailed bool) error {
	return s.write(ctx, &kgo.Record{Key: []byte("restart-connector-" + name),
		Value: fmt.Appendf(nil, `{"include-tasks":%t,"only-failed":%t}`, includeTasks, onlyFailed)})
}

// RemoveConnector writes the tombstones of connector-<name> and
// target-state-<name>, as KafkaConfigBackingStore.removeConnectorConfig.
func (s *ConfigStore) RemoveConnector(ctx context.Context, name string) error {
	return s.write(ctx,
		&kgo.Record{Key: []byte("connector-" + name)},
		&kgo.Record{Key: []byte("target-state-" + name)})
}

func (s *ConfigStore) write(ctx context.Context, recs ...*kgo.Record) error {
	if err := s.log.sendAll(ctx, recs); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

type propertiesRecord struct {
	Properties map[string]*string `json:"properties"`
}

func parseProperties(v []byte) (connect.Config, error) {
	var p propertiesRecord
	if err := json.Unmarshal(v, &p); err != nil {
		return nil, err
	}
	if p.Properties == nil {
		return nil, fmt.Errorf("no properties")
	}
	cfg := make(connect.Config, len(p.Properties))
	for k, v := range p.Properties {
		if v != nil {
			cfg[k] = *v
		}
	}
	return cfg, nil
}

// applyRecord folds one record into the view (the reader's goroutine).
func (s *ConfigStore) applyRecord(r *kgo.Record) {
	key := string(r.Key)
	var change *ConfigChange
	s.mu.Lock()
	s.offset = r.Offset + 1
	switch {
	case strings.HasPrefix(key, "connector-"):
		name := key[len("connector-"):]
		if r.Value == nil {
			// The target state stays until its own tombstone, as in Kafka.
			if c, ok := s.conns[name]; ok && c.Config != nil {
				c.Config, c.Tasks, c.Inconsistent = nil, nil, false
				delete(s.deferred, name)
				change = &ConfigChange{Kind: ConnectorConfigRemoved, Connector: name}
			}
			break
		}
		cfg, err := parseProperties(r.Value)
		if err != nil {
			break
		}
		c := s.connector(name)
		c.Config = cfg
		change = &ConfigChange{Kind: ConnectorConfigUpdated, Connector: name}
	case strings.HasPrefix(key, "restart-connector-"):
		var v struct {
			IncludeTasks bool `json:"include-tasks"`
			OnlyFailed   bool `json:"only-failed"`
		}
		if r.Value == nil || json.Unmarshal(r.Value, &v) != nil {
			break
		}
		change = &ConfigChange{Kind: RestartRequested, Connector: key[len("restart-connector-"):], IncludeTasks: v.IncludeTasks, OnlyFailed: v.OnlyFailed}
	case strings.HasPrefix(key, "tasks-fencing-"):
		change = s.applyTaskCount(key[len("tasks-fencing-"):], r.Value)
	case strings.HasPrefix(key, "task-"):
		rest := key[len("task-"):]
		i := strings.LastIndexByte(rest, '-')
		if i < 0 || r.Value == nil {
			break
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil || n < 0 {
			break
		}
		cfg, err := parseProperties(r.Value)
		if err != nil {
			break
		}
		name := rest[:i]
		if s.deferred[name] == nil {
			s.deferred[name] = map[int]connect.Config{}
		}
		s.deferred[name][n] = cfg
	case strings.HasPrefix(key, "commit-"):
		name := key[len("commit-"):]
		var v struct {
			Tasks *int `json:"tasks"`
		}
		if r.Value == nil || json.Unmarshal(r.Value, &v) != nil || v.Tasks == nil || *v.Tasks < 0 {
			break
		}
		c := s.connector(name)
		d := s.deferred[name]
		tasks := make([]connect.Config, *v.Tasks)
		complete := true
		for i := range tasks {
			t, ok := d[i]
			if !ok {
				complete = false
				break
			}
			tasks[i] = t
		}
		delete(s.deferred, name)
		if !complete {
			c.Inconsistent = true
			break
		}
		c.Tasks, c.Inconsistent, c.PendingFencing = tasks, false, true
		ids := make([]runtime.TaskID, len(tasks))
		for i := range ids {
			ids[i] = runtime.TaskID{Connector: name, Task: i}
		}
		change = &ConfigChange{Kind: TaskConfigsCommitted, Connector: name, Tasks: ids}
	case strings.HasPrefix(key, "target-state-"):
		name := key[len("target-state-"):]
		c, ok := s.conns[name]
		if r.Value == nil {
			if ok {
				c.TargetState = Started
			}
			break
		}
		var v struct {
			State   string `json:"state"`
			StateV2 string `json:"state.v2"`
		}
		if json.Unmarshal(r.Value, &v) != nil {
			break
		}
		t := TargetState(v.StateV2)
		if t == "" {
			t = TargetState(v.State)
		}
		if t != Started && t != Paused && t != Stopped {
			break
		}
		c = s.connector(name)
		c.TargetState = t
		change = &ConfigChange{Kind: TargetStateChanged, Connector: name}
	}
	notify := s.started && change != nil && s.onChange != nil
	s.mu.Unlock()
	if notify {
		s.onChange(*change)
	}
}

// connector returns name's entry, creating it STARTED; s.mu is held. An
// entry without Config (its target state or commit came first, or it was
// deleted) is not part of snapshots.
func (s *ConfigStore) connector(name string) *ConnectorSnapshot {
	c, ok := s.conns[name]
	if !ok {
		c = &ConnectorSnapshot{TargetState: Started, TaskCountRecord: -1}
		s.conns[name] = c
	}
	return c
}

// ConnectorNames returns the configured connectors, sorted.
func (s Snapshot) ConnectorNames() []string {
	names := slices.Collect(maps.Keys(s.Connectors))
	slices.Sort(names)
	return names
}
