package kms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/security/audit"
	localkms "github.com/streambridge/bridge/security/kms"
)

// TargetPrefix starts the X-Amz-Target of every KMS operation, for the AWS
// port's router.
const TargetPrefix = "TrentService."

// SigningName is what KMS requests are signed for (SigV4).
const SigningName = "kms"

// maxBodyBytes bounds a request body: KMS's largest inputs are a few
// kilobytes (4096 bytes of plaintext, 6144 of ciphertext, base64), tags
// and policies aside.
const maxBodyBytes = 1 << 20

// Config configures a Handler.
type Config struct {
	// Keyring holds the keys. Required.
	Keyring *localkms.Keyring
	// Logger receives request problems; nil discards them.
	Logger *slog.Logger
	// Authorizer decides each request by IAM policies (authz.go); nil
	// allows every request.
	Authorizer awsapi.Authorizer
	// Audit records denied requests and the calls that change keys or
	// aliases; nil records none.
	Audit *audit.Log
}

// Handler serves the KMS API. It is an http.Handler for the AWS port.
type Handler struct {
	keys *localkms.Keyring
	cfg  Config
	log  *slog.Logger
}

// New returns a Handler over cfg.Keyring.
func New(cfg Config) (*Handler, error) {
	if cfg.Keyring == nil {
		return nil, errors.New("kms: Config.Keyring is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{keys: cfg.Keyring, cfg: cfg, log: log}, nil
}

// operations are the KMS operations, as X-Amz-Target names them after
// TargetPrefix.
var operations = awsapi.Registry[*Handler]{Authorize: authorize}

// exchange is one request being answered.
type exchange = awsapi.Exchange

// register adds an operation. It runs from init functions. fn is a
// method expression, (*Handler).op, hence the receiver first.
func register[In, Out any](name string, fn func(h *Handler, ctx context.Context, in *In) (*Out, error)) {
	awsapi.Register(&operations, name, func(ctx context.Context, h *Handler, in *In) (*Out, error) { return fn(h, ctx, in) })
}

// Operations returns the names of the served operations, sorted.
func Operations() []string { return operations.Names() }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(awsapi.HeaderRequestID, uuid.NewString())
	x := &exchange{W: w, R: r, Op: strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix), Codec: awsapi.JSON11{}}
	err := h.serve(r.Context(), x)
	if err == nil {
		h.audit(x, "", "")
		return
	}
	e := errorOf(err)
	h.audit(x, e.Type, e.Message)
	if e.StatusCode() >= 500 {
		h.log.Error("kms: request failed", "op", x.Op, "err", err)
	} else {
		h.log.Debug("kms: request refused", "op", x.Op, "type", e.Type, "message", e.Message)
	}
	e.WriteJSON(w, x.Codec)
}

func (h *Handler) serve(ctx context.Context, x *exchange) error {
	r := x.R
	op := operations.Lookup(x.Op)
	if r.Method != http.MethodPost || op == nil || !strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix) {
		// As Kinesis answers: the type, no message.
		return &awsapi.Error{Status: http.StatusBadRequest, Type: awsapi.TypeUnknownOperation}
	}
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case awsapi.ContentTypeJSON11, awsapi.ContentTypeJSON10, "application/json", "":
	default:
		return awsapi.Errorf(http.StatusBadRequest, awsapi.TypeSerialization, "Unsupported Content-Type %q", r.Header.Get("Content-Type"))
	}
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(http.MaxBytesReader(x.W, r.Body, maxBodyBytes)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &awsapi.Error{Status: http.StatusRequestEntityTooLarge, Type: awsapi.TypeSerialization, Message: fmt.Sprintf("Request body over %d bytes", maxBodyBytes)}
		}
		return awsapi.Errorf(http.StatusBadRequest, awsapi.TypeSerialization, "reading the body: %v", err)
	}
	x.Body = buf.Bytes()
	return op(ctx, h, x)
}

// statusOf is the HTTP status of the KMS errors not answered with 400,
// from the service model.
var statusOf = map[string]int{
	localkms.CodeInternal:          http.StatusInternalServerError,
	localkms.CodeDependencyTimeout: http.StatusServiceUnavailable,
	localkms.CodeKeyUnavailable:    http.StatusInternalServerError,
}

// errorMap words the errors no operation chose.
var errorMap = awsapi.ErrorMap{
	Unsupported: awsapi.Error{Status: http.StatusBadRequest, Type: localkms.CodeUnsupportedOperation},
	Internal:    awsapi.Error{Status: http.StatusInternalServerError, Type: localkms.CodeInternal},
}

// errorOf turns an operation's error into the answer: the keyring's
// *kms.Error keeps its code (KMS's exception name) as the __type.
func errorOf(err error) *awsapi.Error {
	var ke *localkms.Error
	if errors.As(err, &ke) {
		status, ok := statusOf[ke.Code]
		if !ok {
			status = http.StatusBadRequest
		}
		return &awsapi.Error{Status: status, Type: ke.Code, Message: ke.Message}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &awsapi.Error{Status: http.StatusServiceUnavailable, Type: localkms.CodeDependencyTimeout, Message: "The request was cancelled."}
	}
	return errorMap.Of(err)
}
