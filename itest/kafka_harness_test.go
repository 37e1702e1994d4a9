package itest

// Shared machinery of the Kafka tests (kafka_*_test.go): the cluster under
// test, the third-party client drivers, record comparison and a TCP proxy
// that can cut connections.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// kafkaTargetEnv selects what the Kafka tests talk to. Unset (the default,
// and what CI runs) is the real bridge binary. "kfake" runs the same tests
// against franz-go's in-process fake cluster: that checks the tests
// themselves against a reference, it proves nothing about the bridge.
const kafkaTargetEnv = "ITEST_KAFKA_TARGET"

func useKfake() bool { return os.Getenv(kafkaTargetEnv) == "kfake" }

// kafkaTimeout bounds one client run or one wait; it catches hangs, not
// slowness, on a loaded 2-core CI machine running a race-enabled bridge.
const kafkaTimeout = 2 * time.Minute

// kafkaCluster is a running Kafka-compatible server on 127.0.0.1.
type kafkaCluster struct {
	t       *testing.T
	addr    string  // bootstrap host:port
	bridge  *bridge // nil under kfake
	dataDir string  // the bridge's; "" under kfake
	extra   []string
}

// startKafka starts the server under test: `bridge serve` on a fresh data
// dir with kernel-picked 127.0.0.1 ports, or kfake (see kafkaTargetEnv).
// extraArgs are serve flags, ignored by kfake.
func startKafka(t *testing.T, extraArgs ...string) *kafkaCluster {
	t.Helper()
	if useKfake() {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		return &kafkaCluster{t: t, addr: c.ListenAddrs()[0]}
	}
	k := &kafkaCluster{t: t, dataDir: t.TempDir(), extra: extraArgs}
	k.start()
	return k
}

func (k *kafkaCluster) start() {
	k.t.Helper()
	k.bridge = startBridge(k.t, nil, append(loopbackArgs(k.dataDir), k.extra...)...)
	k.addr = k.bridge.kafka
}

// kill9 SIGKILLs the bridge and waits for it to be gone.
func (k *kafkaCluster) kill9() {
	k.t.Helper()
	if k.bridge == nil {
		k.t.Fatal("kill9 needs the real bridge")
	}
	k.bridge.kill9()
}

// restart starts a new bridge on the same data dir; the Kafka port changes.
func (k *kafkaCluster) restart() {
	k.t.Helper()
	k.start()
}

// needsBridge skips a test that means nothing against kfake (persistence).
func needsBridge(t *testing.T) {
	t.Helper()
	if useKfake() {
		t.Skipf("%s=kfake: this test needs the real bridge", kafkaTargetEnv)
	}
}

// client returns a franz-go client for k, closed at the end of the test.
func (k *kafkaCluster) client(opts ...kgo.Opt) *kgo.Client {
	k.t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(k.addr)}, opts...)...)
	if err != nil {
		k.t.Fatal(err)
	}
	k.t.Cleanup(cl.Close)
	return cl
}

func (k *kafkaCluster) admin() *kadm.Client { return kadm.NewClient(k.client()) }

// createTopic creates a topic through kadm and fails the test on any error.
func (k *kafkaCluster) createTopic(name string, partitions int32, configs map[string]*string) {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	resp, err := k.admin().CreateTopic(ctx, partitions, 1, configs, name)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		k.t.Fatalf("create topic %s: %v", name, err)
	}
}

// endOffsets returns every partition's high watermark.
func (k *kafkaCluster) endOffsets(topic string) map[int32]int64 {
	k.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	lo, err := k.admin().ListEndOffsets(ctx, topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		k.t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	ends := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { ends[o.Partition] = o.Offset })
	return ends
}

// waitOrFail waits for wg, failing the test (which runs its cleanups and
// prints the bridge's log) if that takes longer than d.
func waitOrFail(t *testing.T, wg *sync.WaitGroup, d time.Duration, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s: still waiting after %v", what, d)
	}
}

// ---- tools ----

// need checks that a tool the test drives is usable. Without it the test
// fails when CI=true (CI must have installed it: see .ci/run) and is
// skipped with the reason otherwise.
func need(t *testing.T, what string, check func() error, install string) {
	t.Helper()
	err := check()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s is not usable (%v); install it with: %s", what, err, install)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: a missing tool fails the test)")
	}
	t.Skip(msg)
}

// systemPython is the interpreter the Debian Kafka packages are installed
// for; a pyenv or venv python3 earlier on PATH does not see them.
const systemPython = "/usr/bin/python3"

var toolChecks sync.Map // name -> error, checked once per run

func cachedCheck(name string, f func() error) func() error {
	return func() error {
		if v, ok := toolChecks.Load(name); ok {
			err, _ := v.(error)
			return err
		}
		err := f()
		toolChecks.Store(name, err)
		return err
	}
}

func runCheck(name string, args ...string) func() error {
	return func() error {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
		}
		return nil
	}
}

var (
	checkKcat = cachedCheck("kcat", runCheck("kcat", "-V"))
	// The codec modules are checked too: kafka-python needs them to
	// produce and to read compressed batches.
	checkKafkaPython = cachedCheck("kafka-python", runCheck(systemPython, "-c", "import kafka, snappy, lz4.frame, zstandard"))
	// kafka-python writes magic 0 lz4 (api_version before 0.10) with
	// xxhash, to compute Kafka's broken frame header checksum itself.
	checkKafkaPythonXXHash = cachedCheck("python3-xxhash", runCheck(systemPython, "-c", "import xxhash"))
	checkConfluent         = cachedCheck("confluent-kafka", runCheck(systemPython, "-c", "import confluent_kafka"))
	checkKafkajs           = cachedCheck("kafkajs", nodeModules("kafkajs", "kafkajs-snappy", "lz4js", "zstd-codec"))
)

// nodeModules checks that node runs and can load each module from
// itest/node/node_modules.
func nodeModules(modules ...string) func() error {
	return func() error {
		if _, err := exec.LookPath("node"); err != nil {
			return err
		}
		var js strings.Builder
		for _, m := range modules {
			fmt.Fprintf(&js, "require('./node/node_modules/%s');", m)
		}
		return runCheck("node", "-e", js.String())()
	}
}

const (
	installKcat        = "apt-get install -y kcat"
	installKafkaPython = "apt-get install -y python3-kafka python3-snappy python3-lz4 python3-zstandard"
	installXXHash      = "apt-get install -y python3-xxhash"
	installConfluent   = "apt-get install -y python3-confluent-kafka"
	installKafkajs     = "apt-get install -y nodejs npm && npm ci --prefix itest/node"
)

// runTool runs a client program with stdin and returns its stdout; a
// non-zero exit fails the test with the program's stderr.
func runTool(t *testing.T, stdin []byte, name string, args ...string) []byte {
	t.Helper()
	out, err := runToolErr(stdin, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func runToolErr(stdin []byte, name string, args ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), kafkaTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = append(cleanEnv(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH=")
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	if err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %v after %v\nstderr:\n%s", name, strings.Join(args, " "), err,
			time.Since(start).Round(time.Millisecond), tail(stderr.String(), 4000))
	}
	return stdout.Bytes(), nil
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// ---- records ----

// header is one Kafka record header; Value nil is a null header value.
type header struct {
	Key   string
	Value []byte
}

// rec is one Kafka record as the tests see it, whichever client carried it.
// Key or Value nil means null (a tombstone for Value), distinct from empty.
type rec struct {
	Key, Value []byte
	Headers    []header
	Timestamp  int64 // Unix milliseconds
	Partition  int32
	Offset     int64
}

// jsonRec is rec on the wire to and from the driver scripts
// (itest/python/common.py, itest/node/kafka.js): bytes as base64.
type jsonRec struct {
	Key       []byte   `json:"key"`
	Value     []byte   `json:"value"`
	Headers   [][2]any `json:"headers"`
	Timestamp *int64   `json:"timestamp"`
}

// encodeRecs writes records as JSON lines for a driver's stdin. Timestamps
// are sent; partitions are left to the client's partitioner.
func encodeRecs(rs []rec) []byte {
	js := make([]jsonRec, 0, len(rs))
	for _, r := range rs {
		hs := make([][2]any, 0, len(r.Headers))
		for _, h := range r.Headers {
			hs = append(hs, [2]any{h.Key, h.Value})
		}
		ts := r.Timestamp
		js = append(js, jsonRec{Key: r.Key, Value: r.Value, Headers: hs, Timestamp: &ts})
	}
	return jsonLines(js)
}

// jsonLines writes values as JSON lines, for a driver's stdin.
func jsonLines[T any](vs []T) []byte {
	var b bytes.Buffer
	for _, v := range vs {
		line, _ := json.Marshal(v)
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// parseJSONLines calls parse with each non-blank line of a driver's output;
// an error names the line.
func parseJSONLines(out []byte, parse func(line []byte) error) error {
	for i, line := range bytes.Split(out, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := parse(line); err != nil {
			return fmt.Errorf("line %d %q: %v", i+1, tail(string(line), 200), err)
		}
	}
	return nil
}

// decodeRecs parses a driver's JSON lines output.
func decodeRecs(out []byte) ([]rec, error) {
	var rs []rec
	err := parseJSONLines(out, func(line []byte) error {
		var j struct {
			Key       []byte              `json:"key"`
			Value     []byte              `json:"value"`
			Headers   [][]json.RawMessage `json:"headers"`
			Timestamp *int64              `json:"timestamp"`
			Partition *int32              `json:"partition"`
			Offset    *int64              `json:"offset"`
			Error     string              `json:"error"`
		}
		if err := json.Unmarshal(line, &j); err != nil {
			return err
		}
		if j.Error != "" {
			return fmt.Errorf("client reported: %s", j.Error)
		}
		r := rec{Key: j.Key, Value: j.Value, Timestamp: -1, Partition: -1, Offset: -1}
		// JSON null decodes to a nil slice, "" (base64 of nothing) to an
		// empty one: keep the distinction.
		if string(jsonField(line, "key")) == `""` {
			r.Key = []byte{}
		}
		if string(jsonField(line, "value")) == `""` {
			r.Value = []byte{}
		}
		for _, h := range j.Headers {
			if len(h) != 2 {
				return fmt.Errorf("header %s", h)
			}
			var k string
			var v []byte
			if err := json.Unmarshal(h[0], &k); err != nil {
				return fmt.Errorf("header name: %v", err)
			}
			if err := json.Unmarshal(h[1], &v); err != nil {
				return fmt.Errorf("header value: %v", err)
			}
			if string(h[1]) == `""` {
				v = []byte{}
			}
			r.Headers = append(r.Headers, header{k, v})
		}
		if j.Timestamp != nil {
			r.Timestamp = *j.Timestamp
		}
		if j.Partition != nil {
			r.Partition = *j.Partition
		}
		if j.Offset != nil {
			r.Offset = *j.Offset
		}
		rs = append(rs, r)
		return nil
	})
	return rs, err
}

func jsonField(line []byte, name string) json.RawMessage {
	var m map[string]json.RawMessage
	_ = json.Unmarshal(line, &m)
	return m[name]
}

func kgoRecord(topic string, r rec) *kgo.Record {
	kr := &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Timestamp: time.UnixMilli(r.Timestamp)}
	for _, h := range r.Headers {
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return kr
}

func fromKgo(kr *kgo.Record) rec {
	r := rec{Key: kr.Key, Value: kr.Value, Timestamp: kr.Timestamp.UnixMilli(), Partition: kr.Partition, Offset: kr.Offset}
	for _, h := range kr.Headers {
		r.Headers = append(r.Headers, header{h.Key, h.Value})
	}
	return r
}

// recID names a record: its "id" header, or else the first word of its
// value (kcat cannot give each record its own header, so the values of the
// tests start with a unique id instead).
func recID(r rec) string {
	for _, h := range r.Headers {
		if h.Key == "id" {
			return string(h.Value)
		}
	}
	id, _, _ := strings.Cut(string(r.Value), " ")
	return id
}

func showBytes(b []byte) string {
	if b == nil {
		return "null"
	}
	s := string(b)
	if !utf8.ValidString(s) {
		s = fmt.Sprintf("%x", b)
	}
	if len(s) > 60 {
		s = fmt.Sprintf("%s...(%d bytes)", s[:60], len(b))
	}
	return fmt.Sprintf("%q", s)
}

// sameBytes compares with null distinct from empty.
func sameBytes(a, b []byte) bool { return (a == nil) == (b == nil) && bytes.Equal(a, b) }

// want is an expected record: its content and, when known, its position.
type want struct {
	rec
	// tsLo..tsHi is the accepted timestamp range, for clients that cannot
	// set one (kcat): the wall clock around the produce. Zero: exact.
	tsLo, tsHi int64
}

// diffRec describes how got differs from w, or returns "".
func diffRec(w want, got rec) string {
	var d []string
	if !sameBytes(w.Key, got.Key) {
		d = append(d, fmt.Sprintf("key %s, want %s", showBytes(got.Key), showBytes(w.Key)))
	}
	if !sameBytes(w.Value, got.Value) {
		d = append(d, fmt.Sprintf("value %s, want %s", showBytes(got.Value), showBytes(w.Value)))
	}
	if !slices.EqualFunc(w.Headers, got.Headers, func(a, b header) bool { return a.Key == b.Key && sameBytes(a.Value, b.Value) }) {
		d = append(d, fmt.Sprintf("headers %s, want %s", showHeaders(got.Headers), showHeaders(w.Headers)))
	}
	if w.tsHi != 0 {
		if got.Timestamp < w.tsLo || got.Timestamp > w.tsHi {
			d = append(d, fmt.Sprintf("timestamp %d, want within [%d, %d]", got.Timestamp, w.tsLo, w.tsHi))
		}
	} else if got.Timestamp != w.Timestamp {
		d = append(d, fmt.Sprintf("timestamp %d, want %d", got.Timestamp, w.Timestamp))
	}
	if w.Partition >= 0 && (got.Partition != w.Partition || got.Offset != w.Offset) {
		d = append(d, fmt.Sprintf("position %d/%d, want %d/%d", got.Partition, got.Offset, w.Partition, w.Offset))
	}
	return strings.Join(d, "; ")
}

func showHeaders(hs []header) string {
	var parts []string
	for _, h := range hs {
		parts = append(parts, h.Key+"="+showBytes(h.Value))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// problems collects what a comparison of records found wrong: the first 10
// as test errors, the rest as a count (summarize).
type problems struct {
	t   *testing.T
	who string
	n   int
}

func (p *problems) report(format string, args ...any) {
	p.t.Helper()
	p.n++
	if p.n <= 10 {
		p.t.Errorf("%s: "+format, append([]any{p.who}, args...)...)
	}
}

func (p *problems) summarize(got, want int) {
	p.t.Helper()
	if p.n > 10 {
		p.t.Errorf("%s: %d problems in all (first 10 shown); read %d records, want %d", p.who, p.n, got, want)
	}
}

// compareRecs checks that got holds exactly the wanted records, each once,
// identical in key, value, headers and timestamp (and position when the
// want has one), and in offset order within each partition.
func compareRecs(t *testing.T, who string, wants map[string]want, got []rec) {
	t.Helper()
	seen := map[string]int{}
	probs := &problems{t: t, who: who}
	last := map[int32]int64{}
	for _, g := range got {
		id := recID(g)
		seen[id]++
		if prev, ok := last[g.Partition]; ok && g.Offset <= prev {
			probs.report("partition %d: offset %d after %d", g.Partition, g.Offset, prev)
		}
		last[g.Partition] = g.Offset
		w, ok := wants[id]
		if !ok {
			probs.report("unexpected record %s at %d/%d", showBytes([]byte(id)), g.Partition, g.Offset)
			continue
		}
		if seen[id] > 1 {
			probs.report("record %s read %d times", id, seen[id])
			continue
		}
		if d := diffRec(w, g); d != "" {
			probs.report("record %s: %s", id, d)
		}
	}
	for id := range wants {
		if seen[id] == 0 {
			probs.report("record %s missing", id)
		}
	}
	probs.summarize(len(got), len(wants))
}

// ---- a Kafka-aware TCP proxy that can cut connections ----

// cutProxy forwards Kafka connections on 127.0.0.1 to a target, frame by
// frame, and knows which responses answer Produce requests. cut closes every
// connection open at the time; dropProduceResponses makes it swallow the
// next n Produce responses and close those connections instead, so the
// server has written a batch whose acknowledgement never reaches the client:
// the client must retry, and only the server's idempotence keeps the retry
// from writing the batch twice.
type cutProxy struct {
	ln     net.Listener
	target func() string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	drop    int // Produce responses still to swallow
	dropped int // Produce responses swallowed
	cuts    int
	wg      sync.WaitGroup
}

func newCutProxy(t *testing.T, target func() string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *cutProxy) addr() string { return p.ln.Addr().String() }

// pair is one proxied connection: the correlation ids of the Produce
// requests it carried, so their responses can be recognised.
type pair struct {
	mu       sync.Mutex
	produces map[int32]bool
}

func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.DialTimeout("tcp", p.target(), 10*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns[c], p.conns[s] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pr := &pair{produces: map[int32]bool{}}
		p.wg.Add(2)
		go p.pipe(c, s, pr, false)
		go p.pipe(s, c, pr, true)
	}
}

// pipe copies whole frames (int32 size, then the body). A request body
// starts with api key, api version and correlation id; a response body
// with the correlation id.
func (p *cutProxy) pipe(from, to net.Conn, pr *pair, fromServer bool) {
	defer p.wg.Done()
	defer func() {
		from.Close()
		to.Close()
		p.mu.Lock()
		delete(p.conns, from)
		delete(p.conns, to)
		p.mu.Unlock()
	}()
	var size [4]byte
	for {
		if _, err := io.ReadFull(from, size[:]); err != nil {
			return
		}
		n := int32(binary.BigEndian.Uint32(size[:]))
		if n < 4 || n > 256<<20 {
			return
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(from, body); err != nil {
			return
		}
		if fromServer {
			corr := int32(binary.BigEndian.Uint32(body[:4]))
			pr.mu.Lock()
			isProduce := pr.produces[corr]
			delete(pr.produces, corr)
			pr.mu.Unlock()
			if isProduce {
				p.mu.Lock()
				dropping := p.drop > 0
				if dropping {
					p.drop--
					p.dropped++
				}
				p.mu.Unlock()
				if dropping {
					return // closes both sides: the acknowledgement is lost
				}
			}
		} else if n >= 8 && binary.BigEndian.Uint16(body[:2]) == 0 { // Produce
			pr.mu.Lock()
			pr.produces[int32(binary.BigEndian.Uint32(body[4:8]))] = true
			pr.mu.Unlock()
		}
		if _, err := to.Write(append(size[:], body...)); err != nil {
			return
		}
	}
}

// dropProduceResponses arms the proxy to swallow the next n Produce
// responses (closing their connections); it replaces what was still armed.
func (p *cutProxy) dropProduceResponses(n int) {
	p.mu.Lock()
	p.drop = n
	p.mu.Unlock()
}

// stats returns how many Produce responses were swallowed and how many
// times cut closed connections.
func (p *cutProxy) stats() (dropped, cuts int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.dropped, p.cuts
}

// cut closes every open connection.
func (p *cutProxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.cuts++
}

func (p *cutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// dialVia makes a franz-go client connect every broker connection through
// addr (the proxy), whatever address Metadata advertised.
func dialVia(addr string) kgo.Opt {
	var d net.Dialer
	return kgo.Dialer(func(ctx context.Context, network, _ string) (net.Conn, error) {
		return d.DialContext(ctx, network, addr)
	})
}
