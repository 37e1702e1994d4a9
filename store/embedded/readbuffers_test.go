package embedded

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/streambridge/bridge/store"
)

// TestReadRelease reads a partition in order, one batch at a time, keeping
// every result: a result not yet released keeps its bytes while later
// reads reuse the buffers of released ones, and a second Release puts
// nothing back twice.
func TestReadRelease(t *testing.T) {
	s, err := Open(Options{Dir: t.TempDir(), TailCacheBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustCreate(t, s, "rr", 1)
	for i := range 20 {
		if _, err := s.AppendBatch(ctx, "rr", 0, kafkaBatch(t, 5, fmt.Sprint(i), 0), store.AppendOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	type kept struct {
		res  store.ReadResult
		want []byte
	}
	var held []kept
	for off := int64(0); off < 100; {
		res, err := s.Read(ctx, "rr", 0, off, store.ReadLimits{MaxBytes: 1})
		if err != nil {
			t.Fatal(err)
		}
		if res.Release == nil {
			t.Fatalf("read at %d: no Release for a read from pebble", off)
		}
		held = append(held, kept{res, bytes.Clone(res.Bytes)})
		off = res.Batches[len(res.Batches)-1].LastOffset + 1
		// Release every other result, twice; keep the others.
		if len(held)%2 == 0 {
			res.Release()
			res.Release()
		}
	}
	for i, k := range held {
		if i%2 == 0 && !bytes.Equal(k.res.Bytes, k.want) {
			t.Fatalf("read %d, never released, changed under its holder", i)
		}
	}
	pooled := s.readBuffers.Bytes()
	if pooled == 0 || pooled > len(held)/2*(256<<10) {
		t.Fatalf("%d bytes in the pool after %d releases", pooled, len(held)/2)
	}
	// Released buffers are taken again: reading it all once more leaves
	// the pool no larger than before.
	res, err := s.Read(ctx, "rr", 0, 0, store.ReadLimits{MaxBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	if now := s.readBuffers.Bytes(); now >= pooled {
		t.Errorf("the pool kept %d bytes after a read, %d before: the read did not take a buffer from it", now, pooled)
	}
	res.Release()
}
