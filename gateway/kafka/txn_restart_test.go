package kafka

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// txnRestartable is a server over a store in a directory that a test stops
// and starts again, as a bridge restarted on the same data dir.
type txnRestartable struct {
	t      *testing.T
	dir    string
	ts     *testServer
	served chan error
}

func (r *txnRestartable) start() *testServer {
	r.t.Helper()
	st, err := embedded.Open(embedded.Options{Dir: r.dir})
	if err != nil {
		r.t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		r.t.Fatal(err)
	}
	s, err := New(Config{Store: st, Logger: testLogger(), AdvertisedAddr: ln.Addr().String(), AutoCreateTopics: true, DefaultPartitions: 1})
	if err != nil {
		r.t.Fatal(err)
	}
	r.served = make(chan error, 1)
	go func() { r.served <- s.Serve(ln) }()
	r.ts = &testServer{Server: s, addr: ln.Addr().String(), store: st}
	return r.ts
}

// stop shuts the server down and closes its store.
func (r *txnRestartable) stop() {
	r.t.Helper()
	if r.ts == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.ts.Shutdown(ctx); err != nil {
		r.t.Errorf("Shutdown: %v", err)
	}
	if err := <-r.served; err != nil {
		r.t.Errorf("Serve: %v", err)
	}
	r.ts.store.Close()
	r.ts = nil
}

func newTxnRestartable(t *testing.T) *txnRestartable {
	r := &txnRestartable{t: t, dir: t.TempDir()}
	t.Cleanup(r.stop)
	return r
}

// A bridge stopped mid-transaction finds it Ongoing when it starts again
// and aborts it when its timeout ends (the producer that opened it is
// gone with its connection), fencing its epoch.
func TestTxnRestartOngoingAborts(t *testing.T) {
	r := newTxnRestartable(t)
	ts := r.start()
	ts.createTopic(t, "t", 1)
	cl, err := kgo.NewClient(kgo.SeedBrokers(ts.addr), kgo.TransactionalID("rs"), kgo.TransactionTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, cl, "t", 0, "a", "b")
	before := describeTxn(t, ts.admin(t), "rs")
	cl.Close()
	r.stop()

	ts = r.start()
	adm := ts.admin(t)
	if dt := describeTxn(t, adm, "rs"); dt.State != "Ongoing" && dt.State != "CompleteAbort" {
		t.Fatalf("after the restart: %s, want Ongoing (or already aborted)", dt.State)
	}
	after := waitTxnState(t, adm, "rs", "CompleteAbort")
	if after.ProducerID != before.ProducerID || after.ProducerEpoch != before.ProducerEpoch+1 {
		t.Errorf("after the abort %d/%d, want %d/%d", after.ProducerID, after.ProducerEpoch, before.ProducerID, before.ProducerEpoch+1)
	}
	if got := markers(ts.readLog(t, "t", 0)); fmt.Sprint(got) != "[ABORT]" {
		t.Errorf("markers %v, want [ABORT]", got)
	}
}

// A bridge that stopped after PrepareCommit was durable but before its
// markers were written writes them when it starts again, and commits the
// transaction's offsets to its group.
func TestTxnRestartPrepareCommitCompletes(t *testing.T) {
	r := newTxnRestartable(t)
	ts := r.start()
	ts.createTopic(t, "t", 1)
	x := txnRaw{t, dialRaw(t, ts.addr)}
	id := kmsg.StringPtr("pc")
	_, pid, epoch := x.init(4, id, 60000, -1, -1)
	if c := x.addParts(3, "pc", pid, epoch, map[string][]int32{"t": {0}})["t/0"]; c != 0 {
		t.Fatalf("AddPartitionsToTxn: %d", c)
	}
	if c := x.produce(id, "t", 0, pid, epoch, 0); c != 0 {
		t.Fatalf("Produce: %d", c)
	}
	if c := x.addOffsets(3, "pc", pid, epoch, "g"); c != 0 {
		t.Fatalf("AddOffsetsToTxn: %d", c)
	}
	if c := x.offsetCommit(3, "pc", "g", pid, epoch, -1, "", "t", 42); c != 0 {
		t.Fatalf("TxnOffsetCommit: %d", c)
	}
	r.stop()

	// What a crash right after storing PrepareCommit leaves.
	st, err := embedded.Open(embedded.Options{Dir: r.dir})
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Get(context.Background(), txnNamespace, "pc")
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeTxnMeta(v)
	if err != nil || m.State != txnOngoing || len(m.Offsets["g"]) != 1 {
		t.Fatalf("stored state %+v %v: want Ongoing with g's offset", m, err)
	}
	m.State = txnPrepareCommit
	if err := st.Update(context.Background(), store.KV{Namespace: txnNamespace, Key: "pc", Value: m.encode()}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	ts = r.start()
	adm := ts.admin(t)
	waitTxnState(t, adm, "pc", "CompleteCommit")
	if got := markers(ts.readLog(t, "t", 0)); fmt.Sprint(got) != "[COMMIT]" {
		t.Errorf("markers %v, want [COMMIT]", got)
	}
	offs, err := adm.FetchOffsets(testContext(t), "g")
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := offs.Lookup("t", 0); !ok || o.At != 42 {
		t.Errorf("group g's offset of t/0: %+v %v, want 42", o, ok)
	}
}
