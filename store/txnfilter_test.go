package store

import (
	"testing"

	"github.com/streambridge/bridge/mapping/recordbatch"
)

func TestTxnFilter(t *testing.T) {
	const txn, ctl = 0x10, 0x30 // attribute bits: transactional, control
	type batch struct {
		base, last int64
		pid        int64
		attrs      int16
	}
	for _, c := range []struct {
		name    string
		aborted []AbortedTxn
		batches []batch
		skip    []bool
	}{
		{
			name:    "plain batches and markers",
			batches: []batch{{0, 1, -1, 0}, {2, 2, 7, ctl}, {3, 4, 7, txn}},
			skip:    []bool{false, true, false},
		},
		{
			name:    "an aborted transaction between committed ones",
			aborted: []AbortedTxn{{ProducerID: 7, FirstOffset: 2}},
			batches: []batch{{0, 1, 8, txn}, {2, 3, 7, txn}, {4, 4, -1, 0}, {5, 6, 7, txn}, {7, 7, 7, ctl}, {8, 8, 7, txn}, {9, 9, 8, ctl}},
			skip:    []bool{false, true, false, true, true, false, true},
		},
		{
			name:    "the read starts inside the aborted transaction",
			aborted: []AbortedTxn{{ProducerID: 7, FirstOffset: 2}},
			batches: []batch{{5, 6, 7, txn}, {7, 7, 7, ctl}},
			skip:    []bool{true, true},
		},
		{
			name:    "two aborted transactions of one producer, out of order in the list",
			aborted: []AbortedTxn{{ProducerID: 7, FirstOffset: 10}, {ProducerID: 7, FirstOffset: 0}},
			batches: []batch{{0, 0, 7, txn}, {1, 1, 7, ctl}, {2, 2, 7, txn}, {3, 3, 7, ctl}, {10, 10, 7, txn}, {11, 11, 7, ctl}},
			skip:    []bool{true, true, false, true, true, true},
		},
		{
			name:    "a non-transactional batch of an aborted producer id stays",
			aborted: []AbortedTxn{{ProducerID: 7, FirstOffset: 0}},
			batches: []batch{{0, 0, 7, txn}, {1, 1, 7, 0}},
			skip:    []bool{true, false},
		},
	} {
		f := NewTxnFilter(c.aborted)
		for i, b := range c.batches {
			info := recordbatch.Info{BaseOffset: b.base, LastOffsetDelta: int32(b.last - b.base), ProducerID: b.pid, Attributes: b.attrs}
			if got := f.Skip(info); got != c.skip[i] {
				t.Errorf("%s: batch %d (%d-%d pid %d): skip %v, want %v", c.name, i, b.base, b.last, b.pid, got, c.skip[i])
			}
		}
	}
}
