package kafka

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/store"
)

// offloadServer is a test server that offloads records over 1 MiB.
func offloadServer(t *testing.T) *testServer {
	return startServer(t, func(c *Config) {
		c.Offload = payloads.New(c.Store, payloads.Policy{Threshold: payloads.DefaultThreshold}, testLogger())
	})
}

// offloadedKeys lists the objects under the offload prefix of the default
// bucket.
func offloadedKeys(t *testing.T, s store.Objects) []string {
	t.Helper()
	objs, _, err := s.ListObjects(context.Background(), payloads.DefaultBucket, store.ListOptions{Prefix: store.OffloadPrefix})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

func TestOffloadLargeRecordsRoundTrip(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ts := offloadServer(t)
	adm := kadm.NewClient(ts.client(t))
	maxBytes := strconv.Itoa(64 << 20)
	if _, err := adm.CreateTopic(ctx, 2, 1, map[string]*string{"max.message.bytes": &maxBytes}, "big"); err != nil {
		t.Fatal(err)
	}

	random := func(n int) []byte {
		b := make([]byte, n)
		rand.Read(b)
		return b
	}
	// Sizes around the threshold, a compressible large one (its batch
	// compresses under the threshold and stays inline), and a 20 MiB one.
	records := []*kgo.Record{
		{Key: []byte("small"), Value: []byte("hello")},
		{Key: []byte("at-limit"), Value: random(1<<20 - len("at-limit"))},
		{Key: []byte("over"), Value: random(1<<20 + 1), Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte("t-1")}}},
		{Key: []byte("zeros"), Value: make([]byte, 5<<20)},
		{Key: []byte("five"), Value: random(5 << 20)},
		{Key: []byte("twenty"), Value: random(20 << 20), Headers: []kgo.RecordHeader{{Key: "a", Value: nil}, {Key: "b", Value: []byte("2")}}},
	}
	prod := ts.client(t, kgo.ProducerBatchMaxBytes(64<<20), kgo.MaxBufferedBytes(256<<20), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	for i, r := range records {
		r.Topic, r.Partition = "big", int32(i%2)
		if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", r.Key, err)
		}
	}
	// Over 1 MiB of key, value and headers: over, five, twenty.
	if keys := offloadedKeys(t, ts.store); len(keys) != 3 {
		t.Fatalf("offloaded objects: %q, want 3", keys)
	}

	consume := func(opts ...kgo.Opt) map[string]*kgo.Record {
		opts = append(opts, kgo.ConsumeTopics("big"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(64<<20))
		cl := ts.client(t, opts...)
		got := map[string]*kgo.Record{}
		for len(got) < len(records) {
			fs := cl.PollFetches(ctx)
			if err := fs.Err(); err != nil {
				t.Fatalf("consume: %v", err)
			}
			fs.EachRecord(func(r *kgo.Record) { got[string(r.Key)] = r })
		}
		return got
	}
	got := consume()
	for _, want := range records {
		r := got[string(want.Key)]
		if !bytes.Equal(r.Value, want.Value) {
			t.Errorf("%s: value of %d bytes differs from the %d produced", want.Key, len(r.Value), len(want.Value))
		}
		if fmt.Sprint(r.Headers) != fmt.Sprint(want.Headers) {
			t.Errorf("%s: headers %v, want %v", want.Key, r.Headers, want.Headers)
		}
		if r.Offset != want.Offset || r.Partition != want.Partition {
			t.Errorf("%s: at %d/%d, produced at %d/%d", want.Key, r.Partition, r.Offset, want.Partition, want.Offset)
		}
	}

	// A consumer that asks for pointers gets the stored pointer records.
	ptrs := consume(kgo.ClientID("audit-offload-pointers"))
	for _, key := range []string{"over", "five", "twenty"} {
		r := ptrs[key]
		p, ok := offload.Decode(r.Value)
		last := r.Headers[len(r.Headers)-1]
		if !ok || p.Bucket != payloads.DefaultBucket || last.Key != payloads.SizeHeader {
			t.Fatalf("%s in pointer form: value %q, headers %v", key, r.Value, r.Headers)
		}
		if n, _ := strconv.Atoi(string(last.Value)); n != len(got[key].Value) {
			t.Errorf("%s: size header %s, payload %d bytes", key, last.Value, len(got[key].Value))
		}
	}
	if r := ptrs["small"]; string(r.Value) != "hello" {
		t.Errorf("a small record in pointer mode: %q", r.Value)
	}

	// The objects go with their records.
	for p := int32(0); p < 2; p++ {
		if _, err := ts.store.TrimBefore(ctx, "big", p, -1); err != nil {
			t.Fatal(err)
		}
	}
	if keys := offloadedKeys(t, ts.store); len(keys) != 0 {
		t.Fatalf("objects left after DeleteRecords: %q", keys)
	}
}

// A record over max.message.bytes is refused before anything is offloaded;
// offload.threshold.bytes=0 keeps large records inline.
func TestOffloadTopicConfigs(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ts := offloadServer(t)
	adm := kadm.NewClient(ts.client(t))
	maxBytes, off := strconv.Itoa(8<<20), "0"
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &maxBytes, payloads.ConfigThreshold: &off}, "inline"); err != nil {
		t.Fatal(err)
	}
	bad := "No_Such"
	if resp, _ := adm.CreateTopic(ctx, 1, 1, map[string]*string{payloads.ConfigBucket: &bad}, "badbucket"); resp.Err == nil {
		t.Fatalf("an invalid offload bucket was accepted")
	}
	prod := ts.client(t, kgo.ProducerBatchMaxBytes(64<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "inline", Value: make([]byte, 2<<20)}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "inline", Value: make([]byte, 9<<20)}).FirstErr(); err == nil {
		t.Fatal("a record over max.message.bytes was accepted")
	}
	if _, err := ts.store.HeadBucket(ctx, payloads.DefaultBucket); err == nil {
		t.Fatalf("the offload bucket exists though nothing was offloaded")
	}
}
