// Package admin serves a bridge process's operator endpoints: liveness,
// readiness, Prometheus metrics and Go profiles. It knows nothing about Kafka, AWS or the
// store; whoever owns the lifecycle tells it whether the process is ready, and
// every component registers its own metrics on the registry it is handed.
package admin

import (
	"net/http"
	"net/http/pprof"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streambridge/bridge/internal/buildinfo"
)

// NewRegistry returns a registry holding the Go runtime and process
// collectors and the bridge_build_info gauge.
//
// Each server gets its own registry rather than the global default one, so
// several servers can run in one test binary without duplicate-registration
// panics, and a scrape shows exactly what one server exports.
func NewRegistry(info buildinfo.Info) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		BuildInfoGauge(info),
	)
	return reg
}

// BuildInfoGauge returns the constant bridge_build_info gauge, 1 with the
// version and Go version as labels: the usual way to join "which build" onto
// any other series in a dashboard.
func BuildInfoGauge(info buildinfo.Info) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "bridge_build_info",
		Help: "Build of the running bridge; always 1.",
		ConstLabels: prometheus.Labels{
			"version":   info.Version,
			"goversion": info.GoVersion,
		},
	})
	g.Set(1)
	return g
}

// NewHandler returns the admin HTTP handler:
//
//	GET /healthz  200 "ok" while the process runs (liveness: restart me if this fails)
//	GET /readyz   200 "ready" when ready() returns nil, else 503 and the reason
//	              (readiness: send me traffic only when this succeeds)
//	GET /metrics  Prometheus exposition of reg
//	GET /debug/pprof/...  Go's runtime profiles (net/http/pprof), for
//	              operators chasing CPU or memory; the admin port is the
//	              operator's, not the clients'
//
// ready is called on every /readyz request and must be cheap and safe for
// concurrent use.
func NewHandler(reg *prometheus.Registry, ready func() error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeText(w, http.StatusOK, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(); err != nil {
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
		writeText(w, http.StatusOK, "ready")
	})
	mux.Handle("GET /metrics", promhttp.InstrumentMetricHandler(reg,
		promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	return mux
}

func writeText(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	// Probes must see the live answer, never a cached one.
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
