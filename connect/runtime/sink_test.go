package runtime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// collector is what the test sink's tasks write to.
type collector struct {
	mu        sync.Mutex
	records   []connect.Record
	opened    []connect.TopicPartition
	failPuts  int   // Puts to fail retriably before accepting
	rewindTo  int64 // rewind every opened partition here in Open (when > 0)
	commitMax int64 // PreCommit never returns more than this (when > 0)
}

func (c *collector) values() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, r := range c.records {
		out = append(out, string(r.Value.([]byte)))
	}
	return out
}

type collectSink struct{ c *collector }

func (s collectSink) Start(context.Context, connect.ConnectorContext, connect.Config) error {
	return nil
}
func (s collectSink) TaskConfigs(int) ([]connect.Config, error) { return []connect.Config{{}}, nil }
func (s collectSink) Stop() error                               { return nil }
func (s collectSink) NewTask() connect.SinkTask                 { return &collectTask{c: s.c} }

type collectTask struct {
	c  *collector
	tc connect.SinkTaskContext
}

func (t *collectTask) Start(_ context.Context, tc connect.SinkTaskContext, _ connect.Config) error {
	t.tc = tc
	return nil
}

func (t *collectTask) Open(_ context.Context, tps []connect.TopicPartition) error {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.c.opened = append(t.c.opened, tps...)
	if t.c.rewindTo > 0 {
		for _, tp := range tps {
			t.tc.Rewind(tp, t.c.rewindTo)
		}
	}
	return nil
}

func (t *collectTask) Close(context.Context, []connect.TopicPartition) error { return nil }

func (t *collectTask) Put(ctx context.Context, recs []connect.Record) error {
	t.c.mu.Lock()
	if t.c.failPuts > 0 {
		t.c.failPuts--
		t.c.mu.Unlock()
		return connect.Retriable(errors.New("target busy"))
	}
	t.c.mu.Unlock()
	for _, r := range recs {
		if strings.HasPrefix(string(r.Value.([]byte)), "report") {
			if err := t.tc.Report(ctx, r, errors.New("target refused the record")); err != nil {
				return err
			}
			continue
		}
		t.c.mu.Lock()
		t.c.records = append(t.c.records, r)
		t.c.mu.Unlock()
	}
	return nil
}

func (t *collectTask) PreCommit(_ context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	out := maps.Clone(offsets)
	if t.c.commitMax > 0 {
		for tp, off := range out {
			out[tp] = min(off, t.c.commitMax)
		}
	}
	return out, nil
}

func (t *collectTask) Stop() error { return nil }

func sinkPlugin(c *collector) connect.Plugin {
	return connect.Plugin{Class: "test.CollectSinkConnector", Type: connect.PluginSink,
		NewSink: func() connect.SinkConnector { return collectSink{c} }}
}

// produce writes values to partition 0 of topic, in order.
func produce(t *testing.T, addr, topic string, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.AllowAutoTopicCreation(), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var recs []*kgo.Record
	for _, v := range values {
		recs = append(recs, &kgo.Record{Topic: topic, Value: []byte(v)})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func values(n int, f string) []string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprintf(f, i))
	}
	return out
}

func committedOffset(t *testing.T, addr, group, topic string) int64 {
	t.Helper()
	offs, err := admin(t, addr).FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := offs.Lookup(topic, 0)
	return o.At
}

func TestSinkTask(t *testing.T) {
	tests := []struct {
		name      string
		col       *collector
		cfg       connect.Config
		produce   []string
		want      []string // values Put, in order
		committed int64
		dlq       []string
	}{
		{name: "all", produce: values(700, "v%d"), want: values(700, "v%d"), committed: 700},
		{name: "retriable put", col: &collector{failPuts: 3}, produce: values(50, "v%d"), want: values(50, "v%d"), committed: 50},
		{name: "precommit limits the commit", col: &collector{commitMax: 20}, produce: values(50, "v%d"), want: values(50, "v%d"), committed: 20},
		{name: "rewind in open", col: &collector{rewindTo: 40}, produce: values(50, "v%d"), want: values(50, "v%d")[40:], committed: 50},
		{
			name:    "tolerated errors to the dead letter queue",
			cfg:     connect.Config{"errors.tolerance": "all", "errors.deadletterqueue.topic.name": "dlq", "errors.deadletterqueue.context.headers.enable": "true"},
			produce: []string{"v0", "bad1", "v2", "report3", "v4"}, want: []string{"v0", "v2", "v4"}, committed: 5,
			dlq: []string{"bad1", "report3"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.col == nil {
				tt.col = &collector{}
			}
			addr := startKafka(t)
			w, _, st := newTestWorker(t, addr, sinkPlugin(tt.col))
			produce(t, addr, "in", tt.produce...)
			cfg := connect.Config{"name": "sink", "connector.class": "test.CollectSinkConnector", "topics": "in"}
			maps.Copy(cfg, tt.cfg)
			id := TaskID{"sink", 0}
			if err := w.StartTask(id, cfg, connect.Config{}); err != nil {
				t.Fatal(err)
			}
			eventually(t, "records put", func() bool { return len(tt.col.values()) >= len(tt.want) })
			eventually(t, "offsets committed", func() bool { return committedOffset(t, addr, "connect-sink", "in") == tt.committed })
			w.StopTask(id)
			if got := tt.col.values(); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("put %q, want %q", got, tt.want)
			}
			if s, trace := st.task(id); s != Running {
				t.Errorf("task state %s %s", s, trace)
			}
			if tt.dlq != nil {
				recs := consumeAll(t, addr, "dlq", len(tt.dlq))
				for i, r := range recs {
					if string(r.Value) != tt.dlq[i] {
						t.Errorf("dlq[%d] = %s, want %s", i, r.Value, tt.dlq[i])
					}
					headers := map[string]string{}
					for _, h := range r.Headers {
						headers[h.Key] = string(h.Value)
					}
					if headers["__connect.errors.topic"] != "in" || headers["__connect.errors.connector.name"] != "sink" || headers["__connect.errors.exception.message"] == "" {
						t.Errorf("dlq[%d] headers %v", i, headers)
					}
				}
			}
		})
	}
}

// The task's consumer joins its group as soon as it is made, so the group
// may assign partitions before the task's loop starts: they are opened once
// Start returns, and their records reach Put (they were dropped, and the
// task wrote nothing, when a loaded machine let the join win that race).
func TestSinkTaskAssignedBeforeStart(t *testing.T) {
	addr := startKafka(t)
	col := &collector{}
	w, _, _ := newTestWorker(t, addr, sinkPlugin(col))
	produce(t, addr, "in", values(10, "v%d")...)
	cfg := connect.Config{"name": "sink", "connector.class": "test.CollectSinkConnector", "topics": "in"}
	task, err := w.newTask(TaskID{"sink", 0}, sinkPlugin(col), cfg, connect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	s := task.body.(*sinkRunner)
	eventually(t, "partitions assigned before the loop runs", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.assigned) == 3
	})
	go task.run()
	eventually(t, "records put", func() bool { return len(col.values()) == 10 })
	task.stop()
	col.mu.Lock()
	opened := col.opened
	col.mu.Unlock()
	if want := []connect.TopicPartition{{Topic: "in", Partition: 0}, {Topic: "in", Partition: 1}, {Topic: "in", Partition: 2}}; !slices.Equal(opened, want) {
		t.Errorf("opened %v, want %v", opened, want)
	}
}

func TestSinkTaskFailsWithoutTolerance(t *testing.T) {
	addr := startKafka(t)
	var col collector
	w, _, st := newTestWorker(t, addr, sinkPlugin(&col))
	produce(t, addr, "in", "v0", "bad1", "v2")
	cfg := connect.Config{"name": "sink", "connector.class": "test.CollectSinkConnector", "topics": "in"}
	id := TaskID{"sink", 0}
	if err := w.StartTask(id, cfg, connect.Config{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "task failed", func() bool { s, _ := st.task(id); return s == Failed })
	if _, trace := st.task(id); !strings.Contains(trace, "Tolerance exceeded") {
		t.Errorf("trace %q", trace)
	}
	if got := committedOffset(t, addr, "connect-sink", "in"); got > 0 {
		t.Errorf("committed %d after a failed batch", got)
	}
}

func TestSinkTaskPauseResume(t *testing.T) {
	addr := startKafka(t)
	var col collector
	w, _, st := newTestWorker(t, addr, sinkPlugin(&col))
	id := TaskID{"sink", 0}
	cfg := connect.Config{"name": "sink", "connector.class": "test.CollectSinkConnector", "topics.regex": "in.*"}
	produce(t, addr, "in1", "a")
	if err := w.StartTask(id, cfg, connect.Config{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, "first record", func() bool { return len(col.values()) == 1 })
	w.PauseTask(id)
	if s, _ := st.task(id); s != Paused {
		t.Fatalf("state %s after pause", s)
	}
	produce(t, addr, "in1", "b")
	w.ResumeTask(id)
	eventually(t, "record after resume", func() bool { return len(col.values()) == 2 })
	w.StopTask(id)
}
