package s3

// Request bodies and the headers that describe what a put stores.

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/security/sigv4"
	"github.com/streambridge/bridge/store"
)

// maxPutSize is S3's largest single PutObject (and UploadPart): 5 GiB.
const maxPutSize = 5 << 30

// requestBody is x's body as the store reads it: aws-chunked decoded
// (its chunk signatures and trailer checksum checked as it goes), and
// checked against X-Amz-Content-Sha256 when the router did not already
// (authentication off: S3 checks the claim anyway). size is the decoded
// length, -1 when unknown; trailerAlgs the algorithms of the trailer's
// checksums, which the store should compute and keep.
func requestBody(x *exchange) (body io.Reader, size int64, err error) {
	b, size, _, err := requestBodyAlgs(x)
	return b, size, err
}

func requestBodyAlgs(x *exchange) (body io.Reader, size int64, trailerAlgs []string, err error) {
	r := x.r
	if r.Body == nil || r.Body == http.NoBody {
		return http.NoBody, 0, nil, nil
	}
	claim := r.Header.Get("X-Amz-Content-Sha256")
	chunked := strings.HasPrefix(claim, "STREAMING-") || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked")
	if !chunked {
		body = r.Body
		if _, authenticated := awsapi.PrincipalFrom(r.Context()); !authenticated && len(claim) == 64 {
			body = awsapi.HashCheckedBody(r.Body, claim)
		}
		return body, r.ContentLength, nil, nil
	}
	size = -1
	if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
		if size, err = strconv.ParseInt(v, 10, 64); err != nil || size < 0 {
			return nil, 0, nil, invalidArgument("x-amz-decoded-content-length is not a length")
		}
	}
	signed := claim == sigv4.StreamingSigned || claim == sigv4.StreamingSignedTrailer
	var names []string
	if t := r.Header.Get("X-Amz-Trailer"); t != "" {
		names = strings.Split(t, ",")
	}
	cr, err := newChunkedReader(r.Body, signed, awsapi.SignedChunksFrom(r.Context()), names, size)
	if err != nil {
		return nil, 0, nil, err
	}
	for _, n := range names {
		if a := algorithmOfHeader(n); a != "" {
			trailerAlgs = append(trailerAlgs, a)
		}
	}
	return cr, size, trailerAlgs, nil
}

// storedHeaders are the standard headers S3 keeps with an object and
// returns on GET and HEAD.
var storedHeaders = []string{"Cache-Control", "Content-Disposition", "Content-Encoding", "Content-Language", "Expires"}

// putOptions are what x's headers say to store with a body: Content-Type
// and the standard headers, x-amz-meta-*, x-amz-tagging, checksums and
// Content-MD5.
func putOptions(x *exchange) (store.PutOptions, error) {
	hdr := x.r.Header
	o := store.PutOptions{Size: -1, ContentType: hdr.Get("Content-Type")}
	o.Headers, o.Metadata = objectHeaders(hdr)
	if v := hdr.Get("x-amz-tagging"); v != "" {
		tags, err := parseTagQuery(v)
		if err != nil {
			return o, err
		}
		o.Tags = tags
	}
	var err error
	if o.Checksums, o.ExpectChecksums, err = requestChecksums(hdr); err != nil {
		return o, err
	}
	if md5 := hdr.Get("Content-MD5"); md5 != "" {
		if b, err := base64.StdEncoding.DecodeString(md5); err != nil || len(b) != 16 {
			return o, s3Err(http.StatusBadRequest, codeInvalidDigest, "The Content-MD5 you specified was invalid.")
		}
		o.ExpectMD5 = md5
	}
	return o, nil
}

// objectHeaders are the standard headers and user metadata in hdr.
// aws-chunked is the transfer's encoding, not the object's, and is
// dropped from Content-Encoding.
func objectHeaders(hdr http.Header) (headers, meta map[string]string) {
	for _, name := range storedHeaders {
		v := hdr.Get(name)
		if name == "Content-Encoding" {
			var keep []string
			for e := range strings.SplitSeq(v, ",") {
				if e = strings.TrimSpace(e); e != "" && e != "aws-chunked" {
					keep = append(keep, e)
				}
			}
			v = strings.Join(keep, ",")
		}
		if v != "" {
			if headers == nil {
				headers = map[string]string{}
			}
			headers[name] = v
		}
	}
	for name, vs := range hdr {
		if m, ok := strings.CutPrefix(strings.ToLower(name), "x-amz-meta-"); ok && m != "" {
			if meta == nil {
				meta = map[string]string{}
			}
			meta[m] = strings.Join(vs, ",")
		}
	}
	return headers, meta
}

// parseTagQuery reads x-amz-tagging: tags as a URL query (k1=v1&k2=v2).
func parseTagQuery(s string) (map[string]string, error) {
	q, err := url.ParseQuery(s)
	if err != nil {
		return nil, s3Err(http.StatusBadRequest, codeInvalidTag, "The x-amz-tagging header does not parse as a query string.")
	}
	tags := map[string]string{}
	for k, vs := range q {
		tags[k] = vs[0]
	}
	return tags, checkTags(tags, 10)
}

// checkTags applies S3's limits on a tag set.
func checkTags(tags map[string]string, max int) error {
	if len(tags) > max {
		return s3Err(http.StatusBadRequest, codeInvalidTag, "Object tags cannot be greater than "+strconv.Itoa(max))
	}
	for k, v := range tags {
		if k == "" || len(k) > 128 || len(v) > 256 {
			return s3Err(http.StatusBadRequest, codeInvalidTag, "The TagKey or TagValue you have provided is invalid")
		}
		if strings.HasPrefix(k, "aws:") {
			return s3Err(http.StatusBadRequest, codeInvalidTag, "Your TagKey cannot be prefixed with aws:")
		}
	}
	return nil
}
