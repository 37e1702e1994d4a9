package distributed

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect/runtime"
)

// Status is one connector's or task's status record:
// {"state":"RUNNING","trace":null,"worker_id":"host:port","generation":N}.
type Status struct {
	State      runtime.State `json:"state"`
	Trace      *string       `json:"trace"`
	WorkerID   string        `json:"worker_id"`
	Generation int32         `json:"generation"`
}

// TopicStatus is KIP-558's active topic record,
// status-topic-<topic>:connector-<name> →
// {"topic":{"name":…,"connector":…,"task":N,"discoverTimestamp":ms}}.
type TopicStatus struct {
	Topic             string `json:"name"`
	Connector         string `json:"connector"`
	Task              int32  `json:"task"`
	DiscoverTimestamp int64  `json:"discoverTimestamp"`
}

// StatusStore keeps statuses in the status.storage.topic (default
// connect-status, 5 partitions) as KafkaStatusBackingStore does; writes
// return once acknowledged. A deleted connector's records become
// tombstones.
type StatusStore struct {
	producer *kgo.Client
	log      *kafkaLog

	mu         sync.Mutex
	connectors map[string]Status
	tasks      map[runtime.TaskID]Status
	topics     map[string]map[string]TopicStatus // connector → topic → record
}

// OpenStatusStore creates the topic if needed and reads it to its end.
func OpenStatusStore(ctx context.Context, o Options) (*StatusStore, error) {
	producer, err := newProducer(o)
	if err != nil {
		return nil, err
	}
	spec := o.spec("connect-status", 5, "status.storage.topic", "connector and task statuses")
	if err := EnsureTopic(ctx, producer, spec); err != nil {
		producer.Close()
		return nil, err
	}
	s := &StatusStore{producer: producer, connectors: map[string]Status{}, tasks: map[runtime.TaskID]Status{},
		topics: map[string]map[string]TopicStatus{}}
	if s.log, err = openLog(ctx, producer, o.Brokers, o.Client, spec.Name, s.applyRecord); err != nil {
		producer.Close()
		return nil, err
	}
	return s, nil
}

// Close stops reading and writing.
func (s *StatusStore) Close() {
	s.log.close()
	s.producer.Close()
}

// ReadToEnd waits until everything written before the call has been read.
func (s *StatusStore) ReadToEnd(ctx context.Context) error { return s.log.readToEnd(ctx) }

func connectorStatusKey(name string) string { return "status-connector-" + name }
func taskStatusKey(id runtime.TaskID) string {
	return "status-task-" + id.Connector + "-" + strconv.Itoa(id.Task)
}
func topicStatusKey(topic, connector string) string {
	return "status-topic-" + topic + ":connector-" + connector
}

// StatusValue is a status record's value, fields in Kafka's schema order.
func StatusValue(st Status) []byte {
	b, _ := json.Marshal(st)
	return unescapeHTML(b)
}

// PutConnector writes name's status.
func (s *StatusStore) PutConnector(ctx context.Context, name string, st Status) error {
	return s.log.send(ctx, []byte(connectorStatusKey(name)), StatusValue(st))
}

// PutTask writes a task's status.
func (s *StatusStore) PutTask(ctx context.Context, id runtime.TaskID, st Status) error {
	return s.log.send(ctx, []byte(taskStatusKey(id)), StatusValue(st))
}

// PutTaskSafe writes a task's status unless the one read last comes from a
// later generation of the group (KafkaStatusBackingStore.putSafe): a
// worker that lost the task in a rebalance must not overwrite its new
// owner's status.
func (s *StatusStore) PutTaskSafe(ctx context.Context, id runtime.TaskID, st Status) error {
	s.mu.Lock()
	cur, ok := s.tasks[id]
	s.mu.Unlock()
	if ok && cur.Generation > st.Generation && cur.WorkerID != st.WorkerID {
		return nil
	}
	return s.PutTask(ctx, id, st)
}

// PutConnectorSafe is PutTaskSafe for a connector's status.
func (s *StatusStore) PutConnectorSafe(ctx context.Context, name string, st Status) error {
	s.mu.Lock()
	cur, ok := s.connectors[name]
	s.mu.Unlock()
	if ok && cur.Generation > st.Generation && cur.WorkerID != st.WorkerID {
		return nil
	}
	return s.PutConnector(ctx, name, st)
}

// PutTopic records that connector uses topic (KIP-558).
func (s *StatusStore) PutTopic(ctx context.Context, ts TopicStatus) error {
	return s.log.send(ctx, []byte(topicStatusKey(ts.Topic, ts.Connector)), topicStatusValue(ts))
}

func topicStatusValue(ts TopicStatus) []byte {
	v, _ := json.Marshal(struct {
		Topic TopicStatus `json:"topic"`
	}{ts})
	return unescapeHTML(v)
}

// DeleteConnector writes tombstones for the connector's status, its tasks'
// (0 to tasks-1, and any others read) and its active topics.
func (s *StatusStore) DeleteConnector(ctx context.Context, name string, tasks int) error {
	recs := []*kgo.Record{{Key: []byte(connectorStatusKey(name))}}
	seen := map[int]bool{}
	for i := range tasks {
		seen[i] = true
		recs = append(recs, &kgo.Record{Key: []byte(taskStatusKey(runtime.TaskID{Connector: name, Task: i}))})
	}
	s.mu.Lock()
	for id := range s.tasks {
		if id.Connector == name && !seen[id.Task] {
			recs = append(recs, &kgo.Record{Key: []byte(taskStatusKey(id))})
		}
	}
	for topic := range s.topics[name] {
		recs = append(recs, &kgo.Record{Key: []byte(topicStatusKey(topic, name))})
	}
	s.mu.Unlock()
	return s.log.sendAll(ctx, recs)
}

// DeleteTopics writes tombstones for a connector's active topic records
// (PUT /connectors/{name}/topics/reset).
func (s *StatusStore) DeleteTopics(ctx context.Context, connector string) error {
	var recs []*kgo.Record
	s.mu.Lock()
	for topic := range s.topics[connector] {
		recs = append(recs, &kgo.Record{Key: []byte(topicStatusKey(topic, connector))})
	}
	s.mu.Unlock()
	if len(recs) == 0 {
		return nil
	}
	if err := s.log.sendAll(ctx, recs); err != nil {
		return err
	}
	return s.log.readToEnd(ctx)
}

// Connector returns name's last status read.
func (s *StatusStore) Connector(name string) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.connectors[name]
	return st, ok
}

// Task returns a task's last status read.
func (s *StatusStore) Task(id runtime.TaskID) (Status, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.tasks[id]
	return st, ok
}

// Tasks returns the statuses of name's tasks.
func (s *StatusStore) Tasks(name string) map[int]Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[int]Status{}
	for id, st := range s.tasks {
		if id.Connector == name {
			out[id.Task] = st
		}
	}
	return out
}

// Topics returns the active topics of a connector.
func (s *StatusStore) Topics(name string) []TopicStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TopicStatus, 0, len(s.topics[name]))
	for _, t := range s.topics[name] {
		out = append(out, t)
	}
	return out
}

func (s *StatusStore) applyRecord(r *kgo.Record) {
	key := string(r.Key)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case strings.HasPrefix(key, "status-connector-"):
		name := key[len("status-connector-"):]
		if r.Value == nil {
			delete(s.connectors, name)
			return
		}
		var st Status
		if json.Unmarshal(r.Value, &st) == nil {
			s.connectors[name] = st
		}
	case strings.HasPrefix(key, "status-task-"):
		rest := key[len("status-task-"):]
		i := strings.LastIndexByte(rest, '-')
		if i < 0 {
			return
		}
		n, err := strconv.Atoi(rest[i+1:])
		if err != nil || n < 0 {
			return
		}
		id := runtime.TaskID{Connector: rest[:i], Task: n}
		if r.Value == nil {
			delete(s.tasks, id)
			return
		}
		var st Status
		if json.Unmarshal(r.Value, &st) == nil {
			s.tasks[id] = st
		}
	case strings.HasPrefix(key, "status-topic-"):
		rest := key[len("status-topic-"):]
		i := strings.Index(rest, ":connector-")
		if i < 0 {
			return
		}
		topic, name := rest[:i], rest[i+len(":connector-"):]
		if r.Value == nil {
			delete(s.topics[name], topic)
			return
		}
		var v struct {
			Topic TopicStatus `json:"topic"`
		}
		if json.Unmarshal(r.Value, &v) != nil {
			return
		}
		if s.topics[name] == nil {
			s.topics[name] = map[string]TopicStatus{}
		}
		s.topics[name][topic] = v.Topic
	}
}
