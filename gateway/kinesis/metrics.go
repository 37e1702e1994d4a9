package kinesis

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_kinesis_requests_total",
			Help: "Kinesis API requests by operation and outcome (OK or the error type).",
		}, []string{"operation", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bridge_kinesis_request_seconds",
			Help:    "Time to answer a Kinesis API request, by operation (event streams: their whole life).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"operation"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.seconds} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(op, code string, d time.Duration) {
	if operations.Lookup(op) == nil {
		op = "unknown" // bound the label set
	}
	m.requests.WithLabelValues(op, code).Inc()
	m.seconds.WithLabelValues(op).Observe(d.Seconds())
}
