package payloads

import (
	"bytes"
	"context"
	"testing"

	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// newTestOffloader returns an Offloader with a threshold of 100 bytes over
// an in-memory store, and a stream "t" offloading to bucket.
func newTestOffloader(t *testing.T, bucket string) (*Offloader, *store.Stream) {
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return New(s, Policy{Threshold: 100}, nil), &store.Stream{Name: "t", Config: map[string]string{ConfigBucket: bucket}}
}

func TestOffloadAndRestoreRecords(t *testing.T) {
	ctx := context.Background()
	o, st := newTestOffloader(t, "my-bucket")
	big := bytes.Repeat([]byte("x"), 500)
	recs := []recordbatch.Record{
		{Key: []byte("a"), Value: []byte("small")},
		{Key: []byte("b"), Value: big, Headers: []recordbatch.Header{{Key: "h", Value: []byte("1")}}},
	}
	refs, err := o.Records(ctx, st, 3, recs)
	if err != nil || len(refs) != 1 || refs[0].OffsetDelta != 1 || refs[0].Bucket != "my-bucket" {
		t.Fatalf("Records: %+v %v", refs, err)
	}
	p, size, ok := PointerOf(&recs[1])
	if !ok || size != 500 || p.Key != refs[0].Key || string(recs[0].Value) != "small" {
		t.Fatalf("pointer record: %q %v (%d, %v)", recs[1].Value, recs[1].Headers, size, ok)
	}
	if restored, err := o.Restore(ctx, &recs[1]); !restored || err != nil || !bytes.Equal(recs[1].Value, big) || len(recs[1].Headers) != 1 {
		t.Fatalf("Restore: %v %v, %d bytes, headers %v", restored, err, len(recs[1].Value), recs[1].Headers)
	}
	// Threshold 0 on the stream turns it off.
	st.Config[ConfigThreshold] = "0"
	if refs, err := o.Records(ctx, st, 0, []recordbatch.Record{{Value: big}}); refs != nil || err != nil {
		t.Fatalf("offloaded with threshold 0: %v %v", refs, err)
	}
	// A pointer to a missing object restores to ErrMissing.
	gone := recordbatch.Record{Value: offload.Encode(offload.Pointer{Bucket: "my-bucket", Key: "nope"}),
		Headers: []recordbatch.Header{{Key: SizeHeader, Value: []byte("3")}}}
	if _, err := o.Restore(ctx, &gone); err == nil {
		t.Fatal("restoring a missing object succeeded")
	}
}

// A stream encrypted at rest offloads nothing (objects are not encrypted);
// the same stream unencrypted gets the defaults and its own configs.
func TestPolicyOfEncryptedStream(t *testing.T) {
	o := New(struct{ store.Objects }{}, Policy{Threshold: DefaultThreshold}, nil)
	st := &store.Stream{Name: "s", Config: map[string]string{ConfigThreshold: "10", ConfigBucket: "b-1"}}
	if got, want := o.PolicyOf(st), (Policy{Bucket: "b-1", Threshold: 10}); got != want {
		t.Fatalf("unencrypted: %+v, want %+v", got, want)
	}
	st.Encryption = store.Encryption{KeyID: "alias/aws/kafka"}
	if got := o.PolicyOf(st); got.Threshold != 0 {
		t.Fatalf("encrypted: %+v, want threshold 0 (nothing offloaded)", got)
	}
}

// FuzzPointerOf checks that no record value or size header makes PointerOf
// panic, and that what it accepts names an object and a size.
func FuzzPointerOf(f *testing.F) {
	f.Add(offload.Encode(offload.Pointer{Bucket: "b", Key: "k"}), "12", SizeHeader)
	f.Add([]byte(`{"s3BucketName":"b","s3Key":"k"}`), "0", LegacySizeHeader)
	f.Add([]byte(`["x",{}]`), "-1", SizeHeader)
	f.Add([]byte("plain"), "99999999999999999999", "other")
	f.Fuzz(func(t *testing.T, value []byte, size, header string) {
		r := recordbatch.Record{Value: value, Headers: []recordbatch.Header{{Key: header, Value: []byte(size)}}}
		p, n, ok := PointerOf(&r)
		if !ok {
			return
		}
		if p.Bucket == "" || p.Key == "" || n < 0 {
			t.Fatalf("accepted %q / %q as %+v size %d", value, size, p, n)
		}
	})
}
