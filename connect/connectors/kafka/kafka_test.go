package kafka

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
	"github.com/streambridge/bridge/connect/runtime"
	"github.com/streambridge/bridge/connect/transform"
	"github.com/streambridge/bridge/internal/kafkatest"
)

// worker runs this package's connectors against the Kafka at addr.
type worker struct {
	*runtime.Worker
	t *testing.T
}

func newWorker(t *testing.T, addr string) worker {
	var reg connect.Registry
	reg.Register(Plugins()...)
	reg.Register(convert.Plugins()...)
	reg.Register(transform.Plugins()...)
	w, err := runtime.NewWorker(runtime.WorkerConfig{Registry: &reg, Kafka: []kgo.Opt{kgo.SeedBrokers(addr)},
		Offsets: &runtime.MemoryOffsetStore{}, OffsetFlushInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	return worker{w, t}
}

// start runs the connector and its tasks; the returned func stops them.
func (w worker) start(cfg connect.Config, maxTasks int) func() {
	ctx := context.Background()
	h, err := w.StartConnector(ctx, cfg["name"], cfg, runtime.Hooks{})
	if err != nil {
		w.t.Fatal(err)
	}
	tcs, err := h.TaskConfigs(maxTasks)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, tc := range tcs {
		if err := w.StartTask(runtime.TaskID{Connector: cfg["name"], Task: i}, cfg, tc); err != nil {
			w.t.Fatal(err)
		}
	}
	return func() {
		for i := range tcs {
			w.StopTask(runtime.TaskID{Connector: cfg["name"], Task: i})
		}
		w.StopConnector(cfg["name"])
	}
}

var base = time.UnixMilli(1_700_000_000_000)

// produce writes n records numbered from first to topic at addr, record i
// to partition i%3, with a key (none for every tenth), a header and a
// timestamp of its own.
func produce(t *testing.T, addr, topic string, first, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for i := first; i < first+n; i++ {
		r := &kgo.Record{Topic: topic, Partition: int32(i % 3), Value: []byte(fmt.Sprintf("value-%d", i)),
			Timestamp: base.Add(time.Duration(i) * time.Millisecond),
			Headers:   []kgo.RecordHeader{{Key: "n", Value: []byte(strconv.Itoa(i))}}}
		if i%10 != 0 {
			r.Key = []byte(fmt.Sprintf("key-%d", i))
		}
		recs = append(recs, r)
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// consume reads topic at addr from the start until it has n records (and a
// little longer, to see any extra ones).
func consume(t *testing.T, addr, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	deadline := time.Now().Add(30 * time.Second)
	for settle := 0; settle < 3 && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		fs := cl.PollFetches(ctx)
		cancel()
		out = append(out, fs.Records()...)
		if len(out) >= n {
			settle++
		}
	}
	if len(out) < n {
		t.Fatalf("%s: %d records, want %d", topic, len(out), n)
	}
	return out
}

// checkCopy compares a copy with the records produce wrote: same partition,
// order, key, value, header and timestamp, each exactly once.
func checkCopy(t *testing.T, got []*kgo.Record, n int) {
	t.Helper()
	if len(got) != n {
		t.Errorf("%d records, want %d", len(got), n)
	}
	last := map[int32]int{0: -1, 1: -1, 2: -1}
	for _, r := range got {
		i, err := strconv.Atoi(string(r.Headers[0].Value))
		if err != nil || string(r.Value) != fmt.Sprintf("value-%d", i) {
			t.Fatalf("record %q with header %q", r.Value, r.Headers[0].Value)
		}
		if r.Partition != int32(i%3) || i <= last[r.Partition] {
			t.Errorf("record %d in partition %d after %d", i, r.Partition, last[r.Partition])
		}
		last[r.Partition] = i
		wantKey := fmt.Sprintf("key-%d", i)
		if i%10 == 0 {
			wantKey = ""
		}
		if string(r.Key) != wantKey || (i%10 == 0) != (r.Key == nil) {
			t.Errorf("record %d key %q", i, r.Key)
		}
		if !r.Timestamp.Equal(base.Add(time.Duration(i) * time.Millisecond)) {
			t.Errorf("record %d timestamp %v", i, r.Timestamp)
		}
	}
}

func newKfake(t *testing.T, topics ...string) string {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(3, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()[0]
}

func TestSourceCopiesFromKfake(t *testing.T) {
	upstream := newKfake(t, "orders")
	bridge := kafkatest.Start(t, 3)
	produce(t, upstream, "orders", 0, 300)
	w := newWorker(t, bridge)
	cfg := connect.Config{"name": "mirror", "connector.class": "KafkaSource", "source.bootstrap.servers": upstream,
		"topics": "orders", "offset.lag.max": "50"}
	stop := w.start(cfg, 2)
	checkCopy(t, consume(t, bridge, "orders", 300), 300)
	// Offset syncs pair upstream and downstream offsets of each partition:
	// with offset.lag.max=50, one at offsets 0 and 50 of each.
	syncs := consume(t, bridge, "connect-offset-syncs", 6)
	stop()
	seen := map[int32]int{}
	for _, r := range syncs {
		var s OffsetSync
		if err := json.Unmarshal(r.Value, &s); err != nil {
			t.Fatal(err)
		}
		if s.Topic != "orders" || s.UpstreamOffset != s.DownstreamOffset || s.UpstreamOffset%50 != 0 {
			t.Errorf("offset sync %+v: a fresh copy has equal offsets, synced every 50", s)
		}
		seen[s.Partition]++
	}
	if len(seen) != 3 {
		t.Errorf("offset syncs for partitions %v, want all three", seen)
	}

	// Restarted after a clean stop, it copies only what is new.
	produce(t, upstream, "orders", 300, 90)
	stop = w.start(cfg, 2)
	checkCopy(t, consume(t, bridge, "orders", 390), 390)
	stop()
}

func TestSinkCopiesToKfake(t *testing.T) {
	downstream := newKfake(t, "copy.events")
	bridge := kafkatest.Start(t, 3)
	produce(t, bridge, "events", 0, 300)
	w := newWorker(t, bridge)
	stop := w.start(connect.Config{"name": "out", "connector.class": "KafkaSink", "topics": "events", "tasks.max": "2",
		"target.bootstrap.servers": downstream, "topic.rename.format": "copy.${topic}", "target.compression.type": "zstd"}, 2)
	checkCopy(t, consume(t, downstream, "copy.events", 300), 300)
	stop()
}

func TestMatcher(t *testing.T) {
	m, err := newMatcher([]string{"orders", "logs-.*"}, []string{`.*\.internal`, "__.*"})
	if err != nil {
		t.Fatal(err)
	}
	for topic, want := range map[string]bool{"orders": true, "orders2": false, "logs-a": true, "logs-a.internal": false, "__consumer_offsets": false} {
		if m.match(topic) != want {
			t.Errorf("match(%s) = %v", topic, !want)
		}
	}
}

// The offsets topic gives offsets back as int64 (JsonConverter's Long), the
// standalone file as float64: both resume after the stored record.
func TestStoredOffsetTypes(t *testing.T) {
	for _, c := range []struct {
		in   any
		want int64
		ok   bool
	}{{int64(41), 41, true}, {float64(41), 41, true}, {41.5, 0, false}, {"41", 0, false}, {nil, 0, false}} {
		got, ok := storedOffset(c.in)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("storedOffset(%#v) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}
