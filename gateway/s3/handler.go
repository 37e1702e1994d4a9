package s3

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/sigv4"
	"github.com/streambridge/bridge/store"
)

// SigningName is what S3 requests are signed for (SigV4).
const SigningName = "s3"

// Signing is how S3 requests are signed: the path encoded once, and the
// body's hash claimed in X-Amz-Content-Sha256, which may be
// UNSIGNED-PAYLOAD or an aws-chunked claim. The router must be told the
// API streams its bodies (awsapi.API.StreamedBody).
func Signing() sigv4.Service {
	return sigv4.Service{Name: SigningName, SingleEncodePath: true, AllowUnsignedPayload: true, AllowStreamingPayload: true}
}

// DefaultVirtualHosts are the base hosts of virtual-host style requests
// when Config.VirtualHosts is nil: LocalStack's, so clients configured for
// it work unchanged, and localhost (bucket.localhost resolves to the
// loopback address on most systems).
var DefaultVirtualHosts = []string{"s3.localhost.localstack.cloud", "localhost.localstack.cloud", "localhost"}

// Config configures a Handler.
type Config struct {
	// Objects holds the buckets and objects. Required.
	Objects store.Objects
	// Region is the AWS port's region: the default LocationConstraint,
	// and the region where re-creating one's own bucket succeeds (S3's
	// us-east-1 legacy behaviour).
	Region string
	// Account is the account id the owner of every bucket is named by.
	Account string
	// VirtualHosts are the base hosts of virtual-host style addressing: a
	// request whose Host (port aside) is BUCKET.BASE addresses BUCKET, its
	// path the key. nil means DefaultVirtualHosts; empty turns it off.
	VirtualHosts []string
	// Logger receives request problems; nil discards them.
	Logger *slog.Logger
	// Authorizer decides each request by IAM policies (authz.go); nil
	// allows every request.
	Authorizer awsapi.Authorizer
	// Audit records denied requests and the calls that change buckets;
	// nil records none.
	Audit *audit.Log
}

// Handler serves the S3-style API. It is an http.Handler for the AWS port.
type Handler struct {
	objs  store.Objects
	cfg   Config
	hosts []string // longest first, lower case
	log   *slog.Logger
}

// New returns a Handler over cfg.Objects.
func New(cfg Config) (*Handler, error) {
	if cfg.Objects == nil {
		return nil, errors.New("s3: Config.Objects is required")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Account == "" {
		cfg.Account = "000000000000"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hosts := cfg.VirtualHosts
	if hosts == nil {
		hosts = DefaultVirtualHosts
	}
	h := &Handler{objs: cfg.Objects, cfg: cfg, log: log}
	for _, v := range hosts {
		if v = strings.ToLower(strings.Trim(strings.TrimSpace(v), ".")); v != "" {
			h.hosts = append(h.hosts, v)
		}
	}
	slices.SortFunc(h.hosts, func(a, b string) int { return len(b) - len(a) })
	return h, nil
}

// hostID is the x-amz-id-2 of every answer: S3 names the host that served
// a request; here there is one.
const hostID = "streambridge"

// exchange is one request being answered.
type exchange struct {
	w           http.ResponseWriter
	r           *http.Request
	bucket, key string
	query       url.Values
	requestID   string
	op          *operation
	// action and resource are what authorization decided on, for the
	// audit log; denied is set when it refused (and recorded) the request.
	action, resource string
	denied           bool
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r, requestID: strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", "")[:16])}
	w.Header().Set("x-amz-request-id", x.requestID)
	w.Header().Set("x-amz-id-2", hostID)
	x.bucket, x.key = h.address(r)
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		h.fail(x, invalidArgument("The query string does not parse."))
		return
	}
	x.query = query
	if err := checkKey(x.key); err != nil {
		h.fail(x, err)
		return
	}
	x.op = route(r.Method, x.bucket, x.key, query, r.Header)
	if x.op.fn == nil {
		h.fail(x, errorOf(x.op.refusal))
		return
	}
	if err := h.authorize(x); err != nil {
		h.fail(x, errorOf(err))
		return
	}
	if err := x.op.fn(h, x); err != nil {
		h.fail(x, errorOf(err))
		return
	}
	h.audit(x, "", "")
}

// fail answers x with e, records it, and drains what is left of a small
// body so the connection can be reused.
func (h *Handler) fail(x *exchange, e *awsapi.Error) {
	h.audit(x, e.Type, e.Message)
	if e.StatusCode() >= 500 {
		h.log.Error("s3: request failed", "op", x.op.nameOr(x.r), "bucket", x.bucket, "key", x.key, "err", e.Message)
	} else {
		h.log.Debug("s3: request refused", "op", x.op.nameOr(x.r), "bucket", x.bucket, "code", e.Type, "message", e.Message)
	}
	if x.r.Body != nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(x.r.Body, 1<<20))
	}
	writeError(x, e)
}

// maxKeyLen is S3's longest key, in bytes.
const maxKeyLen = 1024

// checkKey applies S3's rules for keys: UTF-8 (the listings rely on it:
// afterPrefix), at most 1024 bytes.
func checkKey(key string) *awsapi.Error {
	switch {
	case len(key) > maxKeyLen:
		return s3Err(http.StatusBadRequest, "KeyTooLongError", "Your key is too long")
	case !utf8.ValidString(key):
		return invalidArgument("Object keys must be UTF-8.")
	}
	return nil
}

// address finds the bucket and key r names: from the Host when it is
// BUCKET.BASE for a configured base (virtual-host style), else from the
// path's first segment (path style). The key is the rest of the path,
// decoded, never cleaned: "a//b" and "../x" are keys like any other.
func (h *Handler) address(r *http.Request) (bucket, key string) {
	host := strings.ToLower(r.Host)
	if hp, _, err := net.SplitHostPort(host); err == nil {
		host = hp
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	for _, base := range h.hosts {
		if host == base {
			break // the endpoint itself: path style
		}
		if b, ok := strings.CutSuffix(host, "."+base); ok && b != "" {
			return b, path
		}
	}
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

// xmlns is S3's namespace, on the root of every answer.
const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// respondXML writes a 200 answer with v as its XML document.
func respondXML(x *exchange, v any) error {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	x.w.Header().Set("Content-Type", "application/xml")
	x.w.Header().Set("Content-Length", itoa(int64(b.Len())))
	x.w.WriteHeader(http.StatusOK)
	_, _ = x.w.Write(b.Bytes())
	return nil
}

// maxXMLBody bounds the XML documents requests carry (DeleteObjects'
// 1000 keys of up to 1024 bytes, CompleteMultipartUpload's 10000 parts).
const maxXMLBody = 4 << 20

// decodeXML reads x's body, an XML document, into v. An empty body
// decodes to nothing when allowEmpty, and is MalformedXML otherwise.
func decodeXML(x *exchange, v any, allowEmpty bool) error {
	body, err := readBody(x, maxXMLBody)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil
		}
		return s3Err(http.StatusBadRequest, codeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return s3Err(http.StatusBadRequest, codeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	return nil
}

// readBody reads x's whole body, decoded (aws-chunked) and checked, up
// to limit bytes.
func readBody(x *exchange, limit int64) ([]byte, error) {
	body, _, err := requestBody(x)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, s3Err(http.StatusBadRequest, codeMalformedXML, "The XML you provided was too large")
	}
	return b, checkSmallBody(x.r.Header, b)
}

// checkSmallBody checks a document body (DeleteObjects, tags, a part
// list) against its Content-MD5 and x-amz-checksum-* headers, which the
// SDKs send for the operations S3 requires them on; the store checks
// object bodies, this the ones that never reach it.
func checkSmallBody(hdr http.Header, b []byte) error {
	if v := hdr.Get("Content-MD5"); v != "" {
		sum := md5.Sum(b)
		if v != base64.StdEncoding.EncodeToString(sum[:]) {
			return s3Err(http.StatusBadRequest, codeBadDigest, "The Content-MD5 you specified did not match what we received.")
		}
	}
	for _, alg := range checksumAlgorithms {
		if v := hdr.Get(checksumHeader(alg)); v != "" {
			h := newChecksum(alg)
			h.Write(b)
			if v != checksumValue(h) {
				return s3Err(http.StatusBadRequest, codeBadDigest, "The "+alg+" you specified did not match the calculated checksum.")
			}
		}
	}
	return nil
}
