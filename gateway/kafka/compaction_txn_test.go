package kafka

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// serveAt serves st on addr ("127.0.0.1:0" for any port) until stop, which
// shuts the server down (the store stays open).
func serveAt(t *testing.T, st *embedded.Store, addr string) (string, func()) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Logger: testLogger(), AdvertisedAddr: ln.Addr().String(), AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// TestCompactedTopicWithTransactions: franz-go's transactional producer
// commits and aborts on a compacted topic; the cleaner then leaves what
// Kafka's leaves: read_uncommitted and read_committed consumers both get
// each key's latest committed value and nothing of the aborted
// transactions (aborted records never shadow committed ones), offsets as
// written; a later pass removes the markers of emptied transactions. The
// producer's state outlives the removal of its batches and a restart of the
// server: it goes on with its next sequence number, and DescribeProducers
// still shows it.
func TestCompactedTopicWithTransactions(t *testing.T) {
	dir := t.TempDir()
	open := func() *embedded.Store {
		st, err := embedded.Open(embedded.Options{Dir: dir, CompactionInterval: time.Hour, CompactionBytesPerSecond: -1})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := open()
	defer func() { st.Close() }()
	addr, stop := serveAt(t, st, "127.0.0.1:0")
	ctx := testContext(t)
	client := func(opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.MetadataMinAge(50 * time.Millisecond)}, opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	adm := kadm.NewClient(client())
	str := func(s string) *string { return &s }
	if r, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{
		"cleanup.policy":            str("compact"),
		"min.cleanable.dirty.ratio": str("0.01"),
		"delete.retention.ms":       str("0"),
	}, "ctx"); err != nil || r.Err != nil {
		t.Fatal(err, r.Err)
	}
	pr := client(kgo.TransactionalID("compact-txn"), kgo.DefaultProduceTopic("ctx"))
	plain := client(kgo.DefaultProduceTopic("ctx"))

	want := map[string]string{} // each key's latest committed value
	// The epoch of the producer's last batch and the records it sent at
	// that epoch: with KIP-890 part 2 (franz-go uses it) every EndTxn bumps
	// the epoch and sequences start again at 0.
	var lastEpoch int16
	sent := int32(0)
	txn := func(commit kgo.TransactionEndTry, tag string, keys ...string) {
		t.Helper()
		if err := pr.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		if _, epoch, err := pr.ProducerID(ctx); err != nil {
			t.Fatal(err)
		} else if epoch != lastEpoch {
			lastEpoch, sent = epoch, 0
		}
		recs := make([]*kgo.Record, len(keys))
		for i, k := range keys {
			recs[i] = &kgo.Record{Key: []byte(k), Value: []byte(tag + "-" + k)}
		}
		if err := pr.ProduceSync(ctx, recs...).FirstErr(); err != nil {
			t.Fatal(err)
		}
		if err := pr.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
		sent += int32(len(keys))
		if commit == kgo.TryCommit {
			for _, k := range keys {
				want[k] = tag + "-" + k
			}
		}
	}
	// The newest batch is never cleaned: a plain record after each round
	// lets the transactions' markers into the pass.
	var lastTail int64
	tail := func(v string) {
		t.Helper()
		r, err := plain.ProduceSync(ctx, &kgo.Record{Key: []byte("tail"), Value: []byte(v)}).First()
		if err != nil {
			t.Fatal(err)
		}
		want["tail"], lastTail = v, r.Offset
	}
	keys := func(from, to int) (out []string) {
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("k%d", i))
		}
		return out
	}
	txn(kgo.TryCommit, "c1", keys(0, 10)...)
	txn(kgo.TryAbort, "a2", keys(0, 10)...) // must not shadow c1
	txn(kgo.TryCommit, "c3", keys(0, 5)...)
	txn(kgo.TryAbort, "a4", append(keys(5, 10), "only-aborted")...)
	tail("t1")

	// check consumes the topic at both isolation levels up to the last
	// tail record: each gets every key's latest committed value, each key
	// once (but for the tail key, rewritten in the newest batch, which is
	// never cleaned), and nothing of the aborted transactions.
	check := func(when string) {
		t.Helper()
		for _, level := range []kgo.IsolationLevel{kgo.ReadUncommitted(), kgo.ReadCommitted()} {
			cl := client(kgo.ConsumeTopics("ctx"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(level))
			got, count := map[string]string{}, map[string]int{}
			for last := int64(-1); last < lastTail; {
				fs := cl.PollFetches(ctx)
				if ctx.Err() != nil {
					t.Fatalf("%s, %v: consumed up to %d of %d", when, level, last, lastTail)
				}
				fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
				for _, r := range fs.Records() {
					if r.Offset <= last {
						t.Fatalf("%s: offset %d after %d", when, r.Offset, last)
					}
					last = r.Offset
					got[string(r.Key)] = string(r.Value)
					count[string(r.Key)]++
				}
			}
			cl.Close()
			if !maps.Equal(got, want) {
				t.Errorf("%s, %v:\n got %v\nwant %v", when, level, got, want)
			}
			for k, n := range count {
				if n != 1 && k != "tail" {
					t.Errorf("%s, %v: key %s read %d times", when, level, k, n)
				}
			}
		}
	}
	markers := func() (out []string) {
		t.Helper()
		for from := int64(0); ; {
			res, err := st.Read(ctx, "ctx", 0, from, store.ReadLimits{})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Batches) == 0 {
				return out
			}
			for _, b := range res.Batches {
				from = b.LastOffset + 1
				if c, err := recordbatch.ParseControl(b.Raw); err == nil {
					if info, _ := recordbatch.Parse(b.Raw); info.Control() {
						out = append(out, fmt.Sprintf("%s@%d", c.Type, b.BaseOffset))
					}
				}
			}
		}
	}
	before := markers()
	if len(before) != 4 {
		t.Fatalf("markers before cleaning: %v", before)
	}
	if err := st.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	check("after the first pass")
	if got := markers(); !slices.Equal(got, before) {
		t.Errorf("the first pass removed markers: %v, had %v", got, before)
	}

	// The producer's batches of c1 (k0-k4) and a4 are gone; its state is
	// not, before or after a restart.
	pid, _, err := pr.ProducerID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	describe := func() kadm.DescribedProducer {
		t.Helper()
		described, err := kadm.NewClient(client()).DescribeProducers(ctx, kadm.TopicsSet{"ctx": {0: {}}})
		if err != nil {
			t.Fatal(err)
		}
		var out kadm.DescribedProducer
		described.EachPartition(func(p kadm.DescribedProducersPartition) {
			for _, ap := range p.ActiveProducers {
				if ap.ProducerID == pid {
					out = ap
				}
			}
		})
		return out
	}
	if p := describe(); p.ProducerEpoch != lastEpoch || p.LastSequence != sent-1 || p.CurrentTxnStartOffset != -1 {
		t.Errorf("DescribeProducers after cleaning: %+v, want epoch %d last sequence %d", p, lastEpoch, sent-1)
	}
	stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open()
	if got, _ := serveAt(t, st, addr); got != addr {
		t.Fatalf("restarted on %s, not %s", got, addr)
	}
	// The same producer goes on after the restart: at the epoch its last
	// EndTxn gave it (KIP-890 part 2; without it, at the same epoch where
	// its sequence was, and a lost state would answer
	// OUT_OF_ORDER_SEQUENCE_NUMBER).
	txn(kgo.TryCommit, "c5", "k0")
	if p := describe(); p.ProducerEpoch != lastEpoch || p.LastSequence != sent-1 {
		t.Errorf("DescribeProducers after the restart: %+v, want epoch %d last sequence %d", p, lastEpoch, sent-1)
	}
	tail("t2")

	// Two more passes: the first finds a2 and a4 empty and writes their
	// horizons (delete.retention.ms=0), the second removes their markers.
	// c1 keeps k5-k9 and c3 k1-k4, so their markers stay, as c5's.
	if err := st.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	tail("t3")
	if err := st.Compact(ctx); err != nil {
		t.Fatal(err)
	}
	check("after the markers' passes")
	got := markers()
	if len(got) != 3 || got[0] != before[0] || got[1] != before[2] || got[2][:6] != "COMMIT" {
		t.Errorf("markers left %v, want c1's, c3's and c5's of %v", got, before)
	}
}

// seqAfter orders sequence numbers across their wrap, for resolveBatch's
// early end when the cleaner removed the batch it looks for.
func TestSeqAfter(t *testing.T) {
	for _, tc := range []struct {
		a, b int32
		want bool
	}{
		{5, 4, true},
		{4, 5, false},
		{5, 5, false},
		{0, math.MaxInt32, true},  // wrapped
		{math.MaxInt32, 0, false}, // a batch in flight before a wrapped one
		{3, math.MaxInt32 - 2, true},
		{1 << 30, 0, false}, // half the space away: not "after"
	} {
		if got := seqAfter(tc.a, tc.b); got != tc.want {
			t.Errorf("seqAfter(%d, %d) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
