package sigv4

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// FuzzParseAuthorization holds the Authorization parser to its contract
// on any header: no panic, and either the three parts or an
// IncompleteSignature *Error.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e,SignedHeaders=,Signature=x",
		"AWS4-HMAC-SHA256 Credential=a, Credential=b",
		"AWS4-HMAC-SHA256 Oops, Signature=",
		"AWS4-HMAC-SHA256",
		"",
		"Basic dXNlcjpwYXNz",
		" , ,=,==, Signature==",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		s, err := ParseAuthorization(h)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != IncompleteSignature || e.Message == "" {
				t.Fatalf("error %v is not an IncompleteSignature *Error", err)
			}
			return
		}
		if s.Credential == "" || s.Signature == "" {
			t.Fatalf("parsed %q without Credential or Signature: %+v", h, s)
		}
		if _, err := parseScope(s.Credential); err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != IncompleteSignature {
				t.Fatalf("scope error %v", err)
			}
		}
	})
}

// FuzzParsePresigned does the same for presigned-URL query strings.
func FuzzParsePresigned(f *testing.F) {
	for _, s := range []string{
		"Action=ListQueues&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261204%2Fus-east-1%2Fsqs%2Faws4_request&X-Amz-Date=20261204T053000Z&X-Amz-Expires=300&X-Amz-SignedHeaders=host&X-Amz-Signature=abc",
		"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=0",
		"X-Amz-Algorithm=a&X-Amz-Algorithm=b",
		"X-Amz-Algorithm=a&X-Amz-Credential=c&X-Amz-Date=d&X-Amz-SignedHeaders=host&X-Amz-Signature=s&X-Amz-Expires=604801",
		"X-Amz-Algorithm=a&X-Amz-Credential=c&X-Amz-Date=d&X-Amz-SignedHeaders=host&X-Amz-Signature=s&X-Amz-Expires=+1",
		"%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		s, err := ParsePresigned(q)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != IncompleteSignature || e.Message == "" {
				t.Fatalf("error %v is not an IncompleteSignature *Error", err)
			}
			return
		}
		if !s.Presigned || s.Algorithm == "" || s.Credential == "" || s.Date == "" || s.Signature == "" {
			t.Fatalf("parsed %q with a part missing: %+v", raw, s)
		}
		if s.Expires < 0 || s.Expires > maxPresignExpires {
			t.Fatalf("expires %d out of range", s.Expires)
		}
		if _, err := canonicalQuery(raw, true); err == nil && strings.Contains(raw, "X-Amz-Signature=") {
			if cq, _ := canonicalQuery(raw, true); strings.Contains(cq, "X-Amz-Signature=") {
				t.Fatalf("canonical query %q keeps the signature", cq)
			}
		}
	})
}
