package embedded

import (
	"context"
	"sync"

	"github.com/streambridge/bridge/store"
)

// Read-ahead. A consumer reads a partition in order, one request at a time:
// while it is busy with one answer, nothing is being read for the next, so
// each read pays pebble's full latency (a pread into fresh cache memory per
// value). After a read that stopped at its byte limit with more to come, the
// store reads the next piece in the background, and a read asking for
// exactly that piece takes it. One piece per partition, handed to exactly
// one reader; a reader asking for anything else reads as usual.

// readKey is what a read asked for; a read-ahead serves only the same ask at
// the next offset.
type readKey struct {
	offset     int64
	end        int64 // exclusive bound: the high watermark or the caller's EndOffset
	maxBytes   int
	maxRecords int
}

// readAheadSlot is a background read and, once done, its result.
type readAheadSlot struct {
	key  readKey
	done chan struct{} // closed once res and err are set
	res  store.ReadResult
	err  error
}

// partitionReadAhead is the read-ahead state of one partition.
type partitionReadAhead struct {
	mu   sync.Mutex
	slot *readAheadSlot
}

// takeReadAhead returns the read-ahead result for key, waiting for it if it
// is still being read. The slot is emptied either way.
func (p *partition) takeReadAhead(key readKey) (store.ReadResult, bool) {
	p.ahead.mu.Lock()
	slot := p.ahead.slot
	p.ahead.slot = nil
	p.ahead.mu.Unlock()
	if slot == nil || slot.key.offset != key.offset || slot.key.maxBytes != key.maxBytes ||
		slot.key.maxRecords != key.maxRecords || slot.key.end > key.end {
		return store.ReadResult{}, false
	}
	<-slot.done
	// Retention may have trimmed past it meanwhile.
	if slot.err != nil || len(slot.res.Batches) == 0 || slot.res.Batches[0].LastOffset < p.logStart.Load() {
		return store.ReadResult{}, false
	}
	return slot.res, true
}

// dropReadAhead forgets the partition's read-ahead: the cleaner rewrote
// batches it may hold. A read-ahead waits in its slot for as long as its
// consumer takes to ask; handing it over after the cleaner removed an
// aborted transaction and, passes later, the marker and aborted index entry
// that decide it would give a read_committed reader records whose abort the
// index no longer reports.
func (p *partition) dropReadAhead() {
	p.ahead.mu.Lock()
	p.ahead.slot = nil
	p.ahead.mu.Unlock()
}

// readAhead starts reading the piece after res in the background when res
// stopped short of the end it was allowed to reach. The caller holds the
// store open.
func (s *Store) readAhead(st *stream, p *partition, key readKey, res store.ReadResult) {
	if len(res.Batches) == 0 {
		return
	}
	next := res.Batches[len(res.Batches)-1].LastOffset + 1
	if next >= key.end {
		return // caught up: the next read waits for new records anyway
	}
	slot := &readAheadSlot{key: key, done: make(chan struct{})}
	slot.key.offset = next
	p.ahead.mu.Lock()
	if p.ahead.slot != nil {
		p.ahead.mu.Unlock()
		return
	}
	p.ahead.slot = slot
	p.ahead.mu.Unlock()
	// The caller holds the store open (enter); Close waits for s.bg before
	// closing pebble, so the read may outlive the caller's hold.
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		defer close(slot.done)
		slot.res, slot.err = s.read(context.Background(), st, p, slot.key, store.ReadResult{})
	}()
}
