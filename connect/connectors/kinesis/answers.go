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
//     produces it later): its answer is forgotten and left to the garbage
//     collector. So is an answer one of whose records is never committed
//     once maxAnswersPerShard newer ones wait.
//   - Records of one shard are committed in any order (they may go to
//     several partitions), so a record finds its answer by its sequence
//     number: answers hold increasing, disjoint ranges of a shard.
//   - shardReader.answers is guarded by SourceTask.mu (read's goroutine adds,
//     CommitRecord removes); the pool has a lock of its own.

import (
	"cmp"
	"context"
	"slices"

	"github.com/streambridge/bridge/internal/bufpool"
)

// newAnswerPool returns a task's pool of answer buffers: up to 32 MiB of
// them, none over 16 MiB (a 10 MiB answer's).
func newAnswerPool() *bufpool.Pool {
	return &bufpool.Pool{MaxBytes: 32 << 20, MaxBuffer: 16 << 20, Round: 256 << 10}
}

// maxAnswersPerShard bounds the answers a shard keeps waiting for their
// records' commits; a working copy has a few (the producer buffers at
// most 50,000 records).
const maxAnswersPerShard = 256

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

// answer is a buffer some of whose records are not yet committed.
type answer struct {
	buf     []byte
	last    string // the sequence number of its last record
	left    int    // its records not yet committed
	dropped bool   // one of them was committed without being produced
}

// keepAnswer records that n records up to sequence last were cut from buf.
// Call with SourceTask.mu held.
func (s *shardReader) keepAnswer(buf []byte, last string, n int) {
	if len(s.answers) >= maxAnswersPerShard {
		s.answers[0] = nil
		s.answers = s.answers[1:] // forgotten: left to the collector
	}
	s.answers = append(s.answers, &answer{buf: buf, last: last, left: n})
}

// committed counts a commit of the record at sequence seq and returns the
// buffer of its answer when that was the answer's last record and every
// one of them was produced. Call with SourceTask.mu held.
func (s *shardReader) committed(seq string, produced bool) []byte {
	i := slices.IndexFunc(s.answers, func(a *answer) bool { return compareSequences(seq, a.last) <= 0 })
	if i < 0 {
		return nil
	}
	a := s.answers[i]
	a.left--
	a.dropped = a.dropped || !produced
	if a.left > 0 {
		return nil
	}
	s.answers = slices.Delete(s.answers, i, i+1)
	if a.dropped {
		return nil
	}
	return a.buf
}

// compareSequences compares two Kinesis sequence numbers, decimal numbers
// of up to 128 digits without leading zeros.
func compareSequences(a, b string) int {
	if c := cmp.Compare(len(a), len(b)); c != 0 {
		return c
	}
	return cmp.Compare(a, b)
}
