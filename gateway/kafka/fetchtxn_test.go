package kafka

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// Until the coordinator accepts transactional produce, these tests write a
// producer's transactional batches (its id from a plain InitProducerId) and
// the coordinator's markers straight to the store, as the coordinator will
// (recordbatch.EncodeControl + AppendBatch), and read them over the wire.

// txnAppend appends a transactional batch of pid's values.
func (ts *testServer) txnAppend(t *testing.T, topic string, pid int64, epoch int16, seq int32, values ...string) store.AppendResult {
	t.Helper()
	b := encodeBatch(t, recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq}, values...)
	res, err := ts.store.AppendBatch(context.Background(), topic, 0, b, storeOpts())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// txnEnd appends pid's commit or abort marker.
func (ts *testServer) txnEnd(t *testing.T, topic string, pid int64, epoch int16, typ recordbatch.ControlType) {
	t.Helper()
	b, err := recordbatch.EncodeControl(pid, epoch, recordbatch.Control{Type: typ}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.AppendBatch(context.Background(), topic, 0, b, storeOpts()); err != nil {
		t.Fatal(err)
	}
}

func committedFetch(topic string, offset int64, isolation int8, maxWait, minBytes int32) *kmsg.FetchRequest {
	req := fetchReq(12, topic, 0, offset, maxWait, minBytes, 1<<20, 1<<20)
	req.IsolationLevel = isolation
	return req
}

// fetchedBases lists the base offsets of the batches of a fetched partition.
func fetchedBases(t *testing.T, p kmsg.FetchResponseTopicPartition) []int64 {
	t.Helper()
	var out []int64
	for raw := p.RecordBatches; len(raw) > 0; {
		info, err := recordbatch.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, info.BaseOffset)
		raw = raw[info.Size():]
	}
	return out
}

// TestFetchReadCommittedRaw: read_committed stops at the last stable offset
// and lists aborted transactions; read_uncommitted sees everything and the
// same LSO; ListOffsets read_committed's latest is the LSO.
func TestFetchReadCommittedRaw(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "rc", 1)
	c := dialRaw(t, ts.addr)
	pid, epoch := initProducerID(t, c)
	plain := encodeBatch(t, recordbatch.EncodeOptions{}, "p0", "p1")
	if p := c.roundTrip(t, produceReq(9, -1, "rc", 0, plain)).(*kmsg.ProduceResponse).Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(p.ErrorCode))
	}
	ts.txnAppend(t, "rc", pid, epoch, 0, "t2", "t3") // 2-3, open
	if p := c.roundTrip(t, produceReq(9, -1, "rc", 0, encodeBatch(t, recordbatch.EncodeOptions{}, "p4"))).(*kmsg.ProduceResponse).Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(p.ErrorCode))
	}

	type view struct {
		hw, lso int64
		batches []int64
		aborted []kmsg.FetchResponseTopicPartitionAbortedTransaction
	}
	fetch := func(isolation int8, from int64) view {
		p := c.roundTrip(t, committedFetch("rc", from, isolation, 0, 0)).(*kmsg.FetchResponse).Topics[0].Partitions[0]
		if p.ErrorCode != 0 {
			t.Fatal(kerr.ErrorForCode(p.ErrorCode))
		}
		return view{p.HighWatermark, p.LastStableOffset, fetchedBases(t, p), p.AbortedTransactions}
	}
	listLatest := func(isolation int8) int64 {
		req := kmsg.NewPtrListOffsetsRequest()
		req.Version = 7
		req.IsolationLevel = isolation
		rt := kmsg.NewListOffsetsRequestTopic()
		rt.Topic = "rc"
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Timestamp = -1
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
		return c.roundTrip(t, req).(*kmsg.ListOffsetsResponse).Topics[0].Partitions[0].Offset
	}
	abortedOf := func(pid, first int64) []kmsg.FetchResponseTopicPartitionAbortedTransaction {
		return []kmsg.FetchResponseTopicPartitionAbortedTransaction{{ProducerID: pid, FirstOffset: first}}
	}
	check := func(step string, got, want view) {
		t.Helper()
		if got.hw != want.hw || got.lso != want.lso || !slices.Equal(got.batches, want.batches) || !slices.EqualFunc(got.aborted, want.aborted, sameAborted) ||
			(got.aborted == nil) != (want.aborted == nil) {
			t.Errorf("%s: got %+v, want %+v", step, got, want)
		}
	}
	none := []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
	check("open, committed", fetch(1, 0), view{5, 2, []int64{0}, none})
	check("open, uncommitted", fetch(0, 0), view{5, 2, []int64{0, 2, 4}, nil})
	check("open, committed past the LSO", fetch(1, 3), view{5, 2, nil, none})
	if l1, l0 := listLatest(1), listLatest(0); l1 != 2 || l0 != 5 {
		t.Errorf("ListOffsets latest: read_committed %d, read_uncommitted %d; want 2, 5", l1, l0)
	}

	// A read_committed long poll at the LSO sleeps through appends (the
	// high watermark moves, the LSO does not) and answers when the abort
	// marker is durable.
	corr := c.send(t, committedFetch("rc", 2, 1, 60_000, 1))
	if p := dialRaw(t, ts.addr).roundTrip(t, produceReq(9, -1, "rc", 0, encodeBatch(t, recordbatch.EncodeOptions{}, "p5"))).(*kmsg.ProduceResponse).Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(p.ErrorCode))
	}
	ts.txnEnd(t, "rc", pid, epoch, recordbatch.ControlAbort) // 6
	resp := kmsg.NewPtrFetchResponse()
	resp.Version = 12
	c.recv(t, corr, resp)
	p := resp.Topics[0].Partitions[0]
	check("long poll woken by the marker", view{p.HighWatermark, p.LastStableOffset, fetchedBases(t, p), p.AbortedTransactions}, view{7, 7, []int64{2, 4, 5, 6}, abortedOf(pid, 2)})
	check("aborted, committed", fetch(1, 0), view{7, 7, []int64{0, 2, 4, 5, 6}, abortedOf(pid, 2)})
	check("aborted, committed after the marker", fetch(1, 7), view{7, 7, nil, none})
	if l1 := listLatest(1); l1 != 7 {
		t.Errorf("ListOffsets read_committed latest %d, want 7", l1)
	}
}

// TestProduceRefusesControlBatch: a client may not write markers, as Kafka
// refuses them (INVALID_RECORD), and nothing is stored.
func TestProduceRefusesControlBatch(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "ctl", 1)
	c := dialRaw(t, ts.addr)
	pid, epoch := initProducerID(t, c)
	b, err := recordbatch.EncodeControl(pid, epoch, recordbatch.Control{Type: recordbatch.ControlCommit}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	p := c.roundTrip(t, produceReq(9, -1, "ctl", 0, b)).(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	if p.ErrorCode != kerr.InvalidRecord.Code {
		t.Errorf("control batch: %v, want INVALID_RECORD", kerr.ErrorForCode(p.ErrorCode))
	}
	if _, hw, _ := ts.store.Offsets(context.Background(), "ctl", 0); hw != 0 {
		t.Errorf("high watermark %d after a refused control batch", hw)
	}
}

// TestFetchReadCommittedKgo: franz-go consumers at both isolation levels
// over committed, aborted, plain and open transactional records.
func TestFetchReadCommittedKgo(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "rck", 1)
	c := dialRaw(t, ts.addr)
	pa, ea := initProducerID(t, c)
	pb, eb := initProducerID(t, c)
	pc, ec := initProducerID(t, c)
	ts.txnAppend(t, "rck", pa, ea, 0, "c1")
	ts.txnAppend(t, "rck", pb, eb, 0, "a1", "a2")
	ts.txnAppend(t, "rck", pa, ea, 1, "c2")
	ts.txnEnd(t, "rck", pb, eb, recordbatch.ControlAbort)
	if p := c.roundTrip(t, produceReq(9, -1, "rck", 0, encodeBatch(t, recordbatch.EncodeOptions{}, "p1"))).(*kmsg.ProduceResponse).Topics[0].Partitions[0]; p.ErrorCode != 0 {
		t.Fatal(kerr.ErrorForCode(p.ErrorCode))
	}
	ts.txnEnd(t, "rck", pa, ea, recordbatch.ControlCommit)
	ts.txnAppend(t, "rck", pc, ec, 0, "o1") // open
	// A marker for a producer with no transaction is harmless.
	ts.txnEnd(t, "rck", 4242, 0, recordbatch.ControlAbort)

	values := func(recs []*kgo.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, string(r.Value))
		}
		return out
	}
	if got := values(ts.consumeAll(t, "rck", 6)); !slices.Equal(got, []string{"c1", "a1", "a2", "c2", "p1", "o1"}) {
		t.Errorf("read_uncommitted: %q", got)
	}
	cl := ts.client(t, kgo.ConsumeTopics("rck"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	ctx := testContext(t)
	var got []string
	for len(got) < 3 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read_committed consumed %q", got)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatal(err) })
		got = append(got, values(fs.Records())...)
	}
	if !slices.Equal(got, []string{"c1", "c2", "p1"}) {
		t.Errorf("read_committed before the open transaction ends: %q", got)
	}
	ts.txnEnd(t, "rck", pc, ec, recordbatch.ControlCommit)
	for len(got) < 4 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read_committed consumed %q", got)
		}
		got = append(got, values(fs.Records())...)
	}
	if !slices.Equal(got, []string{"c1", "c2", "p1", "o1"}) {
		t.Errorf("read_committed after the commit: %q", got)
	}
	adm := ts.client(t)
	req := kmsg.NewPtrListOffsetsRequest()
	req.IsolationLevel = 1
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = "rck"
	rp := kmsg.NewListOffsetsRequestTopicPartition()
	rp.Timestamp = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, adm)
	if err != nil {
		t.Fatal(err)
	}
	if _, hw, _ := ts.store.Offsets(ctx, "rck", 0); resp.Topics[0].Partitions[0].Offset != hw {
		t.Errorf("read_committed latest %d with every transaction ended, want the high watermark %d", resp.Topics[0].Partitions[0].Offset, hw)
	}
}

func sameAborted(a, b kmsg.FetchResponseTopicPartitionAbortedTransaction) bool {
	return a.ProducerID == b.ProducerID && a.FirstOffset == b.FirstOffset
}
