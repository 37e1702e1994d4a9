package kafka

import (
	"context"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

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
