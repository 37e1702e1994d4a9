package kafka

import (
	"reflect"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// metrics are the bridge_kafka_* collectors.
type metrics struct {
	requests  *prometheus.CounterVec   // api, error
	latency   *prometheus.HistogramVec // api
	open      prometheus.Gauge
	rejected  prometheus.Counter
	malformed prometheus.Counter
	panics    prometheus.Counter
	bytesIn   prometheus.Counter
	bytesOut  prometheus.Counter
	dups      prometheus.Counter
	// authFailures counts refused TLS handshakes and SASL exchanges.
	authFailures *prometheus.CounterVec // stage: tls, sasl
	// authentications counts SASL exchanges that succeeded, KIP-368
	// re-authentications included.
	authentications *prometheus.CounterVec // mechanism
	// denied counts authorization refusals.
	denied *prometheus.CounterVec // api
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_kafka_requests_total",
			Help: "Kafka requests answered, by API and the first error code in the response (NONE when none).",
		}, []string{"api", "error"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "bridge_kafka_request_duration_seconds",
			Help:    "Time from a Kafka request read to its response written, long polls included.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"api"}),
		open: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bridge_kafka_connections",
			Help: "Open Kafka client connections.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_kafka_connections_rejected_total",
			Help: "Kafka connections closed at accept because the connection limit was reached.",
		}),
		malformed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_kafka_malformed_requests_total",
			Help: "Kafka connections closed for a request that could not be decoded or is not supported.",
		}),
		panics: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_kafka_handler_panics_total",
			Help: "Kafka handlers that panicked; each closed its connection. Any is a bug.",
		}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_kafka_received_bytes_total",
			Help: "Bytes of Kafka requests read, frames included.",
		}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_kafka_sent_bytes_total",
			Help: "Bytes of Kafka responses written, frames included.",
		}),
		dups: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bridge_kafka_produce_duplicates_total",
			Help: "Batches of idempotent producers recognised as retries and answered without storing them again.",
		}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_kafka_authentication_failures_total",
			Help: "Kafka connections refused for failed authentication, by stage (tls: handshake or client certificate; sasl: mechanism, credentials or a request before authentication).",
		}, []string{"stage"}),
		authentications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_kafka_sasl_authentications_total",
			Help: "Successful SASL authentications (re-authentications included), by mechanism.",
		}, []string{"mechanism"}),
		denied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bridge_kafka_authorization_denied_total",
			Help: "Resources a Kafka request was refused by the authorizer (ACLs), by API.",
		}, []string{"api"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.requests, m.latency, m.open, m.rejected, m.malformed, m.panics, m.bytesIn, m.bytesOut, m.dups, m.authFailures, m.authentications, m.denied} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// observe records one answered request; resp is nil when none was written.
func (m *metrics) observe(inf *inflight, resp kmsg.Response, n int) {
	api := kmsg.NameForKey(inf.key)
	m.requests.WithLabelValues(api, errorName(firstErrorCode(resp))).Inc()
	m.latency.WithLabelValues(api).Observe(time.Since(inf.received).Seconds())
	m.bytesOut.Add(float64(n))
}

func errorName(code int16) string {
	if code == 0 {
		return "NONE"
	}
	if e, ok := kerr.ErrorForCode(code).(*kerr.Error); ok {
		return e.Message
	}
	return strconv.Itoa(int(code))
}

// firstErrorCode finds the first non-zero error code of a response. The
// busy APIs are walked directly; every other response (admin APIs, rare)
// by reflection over its ErrorCode fields, so a new API file needs nothing
// here to have its errors counted.
func firstErrorCode(resp kmsg.Response) int16 {
	switch r := resp.(type) {
	case nil:
		return 0
	case *kmsg.ProduceResponse:
		for i := range r.Topics {
			for j := range r.Topics[i].Partitions {
				if c := r.Topics[i].Partitions[j].ErrorCode; c != 0 {
					return c
				}
			}
		}
		return 0
	case *fetchResponse:
		return firstErrorCode(r.FetchResponse)
	case *kmsg.FetchResponse:
		if r.ErrorCode != 0 {
			return r.ErrorCode
		}
		for i := range r.Topics {
			for j := range r.Topics[i].Partitions {
				if c := r.Topics[i].Partitions[j].ErrorCode; c != 0 {
					return c
				}
			}
		}
		return 0
	}
	return reflectErrorCode(reflect.ValueOf(resp), 0)
}

func reflectErrorCode(v reflect.Value, depth int) int16 {
	if depth > 6 {
		return 0
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return 0
		}
		return reflectErrorCode(v.Elem(), depth+1)
	case reflect.Struct:
		if f := v.FieldByName("ErrorCode"); f.IsValid() && f.Kind() == reflect.Int16 && f.Int() != 0 {
			return int16(f.Int())
		}
		for i := 0; i < v.NumField(); i++ {
			if k := v.Field(i).Kind(); k == reflect.Slice || k == reflect.Struct {
				if c := reflectErrorCode(v.Field(i), depth+1); c != 0 {
					return c
				}
			}
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() != reflect.Struct {
			return 0
		}
		for i := 0; i < v.Len(); i++ {
			if c := reflectErrorCode(v.Index(i), depth+1); c != 0 {
				return c
			}
		}
	}
	return 0
}
