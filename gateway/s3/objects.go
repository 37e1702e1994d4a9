package s3

// Objects: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
// CopyObject.

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/store"
)

// uploadBody is what PutObject and UploadPart store: the request's body
// (aws-chunked decoded) and the options its headers and trailer ask for.
func uploadBody(x *exchange) (io.Reader, store.PutOptions, error) {
	opts, err := putOptions(x)
	if err != nil {
		return nil, opts, err
	}
	body, size, trailerAlgs, err := requestBodyAlgs(x)
	if err != nil {
		return nil, opts, err
	}
	if size > maxPutSize {
		return nil, opts, s3Err(http.StatusBadRequest, codeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	}
	opts.Size = size
	opts.Checksums = appendNew(opts.Checksums, trailerAlgs...)
	return body, opts, nil
}

func (h *Handler) putObject(x *exchange) error {
	body, opts, err := uploadBody(x)
	if err != nil {
		return err
	}
	info, err := h.objs.PutObject(x.r.Context(), x.bucket, x.key, body, opts)
	if err != nil {
		return err
	}
	hdr := x.w.Header()
	hdr.Set("ETag", info.ETag)
	setChecksumHeaders(hdr, pick(info.Checksums, opts.Checksums))
	x.w.WriteHeader(http.StatusOK)
	return nil
}

// appendNew appends the elements of more not in s.
func appendNew(s []string, more ...string) []string {
	for _, m := range more {
		found := false
		for _, v := range s {
			found = found || v == m
		}
		if !found {
			s = append(s, m)
		}
	}
	return s
}

// pick is the entries of m named in keys: a put answers with the
// checksums it was asked for, not every one the store keeps.
func pick(m map[string]string, keys []string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// getObject serves GetObject and HeadObject: the object's headers, and
// for GET its bytes, of the Range asked for (206) or whole.
func (h *Handler) getObject(x *exchange) error {
	ctx := x.r.Context()
	rng, err := parseRange(x.r.Header.Get("Range"))
	if err != nil {
		return err
	}
	if n := x.query.Get("partNumber"); n != "" && n != "1" {
		return s3Err(http.StatusNotImplemented, codeNotImplemented, "partNumber other than 1 is not implemented by this bridge.")
	}
	var info store.ObjectInfo
	var rd store.ObjectReader
	if x.r.Method == http.MethodHead {
		if info, err = h.objs.HeadObject(ctx, x.bucket, x.key); err != nil {
			return err
		}
	} else {
		if rd, err = h.objs.GetObject(ctx, x.bucket, x.key, rng); err != nil {
			return err
		}
		defer rd.Close()
		info = rd.Info()
	}
	if status, err := preconditions(x.r, info); err != nil || status != 0 {
		if status == http.StatusNotModified {
			x.w.Header().Set("ETag", info.ETag)
			x.w.Header().Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
			x.w.WriteHeader(status)
			return nil
		}
		return err
	}
	hdr := x.w.Header()
	setObjectHeaders(hdr, info)
	if info.Parts > 0 && x.query.Get("partNumber") != "" {
		hdr.Set("x-amz-mp-parts-count", strconv.Itoa(info.Parts)) // S3 says it only then
	}
	if strings.EqualFold(x.r.Header.Get("x-amz-checksum-mode"), "ENABLED") && rng == nil {
		setChecksumHeaders(hdr, info.Checksums)
	}
	for _, p := range []struct{ param, header string }{
		{"response-content-type", "Content-Type"}, {"response-content-language", "Content-Language"},
		{"response-expires", "Expires"}, {"response-cache-control", "Cache-Control"},
		{"response-content-disposition", "Content-Disposition"}, {"response-content-encoding", "Content-Encoding"},
	} {
		if v := x.query.Get(p.param); v != "" {
			hdr.Set(p.header, v)
		}
	}
	if rd == nil { // HEAD
		if rng != nil {
			first, last, ok := resolveRange(rng, info.Size)
			if !ok {
				return store.ErrInvalidRange
			}
			hdr.Set("Content-Range", "bytes "+itoa(first)+"-"+itoa(last)+"/"+itoa(info.Size))
			hdr.Set("Content-Length", itoa(last-first+1))
			x.w.WriteHeader(http.StatusPartialContent)
			return nil
		}
		hdr.Set("Content-Length", itoa(info.Size))
		x.w.WriteHeader(http.StatusOK)
		return nil
	}
	status := http.StatusOK
	length := info.Size
	if rng != nil {
		first, last := rd.Range()
		length = last - first + 1
		hdr.Set("Content-Range", "bytes "+itoa(first)+"-"+itoa(last)+"/"+itoa(info.Size))
		status = http.StatusPartialContent
	}
	hdr.Set("Content-Length", itoa(length))
	x.w.WriteHeader(status)
	if n, err := io.Copy(x.w, rd); err != nil {
		// The status is sent: the client sees a short body.
		h.log.Debug("s3: object answer cut short (client gone?)", "bucket", x.bucket, "key", x.key, "sent", n, "err", err)
	}
	return nil
}

// setObjectHeaders writes what GET and HEAD say about an object.
func setObjectHeaders(hdr http.Header, info store.ObjectInfo) {
	ct := info.ContentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	hdr.Set("Content-Type", ct)
	hdr.Set("ETag", info.ETag)
	hdr.Set("Last-Modified", info.LastModified.UTC().Format(http.TimeFormat))
	hdr.Set("Accept-Ranges", "bytes")
	for k, v := range info.Headers {
		hdr.Set(k, v)
	}
	for k, v := range info.Metadata {
		hdr["X-Amz-Meta-"+k] = []string{v}
	}
	if len(info.Tags) > 0 {
		hdr.Set("x-amz-tagging-count", strconv.Itoa(len(info.Tags)))
	}
}

// parseRange reads a Range header: bytes=A-B, bytes=A- or bytes=-N. A
// header of another unit or of several ranges is ignored, as S3 ignores
// it (the whole object is sent).
func parseRange(s string) (*store.ByteRange, error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return nil, nil
	}
	a, b, ok := strings.Cut(spec, "-")
	if !ok {
		return nil, nil
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if a == "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return nil, nil
		}
		if n == 0 {
			return nil, store.ErrInvalidRange
		}
		return &store.ByteRange{Suffix: n}, nil
	}
	first, err := strconv.ParseInt(a, 10, 64)
	if err != nil || first < 0 {
		return nil, nil
	}
	if b == "" {
		return &store.ByteRange{First: first, Last: -1}, nil
	}
	last, err := strconv.ParseInt(b, 10, 64)
	if err != nil || last < first {
		return nil, nil
	}
	return &store.ByteRange{First: first, Last: last}, nil
}

// resolveRange is r against an object of size bytes, as the store
// resolves it; ok is false when it starts past the end.
func resolveRange(r *store.ByteRange, size int64) (first, last int64, ok bool) {
	if r.Suffix > 0 {
		first = max(size-r.Suffix, 0)
		return first, size - 1, size > 0
	}
	if r.First >= size {
		return 0, 0, false
	}
	last = r.Last
	if last < 0 || last >= size {
		last = size - 1
	}
	return r.First, last, true
}

// preconditions evaluates If-Match, If-None-Match, If-Modified-Since and
// If-Unmodified-Since as S3 does: a failed If-Match or
// If-Unmodified-Since is 412; a matching If-None-Match, or an unmodified
// object under If-Modified-Since, is 304.
func preconditions(r *http.Request, info store.ObjectInfo) (int, error) {
	failed := s3Err(http.StatusPreconditionFailed, codePreconditionFailed, "At least one of the pre-conditions you specified did not hold")
	mod := info.LastModified.Truncate(time.Second)
	im := r.Header.Get("If-Match")
	if im != "" && !etagMatches(im, info.ETag) {
		return http.StatusPreconditionFailed, failed
	}
	if v := r.Header.Get("If-Unmodified-Since"); v != "" && im == "" {
		if t, err := http.ParseTime(v); err == nil && mod.After(t) {
			return http.StatusPreconditionFailed, failed
		}
	}
	inm := r.Header.Get("If-None-Match")
	if inm != "" && etagMatches(inm, info.ETag) {
		return http.StatusNotModified, nil
	}
	if v := r.Header.Get("If-Modified-Since"); v != "" && inm == "" {
		if t, err := http.ParseTime(v); err == nil && !mod.After(t) {
			return http.StatusNotModified, nil
		}
	}
	return 0, nil
}

// etagMatches reports whether a list of ETags (If-Match) names etag;
// "*" matches any.
func etagMatches(list, etag string) bool {
	for e := range strings.SplitSeq(list, ",") {
		e = strings.TrimPrefix(strings.TrimSpace(e), "W/")
		if e == "*" || strings.Trim(e, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

func (h *Handler) deleteObject(x *exchange) error {
	if err := h.objs.DeleteObject(x.r.Context(), x.bucket, x.key); err != nil {
		return err
	}
	x.w.WriteHeader(http.StatusNoContent)
	return nil
}

type deleteRequest struct {
	Quiet   bool
	Objects []struct {
		Key string
	} `xml:"Object"`
}

type deleteResult struct {
	XMLName xml.Name `xml:"DeleteResult"`
	Xmlns   string   `xml:"xmlns,attr"`
	Deleted []struct {
		Key string
	} `xml:"Deleted"`
	Errors []deleteError `xml:"Error"`
}

type deleteError struct {
	Key, Code, Message string
}

// deleteObjects deletes up to 1000 keys, each answered alone (Deleted or
// an Error), Quiet leaving out the deleted ones.
func (h *Handler) deleteObjects(x *exchange) error {
	var req deleteRequest
	if err := decodeXML(x, &req, false); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return s3Err(http.StatusBadRequest, codeMalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
	}
	ctx := x.r.Context()
	if _, err := h.objs.HeadBucket(ctx, x.bucket); err != nil {
		return err
	}
	res := deleteResult{Xmlns: xmlns}
	for _, o := range req.Objects {
		if h.cfg.Authorizer != nil && !h.allowed(ctx, x, "s3:DeleteObject", objectARN(x.bucket, o.Key)) {
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: codeAccessDenied, Message: "Access Denied"})
			continue
		}
		if err := h.objs.DeleteObject(ctx, x.bucket, o.Key); err != nil {
			e := errorOf(err)
			res.Errors = append(res.Errors, deleteError{Key: o.Key, Code: e.Type, Message: e.Message})
			continue
		}
		if !req.Quiet {
			res.Deleted = append(res.Deleted, struct{ Key string }{o.Key})
		}
	}
	return respondXML(x, res)
}

type copyResult struct {
	XMLName      xml.Name `xml:"CopyObjectResult"`
	Xmlns        string   `xml:"xmlns,attr"`
	ETag         string
	LastModified string
	checksumFields
}

// checksumFields are the Checksum* elements of S3's XML answers.
type checksumFields struct {
	ChecksumCRC32     string `xml:",omitempty"`
	ChecksumCRC32C    string `xml:",omitempty"`
	ChecksumCRC64NVME string `xml:",omitempty"`
	ChecksumSHA1      string `xml:",omitempty"`
	ChecksumSHA256    string `xml:",omitempty"`
}

func checksumFieldsOf(m map[string]string) checksumFields {
	return checksumFields{m["CRC32"], m["CRC32C"], m["CRC64NVME"], m["SHA1"], m["SHA256"]}
}

// copySource reads x-amz-copy-source: /bucket/key or bucket/key,
// URL-encoded, maybe with ?versionId=.
func copySource(x *exchange) (bucket, key string, err error) {
	src := x.r.Header.Get("x-amz-copy-source")
	src, _, _ = strings.Cut(src, "?")
	if dec, derr := url.PathUnescape(src); derr == nil {
		src = dec
	}
	bucket, key, _ = strings.Cut(strings.TrimPrefix(src, "/"), "/")
	if bucket == "" || key == "" {
		return "", "", invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	if h := x.r.Header; h.Get("x-amz-copy-source-if-match") != "" || h.Get("x-amz-copy-source-if-none-match") != "" {
		return "", "", s3Err(http.StatusNotImplemented, codeNotImplemented, "x-amz-copy-source-if-* is not implemented by this bridge.")
	}
	return bucket, key, nil
}

// copyObject copies an object, keeping its metadata (COPY) or taking the
// request's (REPLACE), and its tags unless x-amz-tagging-directive is
// REPLACE.
func (h *Handler) copyObject(x *exchange) error {
	sb, sk, err := copySource(x)
	if err != nil {
		return err
	}
	ctx := x.r.Context()
	if h.cfg.Authorizer != nil {
		if err := h.check(x, "s3:GetObject", objectARN(sb, sk)); err != nil {
			return err
		}
	}
	hdr := x.r.Header
	var opts store.CopyOptions
	switch d := strings.ToUpper(hdr.Get("x-amz-metadata-directive")); d {
	case "", "COPY":
	case "REPLACE":
		opts.Replace = true
		opts.ContentType = hdr.Get("Content-Type")
		opts.Headers, opts.Metadata = objectHeaders(hdr)
	default:
		return invalidArgument("Unknown metadata directive.")
	}
	switch d := strings.ToUpper(hdr.Get("x-amz-tagging-directive")); d {
	case "", "COPY":
	case "REPLACE":
		tags, err := parseTagQuery(hdr.Get("x-amz-tagging"))
		if err != nil {
			return err
		}
		opts.Tags = tags
	default:
		return invalidArgument("Unknown tagging directive.")
	}
	if sb == x.bucket && sk == x.key && !opts.Replace && opts.Tags == nil {
		return s3Err(http.StatusBadRequest, codeInvalidRequest, "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	info, err := h.objs.CopyObject(ctx, sb, sk, x.bucket, x.key, opts)
	if err != nil {
		if errors.Is(err, store.ErrBucketNotFound) {
			if _, herr := h.objs.HeadBucket(ctx, x.bucket); herr != nil {
				return herr
			}
		}
		return err
	}
	return respondXML(x, copyResult{Xmlns: xmlns, ETag: info.ETag, LastModified: info.LastModified.UTC().Format(timeFormatXML),
		checksumFields: checksumFieldsOf(info.Checksums)})
}

// timeFormatXML is S3's timestamp in XML answers.
const timeFormatXML = "2006-01-02T15:04:05.000Z"
