package payloads

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
)

// TestReadahead reads ahead the payloads of an offloaded batch from a given
// offset on, within its byte bound, hands each out once, and leaves
// batches of client pointers alone.
func TestReadahead(t *testing.T) {
	ctx := context.Background()
	o, st := newTestOffloader(t, "b")
	payloads := [][]byte{bytes.Repeat([]byte("a"), 400), bytes.Repeat([]byte("b"), 500), bytes.Repeat([]byte("c"), 600)}
	var recs []recordbatch.Record
	for _, p := range payloads {
		recs = append(recs, recordbatch.Record{Value: p})
	}
	raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, refs, err := o.Batch(ctx, st, 2, raw)
	if err != nil || len(refs) != 3 {
		t.Fatalf("Batch: %d refs, %v", len(refs), err)
	}
	_, stored, _ := recordbatch.Decode(raw)
	pointers := make([]offload.Pointer, len(stored))
	for i := range stored {
		pointers[i], _, _ = PointerOf(&stored[i])
	}

	var mu sync.Mutex
	var freed int
	// Room for the second and third payloads only (500 + 600 bytes).
	ra := o.NewReadahead(func(n int) []byte { return make([]byte, n) }, func([]byte) { mu.Lock(); freed++; mu.Unlock() }, 1100)
	ra.Ahead("t", 2, raw, 1) // from offset 1: the first payload is behind the consumer
	if got := ra.Take(pointers[0], 400); got != nil {
		t.Fatal("read ahead a payload before the offset asked for")
	}
	for i := 1; i < 3; i++ {
		if got := ra.Take(pointers[i], int64(len(payloads[i]))); !bytes.Equal(got, payloads[i]) {
			t.Fatalf("payload %d taken as %d bytes, want its %d", i, len(got), len(payloads[i]))
		}
		if again := ra.Take(pointers[i], int64(len(payloads[i]))); again != nil {
			t.Fatalf("payload %d taken twice", i)
		}
	}
	// The bound: all three (1,500 bytes) do not fit, the first two do.
	ra.Ahead("t", 2, raw, 0)
	if ra.Take(pointers[2], 600) != nil || ra.Take(pointers[0], 400) == nil || ra.Take(pointers[1], 500) == nil {
		t.Fatal("read ahead past its byte bound, or not up to it")
	}
	// A size other than the pointer's: dropped, not handed out.
	ra.Ahead("t", 2, raw, 2)
	if ra.Take(pointers[2], 601) != nil {
		t.Fatal("handed out a payload of another size")
	}
	mu.Lock()
	if freed != 1 {
		t.Errorf("freed %d buffers, want the mismatched one", freed)
	}
	mu.Unlock()
	// Another stream's or partition's name for the same batch: not the
	// bridge's objects for it, nothing read.
	ra.Ahead("t", 3, raw, 0)
	if ra.Take(pointers[0], 400) != nil {
		t.Fatal("read ahead an object outside the partition's prefix")
	}
	// Client pointers are never read ahead.
	client, err := recordbatch.Encode(nil, stored, recordbatch.EncodeOptions{ClientPointers: true})
	if err != nil {
		t.Fatal(err)
	}
	ra.Ahead("t", 2, client, 0)
	if ra.Take(pointers[0], 400) != nil {
		t.Fatal("read ahead a client's pointer")
	}
}
