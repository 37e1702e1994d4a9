package rest

// Forwarding a request another worker must serve (a *herder.ForwardError:
// not the leader, or the task runs elsewhere), as Kafka's
// HerderRequestHandler.completeOrForwardRequest does: the request goes on
// as it came (method, path, query, body, Authorization) with
// forward=true on the first hop and forward=false on the second, so a
// request finds its worker within two hops or is refused with 409 rather
// than bouncing between workers whose views of the group disagree.

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/streambridge/bridge/connect/herder"
)

// Kafka's 409 answers when a request cannot be forwarded.
const (
	noLeaderMessage    = "Cannot complete request momentarily due to no known leader URL, likely because a rebalance was underway."
	conflictingMessage = "Cannot complete request because of a conflicting operation (e.g. worker rebalance)"
)

// maxForwardedAnswer bounds the answer of the worker a request was
// forwarded to; answers are connector infos and statuses.
const maxForwardedAnswer = 16 << 20

// defaultForwardClient forwards without a timeout of its own: the
// request's context (the REST server's request timeout) bounds it.
var defaultForwardClient = &http.Client{}

// heldBody keeps the body readBody read, so that a request can be
// forwarded after its handler consumed it.
type heldBody struct{ b []byte }

type heldBodyKey struct{}

// holdBody gives r a place for its body.
func holdBody(r *http.Request) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), heldBodyKey{}, &heldBody{}))
}

// keepBody stores b as r's body for forwarding.
func keepBody(r *http.Request, b []byte) {
	if h, ok := r.Context().Value(heldBodyKey{}).(*heldBody); ok {
		h.b = b
	}
}

func keptBody(r *http.Request) []byte {
	if h, ok := r.Context().Value(heldBodyKey{}).(*heldBody); ok {
		return h.b
	}
	return nil
}

// forwardParam is Kafka's forward query parameter, a Boolean that is null
// when absent (a request from a client, not from a worker).
func forwardParam(r *http.Request) (forward, set bool) {
	v, ok := r.URL.Query()["forward"]
	if !ok || len(v) == 0 {
		return false, false
	}
	return strings.EqualFold(v[0], "true"), true
}

// forward sends r to fe.URL and relays the answer, or refuses it with 409
// when r may not go on.
func (s *Handler) forward(w http.ResponseWriter, r *http.Request, fe *herder.ForwardError) {
	forward, set := forwardParam(r)
	if set && !forward {
		s.log.Error("connect rest: request failed because it couldn't find the target Connect worker within two hops (between workers)",
			"method", r.Method, "path", r.URL.Path, "reason", fe.Message)
		writeError(w, http.StatusConflict, conflictingMessage)
		return
	}
	if fe.URL == "" {
		writeError(w, http.StatusConflict, noLeaderMessage)
		return
	}
	base, err := url.Parse(fe.URL)
	if err != nil || base.Host == "" || base.RawQuery != "" {
		writeError(w, http.StatusConflict, noLeaderMessage)
		return
	}
	q := r.URL.Query()
	// Only the first worker may forward twice: the leader it was sent to
	// may have changed.
	if set {
		q.Set("forward", "false")
	} else {
		q.Set("forward", "true")
	}
	// The path as the client escaped it, so a connector name with '/' or
	// '%' names the same connector there.
	target := strings.TrimSuffix(base.String(), "/") + r.URL.EscapedPath() + "?" + q.Encode()

	body := keptBody(r)
	req, err := http.NewRequestWithContext(r.Context(), r.Method, target, bytes.NewReader(body))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "IO Error trying to forward REST request: "+err.Error())
		return
	}
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if a := r.Header.Get("Authorization"); a != "" {
		req.Header.Set("Authorization", a)
	}
	req.Header.Set("Accept", "application/json")
	client := s.cfg.ForwardClient
	if client == nil {
		client = defaultForwardClient
	}
	s.log.Debug("connect rest: forwarding", "method", r.Method, "url", target)
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			writeError(w, http.StatusInternalServerError, "Request timed out")
			return
		}
		writeError(w, http.StatusInternalServerError, "IO Error trying to forward REST request: "+err.Error())
		return
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxForwardedAnswer))
	if err != nil {
		writeError(w, http.StatusInternalServerError, "IO Error trying to forward REST request: "+err.Error())
		return
	}
	if ct := resp.Header.Get("Content-Type"); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		// Kafka builds the Location of a created connector on the worker
		// the client asked, relative to the client's request.
		if u, err := url.Parse(loc); err == nil {
			w.Header().Set("Location", sameHost(r, u).String())
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(answer)
}

// sameHost is u on the host and scheme r was sent to.
func sameHost(r *http.Request, u *url.URL) *url.URL {
	out := *u
	out.Scheme = "http"
	if r.TLS != nil {
		out.Scheme = "https"
	}
	out.Host = r.Host
	return &out
}
