package http

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

// endpoint is a function endpoint on 127.0.0.1 that fails its first
// requests as script says, then refuses (400) any batch holding a value with
// "bad": true and accepts the others, keeping what it accepted.
type endpoint struct {
	t      *testing.T
	srv    *httptest.Server
	mu     sync.Mutex
	script []string // per request: "500", "429", "reset", "hang"; then normal
	calls  int
	bodies []string // accepted bodies
	got    []float64
	types  []string // Content-Type of accepted requests
	check  func(r *nethttp.Request)
}

func newEndpoint(t *testing.T, script ...string) *endpoint {
	e := &endpoint{t: t, script: script}
	e.srv = httptest.NewServer(nethttp.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *endpoint) serve(w nethttp.ResponseWriter, r *nethttp.Request) {
	body, _ := io.ReadAll(r.Body)
	e.mu.Lock()
	step := ""
	if e.calls < len(e.script) {
		step = e.script[e.calls]
	}
	e.calls++
	check := e.check
	e.mu.Unlock()
	if check != nil {
		check(r)
	}
	switch step {
	case "500":
		nethttp.Error(w, "boom", nethttp.StatusInternalServerError)
		return
	case "429":
		w.Header().Set("Retry-After", "7")
		nethttp.Error(w, "slow down", nethttp.StatusTooManyRequests)
		return
	case "reset":
		conn, _, err := w.(nethttp.Hijacker).Hijack()
		if err != nil {
			e.t.Error(err)
			return
		}
		conn.(*net.TCPConn).SetLinger(0) // close with RST
		conn.Close()
		return
	case "hang":
		<-r.Context().Done() // until the client's timeout gives up
		return
	}
	var values []map[string]any
	if err := json.Unmarshal(body, &values); err != nil {
		nethttp.Error(w, "not a JSON array: "+err.Error(), nethttp.StatusBadRequest)
		return
	}
	for _, v := range values {
		if v["bad"] == true {
			nethttp.Error(w, "bad record", nethttp.StatusBadRequest)
			return
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, v := range values {
		e.got = append(e.got, v["n"].(float64))
	}
	e.bodies = append(e.bodies, string(body))
	e.types = append(e.types, r.Header.Get("Content-Type"))
	w.WriteHeader(nethttp.StatusNoContent)
}

func (e *endpoint) delivered() []float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.got)
}

func startTask(t *testing.T, tc connect.SinkTaskContext, cfg connect.Config, waits *[]time.Duration) *task {
	t.Helper()
	tk := &task{sleep: func(ctx context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return ctx.Err()
	}}
	if err := tk.Start(context.Background(), tc, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tk.Stop() })
	return tk
}

func records(tp connect.TopicPartition, from int64, n int, bad func(i int) bool) []connect.Record {
	var out []connect.Record
	for i := range n {
		v := map[string]any{"n": int64(i) + from}
		if bad(i) {
			v["bad"] = true
		}
		out = append(out, connect.Record{Topic: tp.Topic, Partition: tp.Partition, Offset: from + int64(i), Value: v})
	}
	return out
}

func TestRetriesAndRefusedRecords(t *testing.T) {
	ep := newEndpoint(t, "500", "429", "reset")
	ep.check = func(r *nethttp.Request) {
		if r.Method != "PUT" || r.Header.Get("Authorization") != "Bearer s3cret" || r.Header.Get("X-Api-Key") != "k" || r.Header.Get("X-Source") != "bridge" {
			t.Errorf("request %s with headers %v", r.Method, r.Header)
		}
	}
	sc := &connecttest.SinkContext{Tolerate: true}
	var waits []time.Duration
	tk := startTask(t, sc, connect.Config{
		URLConfig: ep.srv.URL, MethodConfig: "PUT", HeadersConfig: "X-Api-Key:k|X-Source:bridge",
		AuthTypeConfig: "bearer", AuthTokenConfig: "s3cret",
		BatchMaxSizeConfig: "4", RetryBackoffConfig: "10", MaxRetriesConfig: "5",
	}, &waits)

	tp := connect.TopicPartition{Topic: "orders", Partition: 0}
	tp1 := connect.TopicPartition{Topic: "orders", Partition: 1}
	recs := records(tp, 100, 10, func(i int) bool { return i%4 == 3 })
	recs = append(recs, records(tp1, 500, 2, func(int) bool { return false })...)
	// Put sends its records in batches of at most four.
	if err := tk.Put(context.Background(), recs[:6]); err != nil {
		t.Fatal(err)
	}
	if len(sc.Reported) != 1 {
		// The worker holds the consumed records for its dead letter queue
		// only during their Put: 103 is reported within it.
		t.Errorf("after Put: %d records reported, want 1 (103)", len(sc.Reported))
	}
	if err := tk.Put(context.Background(), recs[6:]); err != nil {
		t.Fatal(err)
	}
	offsets, err := tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: 110, tp1: 502})
	if err != nil {
		t.Fatal(err)
	}
	if offsets[tp] != 110 || offsets[tp1] != 502 {
		t.Errorf("PreCommit = %v, want everything", offsets)
	}
	// Every good record once, in order; the bad ones reported.
	want := []float64{100, 101, 102, 104, 105, 106, 108, 109, 500, 501}
	if got := ep.delivered(); !slices.Equal(got, want) {
		t.Errorf("delivered %v, want %v", got, want)
	}
	var reported []int64
	for _, r := range sc.Reported {
		reported = append(reported, r.Record.Offset)
		if !strings.Contains(r.Err.Error(), "HTTP 400 Bad Request: bad record") {
			t.Errorf("reported error %v", r.Err)
		}
	}
	if !slices.Equal(reported, []int64{103, 107}) {
		t.Errorf("reported %v, want [103 107]", reported)
	}
	// Backoff 10 ms doubling, the 429's Retry-After instead of its backoff.
	if wantWaits := []time.Duration{10 * time.Millisecond, 7 * time.Second, 40 * time.Millisecond}; !slices.Equal(waits, wantWaits) {
		t.Errorf("waits %v, want %v", waits, wantWaits)
	}
}

func TestTimeoutIsRetried(t *testing.T) {
	ep := newEndpoint(t, "hang")
	var waits []time.Duration
	tk := startTask(t, &connecttest.SinkContext{}, connect.Config{URLConfig: ep.srv.URL, TimeoutConfig: "1000", RetryBackoffConfig: "0"}, &waits)
	tp := connect.TopicPartition{Topic: "t", Partition: 0}
	if err := tk.Put(context.Background(), records(tp, 0, 2, func(int) bool { return false })); err != nil {
		t.Fatal(err)
	}
	if _, err := tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: 2}); err != nil {
		t.Fatal(err)
	}
	if got := ep.delivered(); !slices.Equal(got, []float64{0, 1}) {
		t.Fatalf("delivered %v", got)
	}
	if len(waits) != 1 {
		t.Fatalf("retried %d times, want 1", len(waits))
	}
}

func TestFailuresHoldOffsets(t *testing.T) {
	tp := connect.TopicPartition{Topic: "t", Partition: 2}
	t.Run("retries spent", func(t *testing.T) {
		// Put's three attempts, then PreCommit's three.
		ep := newEndpoint(t, "500", "500", "500", "500", "500", "500")
		var waits []time.Duration
		tk := startTask(t, &connecttest.SinkContext{}, connect.Config{URLConfig: ep.srv.URL, MaxRetriesConfig: "2"}, &waits)
		if err := tk.Put(context.Background(), records(tp, 40, 3, func(int) bool { return false })); err != nil {
			t.Fatal(err)
		}
		offsets, err := tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: 43})
		if err == nil || !strings.Contains(err.Error(), "after 2 retries: HTTP 500") {
			t.Fatalf("PreCommit error = %v", err)
		}
		if offsets[tp] != 40 {
			t.Fatalf("PreCommit offsets = %v, want 40 (nothing delivered)", offsets)
		}
		// The endpoint recovers: the next PreCommit delivers and commits all.
		offsets, err = tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: 43})
		if err != nil || offsets[tp] != 43 || !slices.Equal(ep.delivered(), []float64{40, 41, 42}) {
			t.Fatalf("PreCommit = %v, %v; delivered %v", offsets, err, ep.delivered())
		}
	})
	t.Run("tolerance none", func(t *testing.T) {
		ep := newEndpoint(t)
		var waits []time.Duration
		tk := startTask(t, &connecttest.SinkContext{}, connect.Config{URLConfig: ep.srv.URL}, &waits)
		// The refusal fails the Put (errors.tolerance=none), as a Java
		// task's put throwing; nothing from it on is committed.
		if err := tk.Put(context.Background(), records(tp, 0, 3, func(i int) bool { return i == 1 })); err == nil {
			t.Fatal("Put of a refused record under tolerance none: no error")
		}
		offsets, err := tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: 3})
		if err == nil || offsets[tp] != 1 {
			t.Fatalf("PreCommit = %v, %v; want an error and offset 1", offsets, err)
		}
	})
	t.Run("unencodable value", func(t *testing.T) {
		ep := newEndpoint(t)
		sc := &connecttest.SinkContext{Tolerate: true}
		var waits []time.Duration
		tk := startTask(t, sc, connect.Config{URLConfig: ep.srv.URL}, &waits)
		recs := records(tp, 0, 2, func(int) bool { return false })
		recs[0].Value = struct{}{}
		if err := tk.Put(context.Background(), recs); err != nil {
			t.Fatal(err)
		}
		if _, err := tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: 2}); err != nil {
			t.Fatal(err)
		}
		if len(sc.Reported) != 1 || sc.Reported[0].Record.Offset != 0 || !slices.Equal(ep.delivered(), []float64{1}) {
			t.Fatalf("reported %v, delivered %v", sc.Reported, ep.delivered())
		}
	})
}

func TestBatchFormatsAndSizes(t *testing.T) {
	tests := []struct {
		name   string
		cfg    connect.Config
		values []any
		bodies []string
		types  []string
	}{
		{"json_array by bytes", connect.Config{BatchMaxBytesConfig: "20"},
			[]any{"aaaa", []byte(`{"x": 1}`), []byte{0xff}, "bbbbbbbbbbbbbbbbbbbbbbbbb"},
			[]string{`["aaaa",{"x":1}]`, `["/w=="]`, `["bbbbbbbbbbbbbbbbbbbbbbbbb"]`},
			[]string{"application/json", "application/json", "application/json"}},
		{"ndjson", connect.Config{BatchFormatConfig: "ndjson", HeadersConfig: "Content-Type:application/jsonl"},
			[]any{map[string]any{"a": int32(1)}, []byte("[1,\n 2]")},
			[]string{"{\"a\":1}\n[1,2]\n"},
			[]string{"application/jsonl"}},
		{"single", connect.Config{BatchFormatConfig: "single", AuthTypeConfig: "basic", AuthUserConfig: "u", AuthPasswordConfig: "p"},
			[]any{"text", []byte{1, 2}, int64(5)},
			[]string{"text", "\x01\x02", "5"},
			[]string{"text/plain; charset=utf-8", "application/octet-stream", "application/json"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var bodies, types []string
			srv := httptest.NewServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
				b, _ := io.ReadAll(r.Body)
				if u, p, ok := r.BasicAuth(); tt.cfg[AuthTypeConfig] == "basic" && (!ok || u != "u" || p != "p") {
					t.Errorf("basic auth %q %q %v", u, p, ok)
				}
				mu.Lock()
				bodies = append(bodies, string(b))
				types = append(types, r.Header.Get("Content-Type"))
				mu.Unlock()
			}))
			defer srv.Close()
			cfg := connect.Config{URLConfig: srv.URL}
			for k, v := range tt.cfg {
				cfg[k] = v
			}
			var waits []time.Duration
			tk := startTask(t, &connecttest.SinkContext{}, cfg, &waits)
			tp := connect.TopicPartition{Topic: "t"}
			var recs []connect.Record
			for i, v := range tt.values {
				recs = append(recs, connect.Record{Topic: "t", Offset: int64(i), Value: v})
			}
			if err := tk.Put(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			if _, err := tk.PreCommit(context.Background(), map[connect.TopicPartition]int64{tp: int64(len(recs))}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(bodies, tt.bodies) || !slices.Equal(types, tt.types) {
				t.Errorf("bodies %q (%q), want %q (%q)", bodies, types, tt.bodies, tt.types)
			}
		})
	}
}

func TestStopEndsPut(t *testing.T) {
	ep := newEndpoint(t, "hang")
	var waits []time.Duration
	tk := startTask(t, &connecttest.SinkContext{}, connect.Config{URLConfig: ep.srv.URL, BatchMaxSizeConfig: "1"}, &waits)
	done := make(chan error)
	go func() {
		done <- tk.Put(context.Background(), records(connect.TopicPartition{Topic: "t"}, 0, 1, func(int) bool { return false }))
	}()
	for {
		ep.mu.Lock()
		calls := ep.calls
		ep.mu.Unlock()
		if calls > 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	tk.Stop()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Put after Stop = %v, want context.Canceled", err)
	}
}

func TestValidate(t *testing.T) {
	c := &connector{}
	tests := []struct {
		cfg  connect.Config
		want map[string][]string
	}{
		{connect.Config{URLConfig: "http://x", AuthTypeConfig: "basic"}, map[string][]string{
			AuthUserConfig: {`Missing required configuration "http.auth.user" which is required when http.auth.type is basic.`}}},
		{connect.Config{URLConfig: "http://x", AuthTypeConfig: "bearer"}, map[string][]string{
			AuthTokenConfig: {`Missing required configuration "http.auth.token" which is required when http.auth.type is bearer.`}}},
		{connect.Config{URLConfig: "http://x", AuthTypeConfig: "digest"}, nil},
		{connect.Config{URLConfig: "http://x"}, nil},
	}
	for _, tt := range tests {
		if got := c.Validate(tt.cfg); len(got) != len(tt.want) || !slices.Equal(got[AuthUserConfig], tt.want[AuthUserConfig]) || !slices.Equal(got[AuthTokenConfig], tt.want[AuthTokenConfig]) {
			t.Errorf("Validate(%v) = %q, want %q", tt.cfg, got, tt.want)
		}
	}
	errs := def.Validate(connect.Config{URLConfig: "ftp://x", HeadersConfig: "oops", BatchFormatConfig: "xml"})
	for name, want := range map[string]string{
		URLConfig:         "Invalid value ftp://x for configuration http.url: not an http or https URL",
		HeadersConfig:     `Invalid value oops for configuration http.headers: header "oops" is not Name:Value`,
		BatchFormatConfig: "Invalid value xml for configuration batch.format: String must be one of: json_array, ndjson, single",
	} {
		if !slices.Equal(errs[name], []string{want}) {
			t.Errorf("%s errors %q, want %q", name, errs[name], want)
		}
	}
	if err := c.Start(context.Background(), nil, connect.Config{URLConfig: "http://x", AuthTypeConfig: "basic"}); err == nil {
		t.Error("Start accepted basic auth without a user")
	}
	var reg connect.Registry
	reg.Register(Plugins()...)
	if _, ok := reg.Lookup("HttpSink"); !ok {
		t.Error("no HttpSink alias")
	}
}
