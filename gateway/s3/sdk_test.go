package s3

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/security/awscreds"
	"github.com/streambridge/bridge/security/sigv4"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

const (
	testKey    = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// server runs the AWS port's router with the S3 API on a 127.0.0.1
// listener, SigV4 on when signed.
type server struct {
	url, port, scheme string
	tls               *tls.Config // the client's, over TLS
	objs              store.Objects
}

// newTestObjects is the embedded store, in memory, closed when the test
// ends.
func newTestObjects(t *testing.T) store.Objects {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func startServer(t *testing.T, signed bool) *server { return start(t, signed, false, nil) }

// startTLSServer is startServer over HTTPS (a test certificate the
// clients trust).
func startTLSServer(t *testing.T, signed bool) *server { return start(t, signed, true, nil) }

// start starts a server; cfg, when not nil, adds to the handler's
// Config (authorization, audit).
func start(t *testing.T, signed, useTLS bool, cfg func(*Config)) *server {
	t.Helper()
	objs := newTestObjects(t)
	c := Config{Objects: objs, Region: "us-east-1"}
	if cfg != nil {
		cfg(&c)
	}
	h, err := New(c)
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(nil)
	if err := rt.Register(awsapi.API{Name: "S3", Handler: h, PathPrefixes: []string{"/"}, Signing: Signing(), AuthWording: awsapi.AuthS3, StreamedBody: true}); err != nil {
		t.Fatal(err)
	}
	if signed {
		creds, err := awscreds.New(awscreds.Credential{AccessKeyID: testKey, SecretAccessKey: testSecret, Name: "test"})
		if err != nil {
			t.Fatal(err)
		}
		rt.SetAuthenticator(&sigv4.Verifier{Credentials: creds, Region: "us-east-1"})
	}
	srv := httptest.NewUnstartedServer(rt)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	s := &server{url: srv.URL, port: u.Port(), scheme: u.Scheme, objs: objs}
	if useTLS {
		s.tls = srv.Client().Transport.(*http.Transport).TLSClientConfig
	}
	return s
}

// client is an SDK client of s: path-style against its URL, or
// virtual-host style against s3.localhost.localstack.cloud, which a
// dialer sends to 127.0.0.1.
func (s *server) client(t *testing.T, virtualHost bool, secret string) *s3.Client {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{TLSClientConfig: s.tls, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}}
	t.Cleanup(tr.CloseIdleConnections)
	endpoint := s.url
	if virtualHost {
		endpoint = s.scheme + "://s3.localhost.localstack.cloud:" + s.port
	}
	return s3.New(s3.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider(testKey, secret, ""),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: !virtualHost,
		HTTPClient:   &http.Client{Transport: tr},
		// The SDK's defaults, as config.LoadDefaultConfig sets them: a
		// CRC32 trailer on uploads, checksum mode on downloads.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	})
}

// code is the S3 error code of err, "" for none.
func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	if err != nil {
		return "?" + err.Error()
	}
	return ""
}

func TestSDKObjects(t *testing.T) {
	for _, tc := range []struct {
		name          string
		signed, vhost bool
	}{
		{"path-unsigned", false, false},
		{"path-signed", true, false},
		{"vhost-signed", true, true},
		{"vhost-unsigned", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startServer(t, tc.signed)
			c := s.client(t, tc.vhost, testSecret)
			ctx := context.Background()
			must := func(_ any, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			must(c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("bkt")}))
			must(c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("bkt")}))
			body := []byte("hello, streambridge objects")
			must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/a.txt"), Body: bytes.NewReader(body),
				ContentType: aws.String("text/plain"), Metadata: map[string]string{"colour": "blue"}, Tagging: aws.String("k=v")}))
			got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/a.txt")})
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if !bytes.Equal(data, body) || aws.ToString(got.ContentType) != "text/plain" || got.Metadata["colour"] != "blue" {
				t.Fatalf("GetObject: %q %q %v", data, aws.ToString(got.ContentType), got.Metadata)
			}
			if aws.ToString(got.ChecksumCRC32) == "" {
				t.Errorf("GetObject with checksum mode: no CRC32 (the SDK's default trailer)")
			}
			rg, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/a.txt"), Range: aws.String("bytes=7-18")})
			if err != nil {
				t.Fatal(err)
			}
			data, _ = io.ReadAll(rg.Body)
			rg.Body.Close()
			if string(data) != "streambridge" || aws.ToString(rg.ContentRange) != "bytes 7-18/27" {
				t.Fatalf("range: %q %q", data, aws.ToString(rg.ContentRange))
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("dir/a.txt"), Range: aws.String("bytes=100-")})
			if code(err) != "InvalidRange" {
				t.Errorf("range past the end: %v", err)
			}
			_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("nope")})
			var nsk *types.NoSuchKey
			if !errors.As(err, &nsk) {
				t.Errorf("missing key: %v", err)
			}
			_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("nope")})
			var nf *types.NotFound
			if !errors.As(err, &nf) {
				t.Errorf("HEAD missing key: %v", err)
			}
			tags, err := c.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String("bkt"), Key: aws.String("dir/a.txt")})
			if err != nil || len(tags.TagSet) != 1 || aws.ToString(tags.TagSet[0].Key) != "k" {
				t.Errorf("GetObjectTagging: %v %v", tags, err)
			}
			must(c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String("bkt"), Key: aws.String("b.txt"), CopySource: aws.String("bkt/dir/a.txt")}))
			for _, k := range []string{"dir/sub/c", "e", "f g+h"} {
				must(c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(k), Body: strings.NewReader(k)}))
			}
			l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bkt"), Delimiter: aws.String("/")})
			if err != nil {
				t.Fatal(err)
			}
			var keys []string
			for _, o := range l.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
			if strings.Join(keys, ",") != "b.txt,e,f g+h" || len(l.CommonPrefixes) != 1 || aws.ToString(l.CommonPrefixes[0].Prefix) != "dir/" {
				t.Errorf("ListObjectsV2: %v %v", keys, l.CommonPrefixes)
			}
			_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt")})
			if code(err) != "BucketNotEmpty" {
				t.Errorf("DeleteBucket of a full bucket: %v", err)
			}
			_, err = c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String("bkt"), Delete: &types.Delete{Objects: []types.ObjectIdentifier{
				{Key: aws.String("dir/a.txt")}, {Key: aws.String("dir/sub/c")}, {Key: aws.String("b.txt")}, {Key: aws.String("e")}, {Key: aws.String("f g+h")}}}})
			if err != nil {
				t.Fatal(err)
			}
			must(c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("bkt")}))
			_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("bkt")})
			if !errors.As(err, &nf) {
				t.Errorf("HeadBucket after delete: %v", err)
			}
		})
	}
}

func TestSDKWrongSecret(t *testing.T) {
	s := startServer(t, true)
	c := s.client(t, false, "wrong")
	_, err := c.ListBuckets(context.Background(), &s3.ListBucketsInput{})
	var re interface{ HTTPStatusCode() int }
	if code(err) != "SignatureDoesNotMatch" || !errors.As(err, &re) || re.HTTPStatusCode() != 403 {
		t.Fatalf("wrong secret: %v", err)
	}
}

// TestSDKPresigned: presigned PUT and GET URLs (UNSIGNED-PAYLOAD, the
// signature in the query) work with SigV4 on; a tampered one does not.
func TestSDKPresigned(t *testing.T) {
	s := startServer(t, true)
	c := s.client(t, false, testSecret)
	ctx := context.Background()
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("pre")}); err != nil {
		t.Fatal(err)
	}
	ps := s3.NewPresignClient(c)
	put, err := ps.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("pre"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(put.Method, put.URL, strings.NewReader("presigned body"))
	for k, vs := range put.SignedHeader {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("presigned PUT: %v %v", resp.Status, err)
	}
	resp.Body.Close()
	get, err := ps.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("pre"), Key: aws.String("k")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		url    string
		status int
	}{{get.URL, 200}, {strings.Replace(get.URL, "/pre/k", "/pre/other", 1), 403}} {
		resp, err := http.Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || (tc.status == 200 && string(b) != "presigned body") {
			t.Errorf("presigned GET %s: %d %q", tc.url, resp.StatusCode, b)
		}
	}
}
