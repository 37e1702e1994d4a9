package sigv4

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Algorithm is the one signing algorithm SigV4 has.
const Algorithm = "AWS4-HMAC-SHA256"

// maxPresignExpires is the longest X-Amz-Expires AWS accepts: a week.
const maxPresignExpires = 604800

// Signature is the parts of a SigV4 signature, from an Authorization
// header or a presigned URL's query.
type Signature struct {
	Algorithm     string
	Credential    string   // AKID/DATE/REGION/SERVICE/aws4_request
	SignedHeaders []string // lower case, as the client listed them
	Signature     string   // hex

	// Presigned URLs only: their date, lifetime and session token, which
	// the header form sends as headers.
	Presigned     bool
	Date          string
	Expires       int // seconds; 0 when absent
	SecurityToken string
}

// ParseAuthorization reads an Authorization header of the form
//
//	AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=5d67...
//
// An error is an IncompleteSignature *Error, worded as AWS words it.
// Parameters other than the three are ignored, as AWS ignores them; one
// given twice is refused, since which one counted would be a guess.
func ParseAuthorization(h string) (Signature, error) {
	var s Signature
	alg, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	s.Algorithm = alg
	var missing []string
	seen := map[string]bool{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return s, refuse(IncompleteSignature, fmt.Sprintf("'%s' not a valid key=value pair (missing equal-sign) in Authorization header.", clip(part)))
		}
		k = strings.TrimSpace(k)
		if seen[k] {
			return s, refuse(IncompleteSignature, fmt.Sprintf("Authorization header has '%s' more than once.", clip(k)))
		}
		seen[k] = true
		switch k {
		case "Credential":
			s.Credential = v
		case "SignedHeaders":
			s.SignedHeaders = splitSignedHeaders(v)
		case "Signature":
			s.Signature = v
		}
	}
	for _, p := range []struct {
		name string
		set  bool
	}{{"Credential", s.Credential != ""}, {"Signature", s.Signature != ""}, {"SignedHeaders", seen["SignedHeaders"]}} {
		if !p.set {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", p.name))
		}
	}
	if missing != nil {
		return s, refuse(IncompleteSignature, strings.Join(missing, " "))
	}
	return s, nil
}

// ParsePresigned reads the signature of a presigned URL from its query
// parameters: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
// X-Amz-SignedHeaders, X-Amz-Signature, and the optional X-Amz-Expires (1
// to 604800 seconds) and X-Amz-Security-Token. Each must be given once.
// An error is an IncompleteSignature *Error.
func ParsePresigned(q url.Values) (Signature, error) {
	s := Signature{Presigned: true}
	var missing []string
	for _, p := range []struct {
		name     string
		dst      *string
		optional bool
	}{
		{"X-Amz-Algorithm", &s.Algorithm, false},
		{"X-Amz-Credential", &s.Credential, false},
		{"X-Amz-Signature", &s.Signature, false},
		{"X-Amz-SignedHeaders", nil, false},
		{"X-Amz-Date", &s.Date, false},
		{"X-Amz-Security-Token", &s.SecurityToken, true},
	} {
		vs := q[p.name]
		if len(vs) > 1 {
			return s, refuse(IncompleteSignature, fmt.Sprintf("AWS query-string parameter '%s' is given more than once.", p.name))
		}
		if len(vs) == 0 || vs[0] == "" {
			if !p.optional {
				missing = append(missing, fmt.Sprintf("AWS query-string parameters must include '%s'.", p.name))
			}
			continue
		}
		if p.dst == nil {
			s.SignedHeaders = splitSignedHeaders(vs[0])
		} else {
			*p.dst = vs[0]
		}
	}
	if missing != nil {
		return s, refuse(IncompleteSignature, strings.Join(missing, " ")+" Re-examine the query-string parameters.")
	}
	if vs := q["X-Amz-Expires"]; len(vs) > 0 {
		n, err := strconv.Atoi(vs[0])
		if len(vs) > 1 || err != nil || n < 1 || n > maxPresignExpires || strconv.Itoa(n) != vs[0] {
			return s, refuse(IncompleteSignature, fmt.Sprintf("X-Amz-Expires must be a whole number of seconds from 1 to %d (a week), got '%s'.", maxPresignExpires, clip(strings.Join(vs, ","))))
		}
		s.Expires = n
	}
	return s, nil
}

// scope is a Credential's parts.
type scope struct {
	accessKeyID, date, region, service, terminator string
}

// parseScope splits a Credential. AWS ignores trailing slashes.
func parseScope(c string) (scope, error) {
	parts := strings.Split(strings.TrimRight(c, "/"), "/")
	if len(parts) != 5 || parts[0] == "" {
		return scope{}, refuse(IncompleteSignature, fmt.Sprintf("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", clip(c)))
	}
	return scope{parts[0], parts[1], parts[2], parts[3], parts[4]}, nil
}

func (s scope) String() string {
	return s.date + "/" + s.region + "/" + s.service + "/" + s.terminator
}

func splitSignedHeaders(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ";")
}

// clip bounds what an error quotes from a request.
func clip(s string) string {
	if len(s) > 128 {
		return s[:128] + "..."
	}
	return s
}
