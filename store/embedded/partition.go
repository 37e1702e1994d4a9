package embedded

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/streambridge/bridge/store"
)

// partition is the in-memory state of one Kafka partition.
type partition struct {
	id     uint64 // stream id
	number int32

	// mu serializes appends: offset assignment and entry into pebble's
	// commit pipeline happen together under it (see the package invariants).
	mu           sync.Mutex
	next         int64 // next offset to assign
	maxTimestamp int64 // largest record timestamp so far; -1 when none
	retired      bool

	// durable is the high watermark: every offset below it is synced.
	// logStart is the first offset readers may ask for.
	durable  atomic.Int64
	logStart atomic.Int64

	// endPos (written under mu) and startPos (written under the stream's
	// changeMu) are byte positions: endPos-startPos is the partition's size.
	endPos   atomic.Int64
	startPos atomic.Int64

	ahead partitionReadAhead
	tail  partitionTail
	txns  partitionTxns // open transactions (txn.go)

	// arrived is closed and replaced whenever durable advances, waking every
	// reader blocked on the partition at once.
	notifyMu sync.Mutex
	arrived  chan struct{}
}

func newPartition(id uint64, number int32) *partition {
	return &partition{id: id, number: number, arrived: make(chan struct{})}
}

// advance raises the high watermark to end, if that is higher, and wakes
// blocked readers. Acknowledgements may arrive out of order; since a synced
// WAL is a prefix, the highest synced end covers every lower one.
func (p *partition) advance(end int64) {
	for {
		cur := p.durable.Load()
		if end <= cur {
			return
		}
		if p.durable.CompareAndSwap(cur, end) {
			break
		}
	}
	p.wake()
}

func (p *partition) wake() {
	p.notifyMu.Lock()
	close(p.arrived)
	p.arrived = make(chan struct{})
	p.notifyMu.Unlock()
}

func (p *partition) waitChan() <-chan struct{} {
	p.notifyMu.Lock()
	defer p.notifyMu.Unlock()
	return p.arrived
}

// Wait blocks until partition has a record at or after offset (its high
// watermark is above offset), the stream's layout changes, ctx is done, the
// stream is deleted or the store closes. It does not poll: appends and
// reshards wake it. A layout change returns nil with nothing new to read: a
// split or merge may have closed the shard a reader follows, and it should
// look again.
func (s *Store) Wait(ctx context.Context, name string, partitionID int32, offset int64) error {
	return s.waitFor(ctx, name, partitionID, func(p *partition) bool { return p.durable.Load() > offset })
}

// waitFor blocks until ready(p) holds for the partition, as Wait says,
// re-checking it whenever the partition's wait channel fires.
func (s *Store) waitFor(ctx context.Context, name string, partitionID int32, ready func(*partition) bool) error {
	st, err := s.stream(name)
	if err != nil {
		return err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return err
	}
	layout := st.layout.Load()
	for {
		ch := p.waitChan()
		switch {
		case st.deleted.Load():
			return store.ErrStreamNotFound
		case st.layout.Load() != layout, ready(p):
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.closing:
			return store.ErrClosed
		}
	}
}

// Size returns the bytes a partition holds: its stored batches, whole.
func (s *Store) Size(ctx context.Context, name string, partitionID int32) (int64, error) {
	st, err := s.stream(name)
	if err != nil {
		return 0, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return 0, err
	}
	return p.endPos.Load() - p.startPos.Load(), nil
}

// Offsets returns a partition's log start offset and high watermark.
func (s *Store) Offsets(ctx context.Context, name string, partitionID int32) (logStart, highWatermark int64, err error) {
	st, err := s.stream(name)
	if err != nil {
		return 0, 0, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return 0, 0, err
	}
	return p.logStart.Load(), p.durable.Load(), nil
}
