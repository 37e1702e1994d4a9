package kinesis

// A GetRecords answer in CBOR is read whole into one buffer, and its
// records' data are slices of it (cbor.go). The source task reads its
// answers into buffers it reuses: an answer's buffer goes back to the
// task's pool once Kafka has acknowledged every record it holds.
//
// Why: reading a megabyte answer into fresh memory cost the worker a page
// fault per 4 KiB (about 11 µs each on this project's 2-core VM) or the
// runtime's zeroing of reused heap, for every answer of a copy; into a
// buffer the task used before, neither.
//
// Invariants:
//   - A buffer is reused only when every record cut from it was produced
//     (CommitRecord with Offset >= 0). A record a transform dropped or an
//     error handler kept may still be referenced (a dead letter queue
//     produces it later): its answer's buffer is left to the garbage
//     collector. So is the buffer of an answer one of whose records is
//     never committed: nothing but its records holds it.
//   - Records of one shard are committed in any order (they may go to
//     several partitions): a record finds its answer through its Handle
//     (sourceRef).
//   - An answer's counts are guarded by SourceTask.mu; the pool has a lock
//     of its own.

import (
	"context"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/bufpool"
)

// newAnswerPool returns a task's pool of answer buffers: up to 32 MiB of
// them, none over 16 MiB (a 10 MiB answer's).
func newAnswerPool() *bufpool.Pool {
	return &bufpool.Pool{MaxBytes: 32 << 20, MaxBuffer: 16 << 20, Round: 256 << 10}
}

// answerSlot, in a GetRecords call's context, has the CBOR protocol read
// the answer into a buffer of pool and leaves the buffer in buf: the
// caller then owns it.
type answerSlot struct {
	pool *bufpool.Pool
	buf  []byte
}

type answerSlotKey struct{}

func withAnswerSlot(ctx context.Context, s *answerSlot) context.Context {
	return context.WithValue(ctx, answerSlotKey{}, s)
}

// answerBuffer returns a buffer of length n for an answer: the slot's
// pool's when ctx has a slot, else a fresh one.
func answerBuffer(ctx context.Context, n int) []byte {
	s, _ := ctx.Value(answerSlotKey{}).(*answerSlot)
	if s == nil || s.pool == nil {
		return make([]byte, n)
	}
	s.buf = s.pool.Get(n)[:n]
	return s.buf
}

// answer is what one GetRecords answer (or enhanced fan-out event) handed
// out: its shard, how many of its records are not yet committed, and the
// buffer they were cut from.
type answer struct {
	shard *shardReader
	// buf is nil when there is none to reuse (an answer in JSON, an
	// event) and once given back.
	buf     []byte
	left    int
	dropped bool // one of its records was committed without being produced
}

// sourceRef is a record's connect.Record.Handle: its answer and position,
// and so its offset (a connect.LazyOffset). An answer's refs are one slice,
// so a record costs no allocation of its own for them, and the runtime
// builds an offset map only for the offsets it stores.
type sourceRef struct {
	answer *answer
	pos    position
}

var _ connect.LazyOffset = (*sourceRef)(nil)

// SourceOffset implements connect.LazyOffset.
func (r *sourceRef) SourceOffset() map[string]any { return r.pos.offset() }

// committed counts a commit of one of the answer's records and returns its
// buffer when that was its last record and every one of them was produced.
// Call with SourceTask.mu held.
func (a *answer) committed(produced bool) []byte {
	a.left--
	a.dropped = a.dropped || !produced
	if a.left > 0 || a.buf == nil {
		return nil
	}
	buf := a.buf
	a.buf = nil
	if a.dropped {
		return nil
	}
	return buf
}
