package kafka

import (
	"context"
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store/embedded"
)

func initProducerID(t *testing.T, c *rawConn) (int64, int16) {
	t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.Version = 4
	resp := c.roundTrip(t, req).(*kmsg.InitProducerIDResponse)
	if resp.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(resp.ErrorCode))
	}
	return resp.ProducerID, resp.ProducerEpoch
}

// produceSeq sends one idempotent batch of n records and returns the error
// code and base offset.
func produceSeq(t *testing.T, c *rawConn, topic string, pid int64, epoch int16, seq int32, n int) (int16, int64) {
	t.Helper()
	vals := make([]string, n)
	for i := range vals {
		vals[i] = fmt.Sprint("seq-", seq+int32(i))
	}
	b := encodeBatch(t, recordbatch.EncodeOptions{Idempotent: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, vals...)
	p := c.roundTrip(t, produceReq(9, -1, topic, 0, b)).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	return p.ErrorCode, p.BaseOffset
}

// The dedup window, sequence gaps and epochs, as a broker applies them.
func TestIdempotentSequences(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "i", 1)
	c := dialRaw(t, ts.addr)
	pid, _ := initProducerID(t, c)
	pid2, _ := initProducerID(t, c)
	epoch := int16(5) // a producer new to the partition may start at any epoch
	if pid2 == pid {
		t.Fatalf("two InitProducerId calls gave the same id %d", pid)
	}

	steps := []struct {
		name     string
		epoch    int16
		seq      int32
		n        int
		wantCode *kerr.Error
		wantBase int64
	}{
		{"first", epoch, 0, 3, nil, 0},
		{"second", epoch, 3, 2, nil, 3},
		{"retry of first", epoch, 0, 3, nil, 0},
		{"retry of second", epoch, 3, 2, nil, 3},
		{"gap", epoch, 9, 1, kerr.OutOfOrderSequenceNumber, -1},
		{"overlap", epoch, 4, 2, kerr.OutOfOrderSequenceNumber, -1},
		{"third", epoch, 5, 1, nil, 5},
		{"old epoch", epoch - 1, 6, 1, kerr.InvalidProducerEpoch, -1},
		{"new epoch, not from 0", epoch + 1, 6, 1, kerr.OutOfOrderSequenceNumber, -1},
		{"new epoch", epoch + 1, 0, 1, nil, 6},
		{"old epoch after bump", epoch, 6, 1, kerr.InvalidProducerEpoch, -1},
		{"retry from before the bump", epoch, 0, 3, kerr.InvalidProducerEpoch, -1},
	}
	for _, s := range steps {
		code, base := produceSeq(t, c, "i", pid, s.epoch, s.seq, s.n)
		if s.wantCode == nil && code != 0 || s.wantCode != nil && code != s.wantCode.Code {
			t.Fatalf("%s: error %v, want %v", s.name, kerr.ErrorForCode(code), s.wantCode)
		}
		if s.wantCode == nil && base != s.wantBase {
			t.Fatalf("%s: base offset %d, want %d", s.name, base, s.wantBase)
		}
	}
	if _, hw, _ := ts.store.Offsets(context.Background(), "i", 0); hw != 7 {
		t.Errorf("high watermark %d, want 7 (retries not stored twice)", hw)
	}
	// The window holds five batches: the sixth-latest is no longer known.
	for i := range 6 {
		if code, _ := produceSeq(t, c, "i", pid2, 0, int32(i), 1); code != 0 {
			t.Fatal(kerr.ErrorForCode(code))
		}
	}
	if code, _ := produceSeq(t, c, "i", pid2, 0, 0, 1); code != kerr.OutOfOrderSequenceNumber.Code {
		t.Errorf("retry older than the window: %v", kerr.ErrorForCode(code))
	}
	if code, base := produceSeq(t, c, "i", pid2, 0, 1, 1); code != 0 || base != 8 {
		t.Errorf("retry at the window's edge: %v offset %d, want offset 8", kerr.ErrorForCode(code), base)
	}
}

func TestNextSeqWraps(t *testing.T) {
	for _, tt := range []struct{ seq, n, want int32 }{
		{0, 1, 1}, {5, 3, 8}, {2147483647, 1, 0}, {2147483646, 3, 1}, {2147483640, 7, 2147483647},
	} {
		if got := nextSeq(tt.seq, tt.n); got != tt.want {
			t.Errorf("nextSeq(%d, %d) = %d, want %d", tt.seq, tt.n, got, tt.want)
		}
	}
}

func TestProducerEntryEncoding(t *testing.T) {
	e := &producerEntry{epoch: 7, batches: []batchMeta{{1, 2, 10, 11, nil}, {3, 3, 20, 20, nil}}}
	got, ok := decodeProducerEntry(e.encode())
	if !ok || got.epoch != 7 || len(got.batches) != 2 || got.batches[1] != e.batches[1] {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	for _, bad := range [][]byte{nil, {0}, {0, 1, 6}, {0, 1, 1, 0}} {
		if _, ok := decodeProducerEntry(bad); ok {
			t.Errorf("decoded %v", bad)
		}
	}
}

// Producer state survives a restart with the data: a retry after the
// restart is recognised and answered with its original offset, though the
// state stored with it could not know that offset yet.
func TestIdempotentStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	open := func() *embedded.Store {
		st, err := embedded.Open(embedded.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return st
	}

	st := open()
	srv, err := New(Config{Store: st, AdvertisedAddr: "127.0.0.1:9092"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := srv.createTopic(ctx, "r", 1); err != nil {
		t.Fatal(err)
	}
	// Another producer's records come first, so offsets and sequences differ.
	if _, err := st.AppendBatch(ctx, "r", 0, encodeBatch(t, recordbatch.EncodeOptions{}, "x", "y"), storeOpts()); err != nil {
		t.Fatal(err)
	}
	srv.Shutdown(ctx)
	st.Close()

	st = open()
	ts := startServerOn(t, st)
	c := dialRaw(t, ts.addr)
	pid, epoch := initProducerID(t, c)
	for i, want := range []int64{2, 4} {
		if code, base := produceSeq(t, c, "r", pid, epoch, int32(2*i), 2); code != 0 || base != want {
			t.Fatalf("batch %d: %v at %d, want %d", i, kerr.ErrorForCode(code), base, want)
		}
	}
	ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ts.Shutdown(ctx2)
	st.Close()

	st = open()
	ts = startServerOn(t, st)
	c = dialRaw(t, ts.addr)
	for i, want := range []int64{2, 4} {
		if code, base := produceSeq(t, c, "r", pid, epoch, int32(2*i), 2); code != 0 || base != want {
			t.Errorf("retry of batch %d after restart: %v at %d, want %d", i, kerr.ErrorForCode(code), base, want)
		}
	}
	if code, _ := produceSeq(t, c, "r", pid, epoch, 9, 1); code != kerr.OutOfOrderSequenceNumber.Code {
		t.Errorf("gap after restart: %v", kerr.ErrorForCode(code))
	}
	if code, base := produceSeq(t, c, "r", pid, epoch, 4, 1); code != 0 || base != 6 {
		t.Errorf("next batch after restart: %v at %d, want 6", kerr.ErrorForCode(code), base)
	}
	if _, hw, _ := st.Offsets(context.Background(), "r", 0); hw != 7 {
		t.Errorf("high watermark %d, want 7", hw)
	}
	if pid2, _ := initProducerID(t, c); pid2 <= pid {
		t.Errorf("producer id %d after restart, want above %d", pid2, pid)
	}
}

// cuttingConn closes its connection after writing a byte budget shared by
// every connection of a dialer.
type cuttingDialer struct {
	budget atomic.Int64 // bytes left before the next cut; refilled after each
	every  int64
	cuts   atomic.Int32
}

func (d *cuttingDialer) dial(ctx context.Context, network, host string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, host)
	if err != nil {
		return nil, err
	}
	return &cuttingConn{Conn: c, d: d}, nil
}

type cuttingConn struct {
	net.Conn
	d *cuttingDialer
}

func (c *cuttingConn) Write(p []byte) (int, error) {
	if left := c.d.budget.Add(-int64(len(p))); left < 0 {
		c.d.budget.Store(c.d.every)
		// Every other cut sends part of the request, so the server sees a
		// truncated frame. The others send it whole and give the server
		// time to take it before the connection dies, so the response is
		// lost and the client retries a batch already stored.
		n := len(p) / 2
		if c.d.cuts.Add(1)%2 == 0 {
			n, _ = c.Conn.Write(p)
			time.Sleep(20 * time.Millisecond)
		} else {
			c.Conn.Write(p[:n])
		}
		c.Conn.Close()
		return n, net.ErrClosed
	}
	return c.Conn.Write(p)
}

// An idempotent producer whose connections are cut mid-stream, again and
// again, ends with exactly one copy of each record, in order.
func TestIdempotentConnectionCuts(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "cut", 2)
	// Requests stay well under the budget (small batches), so every
	// connection carries a few requests before it is cut.
	d := &cuttingDialer{every: 100 << 10}
	d.budget.Store(d.every)
	ctx := testContext(t)
	cl := ts.client(t,
		kgo.DefaultProduceTopic("cut"),
		kgo.Dialer(d.dial),
		kgo.ProducerLinger(time.Millisecond),
		kgo.ProducerBatchMaxBytes(8<<10),
		kgo.RetryBackoffFn(func(int) time.Duration { return 5 * time.Millisecond }),
	)
	const n = 3000
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		pad := make([]byte, 100)
		rand.Read(pad) // incompressible, so the cuts come often
		r := &kgo.Record{Key: []byte(fmt.Sprint(i % 7)), Value: append([]byte(fmt.Sprintf("%05d-", i)), pad...)}
		cl.Produce(ctx, r, func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				t.Errorf("record %s: %v", r.Value[:5], err)
			}
		})
	}
	wg.Wait()
	if d.cuts.Load() < 3 {
		t.Fatalf("only %d connection cuts; the test proves nothing", d.cuts.Load())
	}
	got := ts.consumeAll(t, "cut", n)
	seen := make(map[string]bool)
	lastPerKey := make(map[string]string)
	for _, r := range got {
		v := string(r.Value[:5])
		if seen[v] {
			t.Errorf("record %s stored twice", v)
		}
		seen[v] = true
		if last := lastPerKey[string(r.Key)]; last > v {
			t.Errorf("key %s: %s after %s", r.Key, v, last)
		}
		lastPerKey[string(r.Key)] = v
	}
	if len(got) != n {
		t.Errorf("%d records stored, want %d", len(got), n)
	}
	dups := counterValue(ts.m.dups)
	t.Logf("%d connection cuts, %v retried batches deduplicated", d.cuts.Load(), dups)
	if dups == 0 {
		t.Error("no retried batch reached the server after its original: the dedup path was not exercised")
	}
}
