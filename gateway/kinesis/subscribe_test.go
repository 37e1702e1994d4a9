package kinesis

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/mapping"
)

// subscribeGuard bounds how long a test waits for an event that should
// come; reaching it is a hang, not a slow run.
const subscribeGuard = 30 * time.Second

// subFixture is a test server with one stream and one registered consumer.
type subFixture struct {
	ts          *testServer
	kc          *awskinesis.Client
	stream      string
	consumerARN string
}

func newSubFixture(t *testing.T, shards int, cfgs ...func(*Config)) *subFixture {
	t.Helper()
	ts := startTestServer(t, cfgs...)
	kc := ts.client()
	ctx := t.Context()
	f := &subFixture{ts: ts, kc: kc, stream: "subs"}
	if _, err := kc.CreateStream(ctx, &awskinesis.CreateStreamInput{StreamName: aws.String(f.stream), ShardCount: aws.Int32(int32(shards))}); err != nil {
		t.Fatal(err)
	}
	f.consumerARN = f.registerConsumer(t, "app")
	return f
}

func (f *subFixture) registerConsumer(t *testing.T, name string) string {
	t.Helper()
	out, err := f.kc.RegisterStreamConsumer(t.Context(), &awskinesis.RegisterStreamConsumerInput{
		StreamARN:    aws.String(f.ts.streamARN(f.stream)),
		ConsumerName: aws.String(name),
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Consumer.ConsumerARN)
}

// put writes records with the given partition keys (data "<key>#<i>") in
// one PutRecords call and returns their sequence numbers.
func (f *subFixture) put(t testing.TB, keys ...string) []string {
	t.Helper()
	entries := make([]types.PutRecordsRequestEntry, len(keys))
	for i, k := range keys {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(k), Data: []byte(fmt.Sprintf("%s#%d", k, i))}
	}
	out, err := f.kc.PutRecords(context.Background(), &awskinesis.PutRecordsInput{StreamName: aws.String(f.stream), Records: entries})
	if err != nil {
		t.Error(err)
		return nil
	}
	if n := aws.ToInt32(out.FailedRecordCount); n != 0 {
		t.Errorf("PutRecords: %d failed", n)
	}
	seqs := make([]string, len(out.Records))
	for i, r := range out.Records {
		seqs[i] = aws.ToString(r.SequenceNumber)
	}
	return seqs
}

// subscribe subscribes the fixture's consumer to shard with kc, or with an
// HTTP/1.1 client of its own when kc is nil: aws-sdk-go-v2 clients share
// event stream decoding state between their streams (aws/smithy-go#714, a
// data race under -race), so concurrent subscriptions use separate clients.
func (f *subFixture) subscribe(t *testing.T, kc *awskinesis.Client, shard int, pos types.StartingPosition) *awskinesis.SubscribeToShardEventStream {
	t.Helper()
	if kc == nil {
		kc = http1Client(f.ts)
	}
	out, err := kc.SubscribeToShard(t.Context(), &awskinesis.SubscribeToShardInput{
		ConsumerARN:      aws.String(f.consumerARN),
		ShardId:          aws.String(mapping.ShardID(shard)),
		StartingPosition: &pos,
	})
	if err != nil {
		t.Fatalf("SubscribeToShard: %v", err)
	}
	es := out.GetStream()
	t.Cleanup(func() { _ = es.Close() })
	return es
}

// nextEvent returns the next SubscribeToShardEvent, or nil once the stream
// has ended.
func nextEvent(t *testing.T, es *awskinesis.SubscribeToShardEventStream) *types.SubscribeToShardEvent {
	t.Helper()
	for {
		select {
		case ev, ok := <-es.Events():
			if !ok {
				return nil
			}
			if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
				return &e.Value
			}
			t.Fatalf("unexpected event %T", ev)
		case <-time.After(subscribeGuard):
			t.Fatal("no event")
		}
	}
}

// collect reads events until n records have come, checking that every
// event's ContinuationSequenceNumber is its last record's.
func collect(t *testing.T, es *awskinesis.SubscribeToShardEventStream, n int) []types.Record {
	t.Helper()
	var recs []types.Record
	for len(recs) < n {
		ev := nextEvent(t, es)
		if ev == nil {
			t.Fatalf("stream ended after %d of %d records: %v", len(recs), n, es.Err())
		}
		if k := len(ev.Records); k > 0 && aws.ToString(ev.ContinuationSequenceNumber) != aws.ToString(ev.Records[k-1].SequenceNumber) {
			t.Errorf("ContinuationSequenceNumber %s, last record %s", aws.ToString(ev.ContinuationSequenceNumber), aws.ToString(ev.Records[k-1].SequenceNumber))
		}
		recs = append(recs, ev.Records...)
	}
	return recs
}

// getRecords reads shard from TRIM_HORIZON with GetRecords until it has n
// records.
func (f *subFixture) getRecords(t *testing.T, shard, n int) []types.Record {
	t.Helper()
	it, err := f.kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{
		StreamName: aws.String(f.stream), ShardId: aws.String(mapping.ShardID(shard)), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	iter := it.ShardIterator
	var recs []types.Record
	for len(recs) < n && iter != nil {
		out, err := f.kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: iter})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) == 0 {
			break
		}
		recs = append(recs, out.Records...)
		iter = out.NextShardIterator
	}
	return recs
}

// TestSubscribeToShardDeliversEveryRecordInOrder: a producer goroutine puts
// batches while the SDK subscriber reads; every record arrives once, in
// order, with the sequence numbers PutRecords and GetRecords report, and the
// records put after the subscription started arrive without polling.
func TestSubscribeToShardDeliversEveryRecordInOrder(t *testing.T) {
	for _, tc := range []struct {
		name  string
		proto string
	}{
		{"http1", "HTTP/1.1"},
		{"h2c", "HTTP/2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSubFixture(t, 1)
			before := f.put(t, "a", "b", "c")
			kc, seen := (*awskinesis.Client)(nil), (*protoRecorder)(nil)
			if tc.proto == "HTTP/2.0" {
				kc, seen = h2Client(f.ts)
			}
			es := f.subscribe(t, kc, 0, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
			if seen != nil && seen.proto() != tc.proto {
				t.Fatalf("subscription went over %q, want %q", seen.proto(), tc.proto)
			}

			const batches, perBatch = 20, 25
			var mu sync.Mutex
			want := append([]string(nil), before...)
			done := make(chan struct{})
			go func() {
				defer close(done)
				for b := 0; b < batches; b++ {
					keys := make([]string, perBatch)
					for i := range keys {
						keys[i] = fmt.Sprintf("k%d-%d", b, i)
					}
					seqs := f.put(t, keys...)
					mu.Lock()
					want = append(want, seqs...)
					mu.Unlock()
				}
			}()
			got := collect(t, es, len(before)+batches*perBatch)
			<-done
			if len(got) != len(want) {
				t.Fatalf("got %d records, want %d", len(got), len(want))
			}
			for i := range got {
				if s := aws.ToString(got[i].SequenceNumber); s != want[i] {
					t.Fatalf("record %d: sequence number %s, PutRecords said %s", i, s, want[i])
				}
			}
			polled := f.getRecords(t, 0, len(want))
			for i := range polled {
				if aws.ToString(polled[i].SequenceNumber) != aws.ToString(got[i].SequenceNumber) ||
					!bytes.Equal(polled[i].Data, got[i].Data) ||
					aws.ToString(polled[i].PartitionKey) != aws.ToString(got[i].PartitionKey) {
					t.Fatalf("record %d: subscription %s/%q/%s, GetRecords %s/%q/%s", i,
						aws.ToString(got[i].SequenceNumber), got[i].Data, aws.ToString(got[i].PartitionKey),
						aws.ToString(polled[i].SequenceNumber), polled[i].Data, aws.ToString(polled[i].PartitionKey))
				}
			}
			if len(polled) != len(got) {
				t.Fatalf("GetRecords returned %d records, the subscription %d", len(polled), len(got))
			}
			if got[0].ApproximateArrivalTimestamp == nil || got[0].ApproximateArrivalTimestamp.IsZero() {
				t.Errorf("record without ApproximateArrivalTimestamp")
			}
		})
	}
}

// http1Client returns an SDK client over HTTP/1.1 that works around an
// aws-sdk-go-v2 bug which breaks event streams over HTTP/1.1 at random: the
// SDK closes the request body once the response headers are in
// (aws/aws-sdk-go-v2#2737), and its body's WriteTo then returns io.EOF as an
// error to net/http, which may still be checking the body for extra bytes
// after writing it; net/http takes that for a failed request write and
// closes the connection under the response being streamed ("use of closed
// network connection"). Hiding WriteTo makes that check a Read, whose
// io.EOF is the normal end. HTTP/2 clients (KCL, the JavaScript SDK, or
// h2Client) are not affected.
func http1Client(ts *testServer) *awskinesis.Client {
	return ts.client(func(o *awskinesis.Options) {
		o.HTTPClient = &http.Client{Transport: readOnlyBodies{http.DefaultTransport}}
	})
}

type readOnlyBodies struct{ rt http.RoundTripper }

func (r readOnlyBodies) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil && req.Body != http.NoBody {
		req = req.Clone(req.Context())
		req.Body = struct{ io.ReadCloser }{req.Body}
	}
	return r.rt.RoundTrip(req)
}

// protoRecorder remembers the protocol of the responses a transport got.
type protoRecorder struct {
	rt http.RoundTripper
	mu sync.Mutex
	p  string
}

func (r *protoRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rt.RoundTrip(req)
	if err == nil {
		r.mu.Lock()
		r.p = resp.Proto
		r.mu.Unlock()
	}
	return resp, err
}

func (r *protoRecorder) proto() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.p
}

// h2Client returns an SDK client that speaks only HTTP/2 with prior
// knowledge (h2c), as the JavaScript SDK and KCL do.
func h2Client(ts *testServer) (*awskinesis.Client, *protoRecorder) {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &p}
	rec := &protoRecorder{rt: tr}
	return ts.client(func(o *awskinesis.Options) { o.HTTPClient = &http.Client{Transport: rec} }), rec
}

// TestSubscribeToShardPushesWithoutPolling: a subscriber at LATEST gets a
// record put after it subscribed, and the event says it is caught up.
func TestSubscribeToShardPushesWithoutPolling(t *testing.T) {
	f := newSubFixture(t, 1)
	f.put(t, "old")
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	seqs := f.put(t, "new")
	ev := nextEvent(t, es)
	if ev == nil {
		t.Fatalf("stream ended: %v", es.Err())
	}
	if len(ev.Records) != 1 || aws.ToString(ev.Records[0].SequenceNumber) != seqs[0] || string(ev.Records[0].Data) != "new#0" {
		t.Fatalf("event %+v, want the one record put after subscribing (%s)", ev.Records, seqs[0])
	}
	if aws.ToInt64(ev.MillisBehindLatest) != 0 {
		t.Errorf("MillisBehindLatest %d, want 0 when caught up", aws.ToInt64(ev.MillisBehindLatest))
	}
}

// TestSubscribeToShardStartingPositions: each StartingPosition type starts
// where GetShardIterator's would.
func TestSubscribeToShardStartingPositions(t *testing.T) {
	f := newSubFixture(t, 1)
	seqs := f.put(t, "a", "b", "c", "d")
	for _, tc := range []struct {
		name  string
		pos   types.StartingPosition
		first string // data of the first record expected
	}{
		{"trim horizon", types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}, "a#0"},
		{"at sequence", types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(seqs[1])}, "b#1"},
		{"after sequence", types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(seqs[1])}, "c#2"},
		{"at timestamp (past)", types.StartingPosition{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(time.Unix(0, 0))}, "a#0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.consumerARN = f.registerConsumer(t, strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(tc.name))
			es := f.subscribe(t, nil, 0, tc.pos)
			ev := nextEvent(t, es)
			if ev == nil || len(ev.Records) == 0 {
				t.Fatalf("no records: %+v %v", ev, es.Err())
			}
			if got := string(ev.Records[0].Data); got != tc.first {
				t.Errorf("first record %q, want %q", got, tc.first)
			}
			if got := aws.ToString(ev.ContinuationSequenceNumber); got != seqs[3] {
				t.Errorf("ContinuationSequenceNumber %s, want the last record's %s", got, seqs[3])
			}
		})
	}
}

// TestSubscribeToShardSplitEndsWithChildShards: a subscription to a shard
// that is split gets the records up to the split and then a final event
// with both children and no ContinuationSequenceNumber, and the stream
// ends cleanly. The second case splits an idle shard: nothing is appended
// afterwards, so the end is found because the split wakes the subscriber.
func TestSubscribeToShardSplitEndsWithChildShards(t *testing.T) {
	for _, tc := range []struct {
		name      string
		afterPuts bool
	}{
		{"records after the split", true},
		{"idle shard", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newSubFixture(t, 1)
			seqs := f.put(t, "a", "b", "c")
			es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
			if got := collect(t, es, 3); aws.ToString(got[2].SequenceNumber) != seqs[2] {
				t.Fatalf("last record %s, want %s", aws.ToString(got[2].SequenceNumber), seqs[2])
			}
			mid := "170141183460469231731687303715884105728" // 2^127
			if _, err := f.kc.SplitShard(t.Context(), &awskinesis.SplitShardInput{
				StreamName: aws.String(f.stream), ShardToSplit: aws.String(mapping.ShardID(0)), NewStartingHashKey: aws.String(mid),
			}); err != nil {
				t.Fatal(err)
			}
			if tc.afterPuts {
				f.put(t, "x", "y", "z", "w") // land in the children, never in shard 0
			}
			var last *types.SubscribeToShardEvent
			for {
				ev := nextEvent(t, es)
				if ev == nil {
					break
				}
				if len(ev.Records) > 0 {
					t.Fatalf("records after the split: %+v", ev.Records)
				}
				last = ev
			}
			if err := es.Err(); err != nil {
				t.Fatalf("stream ended with %v, want a clean end", err)
			}
			if last == nil || len(last.ChildShards) != 2 {
				t.Fatalf("final event %+v, want two ChildShards", last)
			}
			if last.ContinuationSequenceNumber != nil {
				t.Errorf("final event has ContinuationSequenceNumber %s", aws.ToString(last.ContinuationSequenceNumber))
			}
			for i, c := range last.ChildShards {
				if aws.ToString(c.ShardId) != mapping.ShardID(i+1) || len(c.ParentShards) != 1 || c.ParentShards[0] != mapping.ShardID(0) {
					t.Errorf("child %d: %s with parents %v", i, aws.ToString(c.ShardId), c.ParentShards)
				}
			}
			if got := aws.ToString(last.ChildShards[1].HashKeyRange.StartingHashKey); got != mid {
				t.Errorf("upper child starts at %s, want %s", got, mid)
			}
		})
	}
}

// TestSubscribeToShardMergeEndsWithChildShards: the lower of two merged
// shards ends with the merged child, which names both parents.
func TestSubscribeToShardMergeEndsWithChildShards(t *testing.T) {
	f := newSubFixture(t, 2)
	seqs := f.put(t, lowerHalfKey("before"))
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	if got := collect(t, es, 1); aws.ToString(got[0].SequenceNumber) != seqs[0] {
		t.Fatalf("got %s, want %s", aws.ToString(got[0].SequenceNumber), seqs[0])
	}
	if _, err := f.kc.MergeShards(t.Context(), &awskinesis.MergeShardsInput{
		StreamName: aws.String(f.stream), ShardToMerge: aws.String(mapping.ShardID(0)), AdjacentShardToMerge: aws.String(mapping.ShardID(1)),
	}); err != nil {
		t.Fatal(err)
	}
	f.put(t, lowerHalfKey("after")) // continues shard 0's partition in the child
	var last *types.SubscribeToShardEvent
	for ev := nextEvent(t, es); ev != nil; ev = nextEvent(t, es) {
		if len(ev.Records) > 0 {
			t.Fatalf("records after the merge: %+v", ev.Records)
		}
		last = ev
	}
	if err := es.Err(); err != nil || last == nil || len(last.ChildShards) != 1 {
		t.Fatalf("ended with %v, final event %+v; want one child", err, last)
	}
	c := last.ChildShards[0]
	if aws.ToString(c.ShardId) != mapping.ShardID(2) || strings.Join(c.ParentShards, ",") != mapping.ShardID(0)+","+mapping.ShardID(1) {
		t.Errorf("child %s with parents %v, want %s with both parents", aws.ToString(c.ShardId), c.ParentShards, mapping.ShardID(2))
	}
}

// TestSubscribeToShardResumeAfterLifetime: a subscription that ends at its
// lifetime is resumed from its last ContinuationSequenceNumber with
// AFTER_SEQUENCE_NUMBER, as KCL does, and every record arrives exactly
// once. Not parallel: it shortens the package's lifetime.
func TestSubscribeToShardResumeAfterLifetime(t *testing.T) {
	defer func(d time.Duration) { subscriptionLifetime = d }(subscriptionLifetime)
	subscriptionLifetime = 200 * time.Millisecond
	f := newSubFixture(t, 1)
	want := f.put(t, "a", "b", "c")
	var got []string
	pos := types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
	for round := 0; round == 0 || len(got) < len(want) && round < 20; round++ {
		es := f.subscribe(t, nil, 0, pos)
		for ev := nextEvent(t, es); ev != nil; ev = nextEvent(t, es) {
			for _, r := range ev.Records {
				got = append(got, aws.ToString(r.SequenceNumber))
			}
			if c := ev.ContinuationSequenceNumber; c != nil {
				pos = types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: c}
			}
		}
		if err := es.Err(); err != nil {
			t.Fatalf("round %d ended with %v", round, err)
		}
		if round == 0 {
			want = append(want, f.put(t, "d", "e")...) // between subscriptions
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// TestSubscribeToShardEnforceLimits: with provisioned-throughput emulation
// on, a subscription is paced but still delivers every record in order.
func TestSubscribeToShardEnforceLimits(t *testing.T) {
	f := newSubFixture(t, 1, func(c *Config) { c.EnforceLimits = true })
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	var want []string
	for i := 0; i < 5; i++ {
		want = append(want, f.put(t, "p", "q")...)
	}
	got := collect(t, es, len(want))
	for i := range want {
		if aws.ToString(got[i].SequenceNumber) != want[i] {
			t.Fatalf("record %d: %s, want %s", i, aws.ToString(got[i].SequenceNumber), want[i])
		}
	}
}

// TestSubscribeToShardStreamDeleted: deleting the stream ends a
// subscription with a ResourceNotFoundException event.
func TestSubscribeToShardStreamDeleted(t *testing.T) {
	f := newSubFixture(t, 1)
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	if _, err := f.kc.DeleteStream(t.Context(), &awskinesis.DeleteStreamInput{StreamName: aws.String(f.stream), EnforceConsumerDeletion: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	for nextEvent(t, es) != nil {
	}
	var nf *types.ResourceNotFoundException
	if err := es.Err(); !errors.As(err, &nf) {
		t.Fatalf("stream ended with %v, want ResourceNotFoundException", err)
	}
}

// TestSubscribeToShardShutdown: the handler's Shutdown ends subscriptions
// cleanly, so clients resubscribe elsewhere.
func TestSubscribeToShardShutdown(t *testing.T) {
	f := newSubFixture(t, 2)
	a := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	b := f.subscribe(t, nil, 1, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	if err := f.ts.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, es := range []*awskinesis.SubscribeToShardEventStream{a, b} {
		for nextEvent(t, es) != nil {
		}
		if err := es.Err(); err != nil {
			t.Errorf("stream ended with %v, want a clean end", err)
		}
	}
}

// TestSubscribeToShardLifetime: a subscription ends cleanly when its
// lifetime is over. Not parallel: it shortens the package's lifetime.
func TestSubscribeToShardLifetime(t *testing.T) {
	defer func(d time.Duration) { subscriptionLifetime = d }(subscriptionLifetime)
	subscriptionLifetime = 50 * time.Millisecond
	f := newSubFixture(t, 1)
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	for nextEvent(t, es) != nil {
	}
	if err := es.Err(); err != nil {
		t.Fatalf("stream ended with %v, want a clean end", err)
	}
}

// TestSubscribeToShardOneSubscriptionPerConsumerAndShard: AWS refuses a
// second subscription within 5 seconds and lets one after 5 seconds take
// over, ending the first with ResourceInUseException. Other shards and
// other consumers are independent.
func TestSubscribeToShardOneSubscriptionPerConsumerAndShard(t *testing.T) {
	clock := newMovableClock()
	f := newSubFixture(t, 2, func(c *Config) { c.Now = clock.Now })
	first := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	f.subscribe(t, nil, 1, types.StartingPosition{Type: types.ShardIteratorTypeLatest})

	_, err := f.kc.SubscribeToShard(t.Context(), &awskinesis.SubscribeToShardInput{
		ConsumerARN: aws.String(f.consumerARN), ShardId: aws.String(mapping.ShardID(0)),
		StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeLatest},
	})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Fatalf("second subscription within 5s: %v, want ResourceInUseException", err)
	}

	other := *f
	other.consumerARN = f.registerConsumer(t, "other")
	other.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})

	clock.add(5 * time.Second)
	second := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeLatest})
	for nextEvent(t, first) != nil {
	}
	if err := first.Err(); !errors.As(err, &inUse) {
		t.Fatalf("taken-over subscription ended with %v, want ResourceInUseException", err)
	}
	seqs := f.put(t, lowerHalfKey("after-takeover")) // shard 0 of 2
	if got := collect(t, second, 1); aws.ToString(got[0].SequenceNumber) != seqs[0] {
		t.Fatalf("new subscription got %s, want %s", aws.ToString(got[0].SequenceNumber), seqs[0])
	}
}

// lowerHalfKey returns a partition key starting with prefix whose hash key
// lies in the lower half of the hash space (shard 0 of two even shards).
func lowerHalfKey(prefix string) string {
	for i := 0; ; i++ {
		k := fmt.Sprintf("%s-%d", prefix, i)
		if mapping.HashPartitionKey(k).Hi < 1<<63 {
			return k
		}
	}
}

// TestSubscribeToShardErrors: requests AWS refuses get its error types and
// messages as ordinary error responses, before any event.
func TestSubscribeToShardErrors(t *testing.T) {
	f := newSubFixture(t, 1)
	seqs := f.put(t, "a")
	unknownConsumer := f.ts.streamARN(f.stream) + "/consumer/nobody:1700000000"
	for _, tc := range []struct {
		name    string
		body    map[string]any
		typ     string
		message string // a part of it
	}{
		{"empty", map[string]any{}, errValidation,
			"3 validation errors detected: Value null at 'consumerARN' failed to satisfy constraint: Member must not be null; Value null at 'shardId'"},
		{"no type", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{}}, errValidation,
			"Value null at 'startingPosition.type' failed to satisfy constraint: Member must not be null"},
		{"bad type", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "OLDEST"}}, errValidation,
			"Value 'OLDEST' at 'startingPosition.type' failed to satisfy constraint: Member must satisfy enum value set"},
		{"bad arn", map[string]any{"ConsumerARN": "nope", "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST"}}, errValidation,
			"Value 'nope' at 'consumerARN' failed to satisfy constraint"},
		{"unknown consumer", map[string]any{"ConsumerARN": unknownConsumer, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST"}}, errResourceNotFound, ""},
		{"unknown shard", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000007", "StartingPosition": map[string]any{"Type": "LATEST"}}, errResourceNotFound,
			"shardId-000000000007"},
		{"sequence missing", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "AT_SEQUENCE_NUMBER"}}, errInvalidArgument, "SequenceNumber"},
		{"timestamp missing", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "AT_TIMESTAMP"}}, errInvalidArgument, "timestamp"},
		{"sequence with latest", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST", "SequenceNumber": seqs[0]}}, errInvalidArgument, "LATEST"},
		{"foreign sequence", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": "12345"}}, errInvalidArgument, "is invalid"},
		{"other shard's sequence", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": mapping.SequenceNumber(3, 0)}}, errInvalidArgument, "It encodes shardId-000000000003"},
		{"dry run", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "LATEST"}, "DryRun": true}, errDryRun, "DryRun flag is set"},
		{"future sequence", map[string]any{"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000", "StartingPosition": map[string]any{"Type": "AT_SEQUENCE_NUMBER", "SequenceNumber": mapping.SequenceNumber(0, 99)}}, errInvalidArgument, "did not come from this stream"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := f.ts.call(t, "SubscribeToShard", tc.body)
			if status != http.StatusBadRequest || body["__type"] != tc.typ {
				t.Fatalf("got %d %v, want 400 %s", status, body, tc.typ)
			}
			if msg, _ := body["message"].(string); !strings.Contains(msg, tc.message) {
				t.Errorf("message %q, want it to contain %q", msg, tc.message)
			}
		})
	}
}

// BenchmarkSubscribeToShard measures delivery through aws-sdk-go-v2 over
// h2c: a shard holding 20,000 records of 1 KiB read from TRIM_HORIZON to
// the last record. Setup (stream, consumer, records) is outside the timer.
func BenchmarkSubscribeToShard(b *testing.B) {
	const records, size, perCall = 20_000, 1 << 10, 500
	ts := startTestServer(b)
	kc := ts.client()
	data := bytes.Repeat([]byte("x"), size)
	b.SetBytes(records * size)
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		stream := fmt.Sprintf("bench-%d", i)
		if _, err := kc.CreateStream(b.Context(), &awskinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(1)}); err != nil {
			b.Fatal(err)
		}
		entries := make([]types.PutRecordsRequestEntry, perCall)
		for j := range entries {
			entries[j] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint(j)), Data: data}
		}
		for n := 0; n < records; n += perCall {
			if _, err := kc.PutRecords(b.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries}); err != nil {
				b.Fatal(err)
			}
		}
		reg, err := kc.RegisterStreamConsumer(b.Context(), &awskinesis.RegisterStreamConsumerInput{StreamARN: aws.String(ts.streamARN(stream)), ConsumerName: aws.String("bench")})
		if err != nil {
			b.Fatal(err)
		}
		sub, _ := h2Client(ts)
		b.StartTimer()
		out, err := sub.SubscribeToShard(b.Context(), &awskinesis.SubscribeToShardInput{
			ConsumerARN: reg.Consumer.ConsumerARN, ShardId: aws.String(mapping.ShardID(0)),
			StartingPosition: &types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon},
		})
		if err != nil {
			b.Fatal(err)
		}
		es := out.GetStream()
		got := 0
		for ev := range es.Events() {
			if e, ok := ev.(*types.SubscribeToShardEventStreamMemberSubscribeToShardEvent); ok {
				got += len(e.Value.Records)
			}
			if got >= records {
				break
			}
		}
		_ = es.Close()
		if got < records {
			b.Fatalf("got %d records, want %d: %v", got, records, es.Err())
		}
	}
}
