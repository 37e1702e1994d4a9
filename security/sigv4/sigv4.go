// Package sigv4 verifies AWS Signature Version 4 on HTTP requests: the
// Authorization header form every SDK sends, and the presigned-URL form
// (query parameters) some clients use for SQS Query GETs and S3.
//
// The AWS SDKs sign but do not verify, so the verification is written here
// from AWS's specification: the canonical request, the string to sign and
// the signing key are computed exactly as a client computes them, and the
// signature compared in constant time. Failures are *Error values whose
// Code names them in AWS's words for JSON and for Query services, so each
// API answers a refused request the way real AWS does.
//
// The package knows nothing of the bridge's APIs: the caller says which
// service (signing name) a request is for. Credentials come from an
// awscreds.Store or anything with its Lookup method.
package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/streambridge/bridge/security/awscreds"
)

// Credentials finds the credential of an access key id; *awscreds.Store is
// one.
type Credentials interface {
	Lookup(accessKeyID string) (awscreds.Credential, bool)
}

// Service is what a request is signed for, and the rules its service signs
// by.
type Service struct {
	// Name is the signing name in the credential scope: kinesis, sqs, s3.
	Name string
	// SingleEncodePath: the canonical URI is the path URI-encoded once
	// (S3). Other services encode the already-encoded path again.
	SingleEncodePath bool
	// AllowUnsignedPayload accepts X-Amz-Content-Sha256: UNSIGNED-PAYLOAD
	// (S3), and makes a presigned URL's payload UNSIGNED-PAYLOAD as S3's
	// presigners sign it. Other services sign the body.
	AllowUnsignedPayload bool
	// AllowStreamingPayload accepts the aws-chunked claims of S3 uploads
	// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER],
	// STREAMING-UNSIGNED-PAYLOAD-TRAILER) in VerifyClaimedPayload: the
	// body's chunks carry their own signatures (Identity.Chunks) or a
	// trailing checksum, which the API checks as it decodes them.
	AllowStreamingPayload bool
}

// Verifier checks SigV4 signatures against a set of credentials.
type Verifier struct {
	Credentials Credentials
	// Region must be the credential scope's region.
	Region string
	// Now is the bridge's clock; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far a request's date may be from Now; zero means 5
	// minutes, AWS's window.
	MaxSkew time.Duration
}

// DefaultMaxSkew is AWS's window for a request's date.
const DefaultMaxSkew = 5 * time.Minute

// Identity is who signed a request that verified.
type Identity struct {
	// AccessKeyID is the principal.
	AccessKeyID string
	// Name is the credential's section in the credentials file, for logs.
	Name string
	// Time is the request's signing date.
	Time time.Time
	// Presigned says the signature came in the URL.
	Presigned bool
	// Chunks verifies the chunk (and trailer) signatures of an
	// aws-chunked body signed STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
	// (VerifyClaimedPayload); nil otherwise.
	Chunks *ChunkVerifier
}

// Header and parameter names and values of the protocol.
const (
	headerAuthorization = "Authorization"
	headerDate          = "X-Amz-Date"
	headerToken         = "X-Amz-Security-Token"
	headerContentSHA256 = "X-Amz-Content-Sha256"
	unsignedPayload     = "UNSIGNED-PAYLOAD"
	terminator          = "aws4_request"
	timeFormat          = "20060102T150405Z"
	dateFormat          = "20060102"
)

// Verify checks r's signature for service svc. payload is r's whole body
// (nil for none): it is hashed here, since a SigV4 signature covers it, and
// r.Body is not read. On success it returns the signer; otherwise an
// *Error.
func (v *Verifier) Verify(r *http.Request, svc Service, payload []byte) (Identity, error) {
	id, _, err := v.verify(r, svc, func(presigned bool) (string, error) { return payloadHash(r, svc, payload, presigned) })
	return id, err
}

// VerifyClaimedPayload checks r's signature without its body, taking the
// body's hash from X-Amz-Content-Sha256, which must be there: it is for
// bodies too large to hold (S3 uploads). It returns that hash; the caller
// must check the body against it as it reads it (unless it is
// UNSIGNED-PAYLOAD, which svc must allow) and refuse the request with
// PayloadHashMismatch when they differ. A presigned URL's payload is
// UNSIGNED-PAYLOAD when svc allows it.
func (v *Verifier) VerifyClaimedPayload(r *http.Request, svc Service) (Identity, string, error) {
	return v.verify(r, svc, func(presigned bool) (string, error) {
		claimed := r.Header.Get(headerContentSHA256)
		switch {
		case claimed == "" && presigned && svc.AllowUnsignedPayload:
			return unsignedPayload, nil
		case claimed == unsignedPayload && svc.AllowUnsignedPayload:
			return claimed, nil
		case len(claimed) == sha256.Size*2 && isHex(claimed):
			return strings.ToLower(claimed), nil
		case svc.AllowStreamingPayload && isStreamingClaim(claimed):
			return claimed, nil
		}
		return "", refuse(IncompleteSignature, "Missing required header for this request: x-amz-content-sha256")
	})
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}

// verify checks r; hash says the payload hash the canonical request ends
// with. A refusal carries the access key id the request named.
func (v *Verifier) verify(r *http.Request, svc Service, hash func(presigned bool) (string, error)) (Identity, string, error) {
	id, ph, err := v.check(r, svc, hash)
	if err != nil {
		if e, ok := err.(*Error); ok && e.AccessKeyID == "" {
			e.AccessKeyID = id.AccessKeyID
		}
		return Identity{}, "", err
	}
	return id, ph, nil
}

func (v *Verifier) check(r *http.Request, svc Service, hash func(presigned bool) (string, error)) (id Identity, ph string, err error) {
	auth := r.Header.Values(headerAuthorization)
	query, qerr := url.ParseQuery(r.URL.RawQuery)
	_, presigned := query["X-Amz-Algorithm"]
	switch {
	case len(auth) > 0 && presigned:
		return id, "", refuse(InvalidSignature, "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.")
	case presigned && qerr != nil:
		return id, "", refuse(IncompleteSignature, "The query string does not parse: "+clip(qerr.Error()))
	case !presigned && (len(auth) == 0 || !strings.HasPrefix(strings.TrimSpace(auth[0]), "AWS4-")):
		// Another scheme (AWS's SigV2, Basic) counts as none, as in AWS.
		return id, "", refuse(MissingAuthenticationToken, msgMissing)
	case len(auth) > 1:
		return id, "", refuse(IncompleteSignature, "The request has more than one Authorization header.")
	}

	var (
		sig     Signature
		dateStr string
		t       time.Time
		token   string
	)
	if presigned {
		sig, err = ParsePresigned(query)
		if id.AccessKeyID = keyOf(sig.Credential); err != nil {
			return id, "", err
		}
		dateStr, token = sig.Date, sig.SecurityToken
	} else {
		sig, err = ParseAuthorization(auth[0])
		if id.AccessKeyID = keyOf(sig.Credential); err != nil {
			return id, "", err
		}
		dateStr, token = r.Header.Get(headerDate), r.Header.Get(headerToken)
		if dateStr == "" {
			if d := r.Header.Get("Date"); d != "" {
				pt, perr := http.ParseTime(d)
				if perr != nil {
					return id, "", refuse(IncompleteSignature, fmt.Sprintf("Date header '%s' is not an HTTP date.", clip(d)))
				}
				t, dateStr = pt.UTC(), pt.UTC().Format(timeFormat)
			}
		}
		if dateStr == "" {
			return id, "", refuse(IncompleteSignature, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
		}
	}
	if t.IsZero() {
		if t, err = time.Parse(timeFormat, dateStr); err != nil {
			return id, "", refuse(IncompleteSignature, fmt.Sprintf("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", clip(dateStr)))
		}
	}
	id.Time, id.Presigned = t, presigned
	if err := v.checkTime(t, sig.Expires); err != nil {
		return id, "", err
	}
	// HTTP/2 clients may sign :authority, the pseudo-header that carries
	// the host there (aws-sdk-js v3's Kinesis client does), instead.
	if !containsFold(sig.SignedHeaders, "host") && !slices.Contains(sig.SignedHeaders, ":authority") {
		return id, "", refuse(InvalidSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if sig.Algorithm != Algorithm {
		return id, "", refuse(IncompleteSignature, fmt.Sprintf("Unsupported AWS 'algorithm': '%s' (only AWS4-HMAC-SHA256 for now). ", clip(sig.Algorithm)))
	}
	sc, err := parseScope(sig.Credential)
	if err != nil {
		return id, "", err
	}
	id.AccessKeyID = sc.accessKeyID
	if err := v.checkScope(sc, svc, t, dateStr); err != nil {
		return id, "", err
	}
	cred, ok := v.Credentials.Lookup(sc.accessKeyID)
	if !ok {
		return id, "", &Error{Code: UnknownAccessKey, Message: msgUnknown, Reason: "no credential has this access key id"}
	}
	id.Name = cred.Name

	if ph, err = hash(presigned); err != nil {
		return id, "", err
	}
	creq, err := canonicalRequest(r, svc, sig, ph)
	if err != nil {
		return id, "", err
	}
	key := signingKey(cred.SecretAccessKey, sc)
	want := signWith(key, sc, dateStr, creq)
	if !hmac.Equal([]byte(want), []byte(strings.ToLower(sig.Signature))) {
		return id, "", &Error{Code: InvalidSignature, Message: MsgSignatureMismatch, Reason: "the signature does not match (wrong secret, or the request changed after signing)"}
	}
	// The token is checked after the signature, as AWS does, so a
	// token's validity tells nothing to someone who cannot sign.
	if subtle.ConstantTimeCompare([]byte(token), []byte(cred.SessionToken)) != 1 {
		reason := "wrong session token"
		switch {
		case cred.SessionToken == "":
			reason = "a session token for a key that has none"
		case token == "":
			reason = "no session token; this key needs one"
		}
		return id, "", &Error{Code: InvalidSecurityToken, Message: msgUnknown, Reason: reason}
	}
	if ph == StreamingSigned || ph == StreamingSignedTrailer {
		id.Chunks = &ChunkVerifier{key: key, scope: sc.String(), date: dateStr, prev: strings.ToLower(sig.Signature)}
	}
	return id, ph, nil
}

// checkTime refuses a date outside the skew window or, for a presigned
// URL with expires seconds, past its expiry.
func (v *Verifier) checkTime(t time.Time, expires int) error {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	skew := v.MaxSkew
	if skew <= 0 {
		skew = DefaultMaxSkew
	}
	n := now().UTC()
	mins := int(skew / time.Minute)
	if expires > 0 {
		if n.After(t.Add(time.Duration(expires) * time.Second)) {
			return refuse(SignatureExpired, fmt.Sprintf("Request has expired: signed at %s for %d seconds, and it is now %s.", t.Format(timeFormat), expires, n.Format(timeFormat)))
		}
	} else if t.Before(n.Add(-skew)) {
		return refuse(SignatureExpired, fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - %d min.)",
			t.Format(timeFormat), n.Add(-skew).Format(timeFormat), n.Format(timeFormat), mins))
	}
	if t.After(n.Add(skew)) {
		return refuse(SignatureExpired, fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + %d min.)",
			t.Format(timeFormat), n.Add(skew).Format(timeFormat), n.Format(timeFormat), mins))
	}
	return nil
}

// checkScope refuses a credential scoped to another region, service or
// day, each reason in AWS's words.
func (v *Verifier) checkScope(sc scope, svc Service, t time.Time, dateStr string) error {
	var msgs []string
	if sc.region != v.Region {
		msgs = append(msgs, fmt.Sprintf("Credential should be scoped to a valid region, not '%s'.", clip(sc.region)))
	}
	if sc.service != svc.Name {
		msgs = append(msgs, fmt.Sprintf("Credential should be scoped to correct service: '%s'.", svc.Name))
	}
	if sc.terminator != terminator {
		msgs = append(msgs, fmt.Sprintf("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", clip(sc.terminator)))
	}
	if d := t.Format(dateFormat); sc.date != d {
		msgs = append(msgs, fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", clip(sc.date), d, clip(dateStr)))
	}
	if msgs == nil {
		return nil
	}
	return refuse(InvalidSignature, strings.Join(msgs, " "))
}

// payloadHash is the hash the canonical request ends with: the body's,
// checked against X-Amz-Content-Sha256 when the client sent one.
func payloadHash(r *http.Request, svc Service, payload []byte, presigned bool) (string, error) {
	sum := sha256.Sum256(payload)
	actual := hex.EncodeToString(sum[:])
	claimed := r.Header.Get(headerContentSHA256)
	switch {
	case claimed == "" && presigned && svc.AllowUnsignedPayload:
		return unsignedPayload, nil
	case claimed == "":
		return actual, nil
	case claimed == unsignedPayload && svc.AllowUnsignedPayload:
		return claimed, nil
	case claimed == unsignedPayload:
		return "", &Error{Code: PayloadHashMismatch, Message: MsgSignatureMismatch, Reason: "UNSIGNED-PAYLOAD, but " + svc.Name + " requests sign their body"}
	case !strings.EqualFold(claimed, actual):
		return "", &Error{Code: PayloadHashMismatch, Message: MsgSignatureMismatch, Reason: "X-Amz-Content-Sha256 is not the SHA-256 of the body"}
	}
	return claimed, nil
}

// canonicalRequest is AWS's canonical form of r:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n PAYLOAD-HASH
func canonicalRequest(r *http.Request, svc Service, sig Signature, payloadHash string) ([]byte, error) {
	query, err := canonicalQuery(r.URL.RawQuery, sig.Presigned)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL, svc.SingleEncodePath))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range sig.SignedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(sig.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.Bytes(), nil
}

// canonicalURI is the path URI-encoded: the path as sent encoded again
// for most services (so %2F becomes %252F), the decoded path encoded once
// for S3. Slashes stay; an empty path is "/". Like the SDKs' signers, it
// does not remove dot segments.
func canonicalURI(u *url.URL, single bool) string {
	var p string
	if single {
		p = uriEncode(u.Path, false)
	} else {
		p = uriEncode(u.EscapedPath(), false)
	}
	if p == "" {
		return "/"
	}
	return p
}

// canonicalQuery is the query's parameters, each name and value decoded
// and URI-encoded again, sorted by name then value, joined by &. A
// presigned URL's X-Amz-Signature is left out: it cannot sign itself.
func canonicalQuery(raw string, presigned bool) (string, error) {
	type kv struct{ k, v string }
	var kvs []kv
	for part := range strings.SplitSeq(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return "", &Error{Code: InvalidSignature, Message: MsgSignatureMismatch, Reason: "the query string does not decode"}
		}
		if presigned && dk == "X-Amz-Signature" {
			continue
		}
		kvs = append(kvs, kv{uriEncode(dk, true), uriEncode(dv, true)})
	}
	slices.SortFunc(kvs, func(a, b kv) int {
		if c := strings.Compare(a.k, b.k); c != 0 {
			return c
		}
		return strings.Compare(a.v, b.v)
	})
	parts := make([]string, len(kvs))
	for i, p := range kvs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&"), nil
}

// headerValue is a signed header's canonical value: its values in the
// order received, each trimmed with runs of spaces made one, joined by
// commas. Go keeps Host (HTTP/1) and :authority (HTTP/2) out of r.Header,
// in r.Host, and may move Content-Length to r.ContentLength, so those come
// from r's fields.
func headerValue(r *http.Request, name string) string {
	if name == "host" || name == ":authority" {
		return r.Host
	}
	vs := r.Header.Values(name)
	if len(vs) == 0 && name == "content-length" && r.ContentLength >= 0 {
		return fmt.Sprint(r.ContentLength)
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// signature is the hex HMAC of the string to sign under the key derived
// from secret and the scope.
// signingKey is the key derived from secret for the scope.
func signingKey(secret string, sc scope) []byte {
	key := hmacSHA256([]byte("AWS4"+secret), sc.date)
	key = hmacSHA256(key, sc.region)
	key = hmacSHA256(key, sc.service)
	return hmacSHA256(key, sc.terminator)
}

// signWith is signature with the key already derived.
func signWith(key []byte, sc scope, amzDate string, canonicalReq []byte) string {
	h := sha256.Sum256(canonicalReq)
	sts := Algorithm + "\n" + amzDate + "\n" + sc.String() + "\n" + hex.EncodeToString(h[:])
	return hex.EncodeToString(hmacSHA256(key, sts))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// uriEncode percent-encodes every byte but the unreserved characters
// (A-Z a-z 0-9 - _ . ~), in upper-case hex, as SigV4 requires; '/' too
// when encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// keyOf is the access key id a Credential names, for logs, even when the
// rest of the signature is refused.
func keyOf(credential string) string {
	k, _, _ := strings.Cut(credential, "/")
	return clip(k)
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
