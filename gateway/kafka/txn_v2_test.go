package kafka

import (
	"context"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// franz-go uses KIP-890 part 2 on the bridge from its first transaction (it
// reads the transaction.version feature, finalized at 2, from ApiVersions):
// it adds partitions through Produce v12 and each EndTxn v5 bumps the
// epoch, the markers carrying the bumped one. A client held to Kafka 3.9's
// versions keeps the part 1 protocol (AddPartitionsToTxn, one epoch for
// every transaction).
func TestTxnV2Kgo(t *testing.T) {
	for _, tc := range []struct {
		name      string
		opts      []kgo.Opt
		wantEpoch int16   // after two transactions
		epochs    []int16 // of each partition's data, marker, data, marker
		adds      bool    // the second transaction sends AddPartitionsToTxn
	}{
		{"part 2", nil, 2, []int16{0, 1, 1, 2}, false},
		{"part 1 (3.9 versions)", []kgo.Opt{kgo.MaxVersions(kversion.V3_9_0())}, 0, []int16{0, 0, 0, 0}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			ts.createTopic(t, "v2", 2)
			adds := &requestCounter{key: int16(kmsg.AddPartitionsToTxn)}
			opts := append([]kgo.Opt{kgo.TransactionalID("v2"), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.WithHooks(adds)}, tc.opts...)
			cl := ts.client(t, opts...)
			ctx := testContext(t)
			for i, end := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
				if i == 1 {
					adds.n.Store(0)
				}
				if err := cl.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				produceTxn(t, cl, "v2", 0, "a")
				produceTxn(t, cl, "v2", 1, "b")
				if err := cl.EndTransaction(ctx, end); err != nil {
					t.Fatalf("transaction %d: %v", i, err)
				}
			}
			if sent := adds.n.Load() > 0; sent != tc.adds {
				t.Errorf("second transaction sent %d AddPartitionsToTxn", adds.n.Load())
			}
			dt := describeTxn(t, ts.admin(t), "v2")
			if dt.ProducerEpoch != tc.wantEpoch || dt.State != "CompleteAbort" {
				t.Fatalf("after two transactions: epoch %d state %s, want %d CompleteAbort", dt.ProducerEpoch, dt.State, tc.wantEpoch)
			}
			for p := range int32(2) {
				lg := ts.readLog(t, "v2", p)
				if len(lg) != 4 {
					t.Fatalf("partition %d: %d batches, want data, marker, data, marker", p, len(lg))
				}
				for i, b := range lg {
					want := tc.epochs[i]
					if b.info.ProducerEpoch != want || b.info.Control() != (i%2 == 1) {
						t.Errorf("partition %d batch %d: epoch %d control %v, want epoch %d", p, i, b.info.ProducerEpoch, b.info.Control(), want)
					}
				}
				if got := markers(lg); len(got) != 2 || got[0] != recordbatch.ControlCommit || got[1] != recordbatch.ControlAbort {
					t.Errorf("partition %d markers %v", p, got)
				}
			}
			// read_committed sees the committed records only.
			if recs := ts.consumeAll(t, "v2", 2, kgo.FetchIsolationLevel(kgo.ReadCommitted())); len(recs) != 2 {
				t.Errorf("read_committed: %d records, want 2", len(recs))
			}
		})
	}
}

// requestCounter counts a client's requests of one key (kgo.HookBrokerWrite).
type requestCounter struct {
	key int16
	n   atomic.Int64
}

func (c *requestCounter) OnBrokerWrite(_ kgo.BrokerMetadata, key int16, _ int, _, _ time.Duration, err error) {
	if key == c.key && err == nil {
		c.n.Add(1)
	}
}

// EndTxn v5's rules, step by step with raw requests.
func TestTxnV2EndTxn(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "v2", 1)
	raw := ts.client(t)
	pid, epoch := initPID(t, raw, "e")
	end := func(pid int64, epoch int16, commit bool) *kmsg.EndTxnResponse {
		t.Helper()
		req := kmsg.NewPtrEndTxnRequest()
		req.Version, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = 5, "e", pid, epoch, commit
		resp, err := req.RequestWith(testContext(t), raw)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	type step struct {
		name      string
		pid       func() int64
		epoch     func() int16
		commit    bool
		want      *kerr.Error
		wantEpoch int16 // answered on success
	}
	cur := func() int64 { return pid }
	ep := func(e int16) func() int16 { return func() int16 { return e } }
	for _, st := range []step{
		{"commit with nothing open", cur, ep(epoch), true, kerr.InvalidTxnState, 0},
		{"abort with nothing open bumps", cur, ep(epoch), false, nil, epoch + 1},
		{"retry of that abort", cur, ep(epoch), false, nil, epoch + 1},
		{"a commit retried as such is refused", cur, ep(epoch), true, kerr.InvalidTxnState, 0},
		{"an older epoch is fenced", cur, ep(epoch - 1), false, kerr.ProducerFenced, 0},
		{"another producer id", func() int64 { return pid + 100 }, ep(epoch + 1), false, kerr.InvalidProducerIDMapping, 0},
		{"abort again bumps again", cur, ep(epoch + 1), false, nil, epoch + 2},
	} {
		t.Run(st.name, func(t *testing.T) {
			resp := end(st.pid(), st.epoch(), st.commit)
			wantCode := int16(0)
			if st.want != nil {
				wantCode = st.want.Code
			}
			if resp.ErrorCode != wantCode {
				t.Fatalf("error %v, want %v", kerr.ErrorForCode(resp.ErrorCode), st.want)
			}
			if st.want == nil && (resp.ProducerID != pid || resp.ProducerEpoch != st.wantEpoch) {
				t.Errorf("answered %d/%d, want %d/%d", resp.ProducerID, resp.ProducerEpoch, pid, st.wantEpoch)
			}
		})
	}

	// At the last epoch the end hands over a new producer id at epoch 0;
	// the markers name the old id.
	co, err := ts.txnCoord()
	if err != nil {
		t.Fatal(err)
	}
	e, _ := co.lock("e", false)
	m := e.meta.clone()
	m.Epoch = math.MaxInt16 - 1
	e.meta = m
	e.mu.Unlock()
	resp := end(pid, math.MaxInt16-1, false)
	if resp.ErrorCode != 0 || resp.ProducerID == pid || resp.ProducerEpoch != 0 {
		t.Fatalf("exhausted epoch: %v %d/%d, want a new id at epoch 0", kerr.ErrorForCode(resp.ErrorCode), resp.ProducerID, resp.ProducerEpoch)
	}
	if dt := describeTxn(t, ts.admin(t), "e"); dt.ProducerID != resp.ProducerID || dt.ProducerEpoch != 0 {
		t.Errorf("described %d/%d", dt.ProducerID, dt.ProducerEpoch)
	}
}

// Produce v12 and TxnOffsetCommit v5 with raw requests: v12 adds the
// partition (and starts the transaction), v9 does not; the batch's
// producer id and epoch are checked as before; TxnOffsetCommit v5 adds
// its group where v4 needs AddOffsetsToTxn.
func TestTxnV2ProduceAdds(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "p", 2)
	x := txnRaw{t, dialRaw(t, ts.addr)}
	id := kmsg.StringPtr("pa")
	code, pid, epoch := x.init(4, id, 60000, -1, -1)
	if code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	produce := func(v int16, partition int32, pid int64, epoch int16, seq int32) int16 {
		opts := recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}
		req := produceReq(v, -1, "p", partition, encodeBatch(t, opts, "v"))
		req.TransactionID = id
		return x.c.roundTrip(t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode
	}
	for _, st := range []struct {
		name string
		code int16
		want *kerr.Error
	}{
		{"v9 without AddPartitionsToTxn", produce(9, 0, pid, epoch, 0), kerr.InvalidTxnState},
		{"v12 with another epoch", produce(12, 0, pid, epoch+1, 0), kerr.InvalidProducerEpoch},
		{"v12 with another producer id", produce(12, 0, pid+7, epoch, 0), kerr.InvalidTxnState},
		{"v12 adds partition 0", produce(12, 0, pid, epoch, 0), nil},
		{"v9 to partition 1 still needs the add", produce(9, 1, pid, epoch, 0), kerr.InvalidTxnState},
		{"v12 adds partition 1", produce(12, 1, pid, epoch, 0), nil},
		{"TxnOffsetCommit v4 without AddOffsetsToTxn", x.offsetCommit(4, "pa", "g", pid, epoch, -1, "", "p", 3), kerr.InvalidTxnState},
		{"TxnOffsetCommit v5 adds the group", x.offsetCommit(5, "pa", "g", pid, epoch, -1, "", "p", 3), nil},
	} {
		t.Run(st.name, func(t *testing.T) {
			want := int16(0)
			if st.want != nil {
				want = st.want.Code
			}
			if st.code != want {
				t.Errorf("%v, want %v", kerr.ErrorForCode(st.code), st.want)
			}
		})
	}
	dt := describeTxn(t, ts.admin(t), "pa")
	if dt.State != "Ongoing" || len(dt.Topics["p"]) != 2 {
		t.Fatalf("described %+v, want Ongoing with both partitions", dt)
	}
	if code := x.end(5, "pa", pid, epoch, true); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	gc, err := ts.groupCoordinator()
	if err != nil {
		t.Fatal(err)
	}
	g, _ := gc.group("g", false)
	if g == nil {
		t.Fatal("group g not created by the commit")
	}
	o := g.offsets["p"][0]
	g.mu.Unlock()
	if o.offset != 3 {
		t.Errorf("committed offset %d, want 3", o.offset)
	}
	if lg := ts.readLog(t, "p", 0); len(lg) != 2 || lg[1].info.ProducerEpoch != epoch+1 {
		t.Errorf("partition 0 log %+v: want the batch, then a marker at epoch %d", lg, epoch+1)
	}
}

// A bridge that stopped after an EndTxn v5 stored PrepareAbort at the
// last epoch (the markers at that epoch, a new producer id to hand over)
// writes the markers when it starts again, and the id then goes on with
// the new producer id at epoch 0.
func TestTxnV2RestartHandsOverNewPID(t *testing.T) {
	r := newTxnRestartable(t)
	ts := r.start()
	ts.createTopic(t, "t", 1)
	x := txnRaw{t, dialRaw(t, ts.addr)}
	id := kmsg.StringPtr("hp")
	_, pid, epoch := x.init(4, id, 60000, -1, -1)
	opts := recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid, ProducerEpoch: epoch}
	req := produceReq(12, -1, "t", 0, encodeBatch(t, opts, "v"))
	req.TransactionID = id
	if c := x.c.roundTrip(t, req).(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; c != 0 {
		t.Fatalf("Produce v12: %v", kerr.ErrorForCode(c))
	}
	r.stop()

	// What a crash right after storing the end's PrepareAbort leaves,
	// had the epoch been exhausted.
	st, err := embedded.Open(embedded.Options{Dir: r.dir})
	if err != nil {
		t.Fatal(err)
	}
	v, err := st.Get(context.Background(), txnNamespace, "hp")
	if err != nil {
		t.Fatal(err)
	}
	m, err := decodeTxnMeta(v)
	if err != nil || m.State != txnOngoing {
		t.Fatalf("stored state %+v %v: want Ongoing", m, err)
	}
	m.State, m.LastPID, m.LastEpoch, m.Epoch, m.NextPID = txnPrepareAbort, pid, math.MaxInt16-1, math.MaxInt16, pid+1000
	if err := st.Update(context.Background(), store.KV{Namespace: txnNamespace, Key: "hp", Value: m.encode()}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	ts = r.start()
	dt := waitTxnState(t, ts.admin(t), "hp", "CompleteAbort")
	if dt.ProducerID != pid+1000 || dt.ProducerEpoch != 0 {
		t.Errorf("after the restart: producer %d/%d, want %d/0", dt.ProducerID, dt.ProducerEpoch, pid+1000)
	}
	lg := ts.readLog(t, "t", 0)
	if len(lg) != 2 || !lg[1].info.Control() || lg[1].info.ProducerID != pid || lg[1].info.ProducerEpoch != math.MaxInt16 {
		t.Errorf("log %+v: want the batch, then an abort marker of %d at epoch %d", lg, pid, math.MaxInt16)
	}
	if open, err := ts.store.OpenTransactions(context.Background(), "t", 0); err != nil || len(open) != 0 {
		t.Errorf("open transactions %v %v", open, err)
	}
}
