package sqs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/internal/seal"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/store"
)

// TargetPrefix starts the X-Amz-Target of every SQS JSON 1.0 request.
const TargetPrefix = "AmazonSQS."

// Namespace is the xmlns of SQS's Query answers.
const Namespace = "http://queue.amazonaws.com/doc/2012-11-05/"

// maxBodyBytes bounds a request body: a batch of 1 MiB (the total SQS
// allows), form- or JSON-encoded, with room to spare.
const maxBodyBytes = 4 << 20

// Config configures a Handler.
type Config struct {
	// Store holds the queues. Required.
	Store store.Store
	// Logger receives request problems; nil discards them.
	Logger *slog.Logger
	// Registerer takes the bridge_sqs_* collectors; nil registers none.
	Registerer prometheus.Registerer
	// Region and Account appear in ARNs and queue URLs; empty means
	// us-east-1 and 000000000000.
	Region  string
	Account string
	// QueueURLHost is the HOST:PORT (or scheme://HOST:PORT) queue URLs
	// name; empty means the host each request came to, so a client reaches
	// the URLs it is given the way it reached the API.
	QueueURLHost string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	// Authorizer decides each request by IAM policies (authz.go); nil
	// allows every request.
	Authorizer awsapi.Authorizer
	// Audit records denied requests and control-plane calls; nil records
	// none.
	Audit *audit.Log
	// Offload reads and deletes large payloads kept as objects
	// (offload.go): pointer records are received in the extended clients'
	// form and messages sent in it are marked for Kafka consumers to read
	// restored. nil turns that off: records are messages as stored.
	Offload *payloads.Offloader
}

// Handler serves the SQS API in both its protocols (JSON 1.0 and Query)
// on the AWS port. Shutdown ends the long polls in progress and stops the
// message move tasks, which New resumes.
type Handler struct {
	store    store.Store
	cfg      Config
	log      *slog.Logger
	m        *metrics
	receipts *seal.Key
	query    awsapi.QueryProtocol

	// lifecycle orders CreateQueue and DeleteQueue, so a queue's state is
	// gone before another queue of its name exists.
	lifecycle sync.Mutex

	mu     sync.Mutex
	queues map[string]*queue    // open queues by name
	purged map[string]time.Time // last PurgeQueue of a queue

	draining     chan struct{}
	drainingOnce sync.Once

	moves moveTasks // message move tasks (movetasks.go)

	// inFlightLimit is SQS's in-flight quota per queue (inflight.go);
	// tests lower it.
	inFlightLimit int64
}

// New returns a Handler over cfg.Store.
func New(cfg Config) (*Handler, error) {
	if cfg.Store == nil {
		return nil, errors.New("sqs: Config.Store is required")
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
	h := &Handler{
		store:    cfg.Store,
		cfg:      cfg,
		log:      log,
		m:        m,
		receipts: seal.New(cfg.Store, receiptKeyNamespace, receiptKeyName),
		query: awsapi.QueryProtocol{
			Namespace: Namespace,
			Invalid:   awsapi.Error{Type: jsonType(ErrInvalidParameterValue.Type), QueryCode: ErrInvalidParameterValue.QueryCode},
		},
		queues:   map[string]*queue{},
		purged:   map[string]time.Time{},
		draining: make(chan struct{}),

		inFlightLimit: defaultInFlightLimit,
	}
	// Move tasks a restart interrupted go on (movetasks_persist.go).
	if err := h.resumeMoveTasks(context.Background()); err != nil {
		return nil, fmt.Errorf("sqs: loading message move tasks: %w", err)
	}
	return h, nil
}

// Shutdown makes long polls answer now, with what they have. It does not
// wait for them: the HTTP server's drain does. It stops the message move
// tasks and waits for them until ctx ends, so none outlives the store.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.drainingOnce.Do(func() { close(h.draining) })
	return h.moves.stop(ctx)
}

// Actions are the operations, as a Query request's Action names them.
func Actions() []string { return operations.Names() }

// operations are the SQS operations by name; both protocols share them.
var operations awsapi.Registry[*Handler]

// exchange is one request being answered.
type exchange = awsapi.Exchange

// register adds an operation whose function takes a decoded *In and
// returns an *Out to answer with. It runs from init functions.
// fn is a method expression, (*Handler).op, hence the receiver first.
func register[In, Out any](name string, fn func(h *Handler, ctx context.Context, x *exchange, in *In) (*Out, error)) {
	operations.Add(name, func(ctx context.Context, h *Handler, x *exchange) error {
		in := new(In)
		if f, ok := any(in).(fastJSON); !ok || x.Query != nil || !f.decodeFastJSON(x.Body) {
			if err := x.Decode(in); err != nil {
				return err
			}
		}
		if err := h.authorize(ctx, x, in); err != nil {
			return err
		}
		out, err := fn(h, ctx, x, in)
		if err != nil {
			return err
		}
		return x.Respond(out)
	})
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set(awsapi.HeaderRequestID, uuid.NewString())
	x := &exchange{W: w, R: r, Codec: awsapi.JSON10{}}
	err := h.serve(r.Context(), x)
	protocol := "json"
	if x.Query != nil {
		protocol = "query"
	}
	if err == nil {
		h.audit(x, "", "")
		h.m.observe(x.Op, protocol, "OK", time.Since(start))
		return
	}
	e := h.errorOf(err, x.Query != nil)
	code := e.QueryCode
	if code == "" {
		code = e.Type
	}
	h.audit(x, code, e.Message)
	h.m.observe(x.Op, protocol, code, time.Since(start))
	if e.StatusCode() >= 500 {
		h.log.Error("sqs: request failed", "op", x.Op, "err", err)
	} else {
		h.log.Debug("sqs: request refused", "op", x.Op, "code", e.QueryCode, "message", e.Message)
	}
	x.WriteError(e)
}

// serve reads the request in its protocol and runs its operation.
func (h *Handler) serve(ctx context.Context, x *exchange) error {
	r := x.R
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		x.Op = strings.TrimPrefix(target, TargetPrefix)
		if r.Method != http.MethodPost || !strings.HasPrefix(target, TargetPrefix) {
			return unknownOperation(x.Op)
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != awsapi.ContentTypeJSON10 && mt != "application/json" && mt != "" {
			return awsapi.Errorf(http.StatusBadRequest, awsapi.TypeSerialization, "Unsupported Content-Type %q", r.Header.Get("Content-Type"))
		}
		body, err := readBody(x.W, r)
		if err != nil {
			return err
		}
		x.Body = body
	} else {
		form, ok, err := awsapi.QueryForm(r)
		if !ok {
			return awsapi.Errorf(http.StatusBadRequest, awsapi.CodeMissingAction, "no Action in the request")
		}
		x.Query, x.Form, x.Op = &h.query, form, form.Get("Action")
		if err != nil {
			return err
		}
		// A Query request may name its queue by the path it is sent to.
		if x.Form.Get("QueueUrl") == "" && strings.Count(r.URL.Path, "/") == 2 {
			x.Form.Set("QueueUrl", r.URL.Path)
		}
	}
	op := operations.Lookup(x.Op)
	if op == nil {
		return unknownOperation(x.Op)
	}
	return op(ctx, h, x)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	if n := r.ContentLength; n > 0 && n <= maxBodyBytes {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBodyBytes)); err != nil && !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &awsapi.Error{Status: http.StatusRequestEntityTooLarge, Type: awsapi.TypeSerialization, Message: fmt.Sprintf("Request body over %d bytes", maxBodyBytes)}
		}
		return nil, awsapi.Errorf(http.StatusBadRequest, awsapi.TypeSerialization, "reading the body: %v", err)
	}
	return buf.Bytes(), nil
}

// unknownOperation is SQS's answer to an operation it does not have.
func unknownOperation(op string) error {
	return &awsapi.Error{Status: http.StatusBadRequest, Type: "UnknownOperationException", QueryCode: awsapi.CodeInvalidAction,
		Message: fmt.Sprintf("The action %s is not valid for this endpoint.", op)}
}

// jsonType is an SQS error's __type in a JSON answer.
func jsonType(t string) string { return "com.amazonaws.sqs#" + t }

// errorStatus is the HTTP status of the errors SQS does not answer with
// 400, from the service model.
var errorStatus = map[string]int{
	"ReceiptHandleIsInvalid": http.StatusNotFound,
	"PurgeQueueInProgress":   http.StatusForbidden,
	"OverLimit":              http.StatusForbidden,
}

// errorOf turns what an operation returned into the answer to write, for
// a request in the Query protocol or not.
func (h *Handler) errorOf(err error, query bool) *awsapi.Error {
	var se *Error
	if errors.As(err, &se) {
		status := http.StatusBadRequest
		if s, ok := errorStatus[se.Type]; ok {
			status = s
		}
		msg := se.Message
		if query && se.Type == errNoQueue.Type {
			// The Query protocol still words it as SOAP-era SQS did.
			msg = "The specified queue does not exist for this wsdl version."
		}
		return &awsapi.Error{Status: status, Type: jsonType(se.Type), QueryCode: se.QueryCode, Message: msg}
	}
	var ae *awsapi.Error
	if errors.As(err, &ae) {
		return ae
	}
	switch {
	case errors.Is(err, store.ErrStreamNotFound), errors.Is(err, errNotQueue):
		return h.errorOf(errNoQueue, query)
	case errors.Is(err, store.ErrUnsupported):
		return h.errorOf(newError(ErrUnsupportedOperation, "%v", err), query)
	case store.IsKeyError(err):
		return h.errorOf(kmsError(err), query)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return &awsapi.Error{Status: http.StatusServiceUnavailable, Type: "ServiceUnavailable", QueryCode: "ServiceUnavailable", Message: "The request was cancelled."}
	}
	return &awsapi.Error{Status: http.StatusInternalServerError, Type: jsonType("InternalError"), QueryCode: "InternalError", Message: "We encountered an internal error. Please try again."}
}

func (h *Handler) now() time.Time { return h.cfg.Now() }

// baseURL is what queue URLs start with for a request.
func (h *Handler) baseURL(r *http.Request) string {
	host := h.cfg.QueueURLHost
	if strings.Contains(host, "://") {
		return host
	}
	if host == "" {
		host = r.Host
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + host
}

// queueURL is the URL of queue name, as a request to r prints it.
func (h *Handler) queueURL(r *http.Request, name string) string {
	return queueURL(h.baseURL(r), h.cfg.Account, name)
}

// queueARN is the ARN of queue name.
func (h *Handler) queueARN(name string) string {
	return "arn:aws:sqs:" + h.cfg.Region + ":" + h.cfg.Account + ":" + name
}

// queueOfARN returns the queue an SQS ARN of this account names.
func (h *Handler) queueOfARN(arn string) (string, bool) {
	return strings.CutPrefix(arn, "arn:aws:sqs:"+h.cfg.Region+":"+h.cfg.Account+":")
}
