package s3

// Requests on the wire, for what the SDK does not send or hides: signed
// aws-chunked bodies, HEAD errors, conditional GETs, digests, refusals.

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/streambridge/bridge/security/sigv4"
)

// send makes a request to s, signed with secret when it is not "" (the
// body's hash claimed as payloadHash, its SHA-256 when that is "").
func (s *server) send(t *testing.T, method, path string, hdr map[string]string, body []byte, secret, payloadHash string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if secret != "" {
		signRequest(t, req, secret, payloadHash, body, time.Now())
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func signRequest(t *testing.T, req *http.Request, secret, payloadHash string, body []byte, now time.Time) {
	t.Helper()
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	err := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }).SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: testKey, SecretAccessKey: secret}, req, payloadHash, "s3", "us-east-1", now)
	if err != nil {
		t.Fatal(err)
	}
}

// errCode reads the Code of an S3 error answer.
func errCode(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`<Code>([^<]*)</Code>`).FindSubmatch(b)
	if m == nil {
		return ""
	}
	return string(m[1])
}

// signedChunks encodes data as a signed aws-chunked body of chunks of
// size bytes, chained from the request's seed signature; tamper changes
// a byte of the first chunk after signing; trailer adds a signed CRC32
// trailer.
func signedChunks(t *testing.T, req *http.Request, data []byte, size int, tamper, trailer bool) []byte {
	t.Helper()
	auth := req.Header.Get("Authorization")
	seed := auth[strings.LastIndex(auth, "Signature=")+len("Signature="):]
	cred := regexp.MustCompile(`Credential=[^/]+/([^,]+)`).FindStringSubmatch(auth)[1]
	signer, err := sigv4.NewChunkVerifier(testSecret, cred, req.Header.Get("X-Amz-Date"), seed)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	for off := 0; ; off += size {
		chunk := data[min(off, len(data)):min(off+size, len(data))]
		sig := signer.Sign(sha256.Sum256(chunk))
		if tamper && off == 0 {
			chunk = append([]byte{chunk[0] ^ 1}, chunk[1:]...)
		}
		fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n", len(chunk), sig)
		if len(chunk) == 0 {
			break
		}
		b.Write(chunk)
		b.WriteString("\r\n")
	}
	if trailer {
		h := newChecksum("CRC32")
		h.Write(data)
		line := "x-amz-checksum-crc32:" + checksumValue(h)
		fmt.Fprintf(&b, "%s\r\nx-amz-trailer-signature:%s\r\n", line, signer.SignTrailer(line+"\n"))
	}
	b.WriteString("\r\n")
	return b.Bytes()
}

func TestSignedChunks(t *testing.T) {
	s := startServer(t, true)
	if resp := s.send(t, "PUT", "/chunks", nil, nil, testSecret, ""); resp.StatusCode != 200 {
		t.Fatalf("CreateBucket: %d %s", resp.StatusCode, errCode(t, resp))
	}
	data := bytes.Repeat([]byte("signed chunk data "), 2000)
	for _, tc := range []struct {
		name            string
		tamper, trailer bool
		status          int
		code            string
	}{
		{"good", false, false, 200, ""},
		{"trailer", false, true, 200, ""},
		{"tampered", true, false, 403, "SignatureDoesNotMatch"},
		{"tampered-trailer", true, true, 403, "SignatureDoesNotMatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			claim := sigv4.StreamingSigned
			req, _ := http.NewRequest("PUT", s.url+"/chunks/"+tc.name, nil)
			req.Header.Set("Content-Encoding", "aws-chunked")
			req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
			if tc.trailer {
				claim = sigv4.StreamingSignedTrailer
				req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
			}
			signRequest(t, req, testSecret, claim, nil, time.Now())
			body := signedChunks(t, req, data, 8192, tc.tamper, tc.trailer)
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status || (tc.code != "" && errCode(t, resp) != tc.code) {
				t.Fatalf("status %d, want %d %s", resp.StatusCode, tc.status, tc.code)
			}
			_, err = s.objs.HeadObject(context.Background(), "chunks", tc.name)
			if stored := err == nil; stored != (tc.status == 200) {
				t.Fatalf("stored %v after status %d", stored, tc.status)
			}
		})
	}
}

func TestWire(t *testing.T) {
	s := startServer(t, false)
	signed := startServer(t, true)
	for _, srv := range []*server{s, signed} {
		secret := ""
		if srv == signed {
			secret = testSecret
		}
		srv.send(t, "PUT", "/wire", nil, nil, secret, "")
		srv.send(t, "PUT", "/wire/obj", map[string]string{"Content-Type": "text/plain"}, []byte("0123456789"), secret, "")
	}
	etag := `"` + fmt.Sprintf("%x", md5.Sum([]byte("0123456789"))) + `"`
	md5Of := func(s string) string { m := md5.Sum([]byte(s)); return base64.StdEncoding.EncodeToString(m[:]) }
	future := time.Now().Add(time.Hour).UTC().Format(http.TimeFormat)
	past := time.Now().Add(-time.Hour).UTC().Format(http.TimeFormat)
	for _, tc := range []struct {
		name         string
		srv          *server
		method, path string
		hdr          map[string]string
		body         string
		secret, hash string
		status       int
		code         string
		wantBody     string
	}{
		{name: "HEAD missing key: 404, no body", srv: s, method: "HEAD", path: "/wire/none", status: 404},
		{name: "HEAD missing bucket", srv: s, method: "HEAD", path: "/nobucket", status: 404},
		{name: "GET missing bucket", srv: s, method: "GET", path: "/nobucket/k", status: 404, code: "NoSuchBucket"},
		{name: "If-None-Match", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"If-None-Match": etag}, status: 304},
		{name: "If-Match fails", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"If-Match": `"other"`}, status: 412, code: "PreconditionFailed"},
		{name: "If-Match holds", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"If-Match": etag}, status: 200, wantBody: "0123456789"},
		{name: "If-Modified-Since future", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"If-Modified-Since": future}, status: 304},
		{name: "If-Modified-Since past", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"If-Modified-Since": past}, status: 200},
		{name: "If-Unmodified-Since past", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"If-Unmodified-Since": past}, status: 412},
		{name: "range open", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"Range": "bytes=8-"}, status: 206, wantBody: "89"},
		{name: "range suffix", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"Range": "bytes=-3"}, status: 206, wantBody: "789"},
		{name: "range cut at the end", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"Range": "bytes=5-100"}, status: 206, wantBody: "56789"},
		{name: "range past the end", srv: s, method: "GET", path: "/wire/obj", hdr: map[string]string{"Range": "bytes=10-"}, status: 416, code: "InvalidRange"},
		{name: "HEAD range", srv: s, method: "HEAD", path: "/wire/obj", hdr: map[string]string{"Range": "bytes=0-1"}, status: 206},
		{name: "Content-MD5 wrong", srv: s, method: "PUT", path: "/wire/md5", hdr: map[string]string{"Content-MD5": md5Of("other")}, body: "data", status: 400, code: "BadDigest"},
		{name: "Content-MD5 right", srv: s, method: "PUT", path: "/wire/md5", hdr: map[string]string{"Content-MD5": md5Of("data")}, body: "data", status: 200},
		{name: "Content-MD5 malformed", srv: s, method: "PUT", path: "/wire/md5bad", hdr: map[string]string{"Content-MD5": "xx"}, body: "data", status: 400, code: "InvalidDigest"},
		{name: "checksum wrong", srv: s, method: "PUT", path: "/wire/crc", hdr: map[string]string{"x-amz-checksum-crc32": "AAAAAA=="}, body: "data", status: 400, code: "BadDigest"},
		{name: "content sha256 wrong, unsigned", srv: s, method: "PUT", path: "/wire/sha",
			hdr: map[string]string{"X-Amz-Content-Sha256": strings.Repeat("ab", 32)}, body: "data", status: 400, code: "XAmzContentSHA256Mismatch"},
		{name: "content sha256 wrong, signed", srv: signed, method: "PUT", path: "/wire/sha", body: "data", secret: testSecret,
			hash: strings.Repeat("ab", 32), status: 400, code: "XAmzContentSHA256Mismatch"},
		{name: "unsigned payload, signed", srv: signed, method: "PUT", path: "/wire/unsigned", body: "data", secret: testSecret, hash: "UNSIGNED-PAYLOAD", status: 200},
		{name: "no signature", srv: signed, method: "GET", path: "/wire/obj", status: 403, code: "AccessDenied"},
		{name: "wrong secret", srv: signed, method: "GET", path: "/wire/obj", secret: "wrong", status: 403, code: "SignatureDoesNotMatch"},
		{name: "unsupported subresource", srv: s, method: "GET", path: "/wire?versioning", status: 501, code: "NotImplemented"},
		{name: "method not allowed", srv: s, method: "POST", path: "/wire/obj", status: 405, code: "MethodNotAllowed"},
		{name: "bad tag header", srv: s, method: "PUT", path: "/wire/t", hdr: map[string]string{"x-amz-tagging": "aws:x=1"}, status: 400, code: "InvalidTag"},
		{name: "bad max-keys", srv: s, method: "GET", path: "/wire?list-type=2&max-keys=x", status: 400, code: "InvalidArgument"},
		{name: "bad continuation token", srv: s, method: "GET", path: "/wire?list-type=2&continuation-token=%25%25", status: 400, code: "InvalidArgument"},
		{name: "delete with a wrong Content-MD5", srv: s, method: "POST", path: "/wire?delete", hdr: map[string]string{"Content-MD5": md5Of("x")},
			body: "<Delete><Object><Key>obj</Key></Object></Delete>", status: 400, code: "BadDigest"},
		{name: "tags with a wrong CRC32", srv: s, method: "PUT", path: "/wire/obj?tagging", hdr: map[string]string{"x-amz-checksum-crc32": "AAAAAA=="},
			body: "<Tagging><TagSet></TagSet></Tagging>", status: 400, code: "BadDigest"},
		{name: "malformed delete", srv: s, method: "POST", path: "/wire?delete", body: "<Delete><Object>", status: 400, code: "MalformedXML"},
		{name: "bad part number", srv: s, method: "PUT", path: "/wire/obj?uploadId=x&partNumber=0", body: "x", status: 400, code: "InvalidArgument"},
		{name: "no such upload", srv: s, method: "GET", path: "/wire/obj?uploadId=nope", status: 404, code: "NoSuchUpload"},
		{name: "key too long", srv: s, method: "PUT", path: "/wire/" + strings.Repeat("k", 1025), body: "x", status: 400, code: "KeyTooLongError"},
		{name: "key not UTF-8", srv: s, method: "PUT", path: "/wire/%ff", body: "x", status: 400, code: "InvalidArgument"},
		{name: "key with dots and slashes", srv: s, method: "PUT", path: "/wire/a//../b", body: "x", status: 200},
		{name: "key with dots and slashes, read", srv: s, method: "GET", path: "/wire/a//../b", status: 200, wantBody: "x"},
		{name: "aws-chunked unsigned trailer", srv: s, method: "PUT", path: "/wire/trailer", hdr: map[string]string{
			"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "5", "X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Content-Sha256": sigv4.StreamingUnsignedTrailer},
			body: "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", status: 200},
		{name: "aws-chunked wrong trailer", srv: s, method: "PUT", path: "/wire/trailer2", hdr: map[string]string{
			"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "5", "X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Content-Sha256": sigv4.StreamingUnsignedTrailer},
			body: "5\r\nhellO\r\n0\r\nx-amz-checksum-crc32:NhCmhg==\r\n\r\n", status: 400, code: "BadDigest"},
		{name: "aws-chunked short", srv: s, method: "PUT", path: "/wire/trailer3", hdr: map[string]string{
			"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "6", "X-Amz-Content-Sha256": sigv4.StreamingUnsignedTrailer},
			body: "5\r\nhello\r\n0\r\n\r\n", status: 400, code: "IncompleteBody"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := tc.srv.send(t, tc.method, tc.path, tc.hdr, []byte(tc.body), tc.secret, tc.hash)
			b, _ := io.ReadAll(resp.Body)
			resp.Body = io.NopCloser(bytes.NewReader(b))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.code != "" && errCode(t, resp) != tc.code {
				t.Errorf("answer %s, want code %s", b, tc.code)
			}
			if tc.wantBody != "" && string(b) != tc.wantBody {
				t.Errorf("body %q, want %q", b, tc.wantBody)
			}
			if tc.method == "HEAD" && len(b) != 0 {
				t.Errorf("HEAD answer has a body: %q", b)
			}
			if tc.status >= 400 && tc.method == "PUT" {
				key := strings.TrimPrefix(tc.path, "/wire/")
				if _, err := tc.srv.objs.HeadObject(context.Background(), "wire", key); err == nil {
					t.Errorf("%s stored after a refused put", key)
				}
			}
		})
	}
	// The router still answers requests of other protocols that no API
	// serves in their own shape.
	resp := s.send(t, "POST", "/", map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables", "Content-Type": "application/x-amz-json-1.0"}, []byte("{}"), "", "")
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 400 || !strings.Contains(string(b), "UnknownOperationException") {
		t.Errorf("unknown JSON target: %d %s", resp.StatusCode, b)
	}
}
