package runtime

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the per-connector and per-task figures on /metrics. A nil
// *Metrics records nothing.
type Metrics struct {
	polled     *prometheus.CounterVec
	written    *prometheus.CounterVec
	read       *prometheus.CounterVec
	put        *prometheus.CounterVec
	errors     *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	dlq        *prometheus.CounterVec
	failures   *prometheus.CounterVec
	lastCommit *prometheus.GaugeVec
	lag        *prometheus.GaugeVec
}

// NewMetrics registers the Connect metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	task := []string{"connector", "task"}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		c := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "bridge", Subsystem: "connect", Name: name, Help: help}, labels)
		reg.MustRegister(c)
		return c
	}
	gauge := func(name, help string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "bridge", Subsystem: "connect", Name: name, Help: help}, task)
		reg.MustRegister(g)
		return g
	}
	return &Metrics{
		polled:     counter("source_records_polled_total", "Records source tasks polled from their systems.", task...),
		written:    counter("source_records_written_total", "Records source tasks wrote to Kafka (acknowledged).", task...),
		read:       counter("sink_records_read_total", "Records sink tasks consumed from Kafka.", task...),
		put:        counter("sink_records_put_total", "Records sink tasks handed to their connectors' Put.", task...),
		errors:     counter("errors_total", "Record failures by stage, before tolerance.", "connector", "task", "stage"),
		skipped:    counter("records_skipped_total", "Records dropped by errors.tolerance=all.", task...),
		dlq:        counter("deadletterqueue_produced_total", "Records written to the dead letter queue.", task...),
		failures:   counter("task_failures_total", "Tasks that failed.", task...),
		lastCommit: gauge("last_commit_timestamp_seconds", "When the task last committed offsets (Unix seconds)."),
		lag:        gauge("sink_lag_records", "Records between a sink task's position and the high watermarks of its partitions."),
	}
}

func labels(id TaskID) []string { return []string{id.Connector, strconv.Itoa(id.Task)} }

func add(c *prometheus.CounterVec, id TaskID, n int) {
	if n > 0 {
		c.WithLabelValues(labels(id)...).Add(float64(n))
	}
}

func (m *Metrics) sourcePolled(id TaskID, n int) {
	if m != nil {
		add(m.polled, id, n)
	}
}

func (m *Metrics) sourceWritten(id TaskID, n int) {
	if m != nil {
		add(m.written, id, n)
	}
}

func (m *Metrics) sinkRead(id TaskID, n int) {
	if m != nil {
		add(m.read, id, n)
	}
}

func (m *Metrics) sinkPut(id TaskID, n int) {
	if m != nil {
		add(m.put, id, n)
	}
}

func (m *Metrics) recordSkipped(id TaskID) {
	if m != nil {
		add(m.skipped, id, 1)
	}
}

func (m *Metrics) recordDLQ(id TaskID) {
	if m != nil {
		add(m.dlq, id, 1)
	}
}

func (m *Metrics) taskFailed(id TaskID) {
	if m != nil {
		add(m.failures, id, 1)
	}
}

func (m *Metrics) recordError(id TaskID, stage Stage) {
	if m != nil {
		m.errors.WithLabelValues(id.Connector, strconv.Itoa(id.Task), string(stage)).Inc()
	}
}

func (m *Metrics) committed(id TaskID, at time.Time) {
	if m != nil {
		m.lastCommit.WithLabelValues(labels(id)...).Set(float64(at.UnixNano()) / 1e9)
	}
}

func (m *Metrics) setLag(id TaskID, lag int64) {
	if m != nil {
		m.lag.WithLabelValues(labels(id)...).Set(float64(lag))
	}
}
