package kafka

// The source task's consumer decompresses batches into buffers it borrows
// from a fetchPool and decodes records into slices it borrows too; a record
// is recycled (kgo's Record.Recycle) once the runtime committed its copy
// (CommitRecord finds it through connect.Record.Handle), and a batch's
// memory goes back to the pool when its last record is.
//
// Why: a third of a compressed copy's worker CPU went to s2.Decode, nearly
// all of it in its stores into memory the process had just been given (on
// this project's 2-core VM: 0.36 GB/s into fresh buffers, 13.8 GB/s into a
// buffer reused in a loop). With the pool, an in-process 1 KiB-record copy
// went from 197 to 220-300 MB/s. A task keeps at most maxPooledBytes of
// buffers between batches.
//
// Invariants:
//   - Only records the runtime produced (CommitRecord with Offset >= 0) are
//     recycled: a record a transform dropped or an error handler kept may
//     still be referenced (a dead letter queue produces it later), so its
//     batch's memory is left to the garbage collector.
//   - A record is recycled at most once: the runtime calls CommitRecord once
//     per record. One that is never committed (an aborted transaction's) is
//     not recycled: the task keeps no reference to it, and its batch's
//     memory is left to the garbage collector.
//   - The pool is shared with the consumer's goroutines and locks.

import (
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/internal/bufpool"
)

// fetchPool keeps buffers and record slices for reuse (kgo.PoolDecompressBytes
// and kgo.PoolRecords): up to maxPooledBytes of buffers, none over
// maxPooledBuffer (internal/bufpool), and maxPooledSlices slices.
type fetchPool struct {
	bytes *bufpool.Pool
	mu    sync.Mutex
	recs  [][]kgo.Record
}

const (
	maxPooledBytes  = 64 << 20
	maxPooledBuffer = 16 << 20
	maxPooledSlices = 256
	// pooledRound rounds the buffers this pool makes up, so that one fits
	// the batches of about its size that follow once it is back.
	pooledRound = 256 << 10
)

func newFetchPool() *fetchPool {
	return &fetchPool{bytes: &bufpool.Pool{MaxBytes: maxPooledBytes, MaxBuffer: maxPooledBuffer, Round: pooledRound}}
}

func (p *fetchPool) GetDecompressBytes(compressed []byte, codec kgo.CompressionCodecType) []byte {
	want := 4 * len(compressed)
	if codec == kgo.CodecSnappy {
		if n, err := s2.DecodedLen(compressed); err == nil {
			want = n
		}
	}
	if want > maxPooledBuffer {
		return nil // none kept is that large: the codec sizes it, and it will not be kept
	}
	return p.bytes.Get(want)
}

func (p *fetchPool) PutDecompressBytes(b []byte) { p.bytes.Put(b) }

func (p *fetchPool) GetRecords(n int) []kgo.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	if i := slices.IndexFunc(p.recs, func(r []kgo.Record) bool { return cap(r) >= n }); i >= 0 {
		r := p.recs[i]
		p.recs = slices.Delete(p.recs, i, i+1)
		return r[:0]
	}
	return make([]kgo.Record, 0, n)
}

func (p *fetchPool) PutRecords(r []kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.recs) < maxPooledSlices {
		p.recs = append(p.recs, r)
	}
}
