package embedded

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the store's Prometheus collectors. A nil *metrics (no
// Registerer given) records nothing.
type metrics struct {
	reg           prometheus.Registerer
	collectors    []prometheus.Collector
	appendBytes   prometheus.Counter
	appendRecords prometheus.Counter
	appendLatency prometheus.Histogram
	readBytes     prometheus.Counter
	streams       prometheus.Gauge
	objectWrites  prometheus.Counter
	objectReads   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, s *Store) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		reg: reg,
		appendBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_store_append_bytes_total", Help: "Bytes of record batches durably appended.",
		}),
		appendRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_store_append_records_total", Help: "Records durably appended.",
		}),
		appendLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "bridge_store_append_seconds",
			Help:    "Time from an append's start to its durable acknowledgement.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		readBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_store_read_bytes_total", Help: "Bytes of record batches read.",
		}),
		streams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bridge_store_streams", Help: "Streams in the store.",
		}),
		objectWrites: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_store_object_written_bytes_total", Help: "Bytes of object bodies and parts durably written (puts, copies, completions).",
		}),
		objectReads: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_store_object_read_bytes_total", Help: "Bytes of object bodies read (gets and copies).",
		}),
	}
	m.collectors = []prometheus.Collector{m.appendBytes, m.appendRecords, m.appendLatency, m.readBytes, m.streams, m.objectWrites, m.objectReads, memoryCollector{s}}
	for _, c := range m.collectors {
		if err := reg.Register(c); err != nil {
			s.log.Warn("store: metric not registered", "err", err)
		}
	}
	s.mu.RLock()
	m.streams.Set(float64(len(s.streams)))
	s.mu.RUnlock()
	return m
}

// memoryCollector reports the memory the store holds for speed against
// its plan (memory.go), read from pebble and the tail cache at each scrape.
type memoryCollector struct{ s *Store }

var (
	memoryHeldDesc = prometheus.NewDesc("bridge_store_memory_bytes",
		"Memory the store holds for speed: pebble's block cache, its memtables (zombies included: flushed, still referenced) and the tail cache.", []string{"kind"}, nil)
	memoryPlannedDesc = prometheus.NewDesc("bridge_store_memory_planned_bytes",
		"The most each kind of memory may hold (--memory-limit); memtables: one memtable's size, of which up to five exist at once.", []string{"kind"}, nil)
)

func (memoryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- memoryHeldDesc
	ch <- memoryPlannedDesc
}

func (c memoryCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.s.db.Metrics()
	for _, v := range []struct {
		kind          string
		held, planned float64
	}{
		{"block_cache", float64(m.BlockCache.Size), float64(c.s.plan.BlockCache)},
		{"memtables", float64(m.MemTable.Size + m.MemTable.ZombieSize), float64(c.s.plan.MemTable)},
		{"tail_cache", float64(c.s.tail.used.Load()), float64(c.s.plan.TailCache)},
	} {
		ch <- prometheus.MustNewConstMetric(memoryHeldDesc, prometheus.GaugeValue, v.held, v.kind)
		ch <- prometheus.MustNewConstMetric(memoryPlannedDesc, prometheus.GaugeValue, v.planned, v.kind)
	}
}

func (m *metrics) appended(bytes, records int, took time.Duration) {
	if m == nil {
		return
	}
	m.appendBytes.Add(float64(bytes))
	m.appendRecords.Add(float64(records))
	m.appendLatency.Observe(took.Seconds())
}

func (m *metrics) read(bytes int) {
	if m != nil {
		m.readBytes.Add(float64(bytes))
	}
}

func (m *metrics) objectWritten(bytes int64) {
	if m != nil {
		m.objectWrites.Add(float64(bytes))
	}
}

func (m *metrics) objectRead(bytes int) {
	if m != nil && bytes > 0 {
		m.objectReads.Add(float64(bytes))
	}
}

func (m *metrics) streamCreated() {
	if m != nil {
		m.streams.Inc()
	}
}

func (m *metrics) streamDeleted() {
	if m != nil {
		m.streams.Dec()
	}
}

func (m *metrics) unregister() {
	if m == nil {
		return
	}
	for _, c := range m.collectors {
		m.reg.Unregister(c)
	}
}

// pebbleLogger sends pebble's log lines to slog.
type pebbleLogger struct{ log *slog.Logger }

func (l pebbleLogger) Infof(format string, args ...any) {
	l.log.Debug("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Errorf(format string, args ...any) {
	l.log.Error("pebble: " + fmt.Sprintf(format, args...))
}

func (l pebbleLogger) Fatalf(format string, args ...any) {
	l.log.Error("pebble: fatal: " + fmt.Sprintf(format, args...))
	os.Exit(1)
}
