package itest

// Distributed Kafka Connect workers through the real binaries: one `bridge
// serve` is the cluster, three `bridge connect --group-id` processes share a
// Kafka source connector (tasks.max=3) copying continuously from a kfake
// child process into the bridge. One worker is kill -9ed mid-copy: its tasks
// move, nothing is lost, and every duplicate lies between the offset the
// dead worker had committed and the rewind. Then every worker is
// restarted in turn (SIGTERM, start): nothing is lost.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	dcPartitions = 6
	dcTopic      = "dist-src"
	dcConnector  = "kafka-copy"
)

// connectWorker is one `bridge connect` process and its REST address.
type connectWorker struct {
	*proc
	rest string // http://127.0.0.1:port
	id   string // 127.0.0.1:port, its worker_id
}

func startConnectWorker(t *testing.T, bootstrap, props string) *connectWorker {
	t.Helper()
	p := launch(t, nil, "connect", "--bootstrap-servers", bootstrap, "--rest-addr", "127.0.0.1:0",
		"--group-id", "itest-connect", "--log-format", "json", props)
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	line := p.waitLog(ctx, "listening connect", func(l logLine) bool {
		return l.str("msg") == "listening" && l.str("listener") == "connect"
	})
	return &connectWorker{proc: p, rest: "http://" + line.str("addr"), id: line.str("addr")}
}

// startKfakeChild runs `bridge bench kfake-server`, a Kafka this project did
// not write, and returns its address.
func startKfakeChild(t *testing.T) string {
	t.Helper()
	cmd := exec.Command(bridgeBinary(t), "bench", "kfake-server")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if addr, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
			go func() {
				for sc.Scan() {
				}
			}()
			return addr
		}
	}
	t.Fatalf("kfake-server printed no address: %v", sc.Err())
	return ""
}

type dcStatus struct {
	Connector struct {
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"connector"`
	Tasks []struct {
		ID       int    `json:"id"`
		State    string `json:"state"`
		WorkerID string `json:"worker_id"`
	} `json:"tasks"`
}

// waitRunningOn waits until every worker answers the connector RUNNING with
// its three tasks RUNNING on live workers; it returns the task owners.
func waitRunningOn(t *testing.T, workers []*connectWorker) map[int]string {
	t.Helper()
	live := map[string]bool{}
	for _, w := range workers {
		live[w.id] = true
	}
	deadline := time.Now().Add(kafkaTimeout)
	last := ""
	for {
		owners, ok := map[int]string{}, true
		for _, w := range workers {
			var st dcStatus
			code := call(t, "GET", w.rest+"/connectors/"+dcConnector+"/status", "", &st)
			last = fmt.Sprintf("%s: %d %+v", w.id, code, st)
			if code != 200 || st.Connector.State != "RUNNING" || !live[st.Connector.WorkerID] || len(st.Tasks) != 3 {
				ok = false
				break
			}
			for _, tk := range st.Tasks {
				if tk.State != "RUNNING" || !live[tk.WorkerID] {
					ok = false
				}
				owners[tk.ID] = tk.WorkerID
			}
		}
		if ok {
			return owners
		}
		if time.Now().After(deadline) {
			t.Fatalf("tasks not RUNNING on live workers after %v: %s", kafkaTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// producer writes "P-SEQ" values to every partition of the source topic,
// SEQ counting from 0 per partition, so SEQ is the record's offset.
type producer struct {
	cl   *kgo.Client
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	next [dcPartitions]int
	err  error
}

func startProducer(t *testing.T, addr string) *producer {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(0))
	if err != nil {
		t.Fatal(err)
	}
	p := &producer{cl: cl, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		for {
			select {
			case <-p.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			var recs []*kgo.Record
			p.mu.Lock()
			for part := range dcPartitions {
				for range 5 {
					recs = append(recs, &kgo.Record{Topic: dcTopic, Partition: int32(part), Value: fmt.Appendf(nil, "%d-%d", part, p.next[part])})
					p.next[part]++
				}
			}
			p.mu.Unlock()
			if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
				p.mu.Lock()
				p.err = err
				p.mu.Unlock()
				return
			}
		}
	}()
	t.Cleanup(func() { p.finish(); cl.Close() })
	return p
}

// finish stops producing and returns how many records each partition got.
func (p *producer) finish() [dcPartitions]int {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}

// readAll reads a topic of the bridge from the start to its end offsets.
func readAll(t *testing.T, addr, topic string) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			want[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(want) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("reading %s: %v", topic, ctx.Err())
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if r.Offset+1 >= want[r.Partition] {
				delete(want, r.Partition)
			}
		})
	}
	return out
}

// parseValue splits "P-SEQ".
func parseValue(t *testing.T, v []byte) (int, int) {
	p, s, ok := strings.Cut(string(v), "-")
	pn, err1 := strconv.Atoi(p)
	sn, err2 := strconv.Atoi(s)
	if !ok || err1 != nil || err2 != nil {
		t.Fatalf("unexpected value %q", v)
	}
	return pn, sn
}

// committedOffsets reads the connector's source offsets from the offsets
// topic: the last upstream offset committed per partition.
func committedOffsets(t *testing.T, addr string) map[int]int {
	t.Helper()
	out := map[int]int{}
	for _, r := range readAll(t, addr, "connect-offsets") {
		var key []json.RawMessage
		var part struct {
			Topic     string `json:"topic"`
			Partition int    `json:"partition"`
		}
		if json.Unmarshal(r.Key, &key) != nil || len(key) != 2 || string(key[0]) != `"`+dcConnector+`"` || json.Unmarshal(key[1], &part) != nil {
			continue
		}
		var off struct {
			Offset int `json:"offset"`
		}
		if r.Value == nil {
			delete(out, part.Partition)
			continue
		}
		if err := json.Unmarshal(r.Value, &off); err != nil {
			t.Fatalf("offset record %s: %v", r.Value, err)
		}
		out[part.Partition] = off.Offset
	}
	return out
}

func TestConnectDistributedKillAndRollingRestart(t *testing.T) {
	b := startBridge(t, nil, append(loopbackArgs(t.TempDir()),
		"--group-min-session-timeout", "100ms", "--group-initial-rebalance-delay", "0")...)
	kfakeAddr := startKfakeChild(t)
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	for _, addr := range []string{kfakeAddr, b.kafka} {
		cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := kadm.NewClient(cl).CreateTopic(ctx, dcPartitions, 1, nil, dcTopic)
		cl.Close()
		if err != nil || resp.Err != nil {
			t.Fatalf("creating %s on %s: %v %v", dcTopic, addr, err, resp.Err)
		}
	}
	props := filepath.Join(t.TempDir(), "worker.properties")
	if err := os.WriteFile(props, []byte(strings.Join([]string{
		"offset.flush.interval.ms=100",
		// A session long enough that a CI machine's stalls do not expire a
		// live worker: a new leader hands an expired member's tasks out at
		// once, and the member runs them on until it hears, which makes
		// duplicates this test would blame on the kill.
		"session.timeout.ms=4000",
		"heartbeat.interval.ms=400",
		"rebalance.timeout.ms=10000",
		"scheduled.rebalance.max.delay.ms=1000",
		"rest.advertised.host.name=127.0.0.1",
	}, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	workers := []*connectWorker{startConnectWorker(t, b.kafka, props), startConnectWorker(t, b.kafka, props), startConnectWorker(t, b.kafka, props)}

	prod := startProducer(t, kfakeAddr)
	create := fmt.Sprintf(`{"name":%q,"config":{"connector.class":"io.streambridge.connect.kafka.KafkaSourceConnector",
		"source.bootstrap.servers":%q,"topics":%q,"tasks.max":"3","offset.syncs.topic":"","poll.timeout.ms":"100"}}`, dcConnector, kfakeAddr, dcTopic)
	// A worker answers 409 while the group rebalances (the workers are
	// still joining): retry, as Kafka Connect's clients do.
	for deadline := time.Now().Add(kafkaTimeout); ; time.Sleep(100 * time.Millisecond) {
		code, body := curl(t, "POST", workers[1].rest+"/connectors", "application/json", create)
		if code == 201 {
			break
		}
		if code != 409 || strings.Contains(body, "already exists") || time.Now().After(deadline) {
			t.Fatalf("create: %d %s", code, body)
		}
	}
	owners := waitRunningOn(t, workers)
	t.Logf("task owners: %v", owners)
	waitCopied(t, b.kafka, 600)

	// Once every partition has a committed offset, kill -9 the owner of
	// task 0 mid-copy.
	for deadline := time.Now().Add(kafkaTimeout); len(committedOffsets(t, b.kafka)) < dcPartitions; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no offsets committed for every partition after %v", kafkaTimeout)
		}
	}
	victim := slices.IndexFunc(workers, func(w *connectWorker) bool { return w.id == owners[0] })
	workers[victim].kill9()
	committed := committedOffsets(t, b.kafka)
	var killedTasks []int
	dead := workers[victim].id
	workers = slices.Delete(workers, victim, victim+1)
	after := waitRunningOn(t, workers)
	t.Logf("after the kill of %s: %v", dead, after)
	for id, w := range owners {
		if w == dead {
			killedTasks = append(killedTasks, id)
		}
	}

	// A replacement joins, then every worker is restarted in turn.
	workers = append(workers, startConnectWorker(t, b.kafka, props))
	waitRunningOn(t, workers)
	for i := range workers {
		workers[i].signal(syscall.SIGTERM)
		workers[i].mustExit(0)
		workers[i] = startConnectWorker(t, b.kafka, props)
		waitRunningOn(t, workers)
	}
	sent := prod.finish()
	if prod.err != nil {
		t.Fatalf("producing to kfake: %v", prod.err)
	}
	total := 0
	for _, n := range sent {
		total += n
	}
	waitCopied(t, b.kafka, total)

	// Nothing lost, and each partition's copy is its source in order with
	// at most one rewind, on a partition of the dead worker's tasks, back
	// to no earlier than the offset committed when it died: the duplicates
	// are what it copied after its last offset flush.
	var copied []*kgo.Record
	for deadline := time.Now().Add(kafkaTimeout); ; time.Sleep(100 * time.Millisecond) {
		copied = readAll(t, b.kafka, dcTopic)
		have := map[string]bool{}
		for _, r := range copied {
			have[string(r.Value)] = true
		}
		if len(have) >= total || time.Now().After(deadline) {
			break
		}
	}
	deadParts := map[int]bool{}
	for _, task := range killedTasks {
		// The Kafka source deals the sorted partitions round-robin.
		for p := task; p < dcPartitions; p += 3 {
			deadParts[p] = true
		}
	}
	byPart := map[int][]int{}
	for _, r := range copied {
		p, seq := parseValue(t, r.Value)
		if int(r.Partition) != p {
			t.Errorf("%s copied to partition %d", r.Value, r.Partition)
		}
		byPart[p] = append(byPart[p], seq)
	}
	dups := 0
	for p, n := range sent {
		seqs, rewinds, prev := byPart[p], 0, -1
		from, ok := committed[p]
		if !ok {
			from = -1
		}
		for _, seq := range seqs {
			switch {
			case seq == prev+1:
			case seq <= prev && rewinds == 0 && deadParts[p] && seq > from:
				rewinds++
				dups += prev - seq + 1
				t.Logf("partition %d: copied again from %d to %d (committed at the kill: %d)", p, seq, prev, from)
			default:
				t.Fatalf("partition %d: %d follows %d (committed at the kill %d, dead worker's partition %v, rewinds %d)", p, seq, prev, from, deadParts[p], rewinds)
			}
			prev = seq
		}
		if prev != n-1 {
			t.Fatalf("partition %d: copied up to %d of %d records", p, prev, n)
		}
	}
	t.Logf("%d records produced, none lost, %d duplicates (tasks %v were on the dead worker; committed offsets at the kill %v)", total, dups, killedTasks, committed)

	// Every worker lists the same connectors.
	for _, w := range workers {
		var names []string
		if code := call(t, "GET", w.rest+"/connectors", "", &names); code != 200 || !slices.Equal(names, []string{dcConnector}) {
			t.Errorf("%s: GET /connectors = %d %v", w.id, code, names)
		}
	}
	for _, w := range workers {
		w.signal(syscall.SIGTERM)
		w.mustExit(0)
	}
}

// waitCopied waits until the bridge's copy holds at least n records.
func waitCopied(t *testing.T, addr string, n int) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	deadline := time.Now().Add(kafkaTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, dcTopic)
		cancel()
		got := 0
		if err == nil {
			ends.Each(func(o kadm.ListedOffset) { got += int(o.Offset) })
		}
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d records copied after %v, want %d", got, kafkaTimeout, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
