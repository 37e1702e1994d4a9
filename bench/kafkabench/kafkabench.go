// Package kafkabench is a Kafka producer/consumer load generator built on
// franz-go, for any Kafka-compatible address: `bridge bench kafka` runs it.
//
// A run creates the topic if it is missing, produces a number of records (or
// for a duration) from one or more producers, then consumes exactly what it
// produced with one or more consumers reading by partition assignment, and
// reports throughput (MB/s, records/s) for both phases and the produce
// latency: the time from handing a record to the client to its
// acknowledgement, at the 50th and 99th percentiles.
//
// StartKfake runs franz-go's in-process fake cluster (kfake), the reference
// that `bridge bench kafka --compare-kfake` measures the bridge against in
// the same invocation.
package kafkabench

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/internal/kgotxn"
)

// Config is one benchmark run.
type Config struct {
	// Brokers are the bootstrap host:port addresses.
	Brokers []string
	// Topic is created with Partitions partitions if it does not exist;
	// an existing topic is used as it is.
	Topic      string
	Partitions int
	// TopicConfigs are the configs the topic is created with.
	TopicConfigs map[string]*string
	// RecordSize is the value size in bytes; records have no key.
	RecordSize int
	// Records to produce in all; or, when Duration is set instead, produce
	// for that long.
	Records  int64
	Duration time.Duration
	// Producers and Consumers are the numbers of clients in each phase.
	// Consumers split the topic's partitions between them.
	Producers int
	Consumers int
	// Acks is "all" (the default; idempotent), "1" or "0".
	Acks string
	// Compression is none, gzip, snappy, lz4 or zstd.
	Compression string
	// Transactional makes each producer a transactional one (its own
	// transactional id) that commits every TxnRecords records (default
	// 1000); consumers then read committed. Needs Acks "all".
	Transactional bool
	TxnRecords    int
	// MaxBuffered bounds each producer's records awaiting acknowledgement
	// (franz-go's MaxBufferedRecords; 0 means its default, 10000). Produce
	// latency includes the time a record waits for room, as with Kafka's
	// own perf tool, so a big buffer under full load means high latency.
	MaxBuffered int
	// ServerCPU, if set, reports the CPU seconds the server under load has
	// used so far (see measure.ProcessCPU); Run reads it around each phase and
	// reports the server's CPU time per MB moved. It also lets Run wait,
	// between the phases, until the server is idle: work a server defers
	// (flushing what was produced) is then counted in the produce phase,
	// where it belongs, and does not compete with the consumers, as when a
	// consumer benchmark reads data written earlier.
	ServerCPU func() (float64, error)
	// TLS, if set, makes every client of the run (admin, producers,
	// consumers) connect over TLS with this configuration, and SASL, if
	// set, makes them authenticate with it, so that the same load can be
	// run over a Kafka SSL or SASL_SSL listener and compared with
	// PLAINTEXT.
	TLS  *tls.Config
	SASL sasl.Mechanism
	// Progress, if set, receives a line every ProgressEvery (default 2s).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Result is what a run measured.
type Result struct {
	Target string // a name for the table, e.g. "bridge" or "kfake"

	ProducedRecords int64
	ProducedBytes   int64 // record values
	ProduceTime     time.Duration
	// Latency percentiles of per-record acknowledgement.
	LatencyP50, LatencyP99, LatencyMax time.Duration

	ConsumedRecords int64
	ConsumedBytes   int64
	ConsumeTime     time.Duration

	// ProduceServerCPU and ConsumeServerCPU are the CPU seconds the server
	// spent during each phase; negative when unknown (no Config.ServerCPU).
	ProduceServerCPU, ConsumeServerCPU float64
}

// ProduceMBps and the others are the derived rates.
func (r Result) ProduceMBps() float64     { return measure.MBps(r.ProducedBytes, r.ProduceTime) }
func (r Result) ProduceRecsPerS() float64 { return measure.PerSec(r.ProducedRecords, r.ProduceTime) }
func (r Result) ConsumeMBps() float64     { return measure.MBps(r.ConsumedBytes, r.ConsumeTime) }
func (r Result) ConsumeRecsPerS() float64 { return measure.PerSec(r.ConsumedRecords, r.ConsumeTime) }

// ProduceCPUPerMB and ConsumeCPUPerMB are the server's CPU milliseconds per
// MB of record values moved in each phase; negative when unknown.
func (r Result) ProduceCPUPerMB() float64 {
	return measure.CPUPerMB(r.ProduceServerCPU, r.ProducedBytes)
}
func (r Result) ConsumeCPUPerMB() float64 {
	return measure.CPUPerMB(r.ConsumeServerCPU, r.ConsumedBytes)
}

func (c *Config) check() error {
	var errs []error
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no brokers"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("no topic"))
	}
	if c.Partitions < 1 {
		errs = append(errs, fmt.Errorf("partitions %d: want at least 1", c.Partitions))
	}
	if c.RecordSize < 0 {
		errs = append(errs, fmt.Errorf("record size %d: want 0 or more", c.RecordSize))
	}
	if (c.Records > 0) == (c.Duration > 0) {
		errs = append(errs, errors.New("set exactly one of records and duration"))
	}
	if c.MaxBuffered < 0 {
		errs = append(errs, fmt.Errorf("max buffered %d: want 0 or more", c.MaxBuffered))
	}
	if c.Producers < 1 || c.Consumers < 1 {
		errs = append(errs, fmt.Errorf("producers %d, consumers %d: want at least 1 each", c.Producers, c.Consumers))
	}
	if _, err := acksOpt(c.Acks); err != nil {
		errs = append(errs, err)
	}
	if c.Transactional && c.Acks != "" && c.Acks != "all" {
		errs = append(errs, fmt.Errorf("transactional with acks %q: transactions need acks all", c.Acks))
	}
	if c.TxnRecords < 0 {
		errs = append(errs, fmt.Errorf("transaction records %d: want 0 (the default) or more", c.TxnRecords))
	}
	if _, err := codecOpt(c.Compression); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func acksOpt(acks string) ([]kgo.Opt, error) {
	switch acks {
	case "all", "-1", "":
		return []kgo.Opt{kgo.RequiredAcks(kgo.AllISRAcks())}, nil
	case "1":
		return []kgo.Opt{kgo.RequiredAcks(kgo.LeaderAck()), kgo.DisableIdempotentWrite()}, nil
	case "0":
		return []kgo.Opt{kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite()}, nil
	}
	return nil, fmt.Errorf("acks %q: want all, 1 or 0", acks)
}

// Codecs are the values Config.Compression takes.
var Codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

func codecOpt(name string) (kgo.CompressionCodec, error) {
	switch name {
	case "none", "":
		return kgo.NoCompression(), nil
	case "gzip":
		return kgo.GzipCompression(), nil
	case "snappy":
		return kgo.SnappyCompression(), nil
	case "lz4":
		return kgo.Lz4Compression(), nil
	case "zstd":
		return kgo.ZstdCompression(), nil
	}
	return kgo.CompressionCodec{}, fmt.Errorf("compression %q: want one of %s", name, strings.Join(Codecs, ", "))
}

// Run runs the benchmark against cfg.Brokers.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	if cfg.ProgressEvery <= 0 {
		cfg.ProgressEvery = 2 * time.Second
	}
	admCl, err := kgo.NewClient(cfg.clientOpts()...)
	if err != nil {
		return Result{}, err
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)

	if err := ensureTopic(ctx, adm, cfg.Topic, cfg.Partitions, cfg.topicConfigs()); err != nil {
		return Result{}, err
	}
	starts, err := endOffsets(ctx, adm, cfg.Topic)
	if err != nil {
		return Result{}, fmt.Errorf("offsets before producing: %w", err)
	}

	res := Result{ProduceServerCPU: -1, ConsumeServerCPU: -1}
	cpuBefore := measure.CPUSince(cfg.ServerCPU)
	if err := produce(ctx, cfg, &res); err != nil {
		return res, err
	}
	if err := measure.WaitIdle(ctx, cfg.ServerCPU); err != nil {
		return res, err
	}
	res.ProduceServerCPU = cpuBefore()
	ends, err := endOffsets(ctx, adm, cfg.Topic)
	if err != nil {
		return res, fmt.Errorf("offsets after producing: %w", err)
	}
	var grown int64
	for p, end := range ends {
		grown += end - starts[p]
	}
	if cfg.Acks != "0" && !cfg.Transactional && grown != res.ProducedRecords {
		// Someone else wrote to the topic meanwhile, or records were lost.
		return res, fmt.Errorf("topic %s grew by %d records while %d were acknowledged", cfg.Topic, grown, res.ProducedRecords)
	}
	cpuBefore = measure.CPUSince(cfg.ServerCPU)
	if err := consume(ctx, cfg, starts, ends, &res); err != nil {
		return res, err
	}
	res.ConsumeServerCPU = cpuBefore()
	return res, nil
}

// largeRecord is the record size from which the run raises the limits
// that Kafka's defaults set at about 1 MB: the topic's max.message.bytes,
// the producer's batch size, and what producers may buffer.
const largeRecord = 512 << 10

// batchLimit is the largest batch the run produces: one large record and
// its framing, or franz-go's default batch size.
func (c *Config) batchLimit() int32 {
	return max(1000012, int32(min(c.RecordSize+64<<10, 1<<30)))
}

// topicConfigs are TopicConfigs, with max.message.bytes raised to fit
// large records unless they set it.
func (c *Config) topicConfigs() map[string]*string {
	if c.RecordSize < largeRecord {
		return c.TopicConfigs
	}
	out := map[string]*string{}
	maps.Copy(out, c.TopicConfigs)
	if _, ok := out["max.message.bytes"]; !ok {
		limit := strconv.Itoa(int(c.batchLimit()))
		out["max.message.bytes"] = &limit
	}
	return out
}

// clientOpts are the options every client of the run starts with: the
// brokers and the connection's security, then more.
func (c *Config) clientOpts(more ...kgo.Opt) []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...)}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS))
	}
	if c.SASL != nil {
		opts = append(opts, kgo.SASL(c.SASL))
	}
	return append(opts, more...)
}

func ensureTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int, configs map[string]*string) error {
	resp, err := adm.CreateTopic(ctx, int32(partitions), 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	return nil
}

func endOffsets(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	lo, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = lo.Error()
	}
	if err != nil {
		return nil, err
	}
	out := map[int32]int64{}
	lo.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	if len(out) == 0 {
		return nil, fmt.Errorf("topic %s has no partitions", topic)
	}
	return out, nil
}

func produce(ctx context.Context, cfg Config, res *Result) error {
	codec, _ := codecOpt(cfg.Compression)
	acks, _ := acksOpt(cfg.Acks)
	values := measure.Payloads(cfg.RecordSize)

	var (
		sent, done atomic.Int64
		failed     atomic.Int64
		errMu      sync.Mutex
		firstErr   error
		latMu      sync.Mutex
		lats       []time.Duration
	)
	if cfg.Records > 0 {
		lats = make([]time.Duration, 0, cfg.Records)
	}
	clients := make([]*kgo.Client, cfg.Producers)
	for i := range clients {
		opts := append(cfg.clientOpts(kgo.DefaultProduceTopic(cfg.Topic), kgo.ProducerBatchCompression(codec)), acks...)
		if cfg.MaxBuffered > 0 {
			opts = append(opts, kgo.MaxBufferedRecords(cfg.MaxBuffered))
		}
		if cfg.RecordSize >= largeRecord {
			// Ten thousand buffered 10 MiB records would be 100 GB: bound
			// the bytes too, to a few batches per partition.
			opts = append(opts, kgo.ProducerBatchMaxBytes(cfg.batchLimit()),
				kgo.MaxBufferedBytes(max(256<<20, 4*int(cfg.batchLimit()))))
		}
		if cfg.Transactional {
			opts = append(opts, kgo.TransactionalID(fmt.Sprintf("%s-bench-%d-%d", cfg.Topic, time.Now().UnixNano(), i)))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		clients[i] = cl
	}
	txnRecords := cfg.TxnRecords
	if txnRecords == 0 {
		txnRecords = 1000
	}
	fail := func(err error) {
		errMu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		errMu.Unlock()
	}
	// commit ends a producer's transaction once its records are acknowledged.
	commit := func(cl *kgo.Client) bool {
		if err := cl.Flush(ctx); err != nil {
			fail(err)
			return false
		}
		kgotxn.AwaitProducerTopic(ctx, cl, cfg.Topic, time.Second) // see package kgotxn
		if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
			failed.Add(1)
			fail(fmt.Errorf("commit: %w", err))
			return false
		}
		return true
	}

	stopProgress := measure.Progress(cfg.Progress, cfg.ProgressEvery, "produce", &done, cfg.RecordSize)
	defer stopProgress()

	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = time.Now().Add(cfg.Duration)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for i, cl := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			inTxn := 0
			if cfg.Transactional {
				if err := cl.BeginTransaction(); err != nil {
					failed.Add(1)
					fail(err)
					return
				}
				defer func() {
					if inTxn > 0 {
						commit(cl)
					}
				}()
			}
			for n := 0; ctx.Err() == nil; n++ {
				if cfg.Transactional && inTxn == txnRecords {
					if !commit(cl) {
						inTxn = 0
						return
					}
					if err := cl.BeginTransaction(); err != nil {
						failed.Add(1)
						fail(err)
						inTxn = 0
						return
					}
					inTxn = 0
				}
				if cfg.Records > 0 {
					if sent.Add(1) > cfg.Records {
						return
					}
				} else if n%64 == 0 && time.Now().After(deadline) {
					return
				}
				r := &kgo.Record{Value: values[(i+n)%len(values)]}
				inTxn++
				t0 := time.Now()
				cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
					lat := time.Since(t0)
					if err != nil {
						failed.Add(1)
						errMu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						errMu.Unlock()
						return
					}
					done.Add(1)
					latMu.Lock()
					lats = append(lats, lat)
					latMu.Unlock()
				})
			}
		}()
	}
	wg.Wait()
	for _, cl := range clients {
		if err := cl.Flush(ctx); err != nil {
			return fmt.Errorf("flush: %w", err)
		}
	}
	res.ProduceTime = time.Since(start)
	res.ProducedRecords = done.Load()
	res.ProducedBytes = res.ProducedRecords * int64(cfg.RecordSize)
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d records failed to produce, first: %w", n, firstErr)
	}
	slices.Sort(lats)
	res.LatencyP50, res.LatencyP99, res.LatencyMax = measure.Percentile(lats, 0.50), measure.Percentile(lats, 0.99), measure.Percentile(lats, 1)
	return nil
}

func consume(ctx context.Context, cfg Config, starts, ends map[int32]int64, res *Result) error {
	// Transaction markers take offsets but are never delivered: a
	// transactional run counts records (all it produced) instead of
	// waiting for every partition's end offset.
	want := int64(-1)
	if cfg.Transactional {
		want = res.ProducedRecords
	}
	cctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var parts []int32
	for p := range ends {
		if ends[p] > starts[p] {
			parts = append(parts, p)
		}
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i] < parts[j] })
	n := min(cfg.Consumers, max(1, len(parts)))
	assign := make([]map[int32]kgo.Offset, n)
	for i, p := range parts {
		if assign[i%n] == nil {
			assign[i%n] = map[int32]kgo.Offset{}
		}
		assign[i%n][p] = kgo.NewOffset().At(starts[p])
	}

	var records, bytes atomic.Int64
	stopProgress := measure.Progress(cfg.Progress, cfg.ProgressEvery, "consume", &records, cfg.RecordSize)
	defer stopProgress()
	errs := make(chan error, n)
	start := time.Now()
	var wg sync.WaitGroup
	for _, a := range assign {
		if len(a) == 0 {
			continue
		}
		copts := cfg.clientOpts(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: a}))
		if cfg.Transactional {
			copts = append(copts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
		}
		cl, err := kgo.NewClient(copts...)
		if err != nil {
			return err
		}
		defer cl.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			left := len(a)
			next := map[int32]int64{}
			for left > 0 {
				fs := cl.PollFetches(cctx)
				if err := cctx.Err(); err != nil {
					if ctx.Err() == nil && want >= 0 && records.Load() >= want {
						return // another consumer read the last record
					}
					errs <- err
					return
				}
				var fetchErr error
				fs.EachError(func(t string, p int32, err error) { fetchErr = fmt.Errorf("fetch %s/%d: %w", t, p, err) })
				if fetchErr != nil {
					errs <- fetchErr
					return
				}
				fs.EachPartition(func(ftp kgo.FetchTopicPartition) {
					p := ftp.Partition
					before := next[p] >= ends[p]
					for _, r := range ftp.Records {
						if r.Offset < ends[p] {
							if records.Add(1) == want {
								cancel()
							}
							bytes.Add(int64(len(r.Value)))
						}
						next[p] = r.Offset + 1
					}
					if !before && next[p] >= ends[p] {
						left--
					}
				})
				if want >= 0 && records.Load() >= want {
					return
				}
			}
		}()
	}
	wg.Wait()
	res.ConsumeTime = time.Since(start)
	res.ConsumedRecords, res.ConsumedBytes = records.Load(), bytes.Load()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	if want < 0 {
		want = 0
		for p, end := range ends {
			want += end - starts[p]
		}
	}
	if res.ConsumedRecords != want {
		return fmt.Errorf("consumed %d records, want %d", res.ConsumedRecords, want)
	}
	return nil
}

// Median combines the results of repeated runs against one target: each
// figure is the median of that figure over the runs (so a row of the table
// may come from different runs), which keeps one disturbed run from
// deciding a comparison.
func Median(runs []Result) Result {
	if len(runs) == 0 {
		return Result{}
	}
	med := func(f func(Result) float64) float64 { return measure.MedianOf(runs, f) }
	dur := func(f func(Result) time.Duration) time.Duration {
		return time.Duration(med(func(r Result) float64 { return float64(f(r)) }))
	}
	out := runs[0]
	// Rates are kept by fixing the counts at the first run's and scaling
	// the times to the median rates.
	out.ProduceTime = time.Duration(float64(out.ProducedRecords) / med(Result.ProduceRecsPerS) * float64(time.Second))
	out.ConsumeTime = time.Duration(float64(out.ConsumedRecords) / med(Result.ConsumeRecsPerS) * float64(time.Second))
	out.LatencyP50 = dur(func(r Result) time.Duration { return r.LatencyP50 })
	out.LatencyP99 = dur(func(r Result) time.Duration { return r.LatencyP99 })
	out.LatencyMax = dur(func(r Result) time.Duration { return r.LatencyMax })
	out.ProduceServerCPU = med(func(r Result) float64 { return r.ProduceServerCPU })
	out.ConsumeServerCPU = med(func(r Result) float64 { return r.ConsumeServerCPU })
	return out
}

// StartKfake starts an in-process kfake cluster (one broker on
// 127.0.0.1, auto-creating topics) and returns its address and a stop.
func StartKfake() (addr string, stop func(), err error) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
	if err != nil {
		return "", nil, err
	}
	return c.ListenAddrs()[0], c.Close, nil
}

// WriteTable prints results side by side; with two, a third column gives
// the first over the second (for latency, above 1 means the first is
// slower).
func WriteTable(w io.Writer, cfg Config, results ...Result) error {
	var ratios []Ratio
	if len(results) == 2 {
		ratios = []Ratio{{0, 1}}
	}
	return WriteTableRatios(w, cfg, ratios, results...)
}

// Ratio is a column of WriteTableRatios: each figure of results[Num] over
// the same figure of results[Den].
type Ratio struct{ Num, Den int }

// WriteTableRatios prints results side by side, then a column per ratio
// (for latency and CPU, above 1 means the numerator is slower or costlier).
// It lets one table compare several targets with one reference, e.g. each
// security protocol with PLAINTEXT.
func WriteTableRatios(w io.Writer, cfg Config, ratios []Ratio, results ...Result) error {
	for _, q := range ratios {
		if q.Num < 0 || q.Num >= len(results) || q.Den < 0 || q.Den >= len(results) {
			return fmt.Errorf("ratio %d/%d of %d results", q.Num, q.Den, len(results))
		}
	}
	var b strings.Builder
	buffered := "10000"
	if cfg.MaxBuffered > 0 {
		buffered = fmt.Sprint(cfg.MaxBuffered)
	}
	fmt.Fprintf(&b, "%d records of %d bytes, %d partitions, %d producers (up to %s records buffered each), %d consumers, acks=%s, compression=%s\n\n",
		results[0].ProducedRecords, cfg.RecordSize, cfg.Partitions, cfg.Producers, buffered, cfg.Consumers, orDefault(cfg.Acks, "all"), orDefault(cfg.Compression, "none"))
	names := make([]string, len(ratios))
	widths := make([]int, len(ratios))
	for i, q := range ratios {
		names[i] = results[q.Num].Target + "/" + results[q.Den].Target
		widths[i] = max(16, len(names[i])+2)
	}
	fmt.Fprintf(&b, "%-22s", "")
	for _, r := range results {
		fmt.Fprintf(&b, "%14s", r.Target)
	}
	for i := range ratios {
		fmt.Fprintf(&b, "%*s", widths[i], names[i])
	}
	b.WriteString("\n")
	row := func(name string, f func(Result) float64, format string) {
		fmt.Fprintf(&b, "%-22s", name)
		for _, r := range results {
			fmt.Fprintf(&b, "%14s", fmt.Sprintf(format, f(r)))
		}
		for i, q := range ratios {
			if d := f(results[q.Den]); d != 0 {
				fmt.Fprintf(&b, "%*.2f", widths[i], f(results[q.Num])/d)
			} else {
				fmt.Fprintf(&b, "%*s", widths[i], "-")
			}
		}
		b.WriteString("\n")
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	row("produce MB/s", Result.ProduceMBps, "%.1f")
	row("produce records/s", Result.ProduceRecsPerS, "%.0f")
	row("produce p50 ms", func(r Result) float64 { return ms(r.LatencyP50) }, "%.2f")
	row("produce p99 ms", func(r Result) float64 { return ms(r.LatencyP99) }, "%.2f")
	row("consume MB/s", Result.ConsumeMBps, "%.1f")
	row("consume records/s", Result.ConsumeRecsPerS, "%.0f")
	known := func(f func(Result) float64) bool {
		for _, r := range results {
			if f(r) < 0 {
				return false
			}
		}
		return true
	}
	if known(Result.ProduceCPUPerMB) {
		row("server CPU ms/MB in", Result.ProduceCPUPerMB, "%.2f")
	}
	if known(Result.ConsumeCPUPerMB) {
		row("server CPU ms/MB out", Result.ConsumeCPUPerMB, "%.2f")
	}
	if known(Result.ProduceCPUPerMB) || known(Result.ConsumeCPUPerMB) {
		b.WriteString("(server CPU: user + system time of the server process per MB of values; lower is better)\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}
