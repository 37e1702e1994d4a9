package kinesis

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"

	"github.com/streambridge/bridge/security/kms"
	"github.com/streambridge/bridge/store/embedded"
)

// testServer is a Handler over an in-memory store, served on 127.0.0.1
// with HTTP/1.1 and h2c like the AWS port.
type testServer struct {
	*Handler
	store   *embedded.Store
	keyring *kms.Keyring
	url     string
}

func startTestServer(t testing.TB, cfgs ...func(*Config)) *testServer {
	t.Helper()
	keyring, err := kms.InMemory("us-east-1", "000000000000")
	if err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(embedded.Options{InMemory: true, Keyring: keyring})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st}
	for _, f := range cfgs {
		f(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	srv := &http.Server{Handler: h, Protocols: &p}
	go srv.Serve(ln)
	t.Cleanup(func() {
		_ = h.Shutdown(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = st.Close()
	})
	return &testServer{Handler: h, store: st, keyring: keyring, url: "http://" + ln.Addr().String()}
}

// client returns an aws-sdk-go-v2 Kinesis client for the server, with
// dummy credentials and retries off (tests look at first answers). It
// speaks HTTP/1.1 through readOnlyBodies (see http1Client): without it, a
// request fails now and then with "use of closed network connection", an
// SDK bug that retries hide from users but that would make tests flaky.
func (ts *testServer) client(opts ...func(*awskinesis.Options)) *awskinesis.Client {
	return awskinesis.New(awskinesis.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(ts.url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   &http.Client{Transport: readOnlyBodies{http.DefaultTransport}},
	}, opts...)
}

// post posts a raw request encoded with c and returns the response, whose
// body is closed when the test ends.
func (ts *testServer) post(t testing.TB, op string, c codec, body any) *http.Response {
	t.Helper()
	b, err := c.Encode(body)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, ts.url+"/", bytes.NewReader(b))
	req.Header.Set("Content-Type", c.ContentType())
	req.Header.Set("X-Amz-Target", targetPrefix+op)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// call posts a raw JSON 1.1 request and returns the status and decoded
// body, for checks on exact wire shapes and errors.
func (ts *testServer) call(t testing.TB, op string, body any) (int, map[string]any) {
	t.Helper()
	resp := ts.post(t, op, jsonCodec{}, body)
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s: response %q is not JSON: %v", op, raw, err)
		}
	}
	return resp.StatusCode, out
}

// movableClock is a handler clock tests move by hand (Config.Now: clock.Now).
// It starts at the real time: the store stamps streams with its own clock.
type movableClock struct {
	mu sync.Mutex
	t  time.Time
}

func newMovableClock() *movableClock { return &movableClock{t: time.Now()} }

func (c *movableClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *movableClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}
