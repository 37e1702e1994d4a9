package store

import (
	"cmp"
	"slices"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

// TxnFilter tells which batches of a Committed read (ReadLimits.Committed)
// a reader that is not Kafka hands over: not control batches (transaction
// markers), not batches of aborted transactions. It replays a read the way a
// Kafka read_committed consumer does with a Fetch's AbortedTransactions: a
// producer's transactional batches from an aborted transaction's first
// offset are skipped until that producer's abort marker. Kinesis and SQS
// readers use it; feed it every batch of the read, in order, from the read
// offset.
type TxnFilter struct {
	pending []AbortedTxn   // not reached yet, by first offset
	aborted map[int64]bool // producers inside an aborted transaction
}

// NewTxnFilter returns the filter for a read that returned aborted.
func NewTxnFilter(aborted []AbortedTxn) *TxnFilter {
	f := &TxnFilter{pending: slices.Clone(aborted)}
	slices.SortStableFunc(f.pending, func(a, b AbortedTxn) int { return cmp.Compare(a.FirstOffset, b.FirstOffset) })
	return f
}

// Skip reports whether the batch with header info (its base offset set)
// is left out: a control batch, or one of an aborted transaction.
func (f *TxnFilter) Skip(info recordbatch.Info) bool {
	last := info.LastOffset()
	for len(f.pending) > 0 && f.pending[0].FirstOffset <= last {
		if f.aborted == nil {
			f.aborted = make(map[int64]bool)
		}
		f.aborted[f.pending[0].ProducerID] = true
		f.pending = f.pending[1:]
	}
	if info.Control() {
		// Whatever the marker says, the producer's transaction is over.
		delete(f.aborted, info.ProducerID)
		return true
	}
	return info.Transactional() && f.aborted[info.ProducerID]
}
