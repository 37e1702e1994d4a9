package kinesis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/store"
)

// targetPrefix starts the X-Amz-Target of every Kinesis operation.
const targetPrefix = "Kinesis_20131202."

// TargetPrefix is targetPrefix for the AWS port's router, which sends the
// requests that carry it here.
const TargetPrefix = targetPrefix

// maxBodyBytes bounds a request body: a 10 MiB record (UpdateMaxRecordSize's
// ceiling) base64-encoded in JSON, with room to spare.
const maxBodyBytes = 16 << 20

// Config configures a Handler.
type Config struct {
	// Store holds the streams. Required.
	Store store.Store
	// Logger receives request problems; nil discards them.
	Logger *slog.Logger
	// Registerer takes the bridge_kinesis_* collectors; nil registers none.
	Registerer prometheus.Registerer
	// Region and Account appear in ARNs; empty means us-east-1 and
	// 000000000000.
	Region  string
	Account string
	// EnforceLimits emulates provisioned throughput per shard (1 MB/s or
	// 1000 records/s in, 2 MB/s and 5 GetRecords calls/s out).
	EnforceLimits bool
	// StateDelay keeps streams CREATING, UPDATING or DELETING this long
	// before they become ACTIVE (or go), so clients' waiters are exercised.
	StateDelay time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Authorizer decides each request by IAM policies (authz.go); nil
	// allows every request.
	Authorizer awsapi.Authorizer
	// Audit records denied requests and control-plane calls; nil records
	// none.
	Audit *audit.Log
	// Offload keeps records over a stream's offload threshold as objects
	// (gateway/payloads) and restores them on reads (offload.go); nil
	// offloads nothing and returns pointer records as stored.
	Offload *payloads.Offloader
}

// Handler serves the Kinesis API. It is an http.Handler for the AWS port;
// Shutdown ends its long-lived responses (SubscribeToShard).
type Handler struct {
	store store.Store
	cfg   Config
	log   *slog.Logger
	m     *metrics
	data  *dataPlane

	draining     chan struct{}
	drainingOnce sync.Once
}

// New returns a Handler over cfg.Store.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("kinesis: Config.Store is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Handler{store: cfg.Store, cfg: cfg, log: log, m: m, data: newDataPlane(cfg.Store), draining: make(chan struct{})}, nil
}

// Shutdown makes long-lived responses end now. It does not wait for them:
// the HTTP server's drain does.
func (h *Handler) Shutdown(context.Context) error {
	h.drainingOnce.Do(func() { close(h.draining) })
	return nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	name := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	x := &exchange{W: w, R: r, Op: name}
	w.Header().Set(awsapi.HeaderRequestID, uuid.NewString())

	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	c, ok := codecFor(mt)
	if !ok {
		c = jsonCodec{}
	}
	x.Codec = c
	err := h.serve(r.Context(), x, ok)
	code := "OK"
	if err == nil {
		h.audit(x, "", "")
	} else {
		e := errorMap.Of(err)
		code = e.Type
		h.audit(x, e.Type, e.Message)
		if e.Status >= 500 {
			h.log.Error("kinesis: request failed", "op", name, "err", err)
		} else {
			h.log.Debug("kinesis: request refused", "op", name, "type", e.Type, "message", e.Message)
		}
		e.WriteJSON(w, c)
	}
	h.m.observe(name, code, time.Since(start))
}

func (h *Handler) serve(ctx context.Context, x *exchange, knownType bool) error {
	r := x.R
	if r.Method != http.MethodPost {
		return newError(errUnknownOperation, "")
	}
	op := operations.Lookup(x.Op)
	if op == nil || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), targetPrefix) {
		return newError(errUnknownOperation, "")
	}
	if !knownType {
		return newError(errSerialization, "Unsupported Content-Type %q", r.Header.Get("Content-Type"))
	}
	buf := bodies.Get().(*bytes.Buffer)
	defer bodies.Put(buf) // decoding copies what it keeps: done with the body when serve returns
	buf.Reset()
	if n := r.ContentLength; n > 0 && n <= maxBodyBytes {
		buf.Grow(int(n) + bytes.MinRead) // ReadFrom wants MinRead spare to see EOF
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(x.W, r.Body, maxBodyBytes)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Error{Status: http.StatusRequestEntityTooLarge, Type: errSerialization, Message: fmt.Sprintf("Request body over %d bytes", maxBodyBytes)}
		}
		return newError(errSerialization, "reading the body: %v", err)
	}
	x.Body = buf.Bytes()
	x.Scratch = scratches.Get().(*[]byte)
	defer scratches.Put(x.Scratch)
	return op(ctx, h, x)
}

// bodies keeps request body buffers between requests. PutRecords bodies run
// to megabytes: read into one buffer of the right size that the process
// used moments ago, they cost a quarter of what growing a new one did
// (io.ReadAll), on the machines measured.
var bodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// scratches keeps the buffers PutRecords decodes its records' data into,
// for the same reason.
var scratches = sync.Pool{New: func() any { return new([]byte) }}

func (h *Handler) now() time.Time { return h.cfg.Now() }
