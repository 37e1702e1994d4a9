package kafka

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	mathrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

func fetchReq(v int16, topic string, partition int32, offset int64, maxWait, minBytes, maxBytes, partMax int32) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.Version = v
	req.ReplicaID = -1
	req.MaxWaitMillis = maxWait
	req.MinBytes = minBytes
	req.MaxBytes = maxBytes
	req.SessionEpoch = -1
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.Partition = partition
	rp.FetchOffset = offset
	rp.PartitionMaxBytes = partMax
	rp.CurrentLeaderEpoch = -1
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

// appendN stores n one-record batches of size bytes each in an empty
// topic/partition and returns them as stored (base offsets set).
func appendN(t *testing.T, ts *testServer, topic string, partition int32, n, size int) [][]byte {
	t.Helper()
	var out [][]byte
	for i := range n {
		b := encodeBatch(t, recordbatch.EncodeOptions{}, fmt.Sprintf("%0*d", size, i))
		if _, err := ts.store.AppendBatch(context.Background(), topic, partition, b, storeOpts()); err != nil {
			t.Fatal(err)
		}
		recordbatch.SetBaseOffset(b, int64(i))
		out = append(out, b)
	}
	return out
}

// Fetch returns the stored bytes: what the store holds, byte for byte.
func TestFetchReturnsStoredBytes(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "f", 1)
	batches := appendN(t, ts, "f", 0, 3, 100)
	c := dialRaw(t, ts.addr)
	for _, v := range []int16{4, 7, 11, 12} {
		resp := c.roundTrip(t, fetchReq(v, "f", 0, 0, 0, 1, 1<<20, 1<<20)).(*kmsg.FetchResponse)
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.HighWatermark != 3 || p.LastStableOffset != 3 || (v >= 5 && p.LogStartOffset != 0) {
			t.Fatalf("v%d: error %d hw %d lso %d log start %d", v, p.ErrorCode, p.HighWatermark, p.LastStableOffset, p.LogStartOffset)
		}
		if want := bytes.Join(batches, nil); !bytes.Equal(p.RecordBatches, want) {
			t.Fatalf("v%d: %d bytes of records differ from the %d stored", v, len(p.RecordBatches), len(want))
		}
	}
}

// KIP-74 limits: partition and response limits, but the first batch always.
func TestFetchLimits(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "l", 2)
	one := len(appendN(t, ts, "l", 0, 10, 1000)[0])
	appendN(t, ts, "l", 1, 10, 1000)
	c := dialRaw(t, ts.addr)
	count := func(p kmsg.FetchResponseTopicPartition) int {
		bs, err := recordbatch.Split(p.RecordBatches)
		if err != nil {
			t.Fatal(err)
		}
		return len(bs)
	}
	tests := []struct {
		name              string
		maxBytes, partMax int32
		want0, want1      int
	}{
		{"partition limit", 1 << 20, int32(3*one + 10), 3, 3},
		{"response limit", int32(4*one + 10), 1 << 20, 4, 0},
		{"first batch over both", 10, 10, 1, 0},
		{"everything", 1 << 20, 1 << 20, 10, 10},
	}
	for _, tt := range tests {
		req := fetchReq(11, "l", 0, 0, 0, 1, tt.maxBytes, tt.partMax)
		p1 := req.Topics[0].Partitions[0]
		p1.Partition = 1
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, p1)
		resp := c.roundTrip(t, req).(*kmsg.FetchResponse)
		got0, got1 := count(resp.Topics[0].Partitions[0]), count(resp.Topics[0].Partitions[1])
		if got0 != tt.want0 || got1 != tt.want1 {
			t.Errorf("%s: %d and %d batches, want %d and %d", tt.name, got0, got1, tt.want0, tt.want1)
		}
	}
}

func TestFetchErrors(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "e", 1)
	appendN(t, ts, "e", 0, 2, 10)
	c := dialRaw(t, ts.addr)
	tests := []struct {
		name   string
		req    *kmsg.FetchRequest
		top    *kerr.Error
		part   *kerr.Error
		hw     int64
		nonNil bool
	}{
		{"past the end", fetchReq(11, "e", 0, 3, 0, 1, 1<<20, 1<<20), nil, kerr.OffsetOutOfRange, 2, true},
		{"negative", fetchReq(11, "e", 0, -1, 0, 1, 1<<20, 1<<20), nil, kerr.OffsetOutOfRange, 2, true},
		{"at the end: empty, not null", fetchReq(11, "e", 0, 2, 0, 1, 1<<20, 1<<20), nil, nil, 2, true},
		{"unknown topic", fetchReq(11, "nope", 0, 0, 0, 1, 1<<20, 1<<20), nil, kerr.UnknownTopicOrPartition, -1, true},
		{"unknown partition", fetchReq(11, "e", 5, 0, 0, 1, 1<<20, 1<<20), nil, kerr.UnknownTopicOrPartition, -1, true},
	}
	sess := fetchReq(11, "e", 0, 0, 0, 1, 1<<20, 1<<20)
	sess.SessionID, sess.SessionEpoch = 77, 3
	tests = append(tests, struct {
		name   string
		req    *kmsg.FetchRequest
		top    *kerr.Error
		part   *kerr.Error
		hw     int64
		nonNil bool
	}{"unknown session", sess, kerr.FetchSessionIDNotFound, nil, 0, false})
	epoch := fetchReq(11, "e", 0, 0, 0, 1, 1<<20, 1<<20)
	epoch.Topics[0].Partitions[0].CurrentLeaderEpoch = 3
	tests = append(tests, struct {
		name   string
		req    *kmsg.FetchRequest
		top    *kerr.Error
		part   *kerr.Error
		hw     int64
		nonNil bool
	}{"newer leader epoch", epoch, nil, kerr.UnknownLeaderEpoch, -1, true})

	for _, tt := range tests {
		resp := c.roundTrip(t, tt.req).(*kmsg.FetchResponse)
		if code(tt.top) != resp.ErrorCode {
			t.Errorf("%s: top-level %v, want %v", tt.name, kerr.ErrorForCode(resp.ErrorCode), tt.top)
			continue
		}
		if resp.SessionID != 0 {
			t.Errorf("%s: session id %d, want 0 (sessionless)", tt.name, resp.SessionID)
		}
		if tt.top != nil {
			continue
		}
		p := resp.Topics[0].Partitions[0]
		if p.ErrorCode != code(tt.part) || p.HighWatermark != tt.hw || (p.RecordBatches == nil) == tt.nonNil {
			t.Errorf("%s: %v hw %d records nil %v", tt.name, kerr.ErrorForCode(p.ErrorCode), p.HighWatermark, p.RecordBatches == nil)
		}
	}
}

func code(e *kerr.Error) int16 {
	if e == nil {
		return 0
	}
	return e.Code
}

// A long poll answers as soon as a record arrives on any of its partitions,
// and the records it returns start with it.
func TestFetchLongPollWakes(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "w", 3)
	c := dialRaw(t, ts.addr)
	req := fetchReq(12, "w", 0, 0, 60_000, 1, 1<<20, 1<<20)
	for _, p := range []int32{1, 2} {
		rp := req.Topics[0].Partitions[0]
		rp.Partition = p
		req.Topics[0].Partitions = append(req.Topics[0].Partitions, rp)
	}
	corr := c.send(t, req)
	got := make(chan *kmsg.FetchResponse)
	go func() {
		resp := kmsg.NewPtrFetchResponse()
		resp.Version = 12
		c.recv(t, corr, resp)
		got <- resp
	}()
	select {
	case <-got:
		t.Fatal("fetch answered before any record arrived")
	case <-time.After(50 * time.Millisecond): // not a timing assertion: a fast wrong answer fails above
	}
	appendN(t, ts, "w", 2, 1, 10)
	resp := <-got // the test deadline, not a sleep, bounds this
	if p := resp.Topics[0].Partitions[2]; p.HighWatermark != 1 || len(p.RecordBatches) == 0 {
		t.Errorf("partition 2: hw %d, %d bytes", p.HighWatermark, len(p.RecordBatches))
	}
	if p := resp.Topics[0].Partitions[0]; p.ErrorCode != 0 || p.RecordBatches == nil {
		t.Errorf("partition 0: %v, nil records %v", kerr.ErrorForCode(p.ErrorCode), p.RecordBatches == nil)
	}
}

// MinBytes makes a fetch wait for more than one small record; MaxWait ends
// the wait with what there is.
func TestFetchMinBytesAndMaxWait(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "mb", 1)
	appendN(t, ts, "mb", 0, 1, 10)
	c := dialRaw(t, ts.addr)
	start := time.Now()
	resp := c.roundTrip(t, fetchReq(11, "mb", 0, 0, 200, 1<<20, 1<<20, 1<<20)).(*kmsg.FetchResponse)
	if waited := time.Since(start); waited < 200*time.Millisecond {
		t.Errorf("answered after %v, before MaxWait, with MinBytes unmet", waited)
	}
	bs, _ := recordbatch.Split(resp.Topics[0].Partitions[0].RecordBatches)
	if len(bs) != 1 {
		t.Errorf("%d batches after the wait, want the 1 there is", len(bs))
	}

	// Records arriving during the wait are added to what was read.
	corr := c.send(t, fetchReq(11, "mb", 0, 0, 60_000, 3*70, 1<<20, 1<<20))
	done := make(chan *kmsg.FetchResponse)
	go func() {
		r := kmsg.NewPtrFetchResponse()
		r.Version = 11
		c.recv(t, corr, r)
		done <- r
	}()
	for i := 0; ; i++ {
		appendN(t, ts, "mb", 0, 1, 10)
		select {
		case r := <-done:
			bs, _ := recordbatch.Split(r.Topics[0].Partitions[0].RecordBatches)
			if n := len(bs); n < 3 || n != i+2 {
				t.Errorf("%d batches after %d appends", n, i+1)
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Shutdown ends a long poll at once instead of waiting out MaxWait.
func TestFetchLongPollEndsAtShutdown(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "s", 1)
	c := dialRaw(t, ts.addr)
	corr := c.send(t, fetchReq(11, "s", 0, 0, 600_000, 1, 1<<20, 1<<20))
	got := make(chan error, 1)
	go func() {
		body, err := c.readFrame()
		if err == nil && int32(binary.BigEndian.Uint32(body)) != corr {
			err = fmt.Errorf("wrong correlation id")
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the poll start waiting
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if err := <-got; err != nil {
		t.Errorf("long poll at shutdown: %v, want its (empty) response", err)
	}
}

// A kgo consumer waiting at the end of a partition gets a record produced
// later without polling delays piling up.
func TestFetchConsumerSeesNewRecords(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "live", 1)
	ctx := testContext(t)
	cons := ts.client(t, kgo.ConsumeTopics("live"), kgo.FetchMaxWait(30*time.Second))
	got := make(chan *kgo.Record, 10)
	go func() {
		for ctx.Err() == nil {
			cons.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got <- r })
		}
	}()
	prod := ts.client(t, kgo.DefaultProduceTopic("live"))
	for i := range 3 {
		time.Sleep(20 * time.Millisecond) // the consumer is parked in a long poll
		if err := prod.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(i))}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-got:
			if string(r.Value) != fmt.Sprint(i) {
				t.Fatalf("got %q, want %d", r.Value, i)
			}
		case <-ctx.Done():
			t.Fatal("record never consumed")
		}
	}
}

// Fetch responses encoded around their batches (appendSegments) are byte
// for byte kmsg's.
func TestFetchWireMatchesKmsg(t *testing.T) {
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	randBytes := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		return b
	}
	for v := int16(4); v <= 17; v++ {
		for round := range 50 {
			resp := &fetchResponse{FetchResponse: kmsg.NewPtrFetchResponse()}
			resp.Version = v
			resp.ThrottleMillis = rng.Int32()
			resp.ErrorCode = int16(rng.IntN(3))
			resp.SessionID = rng.Int32()
			nt := rng.IntN(4)
			resp.records = make([][][][]byte, nt)
			for i := range nt {
				tp := kmsg.NewFetchResponseTopic()
				tp.Topic = strings.Repeat("t", rng.IntN(300))
				if v >= 13 {
					tp.Topic = "" // not on the wire
					tp.TopicID = [16]byte(randBytes(16))
				}
				np := rng.IntN(4)
				resp.records[i] = make([][][]byte, np)
				for j := range np {
					p := kmsg.NewFetchResponseTopicPartition()
					p.Partition = rng.Int32()
					p.ErrorCode = int16(rng.IntN(3))
					p.HighWatermark, p.LastStableOffset, p.LogStartOffset = rng.Int64(), rng.Int64(), rng.Int64()
					p.PreferredReadReplica = -1
					if na := rng.IntN(4) - 1; na >= 0 { // read_committed's aborted transactions, or null
						p.AbortedTransactions = []kmsg.FetchResponseTopicPartitionAbortedTransaction{}
						for range na {
							p.AbortedTransactions = append(p.AbortedTransactions, kmsg.FetchResponseTopicPartitionAbortedTransaction{ProducerID: rng.Int64(), FirstOffset: rng.Int64()})
						}
					}
					for range rng.IntN(4) {
						resp.records[i][j] = append(resp.records[i][j], randBytes(rng.IntN(200)+1))
					}
					tp.Partitions = append(tp.Partitions, p)
				}
				resp.Topics = append(resp.Topics, tp)
			}
			bufs, _, n := resp.appendSegments(nil, 77)
			got := bytes.Join(bufs, nil)
			want := encodeResponse(nil, &inflight{key: 1, version: v, corr: 77}, resp)
			if n != len(got) || !bytes.Equal(got, want) {
				t.Fatalf("v%d round %d: %d bytes (n=%d) differ from kmsg's %d", v, round, len(got), n, len(want))
			}
		}
	}
}
