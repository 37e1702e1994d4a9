package awsapi

// Authentication of streamed bodies (S3 uploads): the router cannot read
// a body of gigabytes to hash it before the API sees it, so it checks the
// signature against the hash the client claims (X-Amz-Content-Sha256) and
// hands the API a body that checks that claim as it is read, failing at
// its end, before the API commits anything, when the bytes differ.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/streambridge/bridge/security/sigv4"
)

// StreamAuthenticator checks a request's signature without its body,
// taking the body's hash from X-Amz-Content-Sha256 and returning it
// (*sigv4.Verifier.VerifyClaimedPayload). The Router needs it from its
// Authenticator for an API with StreamedBody.
type StreamAuthenticator interface {
	VerifyClaimedPayload(r *http.Request, svc sigv4.Service) (sigv4.Identity, string, error)
}

type chunksKey struct{}

// SignedChunksFrom returns the verifier of the chunk signatures of the
// request of ctx, when the Router authenticated it and its body is
// aws-chunked with signed chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD);
// nil otherwise. The API's chunk decoder must check every chunk with it.
func SignedChunksFrom(ctx context.Context) *sigv4.ChunkVerifier {
	c, _ := ctx.Value(chunksKey{}).(*sigv4.ChunkVerifier)
	return c
}

// streamedAPI is the API r goes to when that API streams its bodies and r
// is a REST request (no X-Amz-Target, no Query form, whose body would
// have to be read to route it); nil otherwise.
func (rt *Router) streamedAPI(r *http.Request) *served {
	// As route tells them, but without reading a body: a PUT whose
	// Content-Type happens to be a form's is still REST.
	if r.Header.Get("X-Amz-Target") != "" || r.Method == http.MethodPost && isFormPost(r) {
		return nil
	}
	if strings.Contains(r.URL.RawQuery, "Action=") {
		if q, err := url.ParseQuery(r.URL.RawQuery); err != nil || q.Get("Action") != "" {
			return nil
		}
	}
	for _, pr := range rt.paths {
		if strings.HasPrefix(r.URL.Path, pr.prefix) {
			if pr.api.streamed {
				return pr.api
			}
			return nil
		}
	}
	return nil
}

// serveStreamed authenticates r for api without reading its body, and
// serves it with a body that checks the signed hash as it is read.
func (rt *Router) serveStreamed(w http.ResponseWriter, r *http.Request, api *served) {
	op := r.Method + " " + r.URL.Path
	sa, ok := rt.auth.(StreamAuthenticator)
	if !ok || api.signing.Name == "" {
		rt.log.Error("aws: cannot check signatures of streamed bodies; refusing the API's requests", "api", api.name)
		rt.refuse(w, r, protocolREST, op, &Error{Status: http.StatusInternalServerError, Type: "InternalError", Message: "the bridge cannot check signatures for " + api.name})
		return
	}
	var claimed string
	r = rt.authenticateWith(w, r, api, protocolREST, op, func() (sigv4.Identity, error) {
		id, h, err := sa.VerifyClaimedPayload(r, api.signing)
		claimed = h
		return id, err
	})
	if r == nil {
		return
	}
	if len(claimed) == sha256.Size*2 && r.Body != nil && r.Body != http.NoBody {
		r.Body = HashCheckedBody(r.Body, claimed)
	}
	api.h.ServeHTTP(w, r)
}

// HashCheckedBody returns body, which fails at its end, instead of
// returning io.EOF, with a PayloadHashMismatch *sigv4.Error when what was
// read does not hash to want (hex SHA-256). A consumer that commits only
// after reading to EOF without error (the object store) thus never
// commits a body that is not the one signed.
func HashCheckedBody(body io.ReadCloser, want string) io.ReadCloser {
	return &hashChecked{ReadCloser: body, h: sha256.New(), want: strings.ToLower(want)}
}

type hashChecked struct {
	io.ReadCloser
	h    hash.Hash
	want string
	err  error
}

func (b *hashChecked) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	n, err := b.ReadCloser.Read(p)
	b.h.Write(p[:n])
	if err == io.EOF {
		if hex.EncodeToString(b.h.Sum(nil)) != b.want {
			err = &sigv4.Error{Code: sigv4.PayloadHashMismatch, Message: "The provided 'x-amz-content-sha256' header does not match what was computed.",
				Reason: "X-Amz-Content-Sha256 is not the SHA-256 of the body"}
		}
		b.err = err
	}
	return n, err
}
