package kafkabench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestRunAgainstKfake(t *testing.T) {
	addr, stop, err := StartKfake()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []Config{
		{Records: 3000, Partitions: 3, Producers: 2, Consumers: 2, Acks: "all", Compression: "zstd"},
		{Records: 1000, Partitions: 1, Producers: 1, Consumers: 3, Acks: "1", Compression: "none"},
		{Duration: 300 * time.Millisecond, Partitions: 2, Producers: 1, Consumers: 1, Acks: "all", Compression: "lz4"},
		{Records: 2500, Partitions: 2, Producers: 2, Consumers: 2, Acks: "all", Compression: "gzip", Transactional: true, TxnRecords: 300},
	} {
		tc.Brokers, tc.Topic, tc.RecordSize = []string{addr}, "t-"+tc.Compression, 200
		var progress bytes.Buffer
		tc.Progress, tc.ProgressEvery = &progress, 50*time.Millisecond
		res, err := Run(ctx, tc)
		if err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		if tc.Records > 0 && res.ProducedRecords != tc.Records {
			t.Errorf("produced %d records, want %d", res.ProducedRecords, tc.Records)
		}
		if res.ProducedRecords == 0 || res.ConsumedRecords != res.ProducedRecords || res.ConsumedBytes != res.ProducedRecords*200 {
			t.Errorf("produced %d, consumed %d records (%d bytes)", res.ProducedRecords, res.ConsumedRecords, res.ConsumedBytes)
		}
		if res.LatencyP50 <= 0 || res.LatencyP99 < res.LatencyP50 || res.LatencyMax < res.LatencyP99 {
			t.Errorf("latencies p50 %v p99 %v max %v", res.LatencyP50, res.LatencyP99, res.LatencyMax)
		}
		res.Target = "kfake"
		var table bytes.Buffer
		if err := WriteTable(&table, tc, res, res); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"produce MB/s", "produce p99 ms", "consume records/s", "kfake/kfake", "1.00"} {
			if !strings.Contains(table.String(), want) {
				t.Errorf("table lacks %q:\n%s", want, table.String())
			}
		}
	}
	// A second run on an existing topic counts only its own records.
	res, err := Run(ctx, Config{Brokers: []string{addr}, Topic: "t-zstd", Partitions: 3, RecordSize: 10, Records: 500, Producers: 1, Consumers: 1})
	if err != nil || res.ConsumedRecords != 500 {
		t.Errorf("second run on an existing topic: %v, consumed %d", err, res.ConsumedRecords)
	}
}

func TestConfigErrors(t *testing.T) {
	err := (&Config{Brokers: []string{"x:1"}, Topic: "t", Partitions: 0, Records: 1, Duration: time.Second, Producers: 1, Consumers: 0, Acks: "2", Compression: "brotli"}).check()
	for _, want := range []string{"partitions 0", "exactly one of records and duration", "consumers 0", `acks "2"`, `compression "brotli"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v lacks %q", err, want)
		}
	}
}

func TestMedian(t *testing.T) {
	mk := func(produceSecs, consumeSecs float64, p50 time.Duration) Result {
		return Result{ProducedRecords: 1000, ProducedBytes: 1000 << 10, ProduceTime: time.Duration(produceSecs * float64(time.Second)),
			ConsumedRecords: 1000, ConsumedBytes: 1000 << 10, ConsumeTime: time.Duration(consumeSecs * float64(time.Second)),
			LatencyP50: p50, LatencyP99: 2 * p50, LatencyMax: 3 * p50}
	}
	m := Median([]Result{mk(1, 4, 10), mk(2, 1, 30), mk(4, 2, 20)})
	if got := m.ProduceRecsPerS(); got < 499 || got > 501 { // rates 1000, 500, 250
		t.Errorf("median produce rate %v, want 500", got)
	}
	if got := m.ConsumeRecsPerS(); got < 499 || got > 501 { // rates 250, 1000, 500
		t.Errorf("median consume rate %v, want 500", got)
	}
	if m.LatencyP50 != 20 || m.LatencyP99 != 40 || m.LatencyMax != 60 {
		t.Errorf("median latencies %v %v %v", m.LatencyP50, m.LatencyP99, m.LatencyMax)
	}
	if m2 := Median([]Result{mk(1, 1, 10), mk(3, 3, 20)}); m2.LatencyP50 != 15 {
		t.Errorf("even count: p50 %v, want 15", m2.LatencyP50)
	}
}

// TestWriteTableRatios checks the columns of a table comparing several
// targets with one (each security mode with plaintext, say).
func TestWriteTableRatios(t *testing.T) {
	mk := func(target string, secs float64) Result {
		return Result{Target: target, ProducedRecords: 1000, ProducedBytes: 1000 << 10, ProduceTime: time.Duration(secs * float64(time.Second)),
			ConsumedRecords: 1000, ConsumedBytes: 1000 << 10, ConsumeTime: time.Second, ProduceServerCPU: secs, ConsumeServerCPU: -1}
	}
	var b strings.Builder
	err := WriteTableRatios(&b, Config{RecordSize: 1024, Partitions: 3, Producers: 1, Consumers: 1},
		[]Ratio{{1, 0}, {2, 0}}, mk("plaintext", 1), mk("ssl", 2), mk("sasl_ssl", 4))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	var header, mbps, cpu string
	for _, l := range lines {
		switch {
		case strings.Contains(l, "ssl/plaintext"):
			header = l
		case strings.HasPrefix(l, "produce MB/s"):
			mbps = l
		case strings.HasPrefix(l, "server CPU ms/MB in"):
			cpu = l
		case strings.HasPrefix(l, "server CPU ms/MB out"):
			t.Errorf("a row for an unknown figure: %q", l)
		}
	}
	if !strings.HasSuffix(header, "  ssl/plaintext  sasl_ssl/plaintext") {
		t.Errorf("header %q", header)
	}
	if f := strings.Fields(mbps); len(f) != 7 || f[5] != "0.50" || f[6] != "0.25" {
		t.Errorf("produce MB/s row %q: want ratios 0.50 and 0.25", mbps)
	}
	if f := strings.Fields(cpu); len(f) != 9 || f[7] != "2.00" || f[8] != "4.00" {
		t.Errorf("CPU row %q: want ratios 2.00 and 4.00", cpu)
	}
	if err := WriteTableRatios(&b, Config{}, []Ratio{{0, 3}}, mk("a", 1)); err == nil {
		t.Error("a ratio naming a missing result was accepted")
	}
}
