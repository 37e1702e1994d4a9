package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConfig listens on loopback only, on ports the kernel picks.
func testConfig(t *testing.T) Config {
	return Config{
		InMemory:  true,
		KafkaAddr: "127.0.0.1:0",
		AWSAddr:   "127.0.0.1:0",
		AdminAddr: "127.0.0.1:0",
		// t.Output shows the server's log with a failing test only.
		Logger: slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := Start(ctx, cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestStartInMemory(t *testing.T) {
	s := start(t, testConfig(t))
	a := s.Addrs()
	for name, addr := range map[string]string{"kafka": a.Kafka, "aws": a.AWS, "admin": a.Admin} {
		if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
			t.Errorf("%s addr = %q, want the bound 127.0.0.1 port", name, addr)
		}
	}
	if a.AdvertisedKafka != a.Kafka {
		t.Errorf("advertised = %q, want the bound address %q", a.AdvertisedKafka, a.Kafka)
	}

	admin := "http://" + a.Admin
	if code, body := get(t, admin+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, admin+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d %q", code, body)
	}
	_, metrics := get(t, admin+"/metrics")
	for _, want := range []string{"go_goroutines", "bridge_build_info{"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}

	// AWS port: the placeholder answers over HTTP/1.1 and, with prior
	// knowledge, over cleartext HTTP/2 as the JavaScript SDK's Kinesis client
	// speaks it.
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	for name, client := range map[string]*http.Client{
		"http1": http.DefaultClient,
		"h2c":   {Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{}}},
	} {
		req, _ := http.NewRequest("POST", "http://"+a.AWS+"/", strings.NewReader("{}"))
		req.Header.Set("X-Amz-Target", "Kinesis_20131202.ListStreams")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var body struct {
			Type string `json:"__type"`
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != 400 || body.Type != "UnknownOperationException" {
			t.Errorf("%s: AWS port = %d %+v", name, resp.StatusCode, body)
		}
		wantProto := map[string]int{"http1": 1, "h2c": 2}[name]
		if resp.ProtoMajor != wantProto {
			t.Errorf("%s: answered over %s", name, resp.Proto)
		}
	}

	// Kafka port: the placeholder closes the connection.
	c, err := net.Dial("tcp", a.Kafka)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("kafka read = %v, want EOF", err)
	}
	c.Close()

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Shutdown")
	}
	if s.Err() != nil {
		t.Errorf("Err after a clean Shutdown = %v", s.Err())
	}
	for _, addr := range []string{a.Kafka, a.AWS, a.Admin} {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			t.Errorf("%s still accepts after Shutdown", addr)
		}
	}
	if err := s.Shutdown(ctx); err != nil {
		t.Errorf("second Shutdown = %v, want the first result (nil)", err)
	}
}

// A Kafka client connecting to a wildcard listener must be told an address
// it can dial: never 0.0.0.0, never port 0.
func TestAdvertisedDefaultsToLocalhost(t *testing.T) {
	cfg := testConfig(t)
	cfg.KafkaAddr = ":0"
	s := start(t, cfg)
	host, port, _ := net.SplitHostPort(s.Addrs().AdvertisedKafka)
	if host != "localhost" || port == "0" {
		t.Fatalf("advertised %q, want localhost and the bound port", s.Addrs().AdvertisedKafka)
	}
}

type handlerFunc = http.HandlerFunc

func TestShutdownDrainsInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	cfg := testConfig(t)
	cfg.NewAWS = func(d Deps) (http.Handler, error) {
		if d.Store == nil || d.Registerer == nil || d.Logger == nil || d.Addrs.AWS == "" {
			t.Errorf("front end built with incomplete Deps: %+v", d)
		}
		return handlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-release
			io.WriteString(w, "done")
		}), nil
	}
	s := start(t, cfg)
	a := s.Addrs()

	type result struct {
		code int
		body string
		err  error
	}
	reqDone := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + a.AWS + "/")
		if err != nil {
			reqDone <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		reqDone <- result{resp.StatusCode, string(b), err}
	}()
	<-entered

	shutDown := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		shutDown <- s.Shutdown(ctx)
	}()

	// While the request is in flight, the admin port stays up and says why
	// it is not ready; new AWS connections are refused.
	waitFor(t, func() bool {
		code, _ := get(t, "http://"+a.Admin+"/readyz")
		return code == http.StatusServiceUnavailable
	})
	if _, body := get(t, "http://"+a.Admin+"/readyz"); !strings.Contains(body, "shutting down") {
		t.Errorf("/readyz while draining = %q", body)
	}
	waitFor(t, func() bool {
		c, err := net.Dial("tcp", a.AWS)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	select {
	case err := <-shutDown:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	default:
	}

	close(release)
	if r := <-reqDone; r.err != nil || r.code != 200 || r.body != "done" {
		t.Fatalf("in-flight request = %+v, want 200 done", r)
	}
	if err := <-shutDown; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestShutdownTimeoutClosesConnections(t *testing.T) {
	entered := make(chan struct{})
	cfg := testConfig(t)
	cfg.NewAWS = func(Deps) (http.Handler, error) {
		return handlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(entered)
			<-r.Context().Done() // never finishes on its own
		}), nil
	}
	s := start(t, cfg)
	reqErr := make(chan error, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addrs().AWS + "/")
		if err == nil {
			resp.Body.Close()
		}
		reqErr <- err
	}()
	<-entered

	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown past its deadline = %v; want nil (connections closed, store closed)", err)
	}
	if err := <-reqErr; err == nil {
		t.Fatal("request cut by the shutdown deadline got a response")
	}
}

// failingService stops serving on its own, as a broken front end would.
type failingService struct{}

func (failingService) Serve(l net.Listener) error         { l.Close(); return errors.New("boom") }
func (failingService) Shutdown(ctx context.Context) error { return nil }

func TestFrontEndFailureClosesDone(t *testing.T) {
	cfg := testConfig(t)
	cfg.NewKafka = func(Deps) (Service, error) { return failingService{}, nil }
	s := start(t, cfg)
	select {
	case <-s.Done():
	case <-time.After(time.Minute):
		t.Fatal("Done not closed after a front end failed")
	}
	if err := s.Err(); err == nil || !strings.Contains(err.Error(), "kafka listener: boom") {
		t.Fatalf("Err = %v, want the kafka failure", err)
	}
	if code, body := get(t, "http://"+s.Addrs().Admin+"/readyz"); code != 503 || !strings.Contains(body, "boom") {
		t.Errorf("/readyz after failure = %d %q", code, body)
	}
}

func TestFrontEndBuildError(t *testing.T) {
	cfg := testConfig(t)
	cfg.KafkaAddr, cfg.AWSAddr, cfg.AdminAddr = freePort(t), freePort(t), freePort(t)
	cfg.NewAWS = func(Deps) (http.Handler, error) { return nil, errors.New("no such region") }
	_, err := Start(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "aws front end: no such region") {
		t.Fatalf("Start = %v, want the front end's error", err)
	}
	assertReleased(t, cfg.KafkaAddr, cfg.AWSAddr, cfg.AdminAddr)
}

// A Start that fails after binding must release every port and the data dir.
// This one fails before the store is opened, so it does not need the store.
func TestStartFailureReleasesPorts(t *testing.T) {
	file := filepath.Join(t.TempDir(), "not-a-dir")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cfg := Config{
		DataDir:   file,
		KafkaAddr: freePort(t), AWSAddr: freePort(t), AdminAddr: freePort(t),
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil)),
	}
	_, err := Start(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "create data dir") {
		t.Fatalf("Start with a file as data dir = %v", err)
	}
	assertReleased(t, cfg.KafkaAddr, cfg.AWSAddr, cfg.AdminAddr)
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("failed start did not log its teardown:\n%s", logs.String())
	}
}

func TestStartPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	cfg := testConfig(t)
	cfg.AdminAddr = taken.Addr().String()
	_, err = Start(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "--admin-addr") || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("Start on a taken port = %v", err)
	}
}

func TestStartCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cfg := testConfig(t)
	cfg.KafkaAddr, cfg.AWSAddr, cfg.AdminAddr = freePort(t), freePort(t), freePort(t)
	_, err := Start(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Start with a canceled ctx = %v, want context.Canceled", err)
	}
	assertReleased(t, cfg.KafkaAddr, cfg.AWSAddr, cfg.AdminAddr)
}

func assertReleased(t *testing.T, addrs ...string) {
	t.Helper()
	for _, addr := range addrs {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("%s still bound after a failed Start: %v", addr, err)
			continue
		}
		ln.Close()
	}
}

// waitFor polls cond until it holds; the test's own deadline bounds it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-t.Context().Done():
			t.Fatal("condition never held")
		case <-time.After(10 * time.Millisecond):
		}
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// longPoll is an AWS handler whose requests wait for news, like an SQS
// ReceiveMessage with WaitTimeSeconds, and that hears about the shutdown.
type longPoll struct {
	entered  chan struct{}
	shutdown chan struct{}
}

func (l *longPoll) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	close(l.entered)
	<-l.shutdown
	io.WriteString(w, "woken")
}

func (l *longPoll) Shutdown(context.Context) error {
	close(l.shutdown)
	return nil
}

func TestAWSHandlerHearsShutdown(t *testing.T) {
	lp := &longPoll{entered: make(chan struct{}), shutdown: make(chan struct{})}
	cfg := testConfig(t)
	cfg.NewAWS = func(Deps) (http.Handler, error) { return lp, nil }
	s := start(t, cfg)

	body := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + s.Addrs().AWS + "/")
		if err != nil {
			body <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body <- string(b)
	}()
	<-lp.entered

	// Without the hook this drain would last until the deadline and cut the
	// request; with it the long poll answers and the drain ends.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() != nil {
		t.Fatal("drain ran to its deadline")
	}
	if got := <-body; got != "woken" {
		t.Fatalf("long poll answered %q, want woken", got)
	}
}

// recordingService notes whether it was shut down.
type recordingService struct{ shutDown chan struct{} }

func (r *recordingService) Serve(l net.Listener) error {
	<-r.shutDown
	return l.Close()
}

func (r *recordingService) Shutdown(context.Context) error {
	close(r.shutDown)
	return nil
}

// A front end built before a later start step failed must still be shut
// down: its constructor may have started work.
func TestStartFailureShutsDownBuiltFrontEnds(t *testing.T) {
	rec := &recordingService{shutDown: make(chan struct{})}
	cfg := testConfig(t)
	cfg.NewKafka = func(Deps) (Service, error) { return rec, nil }
	cfg.NewAWS = func(Deps) (http.Handler, error) { return nil, errors.New("no") }
	if _, err := Start(t.Context(), cfg); err == nil {
		t.Fatal("Start succeeded")
	}
	select {
	case <-rec.shutDown:
	default:
		t.Fatal("kafka front end built but never shut down")
	}
}

func TestStartCanceledWithCause(t *testing.T) {
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(errors.New("signal terminated"))
	_, err := Start(ctx, testConfig(t))
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "signal terminated") {
		t.Fatalf("Start = %v, want context.Canceled naming the cause", err)
	}
}
