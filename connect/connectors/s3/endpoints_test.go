package s3

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	"github.com/streambridge/bridge/gateway/awsapi"
	gateways3 "github.com/streambridge/bridge/gateway/s3"
	"github.com/streambridge/bridge/store/embedded"
)

// endpoint is an S3 API on 127.0.0.1 and a client of it.
type endpoint struct {
	url    string
	client *awss3.Client
}

// endpoints are the two S3 APIs every behaviour is checked against: the
// bridge's (gateway/s3 behind the AWS port's router, over the embedded
// store) and gofakes3, which no one here wrote.
var endpoints = []struct {
	name  string
	start func(t *testing.T) *endpoint
}{
	{"bridge", startBridgeS3},
	{"gofakes3", startGofakes3},
}

func startBridgeS3(t *testing.T) *endpoint { return startBridgeS3With(t, nil) }

// startBridgeS3With is startBridgeS3 with wrap, when not nil, seeing every
// request before the router.
func startBridgeS3With(t *testing.T, wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)) *endpoint {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h, err := gateways3.New(gateways3.Config{Objects: st})
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(nil)
	if err := rt.Register(awsapi.API{Name: "S3", Handler: h, PathPrefixes: []string{"/"}, StreamedBody: true}); err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		return serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { wrap(w, r, rt) }))
	}
	return serve(t, rt)
}

func startGofakes3(t *testing.T) *endpoint {
	t.Helper()
	return serve(t, gofakes3.New(s3mem.New()).Server())
}

func serve(t *testing.T, h http.Handler) *endpoint {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")})
	if _, err := c.CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String("sink")}); err != nil {
		t.Fatal(err)
	}
	return &endpoint{url: srv.URL, client: c}
}

// config is a sink configuration for bucket "sink" of e.
func (e *endpoint) config(kv ...string) connect.Config {
	cfg := connect.Config{"aws.endpoint.url": e.url, "aws.access.key.id": "AKIDEXAMPLE", "aws.secret.access.key": "secret",
		Bucket: "sink", FlushSize: "3"}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	return cfg
}

// objects returns every object of the bucket: key → bytes.
func (e *endpoint) objects(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	p := awss3.NewListObjectsV2Paginator(e.client, &awss3.ListObjectsV2Input{Bucket: aws.String("sink")})
	for p.HasMorePages() {
		page, err := p.NextPage(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			obj, err := e.client.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String("sink"), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(obj.Body)
			obj.Body.Close()
			out[aws.ToString(o.Key)] = string(b)
		}
	}
	return out
}

func (e *endpoint) deleteObject(t *testing.T, key string) {
	t.Helper()
	if _, err := e.client.DeleteObject(t.Context(), &awss3.DeleteObjectInput{Bucket: aws.String("sink"), Key: aws.String(key)}); err != nil {
		t.Fatal(err)
	}
}

// fakeClock is the task's wall clock in tests.
type fakeClock struct{ now time.Time }

func (c *fakeClock) Now() time.Time { return c.now }

func startTask(t *testing.T, e *endpoint, clock *fakeClock, cfg connect.Config, tps ...connect.TopicPartition) (*Task, *connecttest.SinkContext) {
	t.Helper()
	sc := &connecttest.SinkContext{Assigned: tps, Tolerate: true}
	task := &Task{}
	if clock != nil {
		task.now = clock.Now
	}
	if err := task.Start(t.Context(), sc, cfg); err != nil {
		t.Fatal(err)
	}
	if err := task.Open(t.Context(), tps); err != nil {
		t.Fatal(err)
	}
	return task, sc
}

func keys(m map[string]string) []string { return slices.Sorted(mapKeysOf(m)) }

func mapKeysOf(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }
