package awsapi

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/streambridge/bridge/security/sigv4"
)

// streamAuth accepts every request, claiming the hash the request
// claims, and counts the whole-body checks it was asked for.
type streamAuth struct{ whole int }

func (a *streamAuth) Verify(*http.Request, sigv4.Service, []byte) (sigv4.Identity, error) {
	a.whole++
	return sigv4.Identity{AccessKeyID: "AKID"}, nil
}

func (a *streamAuth) VerifyClaimedPayload(r *http.Request, _ sigv4.Service) (sigv4.Identity, string, error) {
	return sigv4.Identity{AccessKeyID: "AKID"}, r.Header.Get("X-Amz-Content-Sha256"), nil
}

// readsBody is the API: it reads the body to its end and answers 200,
// or 400 with the error that ended it.
var readsBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if _, ok := PrincipalFrom(r.Context()); !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		var se *sigv4.Error
		if errors.As(err, &se) && se.Code == sigv4.PayloadHashMismatch {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
})

func TestStreamedBody(t *testing.T) {
	body := "an object body"
	sum := sha256.Sum256([]byte(body))
	good := hex.EncodeToString(sum[:])
	for _, tc := range []struct {
		name, method, query, contentType, claim string
		status, wholeReads                      int
	}{
		{"hash matches", "PUT", "", "", good, 200, 0},
		{"hash differs: fails at the end", "PUT", "", "", strings.Repeat("0", 64), 400, 0},
		{"unsigned payload", "PUT", "", "", "UNSIGNED-PAYLOAD", 200, 0},
		{"a PUT with a form's content type is REST", "PUT", "", "application/x-www-form-urlencoded", good, 200, 0},
		{"a form post is Query, not S3: MissingAction", "POST", "", "application/x-www-form-urlencoded", good, 400, 0},
		{"an Action in the URL is Query, not S3", "GET", "?Action=ListQueues", "", good, 400, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt := NewRouter(nil)
			a := &streamAuth{}
			rt.SetAuthenticator(a)
			if err := rt.Register(API{Name: "S3", Handler: readsBody, PathPrefixes: []string{"/"}, Signing: sigv4.Service{Name: "s3"}, StreamedBody: true}); err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest(tc.method, "/bucket/key"+tc.query, strings.NewReader(body))
			r.Header.Set("X-Amz-Content-Sha256", tc.claim)
			if tc.contentType != "" {
				r.Header.Set("Content-Type", tc.contentType)
			}
			w := httptest.NewRecorder()
			rt.ServeHTTP(w, r)
			if w.Code != tc.status || a.whole != tc.wholeReads {
				t.Fatalf("status %d, whole-body checks %d; want %d, %d", w.Code, a.whole, tc.status, tc.wholeReads)
			}
		})
	}
}

// TestStreamedNeedsStreamAuthenticator: an Authenticator that cannot
// check a claimed hash cannot serve a streamed API; the router refuses
// rather than serve it unchecked.
func TestStreamedNeedsStreamAuthenticator(t *testing.T) {
	rt := NewRouter(nil)
	rt.SetAuthenticator(wholeOnly{})
	if err := rt.Register(API{Name: "S3", Handler: readsBody, PathPrefixes: []string{"/"}, Signing: sigv4.Service{Name: "s3"}, StreamedBody: true}); err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	rt.ServeHTTP(w, httptest.NewRequest("PUT", "/b/k", strings.NewReader("x")))
	if w.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", w.Code)
	}
}

type wholeOnly struct{}

func (wholeOnly) Verify(*http.Request, sigv4.Service, []byte) (sigv4.Identity, error) {
	return sigv4.Identity{}, nil
}
