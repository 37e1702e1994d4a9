package herder_test

// Exactly-once source connectors (KIP-618) against the bridge's own Kafka
// front end, in-process: distributed herders over the real runtime, a
// counting source whose records are a pure function of their offset, and
// read_committed consumers checking that each record is seen exactly once.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/convert"
	"github.com/streambridge/bridge/connect/distributed"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/runtime"
	"github.com/streambridge/bridge/internal/kafkatest"
)

const countSourceClass = "test.CountingSource"

// countSource is a source connector whose single task writes "v-N" for N
// from its stored offset + 1 up to total-1, ten per poll, asking for a
// commit after every `every` records (transaction.boundary=connector) when
// set. It may stop at a gate (below) or fail once at a given record.
type countSource struct{ cfg connect.Config }

func (c *countSource) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	c.cfg = cfg
	return nil
}
func (c *countSource) TaskConfigs(int) ([]connect.Config, error) { return []connect.Config{c.cfg}, nil }
func (c *countSource) Stop() error                               { return nil }
func (c *countSource) NewTask() connect.SourceTask               { return &countTask{} }
func (c *countSource) ExactlyOnceSupport(connect.Config) (connect.ExactlyOnce, error) {
	return connect.ExactlyOnceSupported, nil
}
func (c *countSource) CanDefineTransactionBoundaries(connect.Config) (connect.TransactionBoundaries, error) {
	return connect.TransactionBoundariesSupported, nil
}

// countGates are per test: the first task instance to reach record `gate`
// blocks there until its context ends (a worker that hangs mid-transaction
// until it is killed); failAt makes the first instance to reach that record
// fail its poll after sending the records before it.
type countGates struct {
	gate, failAt   int
	gated, failed  atomic.Bool
	reachedGate    chan struct{}
	reachedGateSet sync.Once
}

var gatesMu sync.Mutex
var gatesByTopic = map[string]*countGates{}

var countPartition = map[string]any{"source": "count"}

type countTask struct {
	topic              string
	next, total, every int
	abortAt            int // AbortTransactionAfter this record, once per instance
	gates              *countGates
	tx                 connect.TransactionContext
}

func (t *countTask) Start(_ context.Context, tc connect.SourceTaskContext, cfg connect.Config) error {
	t.topic = cfg["topic"]
	t.total, _ = strconv.Atoi(cfg["total"])
	t.every, _ = strconv.Atoi(cfg["every"])
	t.abortAt = -1
	if v, ok := cfg["abort.at"]; ok {
		t.abortAt, _ = strconv.Atoi(v)
	}
	gatesMu.Lock()
	t.gates = gatesByTopic[t.topic]
	gatesMu.Unlock()
	off, err := tc.Offset(countPartition)
	if err != nil {
		return err
	}
	switch n := off["n"].(type) {
	case int64:
		t.next = int(n) + 1
	case float64:
		t.next = int(n) + 1
	case nil:
	default:
		return fmt.Errorf("offset %v", off)
	}
	if p, ok := tc.(connect.TransactionContextProvider); ok {
		t.tx = p.TransactionContext()
	}
	return nil
}

func (t *countTask) Poll(ctx context.Context) ([]connect.Record, error) {
	if t.next >= t.total {
		sleepCtx(ctx, 20*time.Millisecond)
		return nil, nil
	}
	g := t.gates
	if g != nil && t.next == g.gate && g.gated.CompareAndSwap(false, true) {
		g.reachedGateSet.Do(func() { close(g.reachedGate) })
		<-ctx.Done()
		return nil, nil
	}
	if g != nil && t.next == g.failAt && g.failed.CompareAndSwap(false, true) {
		return nil, errors.New("the source broke")
	}
	var recs []connect.Record
	for len(recs) < 10 && t.next < t.total {
		if g != nil && len(recs) > 0 && (t.next == g.gate && !g.gated.Load() || t.next == g.failAt && !g.failed.Load()) {
			break
		}
		rec := connect.Record{Topic: t.topic, Partition: 0, Offset: -1, Value: fmt.Appendf(nil, "v-%d", t.next),
			SourcePartition: countPartition, SourceOffset: map[string]any{"n": t.next}}
		if t.every > 0 && t.tx != nil && (t.next+1)%t.every == 0 {
			t.tx.CommitTransactionAfter(rec)
		}
		if t.tx != nil && t.next == t.abortAt {
			t.tx.AbortTransactionAfter(rec)
		}
		recs = append(recs, rec)
		t.next++
	}
	return recs, nil
}

func (t *countTask) CommitRecord(context.Context, connect.Record) error { return nil }
func (t *countTask) Commit(context.Context) error                       { return nil }
func (t *countTask) Stop() error                                        { return nil }

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func eosRegistry() *connect.Registry {
	var r connect.Registry
	r.Register(convert.Plugins()...)
	r.Register(connect.Plugin{Class: countSourceClass, Type: connect.PluginSource, Version: "1.0", Doc: "counting source",
		Config: connect.ConfigDef{
			{Name: "topic", Type: connect.ConfigString, Required: true, Importance: connect.High, Doc: "Topic."},
			{Name: "total", Type: connect.ConfigInt, Required: true, Importance: connect.High, Doc: "Records."},
			{Name: "every", Type: connect.ConfigInt, Default: "0", Importance: connect.Low, Doc: "Commit after every N records."},
			{Name: "abort.at", Type: connect.ConfigInt, Default: "-1", Importance: connect.Low, Doc: "Abort the transaction after this record."},
		},
		NewSource: func() connect.SourceConnector { return &countSource{} }})
	return &r
}

// killSwitch is a dialer for every Kafka client of one worker: kill closes
// their connections and refuses new ones, so the broker sees the worker
// vanish mid-transaction as after a kill -9 (no EndTxn, no LeaveGroup).
type killSwitch struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

func (k *killSwitch) dial(ctx context.Context, network, host string) (net.Conn, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.dead {
		return nil, errors.New("killed")
	}
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err == nil {
		k.conns = append(k.conns, c)
	}
	return c, err
}

func (k *killSwitch) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, c := range k.conns {
		c.Close()
	}
}

// lockedBuffer holds a worker's log, printed when the test fails: a
// takeover that stalls in CI is otherwise a bare timeout.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// eosWorker is one distributed herder with the real runtime.
type eosWorker struct {
	h    *herder.Distributed
	kill *killSwitch
}

func startEOSWorker(t *testing.T, ctx context.Context, addr string, support herder.ExactlyOnceSourceSupport) *eosWorker {
	t.Helper()
	ks := &killSwitch{}
	client := []kgo.Opt{kgo.Dialer(ks.dial)}
	reg := eosRegistry()
	id := "w-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	logs := &lockedBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker %s's log:\n%s", id, logs.String())
		}
	})
	log := slog.New(slog.NewTextHandler(logs, nil))
	if os.Getenv("EOS_TEST_KGO_DEBUG") != "" { // the clients' debug log joins the worker's
		client = append(client, kgo.WithLogger(kgo.BasicLogger(logs, kgo.LogLevelDebug, nil)))
	}
	if os.Getenv("EOS_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	h, err := herder.OpenDistributed(ctx, herder.DistributedConfig{
		Brokers: []string{addr}, Client: client,
		Member: distributed.MemberConfig{GroupID: "eos-cluster", SessionTimeout: time.Second, HeartbeatInterval: 100 * time.Millisecond,
			RebalanceTimeout: 5 * time.Second, MaxDelay: 300 * time.Millisecond},
		URL: "http://127.0.0.1:1/", WorkerID: id,
		Registry: reg, ExactlyOnceSource: support, Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	w, err := runtime.NewWorker(runtime.WorkerConfig{
		Registry: reg, Kafka: append([]kgo.Opt{kgo.SeedBrokers(addr)}, client...), Offsets: h.Offsets(), Status: h,
		OffsetFlushInterval: 50 * time.Millisecond, ExactlyOnce: h.ExactlyOnce(), Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(w); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ks.mu.Lock()
		dead := ks.dead
		ks.mu.Unlock()
		if !dead { // a killed worker is left as it was: a dead process closes nothing
			h.Close()
		}
	})
	return &eosWorker{h: h, kill: ks}
}

// readValues reads a topic's partition 0 from its start to its end (the
// last stable offset for read_committed) and counts each value. Control
// records are kept so that the position reaches the end even when it is a
// marker.
func readValues(t *testing.T, ctx context.Context, addr, topic string, committed bool) map[string]int {
	t.Helper()
	opts := []kgo.Opt{kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.KeepControlRecords(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}
	if committed {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	list := adm.ListEndOffsets
	if committed {
		list = adm.ListCommittedOffsets
	}
	ends, err := list(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	end, _ := ends.Lookup(topic, 0)
	out := map[string]int{}
	for next := int64(0); next < end.Offset; {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s (committed %t) to %d: at %d: %v", topic, committed, end.Offset, next, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out[string(r.Value)]++
			}
			next = r.Offset + 1
		})
	}
	return out
}

// exactlyOnce checks that values holds v-0 … v-(total-1) once each and
// nothing else.
func exactlyOnce(values map[string]int, total int) error {
	for n := range total {
		if c := values[fmt.Sprintf("v-%d", n)]; c != 1 {
			return fmt.Errorf("v-%d seen %d times", n, c)
		}
	}
	if len(values) != total {
		return fmt.Errorf("%d distinct values, want %d", len(values), total)
	}
	return nil
}

func countConfig(topic string, total, every int, boundary string) connect.Config {
	cfg := connect.Config{"name": "count", "connector.class": countSourceClass, "tasks.max": "1", "topic": topic,
		"total": strconv.Itoa(total), "every": strconv.Itoa(every),
		"value.converter":      "org.apache.kafka.connect.converters.ByteArrayConverter",
		"key.converter":        "org.apache.kafka.connect.converters.ByteArrayConverter",
		"exactly.once.support": "required", "transaction.boundary": boundary}
	return cfg
}

func setGates(topic string, g *countGates) {
	gatesMu.Lock()
	defer gatesMu.Unlock()
	g.reachedGate = make(chan struct{})
	gatesByTopic[topic] = g
}

// A worker with exactly-once source support copies from the counting
// source; it is killed (its connections cut, nothing ended) while the task
// hangs at record 350. A second worker takes the task over: its producer
// fences the dead one's, whose open transaction is aborted, and resumes
// after the last committed offset. A read_committed consumer sees every
// record exactly once, under each transaction boundary. With
// connector-defined boundaries (a commit per 100 records) the kill leaves
// records 300-349 in an open transaction: a read_uncommitted consumer sees
// them twice, read_committed once.
func TestExactlyOnceSourceSurvivesAKilledWorker(t *testing.T) {
	for _, c := range []struct {
		name, boundary string
		extra          connect.Config
		// committedAtKill and dupes are checked when not -1
		committedAtKill, dupes int
	}{
		{name: "connector", boundary: "connector", committedAtKill: 300, dupes: 50},
		{name: "connector with its own offsets topic", boundary: "connector",
			extra: connect.Config{"offsets.storage.topic": "count-offsets"}, committedAtKill: 300, dupes: 50},
		{name: "poll", boundary: "poll", committedAtKill: 350, dupes: 0},
		{name: "interval", boundary: "interval", extra: connect.Config{"transaction.boundary.interval.ms": "20"}, committedAtKill: -1, dupes: -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			testKilledWorker(t, c.boundary, c.extra, c.committedAtKill, c.dupes)
		})
	}
}

func testKilledWorker(t *testing.T, boundary string, extra connect.Config, committedAtKill, dupes int) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := kafkatest.StartForGroups(t, 1)
	const topic, total = "eos-killed", 1000
	setGates(topic, &countGates{gate: 350, failAt: -1})

	w1 := startEOSWorker(t, ctx, addr, herder.ExactlyOnceEnabled)
	cfg := countConfig(topic, total, 100, boundary)
	for k, v := range extra {
		cfg[k] = v
	}
	if _, _, err := w1.h.Put(ctx, "count", cfg, false, ""); err != nil {
		t.Fatal(err)
	}
	gatesMu.Lock()
	reached := gatesByTopic[topic].reachedGate
	gatesMu.Unlock()
	select {
	case <-reached:
	case <-ctx.Done():
		t.Fatal("the task never reached record 350")
	}
	// Every record before the gate was sent: wait until the broker has
	// them, so the kill leaves the open transaction's in the log.
	waitFor(t, ctx, "the records before the gate in the log", func() (bool, string) {
		n := len(readValues(t, ctx, addr, topic, false))
		return n == 350, fmt.Sprintf("%d records read uncommitted", n)
	})
	if committedAtKill >= 0 {
		waitFor(t, ctx, "the committed records before the kill", func() (bool, string) {
			n := len(readValues(t, ctx, addr, topic, true))
			return n == committedAtKill, fmt.Sprintf("read_committed sees %d records, want %d", n, committedAtKill)
		})
	}
	w1.kill.kill()

	w2 := startEOSWorker(t, ctx, addr, herder.ExactlyOnceEnabled)
	waitFor(t, ctx, "every record committed", func() (bool, string) {
		if err := exactlyOnce(readValues(t, ctx, addr, topic, true), total); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	if dupes >= 0 {
		n := 0
		for _, c := range readValues(t, ctx, addr, topic, false) {
			n += c - 1
		}
		if n != dupes {
			t.Errorf("read_uncommitted sees %d duplicates, want the aborted transaction's %d", n, dupes)
		}
	}
	st, err := w2.h.Status("count")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Tasks) != 1 || st.Tasks[0].State != "RUNNING" {
		t.Errorf("status after the takeover: %+v", st)
	}
	// The offsets went where the connector said, in Kafka's format.
	offsetsTopic := "connect-offsets"
	if own := extra["offsets.storage.topic"]; own != "" {
		offsetsTopic = own
		if n := len(readRecords(t, ctx, addr, "connect-offsets")); n != 0 {
			t.Errorf("the worker's offsets topic has %d records", n)
		}
	}
	offs := readRecords(t, ctx, addr, offsetsTopic)
	last := offs[len(offs)-1]
	if string(last.Key) != `["count",{"source":"count"}]` || string(last.Value) != fmt.Sprintf(`{"n":%d}`, total-1) {
		t.Errorf("last offset record %s → %s", last.Key, last.Value)
	}
	// GET /connectors/count/offsets reads the same store (KIP-875).
	got, err := w2.h.GetOffsets(ctx, "count")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Offsets) != 1 || fmt.Sprint(got.Offsets[0].Offset["n"]) != strconv.Itoa(total-1) {
		t.Errorf("GET offsets: %+v", got)
	}
}

// readRecords reads every committed record of a topic (all partitions, up
// to their last stable offsets; markers are kept so the position reaches
// them).
func readRecords(t *testing.T, ctx context.Context, addr, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			if !r.Attrs.IsControl() {
				out = append(out, r)
			}
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return out
}

// A task that fails with a transaction open aborts it: the records it had
// sent are never visible to read_committed consumers, the task is FAILED,
// and after a restart it resumes after the last committed offset, so every
// record is seen exactly once.
func TestExactlyOnceSourceFailureAbortsTransaction(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := kafkatest.StartForGroups(t, 1)
	const topic, total = "eos-failed", 400
	setGates(topic, &countGates{gate: -1, failAt: 250})

	w := startEOSWorker(t, ctx, addr, herder.ExactlyOnceEnabled)
	if _, _, err := w.h.Put(ctx, "count", countConfig(topic, total, 100, "connector"), false, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "the task to fail", func() (bool, string) {
		st, err := w.h.Status("count")
		if err != nil {
			return false, err.Error()
		}
		return len(st.Tasks) == 1 && st.Tasks[0].State == "FAILED", fmt.Sprintf("%+v", st)
	})
	if got := readValues(t, ctx, addr, topic, true); len(got) != 200 {
		t.Fatalf("read_committed sees %d records after the failure, want 200", len(got))
	}
	// The aborted records may or may not have reached the log (the
	// abort drops what was still buffered); none is committed.
	if got := readValues(t, ctx, addr, topic, false); len(got) < 200 || len(got) > 250 {
		t.Fatalf("read_uncommitted sees %d records after the failure, want 200 to 250", len(got))
	}
	if _, err := w.h.Restart("count", true, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "every record committed", func() (bool, string) {
		if err := exactlyOnce(readValues(t, ctx, addr, topic, true), total); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// With transaction.boundary=connector, a task that asks to abort after a
// record has that transaction's records dropped (never visible to
// read_committed consumers, their offsets not stored) and goes on: the
// records after it commit as asked.
func TestExactlyOnceSourceConnectorAbort(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := kafkatest.StartForGroups(t, 1)
	const topic, total = "eos-abort", 300
	setGates(topic, &countGates{gate: -1, failAt: -1})
	w := startEOSWorker(t, ctx, addr, herder.ExactlyOnceEnabled)
	cfg := countConfig(topic, total, 100, "connector")
	cfg["abort.at"] = "150"
	if _, _, err := w.h.Put(ctx, "count", cfg, false, ""); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	for n := range total {
		if n < 100 || n > 150 {
			want[fmt.Sprintf("v-%d", n)] = 1
		}
	}
	waitFor(t, ctx, "the records outside the aborted transaction", func() (bool, string) {
		got := readValues(t, ctx, addr, topic, true)
		return maps.Equal(got, want), fmt.Sprintf("%d values read committed, want %d", len(got), len(want))
	})
	offs := readRecords(t, ctx, addr, "connect-offsets")
	if last := offs[len(offs)-1]; string(last.Value) != fmt.Sprintf(`{"n":%d}`, total-1) {
		t.Errorf("last offset %s", last.Value)
	}
}

// POST/PUT on a distributed worker refuses exactly.once.support=required
// with Kafka's 400 when the worker's support is not enabled (preparing is
// not enabled either).
func TestExactlyOnceRequiredRefused(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	addr := kafkatest.StartForGroups(t, 1)
	w := startEOSWorker(t, ctx, addr, herder.ExactlyOncePreparing)
	_, _, err := w.h.Put(ctx, "count", countConfig("eos-refused", 10, 0, "poll"), false, "")
	var herr *herder.Error
	if !errors.As(err, &herr) || herr.Code != 400 ||
		herr.Message != "Connector configuration is invalid and contains the following 1 error(s):\nThis worker does not have exactly-once source support enabled.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`" {
		t.Fatalf("Put: %v", err)
	}
	if names := w.h.Connectors(); len(names) != 0 {
		t.Errorf("connectors %v", names)
	}
}

// Reconfiguring a running exactly-once connector starts a fencing round:
// the worker that runs it fences the previous generation's transactional
// ids and writes a task-count record before the new task starts; the copy
// goes on exactly once across the change.
func TestExactlyOnceSourceReconfigurationFences(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	addr := kafkatest.StartForGroups(t, 1)
	const topic, total = "eos-reconfigured", 3000
	setGates(topic, &countGates{gate: -1, failAt: -1})
	w := startEOSWorker(t, ctx, addr, herder.ExactlyOnceEnabled)
	if _, _, err := w.h.Put(ctx, "count", countConfig(topic, total, 100, "connector"), false, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "some records committed", func() (bool, string) {
		n := len(readValues(t, ctx, addr, topic, true))
		return n >= 300, fmt.Sprintf("%d committed", n)
	})
	if _, _, err := w.h.Put(ctx, "count", countConfig(topic, total, 50, "connector"), true, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, "every record committed", func() (bool, string) {
		if err := exactlyOnce(readValues(t, ctx, addr, topic, true), total); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
	var rounds []string
	for _, r := range readRecords(t, ctx, addr, "connect-configs") {
		if string(r.Key) == "tasks-fencing-count" {
			rounds = append(rounds, string(r.Value))
		}
	}
	if len(rounds) != 2 || rounds[0] != `{"task-count":1}` || rounds[1] != `{"task-count":1}` {
		t.Errorf("task-count records %q, want one per task generation", rounds)
	}
}
