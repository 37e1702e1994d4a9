package sqsbench

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streambridge/bridge/gateway/awsapi"
	sqsapi "github.com/streambridge/bridge/gateway/sqs"
	"github.com/streambridge/bridge/server"
)

func validConfig(endpoint string) Config {
	return Config{
		Endpoint: endpoint, Queue: "q", Groups: 4, BodySize: 100, Messages: 200,
		Senders: 2, Receivers: 2, Deleters: 2, Batch: 10, WaitSeconds: 1,
	}
}

func TestConfigCheck(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string // "" for valid
	}{
		{"valid", func(*Config) {}, ""},
		{"valid FIFO", func(c *Config) { c.FIFO = true }, ""},
		{"no endpoint", func(c *Config) { c.Endpoint = "" }, "no endpoint"},
		{"endpoint not a URL", func(c *Config) { c.Endpoint = "127.0.0.1:4566" }, "want an http:// or https:// URL"},
		{"no queue", func(c *Config) { c.Queue = "" }, `queue ""`},
		{"queue name with a dot", func(c *Config) { c.Queue = "a.fifo" }, `queue "a.fifo"`},
		{"queue name too long for the suffix", func(c *Config) { c.Queue = strings.Repeat("a", 63) }, "want 1 to 62"},
		{"FIFO without groups", func(c *Config) { c.FIFO, c.Groups = true, 0 }, "groups 0"},
		{"empty body", func(c *Config) { c.BodySize = 0 }, "body size 0"},
		{"body over 1 MiB", func(c *Config) { c.BodySize = 1<<20 + 1 }, "body size 1048577"},
		{"no messages", func(c *Config) { c.Messages = 0 }, "messages 0"},
		{"no senders", func(c *Config) { c.Senders = 0 }, "senders 0"},
		{"no receivers", func(c *Config) { c.Receivers = 0 }, "receivers 0"},
		{"no deleters", func(c *Config) { c.Deleters = 0 }, "deleters 0"},
		{"batch of 11", func(c *Config) { c.Batch = 11 }, "batch 11"},
		{"short poll", func(c *Config) { c.WaitSeconds = 0 }, "wait 0 s"},
		{"poll over 20 s", func(c *Config) { c.WaitSeconds = 21 }, "wait 21 s"},
		{"unknown phase", func(c *Config) { c.Phases = []string{"send", "peek"} }, `phase "peek"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig("http://127.0.0.1:1")
			tc.cfg(&cfg)
			err := cfg.check()
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("check() = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestPhases(t *testing.T) {
	for _, tc := range []struct {
		fifo    bool
		phases  string
		want    string // the phases run, or the error's start
		wantErr bool
	}{
		{false, "", "send receive delete pipeline", false},
		{true, "", "send receive+delete pipeline", false},
		{false, "pipeline", "pipeline", false},
		{false, "pipeline send", "", true}, // the send phase's messages would be left in the pipeline's queue
		{false, "send", "send", false},
		{false, "delete receive send", "send receive delete", false},
		{false, "send receive+delete pipeline", "send receive delete pipeline", false},
		{true, "send receive", "send receive+delete", false},
		{true, "send receive delete pipeline", "send receive+delete pipeline", false},
		{false, "receive", "", true},
		{false, "send delete", "", true},
		{true, "receive+delete", "", true},
	} {
		t.Run(fmt.Sprintf("fifo=%v %q", tc.fifo, tc.phases), func(t *testing.T) {
			c := Config{FIFO: tc.fifo, Phases: strings.Fields(tc.phases)}
			got, err := c.phases()
			if (err != nil) != tc.wantErr || strings.Join(got, " ") != tc.want {
				t.Errorf("phases() = %q, %v; want %q (error: %v)", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestSendBatch(t *testing.T) {
	for _, tc := range []struct{ batch, body, want int }{
		{10, 1024, 10},
		{10, 64 << 10, 10},
		{10, 200 << 10, 5},
		{3, 1024, 3},
		{10, 1 << 20, 1},
	} {
		c := Config{Batch: tc.batch, BodySize: tc.body}
		if got := c.sendBatch(); got != tc.want {
			t.Errorf("sendBatch() with batch %d and %d-byte bodies = %d, want %d", tc.batch, tc.body, got, tc.want)
		}
	}
}

// injector wraps the bridge's AWS handler and refuses some SQS calls the
// way a busy server does, so that the bench's retries are exercised.
type injector struct {
	next http.Handler
	mu   sync.Mutex
	// every refuses every nth call of an operation (by X-Amz-Target) with
	// code; 0 refuses none.
	every map[string]int
	code  string
	seen  map[string]int
}

func (in *injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	in.mu.Lock()
	in.seen[op]++
	refuse := in.every[op] > 0 && in.seen[op]%in.every[op] == 0
	in.mu.Unlock()
	if !refuse {
		in.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"injected by the test"}`, in.code)
}

// startBridge starts the server `bridge serve` runs (server.Start) with
// the SQS API on its AWS port, over an in-memory store on 127.0.0.1,
// behind in when it is not nil, and returns the AWS port's URL.
func startBridge(t *testing.T, in *injector) string {
	t.Helper()
	srv, err := server.Start(context.Background(), server.Config{
		InMemory:  true,
		KafkaAddr: "127.0.0.1:0", AWSAddr: "127.0.0.1:0", AdminAddr: "127.0.0.1:0",
		NewAWS: func(d server.Deps) (http.Handler, error) {
			q, err := sqsapi.New(sqsapi.Config{Store: d.Store, Logger: d.Logger})
			if err != nil {
				return nil, err
			}
			rt := awsapi.NewRouter(d.Logger)
			if err := rt.Register(awsapi.API{Name: "SQS", Handler: q, TargetPrefixes: []string{sqsapi.TargetPrefix}, Actions: sqsapi.Actions()}); err != nil {
				return nil, err
			}
			if in == nil {
				return rt, nil
			}
			in.next, in.seen = rt, map[string]int{}
			return in, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return "http://" + srv.Addrs().AWS
}

// checkRun runs cfg and checks that every phase moved every message once
// and that the run's queue is gone.
func checkRun(t *testing.T, ctx context.Context, cfg Config) Result {
	t.Helper()
	var progress bytes.Buffer
	cfg.Progress, cfg.ProgressEvery = &progress, 20*time.Millisecond
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%+v: %v", cfg, err)
	}
	want, _ := cfg.phases()
	var names []string
	for _, p := range res.Phases {
		names = append(names, p.Name)
		if p.Messages != cfg.Messages || p.Bytes != cfg.Messages*int64(cfg.BodySize) || p.Time <= 0 {
			t.Errorf("%s: %d messages (%d bytes) in %v, want %d of %d bytes", p.Name, p.Messages, p.Bytes, p.Time, cfg.Messages, cfg.BodySize)
		}
		if p.Duplicates != 0 {
			t.Errorf("%s: %d duplicates", p.Name, p.Duplicates)
		}
		ops := map[string][]Op{
			PhaseSend: {OpSend}, PhaseReceive: {OpReceive}, PhaseDelete: {OpDelete},
			PhaseReceiveDelete: {OpReceive, OpDelete}, PhasePipeline: {OpSend, OpReceive, OpDelete},
		}[p.Name]
		for op := range numOps {
			s := p.Ops[op]
			if called := s.Calls > 0; called != (len(ops) > 0 && containsOp(ops, op)) {
				t.Errorf("%s: %d %s calls", p.Name, s.Calls, op)
			}
			if s.Calls > 0 && (s.P50 <= 0 || s.P99 < s.P50 || s.Max < s.P99) {
				t.Errorf("%s: %s latencies p50 %v p99 %v max %v", p.Name, op, s.P50, s.P99, s.Max)
			}
		}
		if batch := int64(cfg.sendBatch()); p.Name == PhaseSend && p.Ops[OpSend].Calls-p.Ops[OpSend].Retries < (cfg.Messages+batch-1)/batch {
			t.Errorf("send: %d calls (%d retries) for %d messages in batches of %d", p.Ops[OpSend].Calls, p.Ops[OpSend].Retries, cfg.Messages, batch)
		}
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("phases %q, want %q", names, want)
	}
	if !strings.HasPrefix(res.Queue, cfg.Queue+"-") || cfg.FIFO != strings.HasSuffix(res.Queue, ".fifo") {
		t.Errorf("queue %q for prefix %q, FIFO %v", res.Queue, cfg.Queue, cfg.FIFO)
	}
	cfg.setDefaults()
	left, err := newClient(cfg).ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(cfg.Queue)})
	if err != nil {
		t.Fatal(err)
	}
	if len(left.QueueUrls) > 0 {
		t.Errorf("queues left after the run: %v", left.QueueUrls)
	}
	return res
}

func containsOp(ops []Op, op Op) bool {
	for _, o := range ops {
		if o == op {
			return true
		}
	}
	return false
}

func TestRunAgainstBridge(t *testing.T) {
	url := startBridge(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
	}{
		{"standard", func(*Config) {}},
		{"FIFO", func(c *Config) { c.FIFO = true }},
		{"64 KiB bodies, messages not a multiple of the batch", func(c *Config) { c.BodySize, c.Messages, c.Batch = 64<<10, 23, 4 }},
		{"one of each caller, one message", func(c *Config) { c.Senders, c.Receivers, c.Deleters, c.Messages = 1, 1, 1, 1 }},
		{"more receivers than messages", func(c *Config) { c.Receivers, c.Messages = 6, 3 }},
		{"pipeline only", func(c *Config) { c.Phases = []string{PhasePipeline} }},
		{"FIFO, send and receive", func(c *Config) { c.FIFO, c.Phases = true, []string{PhaseSend, PhaseReceive} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig(url)
			tc.cfg(&cfg)
			res := checkRun(t, ctx, cfg)
			for _, p := range res.Phases {
				for op := range numOps {
					if p.Ops[op].Retries != 0 {
						t.Errorf("%s: %d %s retries from a server that refuses nothing", p.Name, p.Ops[op].Retries, op)
					}
				}
			}
		})
	}
}

// Throttled calls are retried and counted, and the messages still arrive
// once each.
func TestRunRetriesThrottling(t *testing.T) {
	in := &injector{code: "RequestThrottled", every: map[string]int{"SendMessageBatch": 3, "ReceiveMessage": 4, "DeleteMessageBatch": 3}}
	url := startBridge(t, in)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, fifo := range []bool{false, true} {
		t.Run(fmt.Sprintf("fifo=%v", fifo), func(t *testing.T) {
			cfg := validConfig(url)
			cfg.FIFO = fifo
			res := checkRun(t, ctx, cfg)
			for _, p := range res.Phases {
				for op := range numOps {
					if s := p.Ops[op]; s.Calls > 3 && s.Retries == 0 {
						t.Errorf("%s: %d %s calls, none retried", p.Name, s.Calls, op)
					}
				}
			}
		})
	}
}

// A refusal that is not throttling fails the run with the server's error,
// and the queue is deleted all the same.
func TestRunFailsOnErrors(t *testing.T) {
	in := &injector{code: "InvalidParameterValue", every: map[string]int{"DeleteMessageBatch": 5}}
	url := startBridge(t, in)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := validConfig(url)
	_, err := Run(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "delete phase") || !strings.Contains(err.Error(), "InvalidParameterValue") {
		t.Fatalf("Run = %v, want the delete phase to fail with InvalidParameterValue", err)
	}
	cfg.setDefaults()
	left, err := newClient(cfg).ListQueues(ctx, &sqs.ListQueuesInput{QueueNamePrefix: aws.String(cfg.Queue)})
	if err != nil || len(left.QueueUrls) > 0 {
		t.Errorf("after a failed run: queues %v, %v", left.QueueUrls, err)
	}

	cfg.Endpoint = "http://127.0.0.1:1" // nothing listens
	if _, err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "create queue") {
		t.Errorf("Run against a closed port = %v", err)
	}
}

func TestMedianAndTable(t *testing.T) {
	phase := func(name string, ms, p50 int, cpu float64) Phase {
		p := Phase{Name: name, Messages: 1000, Bytes: 1000 << 10, Time: time.Duration(ms) * time.Millisecond, ServerCPU: cpu, ClientCPU: -1}
		p.Ops[OpSend] = OpStats{Calls: 100, P50: time.Duration(p50) * time.Millisecond, P99: time.Duration(2*p50) * time.Millisecond}
		return p
	}
	runs := []Result{
		{Target: "bridge", Phases: []Phase{phase("send", 100, 1, 0.1)}},
		{Target: "bridge", Phases: []Phase{phase("send", 50, 3, 0.3)}},
		{Target: "bridge", Phases: []Phase{phase("send", 200, 2, 0.2)}},
	}
	m := Median(runs)
	p := m.Phases[0]
	if got := p.MsgsPerS(); got < 9999 || got > 10001 {
		t.Errorf("median msgs/s %v, want 10000", got)
	}
	if p.Ops[OpSend].P50 != 2*time.Millisecond || p.ServerCPUPerMsg() < 199 || p.ServerCPUPerMsg() > 201 {
		t.Errorf("median p50 %v, server CPU %v us/msg", p.Ops[OpSend].P50, p.ServerCPUPerMsg())
	}
	if runs[0].Phases[0].Time != 100*time.Millisecond {
		t.Error("Median changed its input")
	}

	ref := Result{Target: "emulator", Phases: []Phase{phase("send", 400, 8, -1)}}
	var b strings.Builder
	if err := WriteTable(&b, validConfig("http://x"), m, ref); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"200 messages of 100 bytes a phase, standard queue",
		"bridge/emulator",
		"send msgs/s", "10000", "2500", "4.00", // rates: bridge over emulator
		"SendMessageBatch p50 ms", "0.25", // latency: bridge over emulator
		"server CPU us/msg send", "200.0",
		"send SendMessageBatch calls",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "bench CPU") || strings.Contains(out, "retries") || strings.Contains(out, "duplicates") {
		t.Errorf("table has rows for unknown or zero figures:\n%s", out)
	}
}
