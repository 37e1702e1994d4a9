package sqs

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/gateway/awsapi"
	gateways3 "github.com/streambridge/bridge/gateway/s3"
	gatewaysqs "github.com/streambridge/bridge/gateway/sqs"
	"github.com/streambridge/bridge/store/embedded"
)

// testClock is the SQS handler's clock, and the source task's: visibility
// timeouts pass only when a test moves it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// bridge is the bridge's SQS and S3 APIs behind the AWS port's router, over
// an in-memory embedded store, on 127.0.0.1, with SDK clients of it.
type bridge struct {
	url   string
	sqs   *awssqs.Client
	s3    *awss3.Client
	clock *testClock
	// wrap, when set, sees every request before the router.
	mu   sync.Mutex
	wrap func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

func startBridge(t *testing.T) *bridge {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clock := &testClock{now: time.UnixMilli(1_750_000_000_000)}
	q, err := gatewaysqs.New(gatewaysqs.Config{Store: st, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Shutdown(t.Context()) })
	objs, err := gateways3.New(gateways3.Config{Objects: st})
	if err != nil {
		t.Fatal(err)
	}
	rt := awsapi.NewRouter(nil)
	for _, api := range []awsapi.API{
		{Name: "SQS", Handler: q, TargetPrefixes: []string{gatewaysqs.TargetPrefix}, Actions: gatewaysqs.Actions(), QueryFallback: true},
		{Name: "S3", Handler: objs, PathPrefixes: []string{"/"}, StreamedBody: true},
	} {
		if err := rt.Register(api); err != nil {
			t.Fatal(err)
		}
	}
	b := &bridge{clock: clock}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.mu.Lock()
		wrap := b.wrap
		b.mu.Unlock()
		if wrap != nil {
			wrap(w, r, rt)
			return
		}
		rt.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	b.url = srv.URL
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", "")
	b.sqs = awssqs.New(awssqs.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds})
	b.s3 = awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), Credentials: creds, UsePathStyle: true})
	return b
}

func (b *bridge) setWrap(f func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.wrap = f
}

// config is a connector configuration pointed at the bridge.
func (b *bridge) config(kv ...string) connect.Config {
	cfg := connect.Config{"aws.endpoint.url": b.url, "aws.access.key.id": "AKIDEXAMPLE", "aws.secret.access.key": "secret"}
	for i := 0; i+1 < len(kv); i += 2 {
		cfg[kv[i]] = kv[i+1]
	}
	return cfg
}

func (b *bridge) createQueue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := b.sqs.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

// receiveAll receives until an empty answer, deleting what it gets.
func (b *bridge) receiveAll(t *testing.T, url string) []string {
	t.Helper()
	var bodies []string
	for {
		out, err := b.sqs.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			return bodies
		}
		for _, m := range out.Messages {
			bodies = append(bodies, aws.ToString(m.Body))
			if _, err := b.sqs.DeleteMessage(t.Context(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// counts returns the queue's visible and in-flight message counts.
func (b *bridge) counts(t *testing.T, url string) (visible, inFlight string) {
	t.Helper()
	out, err := b.sqs.GetQueueAttributes(t.Context(), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Attributes["ApproximateNumberOfMessages"], out.Attributes["ApproximateNumberOfMessagesNotVisible"]
}

// rewriteBatch lets a test change SendMessageBatch calls: edit gets the
// request's JSON entries and returns the ones to forward and Failed entries
// to add to the answer. Every call's entry count is appended to sizes.
func rewriteBatch(sizes *[]int, mu *sync.Mutex, edit func(call int, entries []map[string]any) ([]map[string]any, []map[string]any)) func(http.ResponseWriter, *http.Request, http.Handler) {
	call := 0
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Header.Get("X-Amz-Target") != "AmazonSQS.SendMessageBatch" {
			next.ServeHTTP(w, r)
			return
		}
		var in map[string]any
		body, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(body, &in)
		var entries []map[string]any
		for _, e := range in["Entries"].([]any) {
			entries = append(entries, e.(map[string]any))
		}
		mu.Lock()
		*sizes = append(*sizes, len(entries))
		n := call
		call++
		mu.Unlock()
		var failed []map[string]any
		if edit != nil {
			entries, failed = edit(n, entries)
		}
		in["Entries"] = entries
		body, _ = json.Marshal(in)
		r2 := r.Clone(r.Context())
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r2)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		if len(failed) > 0 {
			prev, _ := out["Failed"].([]any)
			for _, f := range failed {
				prev = append(prev, f)
			}
			out["Failed"] = prev
		}
		answer, _ := json.Marshal(out)
		for k, v := range rec.Header() {
			if !strings.EqualFold(k, "Content-Length") {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(answer)
	}
}
