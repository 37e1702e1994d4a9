package kafka

import (
	"bytes"
	"context"
	"crypto/rand"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/store"
)

// An offloaded record whose object is overwritten with another size (through
// the S3 API, say) reaches consumers as its pointer record, as a missing one
// does; the records around it are restored and the partition stays
// readable (it used to fail every Fetch with KAFKA_STORAGE_ERROR).
func TestOffloadMismatchedObjectKeepsPartitionReadable(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	ts := offloadServer(t)
	maxBytes := strconv.Itoa(16 << 20)
	if _, err := kadm.NewClient(ts.client(t)).CreateTopic(ctx, 1, 1, map[string]*string{"max.message.bytes": &maxBytes}, "mm"); err != nil {
		t.Fatal(err)
	}
	values := make([][]byte, 3)
	prod := ts.client(t, kgo.ProducerBatchMaxBytes(16<<20), kgo.ProducerBatchCompression(kgo.NoCompression()))
	for i := range values {
		values[i] = make([]byte, 2<<20)
		rand.Read(values[i])
		if err := prod.ProduceSync(ctx, &kgo.Record{Topic: "mm", Value: values[i]}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	keys := offloadedKeys(t, ts.store)
	if len(keys) != 3 {
		t.Fatalf("offloaded: %q", keys)
	}
	// Which object is record 1's: the pointer consumer says.
	cl := ts.client(t, kgo.ClientID("offload-pointers"), kgo.ConsumeTopics("mm"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
	var ptrs []*kgo.Record
	for len(ptrs) < 3 {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatal(err)
		}
		ptrs = append(ptrs, fs.Records()...)
	}
	p, ok := offload.Decode(ptrs[1].Value)
	if !ok {
		t.Fatalf("record 1 in pointer form: %q", ptrs[1].Value)
	}
	if _, err := ts.store.PutObject(ctx, p.Bucket, p.Key, strings.NewReader("short"), store.PutOptions{Size: 5}); err != nil {
		t.Fatal(err)
	}

	cons := ts.client(t, kgo.ConsumeTopics("mm"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxBytes(16<<20))
	var got []*kgo.Record
	for len(got) < 3 {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume after %d records: %v", len(got), err)
		}
		got = append(got, fs.Records()...)
	}
	for i, r := range got {
		switch {
		case i == 1:
			if !bytes.Equal(r.Value, ptrs[1].Value) || len(r.Headers) != 1 || r.Headers[0].Key != payloads.SizeHeader {
				t.Errorf("record 1 (object overwritten): value %.60q, headers %v; want its pointer record", r.Value, r.Headers)
			}
		case !bytes.Equal(r.Value, values[i]):
			t.Errorf("record %d: %d bytes, want its %d-byte value", i, len(r.Value), len(values[i]))
		}
	}
}
