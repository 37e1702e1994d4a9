package kafka

// The transaction coordinator driven by franz-go's transactional producer
// and GroupTransactSession (txn_test.go), raw requests for Kafka's error
// codes (txn_errors_test.go), and restarts (txn_restart_test.go).

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// logBatch is one batch of a partition as the store holds it.
type logBatch struct {
	base    int64
	info    recordbatch.Info
	control recordbatch.Control // when info.Control()
	values  []string            // data records' values
}

// readLog returns every batch of a partition, markers included.
func (ts *testServer) readLog(t testing.TB, topic string, partition int32) []logBatch {
	t.Helper()
	var out []logBatch
	off := int64(0)
	for {
		res, err := ts.store.Read(context.Background(), topic, partition, off, store.ReadLimits{MaxBytes: 1 << 20})
		if err != nil {
			t.Fatalf("read %s/%d@%d: %v", topic, partition, off, err)
		}
		if len(res.Batches) == 0 {
			return out
		}
		for _, rb := range res.Batches {
			info, err := recordbatch.Parse(rb.Raw)
			if err != nil {
				t.Fatal(err)
			}
			b := logBatch{base: rb.BaseOffset, info: info}
			if info.Control() {
				if b.control, err = recordbatch.ParseControl(rb.Raw); err != nil {
					t.Fatal(err)
				}
			} else {
				_, recs, err := recordbatch.Decode(rb.Raw)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range recs {
					b.values = append(b.values, string(r.Value))
				}
			}
			out = append(out, b)
			off = rb.LastOffset + 1
		}
	}
}

// markers returns the markers of a partition's log, in order.
func markers(log []logBatch) []recordbatch.ControlType {
	var out []recordbatch.ControlType
	for _, b := range log {
		if b.info.Control() {
			out = append(out, b.control.Type)
		}
	}
	return out
}

// describeTxn returns a transactional id's state through kadm.
func describeTxn(t testing.TB, adm *kadm.Client, id string) kadm.DescribedTransaction {
	t.Helper()
	d, err := adm.DescribeTransactions(testContext(t), id)
	if err != nil {
		t.Fatal(err)
	}
	dt, ok := d[id]
	if !ok || dt.Err != nil {
		t.Fatalf("describe %s: %v %v", id, ok, dt.Err)
	}
	return dt
}

// waitTxnState waits until id's state is want, failing after a generous
// deadline (it bounds a hang, it does not measure anything).
func waitTxnState(t testing.TB, adm *kadm.Client, id, want string) kadm.DescribedTransaction {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		dt := describeTxn(t, adm, id)
		if dt.State == want {
			return dt
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %s, want %s", id, dt.State, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func produceTxn(t testing.TB, cl *kgo.Client, topic string, partition int32, values ...string) {
	t.Helper()
	for _, v := range values {
		r := &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)}
		if err := cl.ProduceSync(testContext(t), r).FirstErr(); err != nil {
			t.Fatalf("produce %q: %v", v, err)
		}
	}
}

// A commit and an abort across two partitions: each partition gets its
// data and then a marker of the right type, with the producer's id and
// epoch; DescribeTransactions and ListTransactions follow the states.
func TestTxnCommitAndAbort(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 2)
	cl := ts.client(t, kgo.TransactionalID("tx-a"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	adm := ts.admin(t)
	ctx := testContext(t)

	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, cl, "t", 0, "c1", "c2")
	produceTxn(t, cl, "t", 1, "c3")
	dt := describeTxn(t, adm, "tx-a")
	if dt.State != "Ongoing" || len(dt.Topics["t"]) != 2 || dt.StartTimestamp <= 0 {
		t.Errorf("ongoing: %+v", dt)
	}
	if err := cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
	if dt = describeTxn(t, adm, "tx-a"); dt.State != "CompleteCommit" || len(dt.Topics) != 0 {
		t.Errorf("after commit: %+v", dt)
	}

	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, cl, "t", 0, "a1")
	if err := cl.EndTransaction(ctx, kgo.TryAbort); err != nil {
		t.Fatal(err)
	}
	if dt = describeTxn(t, adm, "tx-a"); dt.State != "CompleteAbort" {
		t.Errorf("after abort: %+v", dt)
	}

	log0, log1 := ts.readLog(t, "t", 0), ts.readLog(t, "t", 1)
	if got := markers(log0); fmt.Sprint(got) != "[COMMIT ABORT]" {
		t.Errorf("partition 0 markers %v, want [COMMIT ABORT]", got)
	}
	if got := markers(log1); fmt.Sprint(got) != "[COMMIT]" {
		t.Errorf("partition 1 markers %v, want [COMMIT] (not in the aborted transaction)", got)
	}
	// franz-go runs KIP-890 part 2 here (txn_v2.go): each EndTxn bumps
	// the epoch, and its markers carry the bumped one, so epochs grow
	// along the log up to the current one.
	for _, lg := range [][]logBatch{log0, log1} {
		prev := int16(-1)
		for _, b := range lg {
			if !b.info.Transactional() || b.info.ProducerID != dt.ProducerID || b.info.ProducerEpoch < prev || b.info.ProducerEpoch > dt.ProducerEpoch {
				t.Errorf("batch at %d: transactional %v producer %d/%d, want %d with epochs growing up to %d", b.base, b.info.Transactional(), b.info.ProducerID, b.info.ProducerEpoch, dt.ProducerID, dt.ProducerEpoch)
			}
			prev = b.info.ProducerEpoch
		}
	}
	// Markers come after their transaction's data.
	if last := log0[len(log0)-1]; !last.info.Control() || last.control.Type != recordbatch.ControlAbort {
		t.Errorf("partition 0 ends with %+v, want the abort marker", last)
	}

	// A read_uncommitted consumer sees every data record and no marker.
	recs := ts.consumeAll(t, "t", 4)
	if len(recs) != 4 {
		t.Errorf("read_uncommitted: %d records, want 4", len(recs))
	}

	lt, err := adm.ListTransactions(ctx, nil, []string{"CompleteAbort"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lt["tx-a"]; !ok || len(lt) != 1 {
		t.Errorf("ListTransactions CompleteAbort: %v", lt)
	}
	if lt, err = adm.ListTransactions(ctx, nil, []string{"Ongoing"}); err != nil || len(lt) != 0 {
		t.Errorf("ListTransactions Ongoing: %v %v", lt, err)
	}
}

// The consume-transform-produce loop with GroupTransactSession: every
// input record is in the output once, and the group's committed offsets
// are at the end of the input, committed by the transactions.
// A consume-transform-produce loop with the group on either protocol:
// TxnOffsetCommit checks a classic member's generation or a KIP-848
// member's epoch.
func TestTxnGroupTransactSession(t *testing.T) {
	for _, tc := range []struct {
		name  string
		group []kgo.Opt
	}{{"classic", nil}, {"consumer-protocol", uniform848}} {
		t.Run(tc.name, func(t *testing.T) { testTxnGroupTransactSession(t, tc.group) })
	}
}

func testTxnGroupTransactSession(t *testing.T, groupOpts []kgo.Opt) {
	ts := startGroupServer(t, "", fastGroups)
	ts.createTopic(t, "in", 2)
	ts.createTopic(t, "out", 1)
	const n = 200
	ts.produceNumbered(t, "in", 0, n)

	sess, err := kgo.NewGroupTransactSession(append([]kgo.Opt{
		kgo.SeedBrokers(ts.addr),
		kgo.TransactionalID("etl"),
		kgo.ConsumerGroup("etl-group"),
		kgo.ConsumeTopics("in"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.DefaultProduceTopic("out"),
	}, groupOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	ctx := testContext(t)
	done := 0
	for done < n {
		fs := sess.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("transformed %d of %d before the deadline", done, n)
		}
		fs.EachError(func(topic string, p int32, err error) { t.Fatalf("fetch %s/%d: %v", topic, p, err) })
		if err := sess.Begin(); err != nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			sess.Produce(ctx, &kgo.Record{Key: r.Key, Value: append([]byte("out-"), r.Value...)}, func(_ *kgo.Record, err error) {
				if err != nil {
					t.Errorf("produce: %v", err)
				}
			})
		})
		committed, err := sess.End(ctx, kgo.TryCommit)
		if err != nil {
			t.Fatal(err)
		}
		if committed {
			done += len(fs.Records())
		}
	}

	out := ts.consumeAll(t, "out", n)
	seenVals := map[string]int{}
	for _, r := range out {
		seenVals[string(r.Value)]++
	}
	for i := range n {
		if c := seenVals["out-k"+strconv.Itoa(i)]; c != 1 {
			t.Errorf("out-k%d seen %d times", i, c)
		}
	}
	offs, err := ts.admin(t).FetchOffsets(ctx, "etl-group")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != n {
		t.Errorf("committed offsets sum to %d, want %d", sum, n)
	}
}

// A second producer with the same transactional id fences the first: its
// open transaction is aborted and its next requests are refused.
func TestTxnFencing(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 1)
	ctx := testContext(t)
	adm := ts.admin(t)
	old := ts.client(t, kgo.TransactionalID("fence"))
	if err := old.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, old, "t", 0, "old")
	first := describeTxn(t, adm, "fence")

	next := ts.client(t, kgo.TransactionalID("fence"))
	if err := next.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, next, "t", 0, "new") // InitProducerId happens here
	dt := describeTxn(t, adm, "fence")
	if dt.ProducerID != first.ProducerID || dt.ProducerEpoch <= first.ProducerEpoch {
		t.Errorf("new producer %d/%d, want id %d with an epoch over %d", dt.ProducerID, dt.ProducerEpoch, first.ProducerID, first.ProducerEpoch)
	}
	if err := next.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}

	// The fenced producer can neither produce nor commit.
	err := old.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("late")}).FirstErr()
	if !errors.Is(err, kerr.ProducerFenced) && !errors.Is(err, kerr.InvalidProducerEpoch) {
		t.Errorf("the fenced producer's produce: %v, want INVALID_PRODUCER_EPOCH", err)
	}
	if err = old.EndTransaction(ctx, kgo.TryCommit); err == nil {
		t.Error("the fenced producer committed")
	}
	log := ts.readLog(t, "t", 0)
	if got := markers(log); fmt.Sprint(got) != "[ABORT COMMIT]" {
		t.Errorf("markers %v, want [ABORT COMMIT]: the old transaction aborted, the new one committed", got)
	}
	for _, b := range log {
		for _, v := range b.values {
			if v == "late" {
				t.Error("the fenced producer's record was stored")
			}
		}
	}
}

// A transaction left open past its timeout is aborted by the coordinator,
// with the epoch bumped: its producer is fenced.
func TestTxnTimeoutAbort(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 1)
	adm := ts.admin(t)
	cl := ts.client(t, kgo.TransactionalID("slow"), kgo.TransactionTimeout(300*time.Millisecond))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, cl, "t", 0, "x")
	before := describeTxn(t, adm, "slow")
	after := waitTxnState(t, adm, "slow", "CompleteAbort")
	if after.ProducerEpoch != before.ProducerEpoch+1 {
		t.Errorf("epoch %d after the timeout, want %d", after.ProducerEpoch, before.ProducerEpoch+1)
	}
	if got := markers(ts.readLog(t, "t", 0)); fmt.Sprint(got) != "[ABORT]" {
		t.Errorf("markers %v, want [ABORT]", got)
	}
	if err := cl.EndTransaction(testContext(t), kgo.TryCommit); err == nil {
		t.Error("commit after the timeout succeeded")
	}
}

// sarama's transactional producer: a committed and an aborted transaction,
// each ending with its marker.
func TestTxnSarama(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 1)
	cfg := sarama.NewConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.ClientID = "sarama-txn-test"
	cfg.Producer.Idempotent = true
	cfg.Producer.Transaction.ID = "sarama-tx"
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Return.Successes = true
	cfg.Net.MaxOpenRequests = 1
	p, err := sarama.NewSyncProducer([]string{ts.addr}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, commit := range []bool{true, false} {
		if err := p.BeginTxn(); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, _, err := p.SendMessage(&sarama.ProducerMessage{Topic: "t", Value: sarama.StringEncoder(fmt.Sprintf("%v-%d", commit, i))}); err != nil {
				t.Fatal(err)
			}
		}
		if commit {
			err = p.CommitTxn()
		} else {
			err = p.AbortTxn()
		}
		if err != nil {
			t.Fatalf("end (commit %v): %v", commit, err)
		}
	}
	if got := markers(ts.readLog(t, "t", 0)); fmt.Sprint(got) != "[COMMIT ABORT]" {
		t.Errorf("markers %v, want [COMMIT ABORT]", got)
	}
	if dt := describeTxn(t, ts.admin(t), "sarama-tx"); dt.State != "CompleteAbort" {
		t.Errorf("state %s, want CompleteAbort", dt.State)
	}
}

// What read_committed consumers see: committed records only. The log side
// (the last stable offset, aborted transactions in Fetch) is the txnlog
// work: on a branch without it, this test fails, as a read_committed fetch
// then returns aborted records too.
func TestTxnReadCommitted(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "t", 1)
	cl := ts.client(t, kgo.TransactionalID("rc"), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	ctx := testContext(t)
	for i, commit := range []bool{true, false, true} {
		if err := cl.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		produceTxn(t, cl, "t", 0, fmt.Sprintf("%d-a", i), fmt.Sprintf("%d-b", i))
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	// An open transaction: its records stay invisible to read_committed.
	if err := cl.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, cl, "t", 0, "open")

	recs := ts.consumeAll(t, "t", 4, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Value))
	}
	if fmt.Sprint(got) != "[0-a 0-b 2-a 2-b]" {
		t.Errorf("read_committed: %v, want [0-a 0-b 2-a 2-b]", got)
	}
}
