package kafka

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// testServer is a server on 127.0.0.1:0 over an in-memory store.
type testServer struct {
	*Server
	addr  string
	store *embedded.Store
}

// startServer starts a server for t, shut down (and its store closed) when
// the test ends. change adjusts the config before New.
func startServer(t testing.TB, change ...func(*Config)) *testServer {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	return startServerOn(t, st, change...)
}

func startServerOn(t testing.TB, st *embedded.Store, change ...func(*Config)) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Store:             st,
		Logger:            testLogger(),
		AdvertisedAddr:    ln.Addr().String(),
		AutoCreateTopics:  true,
		DefaultPartitions: 1,
	}
	for _, c := range change {
		c(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	ts := &testServer{Server: s, addr: ln.Addr().String(), store: st}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		st.Close()
	})
	return ts
}

// testLogger logs warnings to stderr (debug with KAFKA_TEST_DEBUG set), so
// a failing test shows why a connection was closed.
func testLogger() *slog.Logger {
	level := slog.LevelWarn
	if os.Getenv("KAFKA_TEST_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}

// client returns a franz-go client for the server, closed with the test.
func (ts *testServer) client(t testing.TB, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	opts = append([]kgo.Opt{kgo.SeedBrokers(ts.addr), kgo.MetadataMinAge(50 * time.Millisecond)}, opts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// rawConn speaks the protocol directly, for requests a real client would
// never send.
type rawConn struct {
	net.Conn
	corr int32
	f    *kmsg.RequestFormatter
}

func dialRaw(t testing.TB, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{Conn: c, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("raw-test"))}
}

// send writes req at its set version and returns its correlation id.
func (c *rawConn) send(t testing.TB, req kmsg.Request) int32 {
	t.Helper()
	c.corr++
	if _, err := c.Write(c.f.AppendRequest(nil, req, c.corr)); err != nil {
		t.Fatal(err)
	}
	return c.corr
}

// recv reads one response into resp (whose version must be set) and checks
// its correlation id.
func (c *rawConn) recv(t testing.TB, corr int32, resp kmsg.Response) {
	t.Helper()
	body, err := c.readFrame()
	if err != nil {
		t.Fatalf("reading response %d: %v", corr, err)
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != corr {
		t.Fatalf("correlation id %d, want %d", got, corr)
	}
	body = body[4:]
	if resp.IsFlexible() && resp.Key() != int16(kmsg.ApiVersions) {
		body = body[1:] // empty header tag buffer
	}
	if err := resp.ReadFrom(body); err != nil {
		t.Fatalf("decoding %s response: %v", kmsg.NameForKey(resp.Key()), err)
	}
}

func (c *rawConn) readFrame() ([]byte, error) {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	_, err := io.ReadFull(c, body)
	return body, err
}

// roundTrip sends req and returns its response.
func (c *rawConn) roundTrip(t testing.TB, req kmsg.Request) kmsg.Response {
	t.Helper()
	corr := c.send(t, req)
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	c.recv(t, corr, resp)
	return resp
}

// produceReq builds a one-partition produce request at version v.
func produceReq(v int16, acks int16, topic string, partition int32, batch []byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version = v
	req.Acks = acks
	req.TimeoutMillis = 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Partition = partition
	rp.Records = batch
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// encodeBatch encodes values as one batch with opts.
func encodeBatch(t testing.TB, opts recordbatch.EncodeOptions, values ...string) []byte {
	t.Helper()
	recs := make([]recordbatch.Record, len(values))
	for i, v := range values {
		recs[i] = recordbatch.Record{Value: []byte(v), Timestamp: time.UnixMilli(1700000000000 + int64(i))}
	}
	b, err := recordbatch.Encode(nil, recs, opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// createTopic makes a topic with n partitions directly in the store.
func (ts *testServer) createTopic(t testing.TB, name string, n int) {
	t.Helper()
	if _, err := ts.Server.createTopic(context.Background(), name, n); err != nil {
		t.Fatal(err)
	}
}

// consumeAll reads n records of topic from the start with a fresh client.
func (ts *testServer) consumeAll(t testing.TB, topic string, n int, opts ...kgo.Opt) []*kgo.Record {
	t.Helper()
	ctx := testContext(t)
	opts = append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, opts...)
	cl := ts.client(t, opts...)
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s before the deadline", len(out), n, topic)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		out = append(out, fs.Records()...)
	}
	return out
}

func storeOpts() store.AppendOptions { return store.AppendOptions{} }

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// encodeBatchAt encodes n records with timestamps ms, ms+1, ...
func encodeBatchAt(t testing.TB, ms int64, n int) []byte {
	t.Helper()
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Value: []byte("v"), Timestamp: time.UnixMilli(ms + int64(i))}
	}
	b, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return b
}
