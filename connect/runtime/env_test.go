package runtime

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/transform"
	"github.com/streambridge/bridge/internal/kafkatest"
)

// startKafka runs the bridge's Kafka front end on 127.0.0.1.
func startKafka(t *testing.T) string { return kafkatest.Start(t, 3) }

// statuses records what the worker reports.
type statuses struct {
	mu     sync.Mutex
	tasks  map[TaskID]State
	traces map[TaskID]string
	topics map[string][]string
}

func (s *statuses) ConnectorState(string, State, string) {}

func (s *statuses) TaskState(id TaskID, st State, trace string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tasks == nil {
		s.tasks, s.traces = make(map[TaskID]State), make(map[TaskID]string)
	}
	s.tasks[id], s.traces[id] = st, trace
}

func (s *statuses) ActiveTopic(connector, topic string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.topics == nil {
		s.topics = make(map[string][]string)
	}
	s.topics[connector] = append(s.topics[connector], topic)
}

func (s *statuses) task(id TaskID) (State, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tasks[id], s.traces[id]
}

// bytesConverter stands in for ByteArrayConverter; it fails on values that
// start with "bad" so tests can make conversion errors.
type bytesConverter struct{}

func (bytesConverter) Configure(connect.Config, bool) error { return nil }

func (bytesConverter) FromConnect(_ string, _ *connect.Schema, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []byte:
		return x, nil
	case string:
		return []byte(x), nil
	}
	return nil, fmt.Errorf("unsupported %T", v)
}

func (bytesConverter) ToConnect(_ string, b []byte) (*connect.Schema, any, error) {
	if bytes.HasPrefix(b, []byte("bad")) {
		return nil, nil, errors.New("cannot convert a bad value")
	}
	return nil, b, nil
}

// newTestWorker starts a worker over the Kafka at addr with the test plugins.
func newTestWorker(t testing.TB, addr string, plugins ...connect.Plugin) (*Worker, *MemoryOffsetStore, *statuses) {
	t.Helper()
	var reg connect.Registry
	reg.Register(connect.Plugin{Class: DefaultConverter, Type: connect.PluginConverter,
		NewConverter: func() connect.Converter { return bytesConverter{} }})
	reg.Register(transform.Plugins()...)
	reg.Register(plugins...)
	offsets, st := &MemoryOffsetStore{}, &statuses{}
	w, err := NewWorker(WorkerConfig{
		Registry: &reg, Kafka: []kgo.Opt{kgo.SeedBrokers(addr)}, Offsets: offsets, Status: st,
		OffsetFlushInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return w, offsets, st
}

// eventually polls cond until it holds or 30 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func admin(t testing.TB, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}
