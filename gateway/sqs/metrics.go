package sqs

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
			Name: "bridge_sqs_requests_total",
			Help: "SQS API requests by operation, protocol (json or query) and outcome (OK or the error's Query code).",
		}, []string{"operation", "protocol", "code"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bridge_sqs_request_seconds",
			Help:    "Time to answer an SQS API request, by operation (long polls: their whole wait).",
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

func (m *metrics) observe(op, protocol, code string, d time.Duration) {
	if operations.Lookup(op) == nil {
		op = "unknown" // bound the label set
	}
	m.requests.WithLabelValues(op, protocol, code).Inc()
	m.seconds.WithLabelValues(op).Observe(d.Seconds())
}
