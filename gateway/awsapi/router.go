package awsapi

import (
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
}

// Router is the AWS port's http.Handler. It sends each request to the API
// registered for it: by X-Amz-Target prefix, then by Query Action, then by
// path. A request no API serves gets an error in its own protocol's shape
// (JSON for an X-Amz-Target, Query XML for an Action, S3's XML otherwise)
// saying the operation is not supported, and a log line. Register every API
// before serving; ServeHTTP and Shutdown may then run concurrently.
type Router struct {
	log     *slog.Logger
	apis    []API
	targets []route // by X-Amz-Target prefix
	actions map[string]http.Handler
	// queryFallback answers Query requests whose Action is no API's; nil
	// means the router's own refusal.
	queryFallback http.Handler
	paths         []route // longest prefix first
}

type route struct {
	prefix string
	h      http.Handler
}

// NewRouter returns a Router with no APIs: it answers every request with
// the unknown-operation error. log gets a line per such request; nil
// discards them.
func NewRouter(log *slog.Logger) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{log: log, actions: map[string]http.Handler{}}
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
	for _, p := range api.TargetPrefixes {
		rt.targets = append(rt.targets, route{p, api.Handler})
	}
	for _, a := range api.Actions {
		rt.actions[a] = api.Handler
	}
	if api.QueryFallback {
		rt.queryFallback = api.Handler
	}
	for _, p := range api.PathPrefixes {
		rt.paths = append(rt.paths, route{p, api.Handler})
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
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		for _, t := range rt.targets {
			if strings.HasPrefix(target, t.prefix) {
				t.h.ServeHTTP(w, r)
				return
			}
		}
		rt.unknown(w, r, protocolJSON, target)
		return
	}
	if form, ok, err := QueryForm(r); ok {
		action := form.Get("Action")
		if err != nil {
			// The form lacks the pairs that did not parse: answering
			// from the rest would act on half a request, so it is
			// refused before any API sees it.
			var e *Error
			errors.As(err, &e)
			rt.refuse(w, r, protocolQuery, action, e)
			return
		}
		if h := rt.actions[action]; h != nil {
			h.ServeHTTP(w, r)
			return
		}
		if rt.queryFallback != nil && action != "" {
			rt.queryFallback.ServeHTTP(w, r)
			return
		}
		rt.unknown(w, r, protocolQuery, action)
		return
	}
	for _, p := range rt.paths {
		if strings.HasPrefix(r.URL.Path, p.prefix) {
			p.h.ServeHTTP(w, r)
			return
		}
	}
	rt.unknown(w, r, protocolREST, r.Method+" "+r.URL.Path)
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
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxDiscard))
	id := uuid.NewString()
	w.Header().Set(HeaderRequestID, id)
	rt.log.Info("aws: request refused", "protocol", string(p), "operation", op, "error", e.code(), "remote", r.RemoteAddr)
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
