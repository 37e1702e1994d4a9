package herder_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/herder/herdertest"
	"github.com/streambridge/bridge/connect/runtime"
)

func TestFileOffsetStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "offsets.json")
	s, err := herder.OpenFileOffsetStore(path)
	if err != nil {
		t.Fatal(err)
	}
	a := map[string]any{"shard": "shardId-0", "stream": "s"}
	b := map[string]any{"shard": "shardId-1", "stream": "s"}
	if err := s.Put(ctx, "c", []runtime.SourceOffset{
		{Partition: a, Offset: map[string]any{"seq": "1", "n": 5}},
		{Partition: b, Offset: map[string]any{"seq": "2"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "d", []runtime.SourceOffset{{Partition: a, Offset: map[string]any{"x": true}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "c", []runtime.SourceOffset{{Partition: b, Offset: nil}}); err != nil {
		t.Fatal(err)
	}
	for _, store := range []*herder.FileOffsetStore{s, reopen(t, path)} {
		got, err := store.Get(ctx, "c", map[string]any{"stream": "s", "shard": "shardId-0"})
		if err != nil || !reflect.DeepEqual(got, map[string]any{"seq": "1", "n": float64(5)}) {
			t.Errorf("Get = %v %v", got, err)
		}
		if got, _ := store.Get(ctx, "c", b); got != nil {
			t.Errorf("deleted partition = %v", got)
		}
		list, _ := store.List(ctx, "d")
		if len(list) != 1 || list[0].Offset["x"] != true {
			t.Errorf("List(d) = %v", list)
		}
		if list, _ := store.List(ctx, "none"); len(list) != 0 {
			t.Errorf("List(none) = %v", list)
		}
	}
	// A file that is not the store's is an error, not an empty store.
	if err := os.WriteFile(path, []byte(`{"version":1,"connectors":{"c":[{"partition":null}]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := herder.OpenFileOffsetStore(path); err == nil || !strings.Contains(err.Error(), "without partition") {
		t.Errorf("bad file opened: %v", err)
	}
	if err := s.Put(ctx, "c", []runtime.SourceOffset{{Partition: map[string]any{"f": make(chan int)}, Offset: map[string]any{}}}); err == nil {
		t.Error("an offset JSON cannot carry was stored")
	}
}

func reopen(t *testing.T, path string) *herder.FileOffsetStore {
	t.Helper()
	s, err := herder.OpenFileOffsetStore(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStateFileRefusesGarbage(t *testing.T) {
	for _, content := range []string{`{`, `{"version":2}`, `{"version":1,"connectors":{"a":{"config":{},"target_state":"WALKING"}}}`, `{"version":1,"connectors":{"a":{"target_state":"RUNNING"}}}`} {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "connectors.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := herder.New(herder.Config{StateDir: dir, Registry: herdertest.Registry()}); err == nil {
			t.Errorf("state %s loaded", content)
		}
	}
}

// A sink connector's offsets are its consumer group's, read and altered
// through the admin API of a real (fake) Kafka cluster.
func TestSinkOffsets(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	h, err := herder.New(herder.Config{Registry: herdertest.Registry(), Groups: herder.KafkaGroups{Admin: adm}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(herdertest.NewWorker(h)); err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	ctx := context.Background()
	cfg := connect.Config{"name": "snk", "connector.class": herdertest.SinkClass, "topics": "a,b"}
	if _, _, err := h.Put(ctx, "snk", cfg, false, herder.TargetStopped); err != nil {
		t.Fatal(err)
	}
	if got, err := h.GetOffsets(ctx, "snk"); err != nil || len(got.Offsets) != 0 {
		t.Fatalf("offsets of a new sink = %+v %v", got, err)
	}
	alter := herder.Offsets{Offsets: []runtime.SourceOffset{
		{Partition: map[string]any{"kafka_topic": "a", "kafka_partition": float64(0)}, Offset: map[string]any{"kafka_offset": float64(7)}},
		{Partition: map[string]any{"kafka_topic": "b", "kafka_partition": float64(1)}, Offset: map[string]any{"kafka_offset": float64(3)}},
	}}
	if _, err := h.AlterOffsets(ctx, "snk", alter); err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, "connect-snk")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := committed.Lookup("a", 0); !ok || o.At != 7 {
		t.Errorf("group connect-snk has a-0 at %+v", o)
	}
	got, err := h.GetOffsets(ctx, "snk")
	want := herder.Offsets{Offsets: []runtime.SourceOffset{
		{Partition: map[string]any{"kafka_topic": "a", "kafka_partition": int32(0)}, Offset: map[string]any{"kafka_offset": int64(7)}},
		{Partition: map[string]any{"kafka_topic": "b", "kafka_partition": int32(1)}, Offset: map[string]any{"kafka_offset": int64(3)}},
	}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("offsets = %+v %v, want %+v", got, err, want)
	}
	for _, bad := range []runtime.SourceOffset{
		{Partition: map[string]any{"kafka_partition": float64(0)}, Offset: map[string]any{"kafka_offset": float64(1)}},
		{Partition: map[string]any{"kafka_topic": "a", "kafka_partition": 0.5}, Offset: map[string]any{"kafka_offset": float64(1)}},
		{Partition: map[string]any{"kafka_topic": "a", "kafka_partition": float64(0)}, Offset: map[string]any{"kafka_offset": "x"}},
	} {
		if _, err := h.AlterOffsets(ctx, "snk", herder.Offsets{Offsets: []runtime.SourceOffset{bad}}); code(err) != 400 {
			t.Errorf("alter with %+v: %v", bad, err)
		}
	}
	if _, err := h.ResetOffsets(ctx, "snk"); err != nil {
		t.Fatal(err)
	}
	if got, err := h.GetOffsets(ctx, "snk"); err != nil || len(got.Offsets) != 0 {
		t.Errorf("offsets after reset = %+v %v", got, err)
	}
	if _, err := h.ResetOffsets(ctx, "snk"); err != nil {
		t.Errorf("reset of a group that is gone: %v", err)
	}
}
