package runtime

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/gateway/kafka"
	"github.com/streambridge/bridge/store/embedded"
)

// startKafka runs the bridge's Kafka front end over an in-memory store on
// 127.0.0.1 and returns its address.
func startKafka(t *testing.T) string {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := kafka.New(kafka.Config{Store: st, AdvertisedAddr: ln.Addr().String(), AutoCreateTopics: true, DefaultPartitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-served
		_ = st.Close()
	})
	return ln.Addr().String()
}

// memOffsets is an in-memory OffsetStore that keeps offsets as JSON, as the
// real stores do.
type memOffsets struct {
	mu   sync.Mutex
	m    map[string]map[string]any
	puts int
}

func offsetKey(connector string, partition map[string]any) string {
	b, _ := json.Marshal(partition)
	return connector + "/" + string(b)
}

func (s *memOffsets) Get(_ context.Context, connector string, partition map[string]any) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[offsetKey(connector, partition)], nil
}

func (s *memOffsets) Put(_ context.Context, connector string, offsets []SourceOffset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]map[string]any)
	}
	s.puts++
	for _, o := range offsets {
		b, _ := json.Marshal(o.Offset)
		var v map[string]any
		_ = json.Unmarshal(b, &v)
		s.m[offsetKey(connector, o.Partition)] = v
	}
	return nil
}

func (s *memOffsets) List(_ context.Context, connector string) ([]SourceOffset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SourceOffset
	for k, v := range s.m {
		if rest, ok := strings.CutPrefix(k, connector+"/"); ok {
			var p map[string]any
			_ = json.Unmarshal([]byte(rest), &p)
			out = append(out, SourceOffset{Partition: p, Offset: v})
		}
	}
	return out, nil
}

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
func newTestWorker(t *testing.T, addr string, plugins ...connect.Plugin) (*Worker, *memOffsets, *statuses) {
	t.Helper()
	var reg connect.Registry
	reg.Register(connect.Plugin{Class: DefaultConverter, Type: connect.PluginConverter,
		NewConverter: func() connect.Converter { return bytesConverter{} }})
	reg.Register(plugins...)
	offsets, st := &memOffsets{}, &statuses{}
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

func admin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}
