package kafka

// Shared machinery of the consumer group tests (group*_test.go): servers
// with short group timeouts, producing numbered records, consumers that
// record what they read, and a dialer that can make a client vanish without
// a word (a crashed process, as the coordinator sees it).

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store/embedded"
)

// fastGroups are group settings for tests: sessions may be short and a
// group's first rebalance waits 200ms instead of 3s.
var fastGroups = groupConfig{
	minSessionTimeout:     500 * time.Millisecond,
	maxSessionTimeout:     30 * time.Minute,
	initialRebalanceDelay: 200 * time.Millisecond,
	newMemberJoinTimeout:  30 * time.Second,
	emptyGroupRetention:   10 * time.Minute,
	maxMetadataBytes:      4096,
}

// startGroupServer starts a server with cfg as its group settings, over a
// store in dir (in memory when dir is "").
func startGroupServer(t testing.TB, dir string, cfg groupConfig) *testServer {
	t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: dir, InMemory: dir == ""})
	if err != nil {
		t.Fatal(err)
	}
	ts := startServerOn(t, st, func(c *Config) { c.DefaultPartitions = 1 })
	groupConfigOverrides.Store(ts.Server, cfg)
	return ts
}

// produceNumbered writes n records to topic, value "k<i>", spread over its
// partitions by key.
func (ts *testServer) produceNumbered(t testing.TB, topic string, from, n int) {
	t.Helper()
	cl := ts.client(t, kgo.DefaultProduceTopic(topic))
	ctx := testContext(t)
	var recs []*kgo.Record
	for i := from; i < from+n; i++ {
		recs = append(recs, &kgo.Record{Key: []byte(strconv.Itoa(i)), Value: []byte(fmt.Sprintf("k%d", i))})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	cl.Close()
}

// seen records which values a set of consumers read, and how often.
type seen struct {
	mu     sync.Mutex
	counts map[string]int
	wake   chan struct{}
}

func newSeen() *seen { return &seen{counts: map[string]int{}, wake: make(chan struct{}, 1)} }

func (s *seen) add(v string) {
	s.mu.Lock()
	s.counts[v]++
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// distinct is how many different values were read.
func (s *seen) distinct() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.counts)
}

// waitFor waits until values k<from>..k<to-1> were all read.
func (s *seen) waitFor(t testing.TB, from, to int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		missing := s.missing(from, to)
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			if len(missing) > 10 {
				missing = append(missing[:10], "...")
			}
			t.Fatalf("records never consumed: %v", missing)
		}
		select {
		case <-s.wake:
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (s *seen) missing(from, to int) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i := from; i < to; i++ {
		if s.counts[fmt.Sprintf("k%d", i)] == 0 {
			out = append(out, fmt.Sprintf("k%d", i))
		}
	}
	return out
}

// cuttable is a dialer whose connections can all be cut at once, after
// which it refuses to dial: the client is gone as far as the server can
// tell, though it never said goodbye.
type cuttable struct {
	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func (c *cuttable) dial(ctx context.Context, network, host string) (net.Conn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dead {
		return nil, errors.New("cuttable: dead")
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, host)
	if err == nil {
		c.conns = append(c.conns, nc)
	}
	return nc, err
}

func (c *cuttable) cut() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dead = true
	for _, nc := range c.conns {
		nc.Close()
	}
}

// groupMember is one kgo group consumer that records what it reads and
// commits after processing (at-least-once), and tracks its assignment.
type groupMember struct {
	name string
	cl   *kgo.Client
	cut  *cuttable

	stop func() // leaves the group and waits; also at the test's end

	mu       sync.Mutex
	assigned map[int32]bool
	revoked  [][]int32 // partitions of each revocation
}

func (m *groupMember) owned() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var ps []int32
	for p := range m.assigned {
		ps = append(ps, p)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
	return ps
}

// startMember starts a consumer of topic in group, polling until the test
// ends or stop is called.
func (ts *testServer) startMember(t testing.TB, name, group, topic string, s *seen, opts ...kgo.Opt) *groupMember {
	t.Helper()
	m := &groupMember{name: name, cut: &cuttable{}, assigned: map[int32]bool{}}
	base := []kgo.Opt{
		kgo.SeedBrokers(ts.addr),
		kgo.ClientID(name),
		kgo.Dialer(m.cut.dial),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.AutoCommitInterval(500 * time.Millisecond),
		kgo.SessionTimeout(3 * time.Second),
		kgo.HeartbeatInterval(300 * time.Millisecond),
		kgo.RebalanceTimeout(10 * time.Second),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.MetadataMinAge(100 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, a map[string][]int32) {
			m.mu.Lock()
			for _, p := range a[topic] {
				m.assigned[p] = true
			}
			m.mu.Unlock()
		}),
		kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, r map[string][]int32) {
			m.mu.Lock()
			for _, p := range r[topic] {
				delete(m.assigned, p)
			}
			m.revoked = append(m.revoked, r[topic])
			m.mu.Unlock()
			_ = cl.CommitMarkedOffsets(ctx)
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, l map[string][]int32) {
			m.mu.Lock()
			for _, p := range l[topic] {
				delete(m.assigned, p)
			}
			m.mu.Unlock()
		}),
		kgo.AutoCommitMarks(),
		kgo.BlockRebalanceOnPoll(),
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	m.cl = cl
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			fs := cl.PollFetches(ctx)
			fs.EachRecord(func(r *kgo.Record) { s.add(string(r.Value)) })
			cl.MarkCommitRecords(fs.Records()...)
			cl.AllowRebalance()
		}
	}()
	m.stop = sync.OnceFunc(func() {
		cancel()
		<-done
		cl.Close()
	})
	t.Cleanup(m.stop)
	return m
}

// waitAssigned waits until the members own every one of n partitions
// between them, each once, and cond (if set) holds.
func waitAssigned(t testing.TB, n int, timeout time.Duration, cond func() bool, ms ...*groupMember) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		owners := map[int32]int{}
		for _, m := range ms {
			for _, p := range m.owned() {
				owners[p]++
			}
		}
		ok := len(owners) == n
		for _, c := range owners {
			ok = ok && c == 1
		}
		if ok && (cond == nil || cond()) {
			return
		}
		if time.Now().After(deadline) {
			var desc []string
			for _, m := range ms {
				desc = append(desc, fmt.Sprintf("%s=%v", m.name, m.owned()))
			}
			t.Fatalf("partitions never settled over the members: %v", desc)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (ts *testServer) admin(t testing.TB) *kadm.Client {
	return kadm.NewClient(ts.client(t))
}

func openMemStore(t testing.TB) *embedded.Store {
	t.Helper()
	st, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func listenLocal(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// plainConn is a raw connection for goroutines other than the test's:
// its round trip returns errors instead of failing the test.
type plainConn struct {
	net.Conn
	corr int32
	f    *kmsg.RequestFormatter
}

func dialPlain(addr string) (*plainConn, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &plainConn{Conn: c, f: kmsg.NewRequestFormatter(kmsg.FormatterClientID("plain"))}, nil
}

func (c *plainConn) rt(req kmsg.Request) (kmsg.Response, error) {
	c.corr++
	if _, err := c.Write(c.f.AppendRequest(nil, req, c.corr)); err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		return nil, fmt.Errorf("%s: %w", kmsg.NameForKey(req.Key()), err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		return nil, err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != c.corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, c.corr)
	}
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	body = body[4:]
	if resp.IsFlexible() {
		body = body[1:]
	}
	return resp, resp.ReadFrom(body)
}
