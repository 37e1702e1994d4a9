// Package rest serves the Kafka Connect REST API over a herder
// (connect/herder's standalone Herder or its Distributed one): Kafka Connect's paths, bodies, status codes and error
// messages, so curl scripts, kcctl, Terraform providers and UIs written for
// Kafka Connect drive a StreamBridge worker unchanged.
//
// Every answer is JSON. Errors are {"error_code": N, "message": "..."}, and
// so are the router's own: an unknown path is 404 "HTTP 404 Not Found", a
// known path with another method 405 "HTTP 405 Method Not Allowed", a body
// that is not declared application/json 415, as Kafka's Jersey answers
// them. Request bodies are bounded (maxBody) and decoded strictly into the
// shapes Kafka accepts; a scalar config value that is not a string (a
// number, a boolean) is taken as its JSON text, as Jackson coerces it.
//
// A change the herder says belongs to another worker (*herder.ForwardError:
// the distributed group's leader, or the worker running a task) is sent
// there as it came and its answer relayed (forward.go); a request is
// forwarded at most twice, as Kafka's HerderRequestHandler does.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/runtime"
)

// Herder is what the REST API asks: connect/herder's standalone Herder and
// its Distributed one both answer it, with the same errors (*herder.Error
// carries the HTTP status).
type Herder interface {
	Connectors() []string
	Info(name string) (herder.ConnectorInfo, error)
	ConnectorConfig(name string) (connect.Config, error)
	TaskConfigs(name string) ([]herder.TaskInfo, error)
	Put(ctx context.Context, name string, cfg connect.Config, replace bool, initial herder.TargetState) (herder.ConnectorInfo, bool, error)
	Patch(ctx context.Context, name string, patch map[string]*string) (herder.ConnectorInfo, error)
	Delete(ctx context.Context, name string) error
	Pause(name string) error
	Resume(name string) error
	Stop(name string) error
	Restart(name string, includeTasks, onlyFailed bool) (*herder.ConnectorStatus, error)
	RestartTask(id runtime.TaskID) error
	Status(name string) (herder.ConnectorStatus, error)
	TaskStatus(id runtime.TaskID) (herder.TaskState, error)
	ActiveTopics(name string) []string
	ResetActiveTopics(name string) error
	GetOffsets(ctx context.Context, name string) (herder.Offsets, error)
	AlterOffsets(ctx context.Context, name string, body herder.Offsets) (string, error)
	ResetOffsets(ctx context.Context, name string) (string, error)
	Validate(ctx context.Context, cfg connect.Config) (herder.ConfigInfos, error)
	Registry() *connect.Registry
	ClusterID(ctx context.Context) string
	Ready() bool
}

// The standalone herder and the distributed one serve the same API.
var (
	_ Herder = (*herder.Herder)(nil)
	_ Herder = (*herder.Distributed)(nil)
)

// Config is what the handler serves.
type Config struct {
	Herder Herder
	// Version and Commit answer GET /.
	Version, Commit string
	Logger          *slog.Logger
	// ForwardClient sends the requests another worker must serve (a
	// distributed herder's *herder.ForwardError); nil uses a plain client
	// bounded by each request's context.
	ForwardClient *http.Client
}

// Handler is the REST API.
type Handler struct {
	cfg Config
	log *slog.Logger
	mux *http.ServeMux
}

// New returns the REST API's handler.
func New(cfg Config) *Handler {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Handler{cfg: cfg, log: log, mux: http.NewServeMux()}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		r = holdBody(r) // a write may have to be forwarded (forward.go)
	}
	s.mux.ServeHTTP(w, r)
}

// route is one path and its handlers by method.
type route struct {
	path    string
	methods map[string]http.HandlerFunc
}

func (s *Handler) routes() {
	const c = "/connectors/{name}"
	for _, rt := range []route{
		{"/{$}", map[string]http.HandlerFunc{"GET": s.root}},
		{"/health", map[string]http.HandlerFunc{"GET": s.health}},
		{"/connectors", map[string]http.HandlerFunc{"GET": s.listConnectors, "POST": s.createConnector}},
		{c, map[string]http.HandlerFunc{"GET": s.getConnector, "DELETE": s.deleteConnector}},
		{c + "/config", map[string]http.HandlerFunc{"GET": s.getConfig, "PUT": s.putConfig, "PATCH": s.patchConfig}},
		{c + "/status", map[string]http.HandlerFunc{"GET": s.getStatus}},
		{c + "/restart", map[string]http.HandlerFunc{"POST": s.restart}},
		{c + "/pause", map[string]http.HandlerFunc{"PUT": s.target(s.cfg.Herder.Pause)}},
		{c + "/resume", map[string]http.HandlerFunc{"PUT": s.target(s.cfg.Herder.Resume)}},
		{c + "/stop", map[string]http.HandlerFunc{"PUT": s.target(s.cfg.Herder.Stop)}},
		{c + "/tasks", map[string]http.HandlerFunc{"GET": s.getTasks}},
		{c + "/tasks/{task}/status", map[string]http.HandlerFunc{"GET": s.getTaskStatus}},
		{c + "/tasks/{task}/restart", map[string]http.HandlerFunc{"POST": s.restartTask}},
		{c + "/topics", map[string]http.HandlerFunc{"GET": s.getTopics}},
		{c + "/topics/reset", map[string]http.HandlerFunc{"PUT": s.resetTopics}},
		{c + "/offsets", map[string]http.HandlerFunc{"GET": s.getOffsets, "PATCH": s.alterOffsets, "DELETE": s.resetOffsets}},
		{"/connector-plugins", map[string]http.HandlerFunc{"GET": s.listPlugins}},
		{"/connector-plugins/{plugin}/config", map[string]http.HandlerFunc{"GET": s.pluginConfig}},
		{"/connector-plugins/{plugin}/config/validate", map[string]http.HandlerFunc{"PUT": s.validate}},
	} {
		for method, h := range rt.methods {
			s.mux.HandleFunc(method+" "+rt.path, h)
		}
		// The same path without a method is less specific than every
		// pattern above, so it only catches the other methods.
		s.mux.HandleFunc(rt.path, func(w http.ResponseWriter, r *http.Request) {
			writeError(w, http.StatusMethodNotAllowed, "HTTP 405 Method Not Allowed")
		})
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "HTTP 404 Not Found")
	})
}

// errorBody is Kafka Connect's ErrorMessage.
type errorBody struct {
	ErrorCode int    `json:"error_code"`
	Message   string `json:"message"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{code, msg})
}

// fail answers err: a herder.Error with its code, anything else 500.
func (s *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var fe *herder.ForwardError
	if errors.As(err, &fe) {
		s.forward(w, r, fe)
		return
	}
	var he *herder.Error
	if errors.As(err, &he) {
		writeError(w, he.Code, he.Message)
		return
	}
	var be *bodyError
	if errors.As(err, &be) {
		writeError(w, be.code, be.msg)
		return
	}
	s.log.Error("connect rest: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, err.Error())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// connectorLocation is the Location of a created connector: absolute, as
// Jersey makes it.
func connectorLocation(r *http.Request, name string) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: "/connectors/" + name}).String()
}

func (s *Handler) root(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), clusterIDTimeout)
	defer cancel()
	writeJSON(w, http.StatusOK, serverInfo{s.cfg.Version, s.cfg.Commit, s.cfg.Herder.ClusterID(ctx)})
}

// serverInfo is GET /'s answer, fields in Kafka's order.
type serverInfo struct {
	Version        string `json:"version"`
	Commit         string `json:"commit"`
	KafkaClusterID string `json:"kafka_cluster_id"`
}

// healthInfo is GET /health's answer (KIP-1017), fields in Kafka's order.
type healthInfo struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// health is KIP-1017's GET /health.
func (s *Handler) health(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.Herder.Ready() {
		writeJSON(w, http.StatusServiceUnavailable, healthInfo{"starting", "Worker is still starting up."})
		return
	}
	writeJSON(w, http.StatusOK, healthInfo{"healthy", "Worker has completed startup and is ready to handle requests."})
}

func errorf(code int, format string, args ...any) error {
	return &bodyError{code, fmt.Sprintf(format, args...)}
}
