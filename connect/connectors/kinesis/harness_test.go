package kinesis

import (
	"bufio"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	gwkinesis "github.com/streambridge/bridge/gateway/kinesis"
	"github.com/streambridge/bridge/internal/awsbody"
	"github.com/streambridge/bridge/store/embedded"
)

// target is a Kinesis endpoint the tests drive the connectors against: the
// bridge's Kinesis API in process, or kinesalite.
type target struct {
	name   string
	url    string
	client *awskinesis.Client // for setting streams up and reading them back
	store  *embedded.Store    // the bridge's, nil for kinesalite
	clock  *movableClock      // the bridge's handler clock, nil for kinesalite
	subs   *subscriptions     // the bridge's SubscribeToShard calls, nil for kinesalite
}

// movableClock is a handler clock the tests move by hand.
type movableClock struct {
	mu     sync.Mutex
	t      time.Time
	frozen bool
}

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.frozen {
		return time.Now()
	}
	return c.t
}

// freeze stops the clock at the present; add moves a frozen clock.
func (c *movableClock) freeze() {
	c.mu.Lock()
	c.t, c.frozen = time.Now(), true
	c.mu.Unlock()
}

func (c *movableClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startBridge serves gateway/kinesis over an in-memory embedded store on
// 127.0.0.1, on a port picked now.
func startBridge(t testing.TB, cfgs ...func(*gwkinesis.Config)) *target {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	clock := &movableClock{}
	cfg := gwkinesis.Config{Store: st, Now: clock.Now}
	for _, f := range cfgs {
		f(&cfg)
	}
	h, err := gwkinesis.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	subs := &subscriptions{next: h, active: map[int]context.CancelFunc{}}
	srv := &http.Server{Handler: subs}
	go srv.Serve(ln)
	t.Cleanup(func() {
		_ = h.Shutdown(context.Background())
		_ = srv.Close()
		_ = st.Close()
	})
	url := "http://" + ln.Addr().String()
	return &target{name: "bridge", url: url, client: adminClient(url), store: st, clock: clock, subs: subs}
}

// subscriptions passes requests to the bridge and keeps track of its
// SubscribeToShard calls: how many were made, how many were refused (an
// error answer rather than an event stream), and a way to end the running
// ones cleanly, as AWS ends every subscription after 5 minutes.
type subscriptions struct {
	next http.Handler

	mu      sync.Mutex
	active  map[int]context.CancelFunc
	id      int
	calls   int
	refused int
	// streaming counts the active subscriptions whose event stream
	// started: their starting position is taken.
	streaming int
}

func (s *subscriptions) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != "Kinesis_20131202.SubscribeToShard" {
		s.next.ServeHTTP(w, r)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	s.mu.Lock()
	s.id++
	id := s.id
	s.calls++
	s.active[id] = cancel
	s.mu.Unlock()
	rec := &statusRecorder{ResponseWriter: w, onHeader: func(code int) {
		if code == http.StatusOK {
			s.mu.Lock()
			s.streaming++
			s.mu.Unlock()
		}
	}}
	s.next.ServeHTTP(rec, r.WithContext(ctx))
	s.mu.Lock()
	delete(s.active, id)
	if rec.status >= 300 {
		s.refused++
	}
	if rec.status == http.StatusOK {
		s.streaming--
	}
	s.mu.Unlock()
}

// endAll ends the running subscriptions cleanly and returns how many.
func (s *subscriptions) endAll() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.active {
		cancel()
	}
	return len(s.active)
}

// counts returns the calls made, those refused, and the subscriptions
// streaming events now.
func (s *subscriptions) counts() (calls, refused, streaming int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, s.refused, s.streaming
}

type statusRecorder struct {
	http.ResponseWriter
	status   int
	onHeader func(code int)
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.onHeader(code)
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// startKinesalite runs kinesalite from itest/node (the script that binds it
// to 127.0.0.1 on a port it picks). Without node or the module the test is
// skipped, or fails when CI=true.
func startKinesalite(t testing.TB) *target {
	t.Helper()
	dir := needNodeModule(t, "kinesalite")
	cmd := exec.Command("node", "kinesis_kinesalite.js", "--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close() // it exits when its stdin closes
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	var ready struct{ Port int }
	if err != nil || json.Unmarshal([]byte(line), &ready) != nil || ready.Port == 0 {
		t.Fatalf("kinesalite did not start: %q, %v", line, err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", ready.Port)
	return &target{name: "kinesalite", url: url, client: adminClient(url)}
}

// needNodeModule returns itest/node's directory when node and the module
// are there; otherwise it skips the test, or fails it when CI=true.
func needNodeModule(t testing.TB, module string) string {
	t.Helper()
	dir, err := filepath.Abs("../../../itest/node")
	if err != nil {
		t.Fatal(err)
	}
	_, errNode := exec.LookPath("node")
	_, errMod := os.Stat(filepath.Join(dir, "node_modules", module, "package.json"))
	if errNode != nil || errMod != nil {
		msg := fmt.Sprintf("%s is not usable (node: %v, module: %v); install it with: npm ci --prefix itest/node", module, errNode, errMod)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: a missing tool fails the test)")
		}
		t.Skip(msg)
	}
	return dir
}

type targetKind struct {
	name  string
	start func(testing.TB) *target
}

// targetKinds are the endpoints table-driven tests run against; each
// starts its own in its subtest, so a missing kinesalite skips (or, with
// CI=true, fails) only its part.
var targetKinds = []targetKind{
	{"bridge", func(t testing.TB) *target { return startBridge(t) }},
	{"kinesalite", startKinesalite},
}

func adminClient(url string) *awskinesis.Client {
	return awskinesis.New(awskinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		HTTPClient:   awsbody.OwnBody{Next: http.DefaultClient},
	})
}

// config returns the AWS settings for the target plus extra.
func (tg *target) config(extra connect.Config) connect.Config {
	cfg := connect.Config{
		"name":                  "kinesis-test",
		"aws.endpoint.url":      tg.url,
		"aws.region":            "us-east-1",
		"aws.access.key.id":     "AKIDEXAMPLE",
		"aws.secret.access.key": "secret",
		PollIntervalConfig:      "10",
		DiscoveryConfig:         "20",
		PutBackoffConfig:        "1",
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// createStream makes a stream and waits until it is ACTIVE.
func (tg *target) createStream(t testing.TB, name string, shards int32) {
	t.Helper()
	ctx := context.Background()
	if _, err := tg.client.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(name), ShardCount: aws.Int32(shards)}); err != nil {
		t.Fatal(err)
	}
	tg.waitActive(t, name)
}

func (tg *target) waitActive(t testing.TB, name string) {
	t.Helper()
	for {
		out, err := tg.client.DescribeStreamSummary(context.Background(), &awskinesis.DescribeStreamSummaryInput{StreamName: aws.String(name)})
		if err != nil {
			t.Fatal(err)
		}
		if out.StreamDescriptionSummary.StreamStatus == types.StreamStatusActive {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// put writes records with PutRecords (one call per 500) and returns the
// shard each went to, in order.
func (tg *target) put(t testing.TB, stream string, recs []types.PutRecordsRequestEntry) []string {
	t.Helper()
	var shards []string
	for len(recs) > 0 {
		n := min(len(recs), 500)
		out, err := tg.client.PutRecords(context.Background(), &awskinesis.PutRecordsInput{StreamName: aws.String(stream), Records: recs[:n]})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range out.Records {
			if r.ErrorCode != nil {
				t.Fatalf("PutRecords: %s: %s", *r.ErrorCode, aws.ToString(r.ErrorMessage))
			}
			shards = append(shards, aws.ToString(r.ShardId))
		}
		recs = recs[n:]
	}
	return shards
}

// readAll reads every shard of the stream from TRIM_HORIZON to where it is
// caught up (or its end) and returns the records per shard.
func (tg *target) readAll(t testing.TB, stream string) map[string][]types.Record {
	t.Helper()
	ctx := context.Background()
	shards, err := listShards(ctx, tg.client, stream)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]types.Record{}
	for _, s := range shards {
		it, err := tg.client.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(stream),
			ShardId: aws.String(s.ID), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		iter := it.ShardIterator
		for iter != nil {
			resp, err := tg.client.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil {
				t.Fatal(err)
			}
			out[s.ID] = append(out[s.ID], resp.Records...)
			if len(resp.Records) == 0 {
				break
			}
			iter = resp.NextShardIterator
		}
	}
	return out
}

// entries makes n records with partition keys spread over keys.
func entries(prefix string, n, keys int) []types.PutRecordsRequestEntry {
	out := make([]types.PutRecordsRequestEntry, n)
	for i := range out {
		out[i] = types.PutRecordsRequestEntry{
			PartitionKey: aws.String(fmt.Sprintf("key-%d", i%keys)),
			Data:         []byte(fmt.Sprintf("%s-%05d", prefix, i)),
		}
	}
	return out
}

// sourceRun drives a source connector and its tasks the way the runtime
// does: tasks from TaskConfigs, each record committed (CommitRecord and its
// offset stored) after Poll returns it, unless hold is set; new tasks
// when the connector asks for reconfiguration.
type sourceRun struct {
	t       *testing.T
	conn    *SourceConnector
	offsets *connecttest.SourceContext
	tasks   []*SourceTask
	max     int
	reconf  chan struct{}
	got     []connect.Record
	hold    bool
	held    []heldRecord
}

type heldRecord struct {
	task *SourceTask
	rec  connect.Record
}

func (r *sourceRun) RequestTaskReconfiguration() {
	select {
	case r.reconf <- struct{}{}:
	default:
	}
}

func (r *sourceRun) RaiseError(err error) { r.t.Errorf("connector raised: %v", err) }

func startSource(t *testing.T, cfg connect.Config, maxTasks int, offsets *connecttest.SourceContext) *sourceRun {
	t.Helper()
	if offsets == nil {
		offsets = &connecttest.SourceContext{}
	}
	r := &sourceRun{t: t, conn: &SourceConnector{}, offsets: offsets, max: maxTasks, reconf: make(chan struct{}, 1)}
	if err := r.conn.Start(t.Context(), r, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.stop() })
	r.startTasks()
	return r
}

func (r *sourceRun) startTasks() {
	r.t.Helper()
	cfgs, err := r.conn.TaskConfigs(r.max)
	if err != nil {
		r.t.Fatal(err)
	}
	r.tasks = nil
	for _, cfg := range cfgs {
		task := r.conn.NewTask().(*SourceTask)
		if err := task.Start(r.t.Context(), r.offsets, cfg); err != nil {
			r.t.Fatal(err)
		}
		r.tasks = append(r.tasks, task)
	}
}

func (r *sourceRun) stopTasks() {
	for _, task := range r.tasks {
		_ = task.Stop()
	}
	r.tasks = nil
}

func (r *sourceRun) stop() {
	r.stopTasks()
	_ = r.conn.Stop()
}

// restart stops the tasks and starts new ones from the stored offsets, as
// the runtime does after a reconfiguration or a crash.
func (r *sourceRun) restart() {
	r.stopTasks()
	r.startTasks()
}

// commit acknowledges the held records.
func (r *sourceRun) commit() {
	for _, h := range r.held {
		if err := h.task.CommitRecord(r.t.Context(), h.rec); err != nil {
			r.t.Fatal(err)
		}
		r.offsets.Store(h.rec)
	}
	r.held = nil
}

// pollOnce polls every task once, restarting them first when the connector
// asked for it.
func (r *sourceRun) pollOnce() int {
	r.t.Helper()
	select {
	case <-r.reconf:
		r.restart()
	default:
	}
	n := 0
	for _, task := range r.tasks {
		recs, err := task.Poll(r.t.Context())
		if err != nil {
			r.t.Fatal(err)
		}
		r.got = append(r.got, recs...)
		n += len(recs)
		for _, rec := range recs {
			r.held = append(r.held, heldRecord{task, rec})
		}
		if !r.hold {
			r.commit()
		}
	}
	return n
}

// pollUntil polls until at least want records arrived in all; a run of
// empty polls (each up to maxPollWait) fails the test.
func (r *sourceRun) pollUntil(want int) []connect.Record {
	r.t.Helper()
	for empty := 0; len(r.got) < want; {
		if r.pollOnce() == 0 {
			if empty++; empty > 30 {
				r.t.Fatalf("%d records of %d after %d empty polls", len(r.got), want, empty)
			}
		} else {
			empty = 0
		}
	}
	return r.got
}

// byShard groups records by their shard, in arrival order.
func byShard(recs []connect.Record) map[string][]connect.Record {
	out := map[string][]connect.Record{}
	for _, r := range recs {
		id := r.SourcePartition["shard"].(string)
		out[id] = append(out[id], r)
	}
	return out
}

func keysOf[M ~map[string]V, V any](m M) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

const time2s = 2 * time.Second

func md5hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
