package awsapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/sigv4"
)

// API is one AWS-style front end on the AWS port and the requests it
// serves. An API may be reached more than one way (SQS speaks both JSON and
// Query).
type API struct {
	// Name is what logs and error messages call the API (Kinesis, SQS).
	Name    string
	Handler http.Handler
	// TargetPrefixes route JSON-protocol requests, whose X-Amz-Target
	// header names the operation: Kinesis_20131202., AmazonSQS.,
	// DynamoDB_20120810.
	TargetPrefixes []string
	// Actions route Query-protocol requests by their Action parameter, in
	// the URL or in a form body, whatever the path (SQS posts to / or to a
	// queue's URL).
	Actions []string
	// QueryFallback makes the API answer Query requests whose Action no
	// API serves, so the refusal is in that API's words (SQS, the one API
	// of this port that speaks Query). One API at most may set it.
	QueryFallback bool
	// PathPrefixes route the remaining (REST) requests by path, the longest
	// prefix first: "/" takes every path, as path-style S3 does. Paths are
	// matched as sent, never cleaned: an S3 key may hold "//" or "..".
	PathPrefixes []string
	// Signing is what the API's requests are signed for: its Name is the
	// SigV4 signing name (kinesis, sqs). Required when the router checks
	// signatures (SetAuthenticator).
	Signing sigv4.Service
	// AuthWording is how the API words a request whose signature fails.
	AuthWording AuthWording
	// StreamedBody keeps the router from reading the API's REST request
	// bodies to check their hash (S3 objects of gigabytes): it checks the
	// signature against X-Amz-Content-Sha256 and hands the API a body
	// that fails at its end when it is not what was signed (streamed.go).
	// The Authenticator must be a StreamAuthenticator.
	StreamedBody bool
}

// Router is the AWS port's http.Handler. It sends each request to the API
// registered for it: by X-Amz-Target prefix, then by Query Action, then by
// path. A request no API serves gets an error in its own protocol's shape
// (JSON for an X-Amz-Target, Query XML for an Action, S3's XML otherwise)
// saying the operation is not supported, and a log line. With an
// Authenticator (SetAuthenticator, auth.go) a request is served only once
// its SigV4 signature verifies for the API it goes to. Register every API
// before serving; ServeHTTP and Shutdown may then run concurrently.
type Router struct {
	log     *slog.Logger
	apis    []API
	targets []route // by X-Amz-Target prefix
	actions map[string]*served
	// queryFallback answers Query requests whose Action is no API's; nil
	// means the router's own refusal.
	queryFallback *served
	paths         []route // longest prefix first
	// auth checks signatures; nil serves every request (auth.go).
	auth  Authenticator
	audit *audit.Log // failed authentications; nil records none
}

// served is an API as the router dispatches to it.
type served struct {
	name     string
	h        http.Handler
	signing  sigv4.Service
	wording  AuthWording
	streamed bool
}

type route struct {
	prefix string
	api    *served
}

// NewRouter returns a Router with no APIs: it answers every request with
// the unknown-operation error. log gets a line per such request; nil
// discards them.
func NewRouter(log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{log: log, actions: map[string]*served{}}
}

// Register adds an API. It refuses an API without a name, a handler or a
// route, and routes another API already has (a target prefix that is a
// prefix of another's counts: the two would fight over requests).
func (rt *Router) Register(api API) error {
	if api.Name == "" || api.Handler == nil {
		return errors.New("awsapi: an API needs a name and a handler")
	}
	if len(api.TargetPrefixes)+len(api.Actions)+len(api.PathPrefixes) == 0 {
		return fmt.Errorf("awsapi: API %s has no routes", api.Name)
	}
	for _, p := range api.TargetPrefixes {
		if p == "" {
			return fmt.Errorf("awsapi: API %s: empty target prefix", api.Name)
		}
		for _, t := range rt.targets {
			if strings.HasPrefix(p, t.prefix) || strings.HasPrefix(t.prefix, p) {
				return fmt.Errorf("awsapi: API %s: target prefix %q overlaps %q", api.Name, p, t.prefix)
			}
		}
	}
	for _, a := range api.Actions {
		if rt.actions[a] != nil {
			return fmt.Errorf("awsapi: API %s: action %s is taken", api.Name, a)
		}
	}
	if api.QueryFallback && rt.queryFallback != nil {
		return fmt.Errorf("awsapi: API %s: another API is the Query fallback", api.Name)
	}
	for _, p := range api.PathPrefixes {
		if !strings.HasPrefix(p, "/") || slices.ContainsFunc(rt.paths, func(r route) bool { return r.prefix == p }) {
			return fmt.Errorf("awsapi: API %s: path prefix %q is taken or does not start with /", api.Name, p)
		}
	}
	sv := &served{name: api.Name, h: api.Handler, signing: api.Signing, wording: api.AuthWording, streamed: api.StreamedBody}
	for _, p := range api.TargetPrefixes {
		rt.targets = append(rt.targets, route{p, sv})
	}
	for _, a := range api.Actions {
		rt.actions[a] = sv
	}
	if api.QueryFallback {
		rt.queryFallback = sv
	}
	for _, p := range api.PathPrefixes {
		rt.paths = append(rt.paths, route{p, sv})
	}
	slices.SortStableFunc(rt.paths, func(a, b route) int { return len(b.prefix) - len(a.prefix) })
	rt.apis = append(rt.apis, api)
	return nil
}

// protocol is the shape of a request, and so of its error answer.
type protocol string

const (
	protocolJSON  protocol = "json"
	protocolQuery protocol = "query"
	protocolREST  protocol = "rest"
)

func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if rt.auth != nil {
		if api := rt.streamedAPI(r); api != nil {
			rt.serveStreamed(w, r, api)
			return
		}
		// The signature covers the body, and a Query form's parameters
		// are in it: it is read before routing, and the API reads it
		// again from memory.
		var e *Error
		buf := signedBodies.Get().(*bytes.Buffer)
		defer signedBodies.Put(buf) // the API is done with r.Body when ServeHTTP returns
		if body, e = readSignedBody(w, r, buf); e != nil {
			rt.refuse(w, r, protocolOf(r), "", e)
			return
		}
	}
	api, p, op, e := rt.route(r)
	switch {
	case e != nil:
		rt.refuse(w, r, p, op, e)
		return
	case api == nil:
		rt.unknown(w, r, p, op)
		return
	case rt.auth != nil && api.signing.Name == "":
		rt.log.Error("aws: API has no signing name; refusing its requests", "api", api.name)
		rt.refuse(w, r, p, op, &Error{Status: http.StatusInternalServerError, Type: TypeInternalFailure, Message: "the bridge cannot check signatures for " + api.name})
		return
	case rt.auth != nil:
		if r = rt.authenticate(w, r, api, p, op, body); r == nil {
			return
		}
	}
	api.h.ServeHTTP(w, r)
}

// route finds the API of r: by X-Amz-Target prefix, then by Query
// Action, then by path. api is nil when none serves it; e is set when
// the request is refused before any API sees it. p and op describe the
// request for the answer and the log.
func (rt *Router) route(r *http.Request) (api *served, p protocol, op string, e *Error) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		for _, t := range rt.targets {
			if strings.HasPrefix(target, t.prefix) {
				return t.api, protocolJSON, target, nil
			}
		}
		return nil, protocolJSON, target, nil
	}
	if form, ok, err := QueryForm(r); ok {
		action := form.Get("Action")
		if err != nil {
			// The form lacks the pairs that did not parse: answering
			// from the rest would act on half a request, so it is
			// refused before any API sees it.
			var refusal *Error
			errors.As(err, &refusal)
			return nil, protocolQuery, action, refusal
		}
		if api := rt.actions[action]; api != nil {
			return api, protocolQuery, action, nil
		}
		if rt.queryFallback != nil && action != "" {
			return rt.queryFallback, protocolQuery, action, nil
		}
		return nil, protocolQuery, action, nil
	}
	for _, pr := range rt.paths {
		if strings.HasPrefix(r.URL.Path, pr.prefix) {
			return pr.api, protocolREST, r.Method + " " + r.URL.Path, nil
		}
	}
	return nil, protocolREST, r.Method + " " + r.URL.Path, nil
}

// protocolOf guesses r's protocol without reading its body, to answer a
// body that could not be read.
func protocolOf(r *http.Request) protocol {
	switch {
	case r.Header.Get("X-Amz-Target") != "":
		return protocolJSON
	case isFormPost(r) || strings.Contains(r.URL.RawQuery, "Action="):
		return protocolQuery
	}
	return protocolREST
}

// maxDiscard bounds how much of an unserved request's body is read so the
// connection can be reused; beyond it the connection is closed.
const maxDiscard = 10 << 20

// unknown answers a request no API serves, in the shape of its protocol.
func (rt *Router) unknown(w http.ResponseWriter, r *http.Request, p protocol, op string) {
	e := &Error{Status: http.StatusBadRequest, Type: TypeUnknownOperation, Message: "operation " + op + " is not supported by this bridge, " + rt.serving()}
	if p == protocolQuery {
		e.Type = CodeInvalidAction
		if op == "" {
			e.Type, e.Message = CodeMissingAction, "a Query request needs an Action parameter"
		}
	}
	rt.refuse(w, r, p, op, e)
}

// refuse answers a request no API gets with e, in the shape of its
// protocol, and logs it.
func (rt *Router) refuse(w http.ResponseWriter, r *http.Request, p protocol, op string, e *Error) {
	rt.log.Info("aws: request refused", "protocol", string(p), "operation", op, "error", e.code(), "remote", r.RemoteAddr)
	rt.answer(w, r, p, e)
}

// answer writes e in the shape of protocol p, after draining what is left
// of the body so the connection can be reused.
func (rt *Router) answer(w http.ResponseWriter, r *http.Request, p protocol, e *Error) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDiscard))
	id := uuid.NewString()
	w.Header().Set(HeaderRequestID, id)
	switch p {
	case protocolJSON:
		e.WriteJSON(w, fallbackCodec(r))
	case protocolQuery:
		e.WriteQuery(w, id)
	default:
		e.WriteRESTXML(w, id)
	}
}

// serving says which APIs this port serves, for error messages.
func (rt *Router) serving() string {
	if len(rt.apis) == 0 {
		return "which serves no AWS API on this port yet"
	}
	names := make([]string, len(rt.apis))
	for i, a := range rt.apis {
		names[i] = a.Name
	}
	return "which serves " + strings.Join(names, ", ") + " on this port"
}

// fallbackCodec answers a JSON-protocol request in its own encoding.
func fallbackCodec(r *http.Request) Codec {
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case ContentTypeJSON10:
		return JSON10{}
	case ContentTypeCBOR11, "application/cbor":
		return CBOR{}
	}
	return JSON11{}
}

// Shutdown tells every registered API that has a Shutdown method that the
// port is shutting down, so long polls and event streams end early, and
// returns their errors joined. It does not wait for requests: the HTTP
// server's drain does.
func (rt *Router) Shutdown(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(rt.apis))
	for i, api := range rt.apis {
		s, ok := api.Handler.(interface{ Shutdown(context.Context) error })
		if !ok {
			continue
		}
		wg.Go(func() { errs[i] = s.Shutdown(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}
