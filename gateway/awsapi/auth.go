package awsapi

// Authentication on the AWS port: the Router checks each request's SigV4
// signature before the API sees it, when an Authenticator is set, and
// answers a refusal in the API's own words.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"

	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/sigv4"
)

// Authenticator checks a request's signature for the service it is
// signed for; *sigv4.Verifier is one. payload is the whole body. An error
// that is a *sigv4.Error is the client's fault and is answered in the
// API's words; any other is the bridge's (500).
type Authenticator interface {
	Verify(r *http.Request, svc sigv4.Service, payload []byte) (sigv4.Identity, error)
}

// AuthWording is how an API words an authentication failure, which AWS
// does one way for JSON services and another for Query services.
type AuthWording int

const (
	// AuthJSON is the JSON services' way (Kinesis): HTTP 400 and the
	// Coral exception names (UnrecognizedClientException,
	// InvalidSignatureException, IncompleteSignatureException,
	// MissingAuthenticationTokenException) as __type.
	AuthJSON AuthWording = iota
	// AuthQuery is the Query services' way (SQS, in both its protocols):
	// the Query codes (InvalidClientTokenId, SignatureDoesNotMatch,
	// IncompleteSignature, MissingAuthenticationToken), HTTP 403 (400 for
	// IncompleteSignature, as AWS's common-errors pages list it). A JSON
	// answer carries the code in x-amzn-query-error, where SDKs of a
	// Query-compatible service read it, and the Coral name in __type.
	AuthQuery
	// AuthS3 is S3's way: its own codes and statuses (AccessDenied,
	// SignatureDoesNotMatch, InvalidAccessKeyId, XAmzContentSHA256Mismatch,
	// sigv4.Code.S3Code) in S3's XML error.
	AuthS3
)

// Principal is who signed a request that the Router authenticated. An
// API finds it with PrincipalFrom(r.Context()).
type Principal struct {
	// AccessKeyID identifies the principal: authorization decisions key on
	// it.
	AccessKeyID string
	// Name is the credential's name in the credentials file, for logs.
	Name string
}

type principalKey struct{}

// PrincipalFrom returns the principal the Router authenticated the
// request of ctx as. ok is false when authentication is off.
func PrincipalFrom(ctx context.Context) (p Principal, ok bool) {
	p, ok = ctx.Value(principalKey{}).(Principal)
	return p, ok
}

// WithPrincipal returns ctx carrying p, as the Router does for an
// authenticated request; for tests and for other front ends that
// authenticate.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// SetAuthenticator makes the router check every request an API serves
// with a before the API sees it; nil turns checking off (the default: every
// request is served, signed or not). Set it before serving. Requests no
// API serves are refused as before, without a check: there is no service
// to check them for, and they do nothing.
func (rt *Router) SetAuthenticator(a Authenticator) { rt.auth = a }

// SetAudit has every failed authentication recorded in l (nil: none).
func (rt *Router) SetAudit(l *audit.Log) { rt.audit = l }

// maxSignedBody bounds the body the router reads to check its hash: the
// largest body any API here accepts (Kinesis: a 10 MiB record, base64, in
// a 16 MiB request). The API reads it again from memory.
const maxSignedBody = 16 << 20

// signedBodies keeps the buffers bodies are read into for their hash:
// a fresh multi-megabyte buffer per PutRecords cost more to zero than the
// hash cost to compute (README, SigV4 "Speed").
var signedBodies = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// readSignedBody reads r's body whole into buf and puts it back for the
// API, as a reader over buf.
func readSignedBody(w http.ResponseWriter, r *http.Request, buf *bytes.Buffer) ([]byte, *Error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	buf.Reset()
	if n := r.ContentLength; n > 0 && n <= maxSignedBody {
		buf.Grow(int(n) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxSignedBody)); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, &Error{Status: http.StatusRequestEntityTooLarge, Type: TypeSerialization, Message: fmt.Sprintf("Request body over %d bytes", maxSignedBody)}
		}
		return nil, Errorf(http.StatusBadRequest, TypeSerialization, "reading the body: %v", err)
	}
	body := buf.Bytes()
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	return body, nil
}

// authenticate checks r for api. It returns r with the principal in its
// context, or answers the refusal itself and returns nil.
func (rt *Router) authenticate(w http.ResponseWriter, r *http.Request, api *served, p protocol, op string, body []byte) *http.Request {
	return rt.authenticateWith(w, r, api, p, op, func() (sigv4.Identity, error) { return rt.auth.Verify(r, api.signing, body) })
}

// authenticateWith is authenticate with the check verify makes.
func (rt *Router) authenticateWith(w http.ResponseWriter, r *http.Request, api *served, p protocol, op string, verify func() (sigv4.Identity, error)) *http.Request {
	id, err := verify()
	if err == nil {
		rt.log.Debug("aws: request authenticated", "api", api.name, "access_key_id", id.AccessKeyID, "credential", id.Name, "presigned", id.Presigned)
		ctx := WithPrincipal(r.Context(), Principal{AccessKeyID: id.AccessKeyID, Name: id.Name})
		if id.Chunks != nil {
			ctx = context.WithValue(ctx, chunksKey{}, id.Chunks)
		}
		return r.WithContext(ctx)
	}
	e := authError(err, api.wording)
	var se *sigv4.Error
	if i := strings.LastIndexByte(op, '.'); i >= 0 {
		op = op[i+1:] // Kinesis_20131202.ListStreams: CloudTrail names the action alone
	}
	ev := audit.Event{
		Source:       strings.ToLower(api.name),
		Name:         op,
		SourceIP:     hostOfRemote(r.RemoteAddr),
		Outcome:      audit.Failed,
		ErrorCode:    e.code(),
		ErrorMessage: e.Message,
	}
	if errors.As(err, &se) {
		ev.Principal = se.AccessKeyID
	}
	rt.audit.Record(ev)
	if se != nil {
		rt.log.Warn("aws: request not authenticated", "api", api.name, "remote", r.RemoteAddr, "access_key_id", se.AccessKeyID,
			"error", e.code(), "reason", se.Code.String()+": "+reasonOf(se))
	} else {
		rt.log.Error("aws: authentication failed", "api", api.name, "remote", r.RemoteAddr, "err", err)
	}
	rt.answer(w, r, p, e)
	return nil
}

// hostOfRemote is the IP of a RemoteAddr ("host:port").
func hostOfRemote(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

func reasonOf(e *sigv4.Error) string {
	if e.Reason != "" {
		return e.Reason
	}
	return e.Message
}

// authError words a failed check as an API with wording w answers it.
func authError(err error, w AuthWording) *Error {
	var e *sigv4.Error
	if !errors.As(err, &e) {
		return &Error{Status: http.StatusInternalServerError, Type: TypeInternalFailure, Message: "The request could not be authenticated."}
	}
	if w == AuthS3 {
		code, status := e.Code.S3Code()
		msg := e.Message
		if e.Code == sigv4.MissingAuthenticationToken {
			msg = "Access Denied"
		}
		return &Error{Status: status, Type: code, Message: msg}
	}
	if w == AuthQuery {
		status := http.StatusForbidden
		if e.Code == sigv4.IncompleteSignature {
			status = http.StatusBadRequest
		}
		return &Error{Status: status, Type: "com.amazon.coral.service#" + e.Code.JSONType(), QueryCode: e.Code.QueryCode(), Message: e.Message}
	}
	msg := e.Message
	if e.Code == sigv4.MissingAuthenticationToken {
		msg = "Missing Authentication Token" // Kinesis's shorter wording
	}
	return &Error{Status: http.StatusBadRequest, Type: e.Code.JSONType(), Message: msg}
}
