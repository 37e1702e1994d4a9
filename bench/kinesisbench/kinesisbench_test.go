package kinesisbench

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

func validConfig(endpoint string) Config {
	return Config{Endpoint: endpoint, Stream: "s", Shards: 2, RecordSize: 100, Records: 1000, Producers: 2, Batch: 100}
}

// checkRun runs cfg and checks that everything put was read back.
func checkRun(t *testing.T, ctx context.Context, cfg Config) Result {
	t.Helper()
	var progress bytes.Buffer
	cfg.Progress, cfg.ProgressEvery = &progress, 20*time.Millisecond
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("%+v: %v", cfg, err)
	}
	if res.PutRecords != cfg.Records || res.PutBytes != cfg.Records*int64(cfg.RecordSize) {
		t.Errorf("put %d records (%d bytes), want %d of %d bytes", res.PutRecords, res.PutBytes, cfg.Records, cfg.RecordSize)
	}
	if res.GetRecords != res.PutRecords || res.GetBytes != res.PutBytes {
		t.Errorf("put %d records (%d bytes), got %d (%d bytes)", res.PutRecords, res.PutBytes, res.GetRecords, res.GetBytes)
	}
	if res.LatencyP50 <= 0 || res.LatencyP99 < res.LatencyP50 || res.LatencyMax < res.LatencyP99 {
		t.Errorf("latencies p50 %v p99 %v max %v", res.LatencyP50, res.LatencyP99, res.LatencyMax)
	}
	if res.PutTime <= 0 || res.GetTime <= 0 || res.PutCalls == 0 || res.GetCalls == 0 || res.Shards == 0 {
		t.Errorf("result %+v", res)
	}
	return res
}

func TestRunRetriesThrottling(t *testing.T) {
	f := startFakeKinesis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
	}{
		{"two producers", func(*Config) {}},
		{"one producer, record per call", func(c *Config) { c.Producers, c.Records, c.Batch = 1, 40, 1 }},
		{"small get limit", func(c *Config) { c.Limit, c.Shards, c.Stream = 7, 3, "s3" }},
		{"records not a multiple of the batch", func(c *Config) { c.Records, c.Batch, c.Producers = 1001, 333, 3 }},
		{"stream kept", func(c *Config) { c.Stream, c.KeepStream = "kept", true }},
		{"existing stream: only this run's records are read", func(c *Config) { c.Stream = "kept" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig(f.url)
			tc.cfg(&cfg)
			res := checkRun(t, ctx, cfg)
			if res.PutRetries == 0 || res.PutThrottled == 0 || res.GetRetries == 0 {
				t.Errorf("the fake throttles, yet retries: put %d (%d records), get %d", res.PutRetries, res.PutThrottled, res.GetRetries)
			}
			if res.PutCalls <= res.PutRetries {
				t.Errorf("%d PutRecords calls, %d retries", res.PutCalls, res.PutRetries)
			}
			// Streams the runs created are deleted unless kept; a stream
			// that existed is left alone.
			if left := slices.Contains(f.streamNames(), cfg.Stream); left != (cfg.Stream == "kept") {
				t.Errorf("stream %s left after the run: %v", cfg.Stream, left)
			}
		})
	}
}

func TestRunFailsOnErrors(t *testing.T) {
	f := startFakeKinesis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := validConfig(f.url)
	cfg.Stream = "" // checked before any call
	if _, err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "no stream") {
		t.Errorf("empty stream name: %v", err)
	}
	// An endpoint that answers nothing Kinesis-shaped fails the run, no retries.
	cfg = validConfig("http://127.0.0.1:1")
	if _, err := Run(ctx, cfg); err == nil || !strings.Contains(err.Error(), "create stream") {
		t.Errorf("closed port: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		want string
	}{
		{"no endpoint", func(c *Config) { c.Endpoint = "" }, "no endpoint"},
		{"endpoint without scheme", func(c *Config) { c.Endpoint = "127.0.0.1:4566" }, "want an http:// or https:// URL"},
		{"no stream", func(c *Config) { c.Stream = "" }, "no stream"},
		{"no shards", func(c *Config) { c.Shards = 0 }, "shards 0"},
		{"empty records", func(c *Config) { c.RecordSize = 0 }, "record size 0"},
		{"record too big", func(c *Config) { c.RecordSize = 1<<20 + 1 }, "record size 1048577"},
		{"no records", func(c *Config) { c.Records = 0 }, "records 0"},
		{"no producers", func(c *Config) { c.Producers = 0 }, "producers 0"},
		{"batch too big", func(c *Config) { c.Batch = 501 }, "batch 501"},
		{"limit too big", func(c *Config) { c.Limit = 10001 }, "limit 10001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := validConfig("http://127.0.0.1:4566")
			if err := cfg.check(); err != nil {
				t.Fatalf("valid config: %v", err)
			}
			tc.cfg(&cfg)
			if err := cfg.check(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v lacks %q", err, tc.want)
			}
		})
	}
}

func TestBatchSize(t *testing.T) {
	for _, tc := range []struct {
		batch, recordSize, keyLen, want int
	}{
		{500, 1024, 20, 500},
		{500, 1 << 20, 20, 4}, // 5 records of 1 MiB would pass 5 MiB with their keys
		{500, 10485, 0, 500},  // 500 fit in 5 MiB
		{500, 10486, 0, 499},  // 500 would not
		{1, 100, 10, 1},
	} {
		cfg := Config{Batch: tc.batch, RecordSize: tc.recordSize}
		if got := batchSize(cfg, tc.keyLen); got != tc.want {
			t.Errorf("batchSize(batch %d, record %d, key %d) = %d, want %d", tc.batch, tc.recordSize, tc.keyLen, got, tc.want)
		}
	}
}

func TestSeqLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"9", "10", true},
		{"10", "9", false},
		{"49590338271490256608559692538361571095921575989136588898", "49590338271490256608559692540925702759324208523137515618", true},
		{"123", "123", false},
		{"124", "123", false},
	} {
		if got := seqLess(tc.a, tc.b); got != tc.want {
			t.Errorf("seqLess(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
	var w shardWritten
	for _, s := range []string{"20", "9", "100"} {
		w.add(s)
	}
	other := map[string]*shardWritten{"a": {first: "5", count: 2}, "b": {first: "1", count: 1}}
	all := map[string]*shardWritten{"a": &w}
	mergeWritten(all, other)
	if all["a"].first != "5" || all["a"].count != 5 || all["b"].first != "1" || all["b"].count != 1 {
		t.Errorf("merged %+v %+v", *all["a"], *all["b"])
	}
}

func TestMedian(t *testing.T) {
	mk := func(putSecs, getSecs float64, p50 time.Duration, retries int64) Result {
		return Result{PutRecords: 1000, PutBytes: 1000 << 10, PutTime: time.Duration(putSecs * float64(time.Second)),
			GetRecords: 1000, GetBytes: 1000 << 10, GetTime: time.Duration(getSecs * float64(time.Second)),
			LatencyP50: p50, LatencyP99: 2 * p50, LatencyMax: 3 * p50, PutRetries: retries, GetRetries: 2 * retries}
	}
	m := Median([]Result{mk(1, 4, 10, 0), mk(2, 1, 30, 7), mk(4, 2, 20, 3)})
	if got := m.PutRecsPerS(); got < 499 || got > 501 { // rates 1000, 500, 250
		t.Errorf("median put rate %v, want 500", got)
	}
	if got := m.GetRecsPerS(); got < 499 || got > 501 { // rates 250, 1000, 500
		t.Errorf("median get rate %v, want 500", got)
	}
	if m.LatencyP50 != 20 || m.LatencyP99 != 40 || m.LatencyMax != 60 || m.PutRetries != 3 || m.GetRetries != 6 {
		t.Errorf("median latencies %v %v %v, retries %d %d", m.LatencyP50, m.LatencyP99, m.LatencyMax, m.PutRetries, m.GetRetries)
	}
	if m2 := Median([]Result{mk(1, 1, 10, 0), mk(3, 3, 20, 0)}); m2.LatencyP50 != 15 {
		t.Errorf("even count: p50 %v, want 15", m2.LatencyP50)
	}
	if (Median(nil) != Result{}) {
		t.Error("median of no runs")
	}
}

func TestWriteTable(t *testing.T) {
	mk := func(target string, secs float64, retries int64) Result {
		d := time.Duration(secs * float64(time.Second))
		return Result{Target: target, PutRecords: 1000, PutBytes: 1 << 20, PutTime: d, GetRecords: 1000, GetBytes: 1 << 20, GetTime: d,
			LatencyP50: d / 10, LatencyP99: d / 5, Shards: 2, PutRetries: retries,
			PutServerCPU: -1, GetServerCPU: -1, PutClientCPU: -1, GetClientCPU: -1}
	}
	var b bytes.Buffer
	cfg := Config{RecordSize: 1024, Producers: 4, Batch: 500}
	if err := WriteTable(&b, cfg, mk("bridge", 1, 0), mk("kinesalite", 20, 3), mk("kinesis-local", 4, 0)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"1000 records of 1024 bytes, 2 shards written, 4 producers", "GetRecords limit 10000",
		"bridge/kinesalite", "bridge/kinesis-local", "20.00", "4.00", "0.05", "PutRecords retries"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	lines := strings.Split(out, "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, "put MB/s") {
			if f := strings.Fields(l); len(f) != 7 || f[2] != "1.0" || f[5] != "20.00" || f[6] != "4.00" {
				t.Errorf("put MB/s row %q", l)
			}
		}
		if strings.HasPrefix(l, "PutRecords retries") {
			if f := strings.Fields(l); len(f) != 7 || f[3] != "3" || f[5] != "-" {
				t.Errorf("retries row %q: counts get no ratio", l)
			}
		}
	}
	if strings.Contains(out, "CPU") {
		t.Errorf("CPU rows without CPU figures:\n%s", out)
	}

	// Server CPU known for some targets: "-" for the others and no ratio.
	withCPU := func(r Result, server, client float64) Result {
		r.PutServerCPU, r.GetServerCPU, r.PutClientCPU, r.GetClientCPU = server, server/2, client, client
		return r
	}
	b.Reset()
	if err := WriteTable(&b, cfg, withCPU(mk("bridge", 1, 0), 0.01, 0.02), withCPU(mk("kinesalite", 20, 0), 0.1, 0.02), withCPU(mk("remote", 1, 0), -1, 0.02)); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(b.String(), "\n") {
		f := strings.Fields(l)
		switch {
		case strings.HasPrefix(l, "server CPU ms/MB put"):
			if len(f) != 9 || f[4] != "9.5" || f[5] != "95.4" || f[6] != "-" || f[7] != "0.10" || f[8] != "-" {
				t.Errorf("server CPU row %q", l)
			}
		case strings.HasPrefix(l, "bench CPU ms/MB get"):
			if len(f) != 9 || f[4] != "19.1" || f[7] != "-" {
				t.Errorf("bench CPU row %q", l)
			}
		}
	}
	if !strings.Contains(b.String(), "bench CPU ms/MB put") {
		t.Errorf("no bench CPU rows:\n%s", b.String())
	}
	b.Reset()
	if err := WriteTable(&b, cfg, mk("target", 1, 0)); err != nil || strings.Contains(b.String(), "target/") {
		t.Errorf("one target: %v\n%s", err, b.String())
	}
}
