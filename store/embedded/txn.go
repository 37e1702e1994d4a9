package embedded

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// Transactions, the log side (KIP-98). The store reads what producers and
// the coordinator append and keeps, per partition:
//
//   - each producer's open transaction: the first offset of its first
//     transactional batch since its last marker ('q' id partition pid ->
//     first offset, epoch), set in the commit of that batch, deleted in the
//     commit of the marker (a control batch) that ends it;
//   - the aborted transactions index ('a' id partition markerOffset ->
//     pid, first offset, the last stable offset just after the marker),
//     written in the abort marker's commit. Ordered by marker offset, like
//     Kafka's per-segment transaction index, and searched the same way: from
//     the fetch offset until an entry whose last stable offset reaches the
//     end of the returned range (every transaction with records before that
//     end had its marker by then).
//
// The last stable offset (LSO) is the smallest first offset of an open
// transaction, else the high watermark. A marker closes its transaction only
// once it is durable: until the high watermark passes the marker the
// transaction still holds the LSO back, so a committed reader never sees a
// transaction's records before the marker that decides them is durable, and
// the LSO is never above the high watermark. The open transactions are in
// memory (rebuilt from 'q' at open) under partitionTxns.mu, a leaf lock taken
// under the partition lock by appends and alone by readers.
//
// A marker for a producer with no open transaction changes nothing (Kafka
// writes it all the same). Retention and TrimBefore delete the index entries
// of markers below the new log start with the data, and the cleaner an
// entry with its marker (compacttxn.go); an open transaction whose first
// records were trimmed holds the LSO at the log start.
const (
	tagTxnOpen = 'q'
	tagAborted = 'a'
)

func txnOpenKey(id uint64, partition int32, pid int64) []byte {
	k := partitionPrefix(make([]byte, 0, 21), tagTxnOpen, id, partition)
	return binary.BigEndian.AppendUint64(k, uint64(pid))
}

func abortedKey(id uint64, partition int32, marker int64) []byte {
	k := partitionPrefix(make([]byte, 0, 21), tagAborted, id, partition)
	return binary.BigEndian.AppendUint64(k, uint64(marker))
}

// openTxn is an open transaction in memory.
type openTxn struct {
	first int64
	epoch int16
}

// endingTxn is a transaction whose marker (at marker) is appended but maybe
// not durable yet: it holds the LSO at first until the high watermark passes
// the marker.
type endingTxn struct {
	first, marker int64
}

// partitionTxns is a partition's transaction state.
type partitionTxns struct {
	mu     sync.Mutex // a leaf: taken under partition.mu by appends, alone by readers
	open   map[int64]openTxn
	ending []endingTxn
}

// txnChange is what an append does to its partition's transactions, decided
// under the partition lock before the batch commits and applied to memory
// after.
type txnChange struct {
	kind   int8 // 0 none, 1 a transaction opens, 2 one ends
	pid    int64
	open   openTxn
	ending endingTxn
}

// planTxn adds to b the transaction keys the batch at base..last changes and
// returns the change to apply once b is committed. Called under p.mu.
func (p *partition) planTxn(b *pebble.Batch, raw []byte, info recordbatch.Info, base, last int64) txnChange {
	if !info.Transactional() || info.ProducerID < 0 {
		return txnChange{}
	}
	t := &p.txns
	t.mu.Lock()
	defer t.mu.Unlock()
	cur, isOpen := t.open[info.ProducerID]
	if !info.Control() {
		if isOpen {
			return txnChange{}
		}
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 10), uint64(base))
		v = binary.BigEndian.AppendUint16(v, uint16(info.ProducerEpoch))
		_ = b.Set(txnOpenKey(p.id, p.number, info.ProducerID), v, nil)
		return txnChange{kind: 1, pid: info.ProducerID, open: openTxn{first: base, epoch: info.ProducerEpoch}}
	}
	if !isOpen {
		return txnChange{} // a marker for no open transaction: harmless
	}
	marker, err := recordbatch.ParseControl(raw)
	if err != nil {
		return txnChange{} // not a marker the store understands: left as data
	}
	_ = b.Delete(txnOpenKey(p.id, p.number, info.ProducerID), nil)
	if marker.Type == recordbatch.ControlAbort {
		// The LSO right after this marker: the other transactions' first
		// offsets bound it (ending ones count, conservatively).
		lso := last + 1
		for pid, o := range t.open {
			if pid != info.ProducerID {
				lso = min(lso, o.first)
			}
		}
		for _, e := range t.ending {
			lso = min(lso, e.first)
		}
		v := binary.BigEndian.AppendUint64(make([]byte, 0, 24), uint64(info.ProducerID))
		v = binary.BigEndian.AppendUint64(v, uint64(cur.first))
		v = binary.BigEndian.AppendUint64(v, uint64(lso))
		_ = b.Set(abortedKey(p.id, p.number, base), v, nil)
	}
	return txnChange{kind: 2, pid: info.ProducerID, ending: endingTxn{first: cur.first, marker: last}}
}

// applyTxn makes a committed change visible. Called under p.mu.
func (p *partition) applyTxn(c txnChange) {
	if c.kind == 0 {
		return
	}
	t := &p.txns
	t.mu.Lock()
	defer t.mu.Unlock()
	// Transactions whose markers are durable end now.
	hw := p.durable.Load()
	t.ending = slices.DeleteFunc(t.ending, func(e endingTxn) bool { return e.marker < hw })
	switch c.kind {
	case 1:
		if t.open == nil {
			t.open = make(map[int64]openTxn)
		}
		t.open[c.pid] = c.open
	case 2:
		delete(t.open, c.pid)
		t.ending = append(t.ending, c.ending)
	}
}

// stable returns the high watermark and the last stable offset at it, for a
// reader that saw the log start start. The high watermark is loaded under
// t.mu: applyTxn forgets an ending transaction once the high watermark
// passes its marker, and a reader with an older high watermark must still
// count it.
func (p *partition) stable(start int64) (hw, lso int64) {
	t := &p.txns
	t.mu.Lock()
	hw = p.durable.Load()
	lso = hw
	for _, o := range t.open {
		lso = min(lso, o.first)
	}
	for _, e := range t.ending {
		if e.marker >= hw {
			lso = min(lso, e.first)
		}
	}
	t.mu.Unlock()
	return hw, max(lso, start)
}

// recoverTxns loads a partition's open transactions from its 'q' keys.
func (s *Store) recoverTxns(part *partition) error {
	prefix := partitionPrefix(nil, tagTxnOpen, part.id, part.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 21 || len(v) != 10 {
			return fmt.Errorf("corrupt open transaction record %x", k)
		}
		if part.txns.open == nil {
			part.txns.open = make(map[int64]openTxn)
		}
		pid := int64(binary.BigEndian.Uint64(k[13:]))
		part.txns.open[pid] = openTxn{first: int64(binary.BigEndian.Uint64(v)), epoch: int16(binary.BigEndian.Uint16(v[8:]))}
	}
	return it.Error()
}

// abortedIn returns the aborted transactions whose records may lie in
// [from, upper): marker at or after from, first offset before upper, marker
// below hw. The scan stops at the first entry whose last stable offset
// reaches upper, as Kafka's transaction index search does.
func (s *Store) abortedIn(p *partition, from, upper, hw int64) ([]store.AbortedTxn, error) {
	prefix := partitionPrefix(nil, tagAborted, p.id, p.number)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: abortedKey(p.id, p.number, from), UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []store.AbortedTxn
	for it.First(); it.Valid(); it.Next() {
		k, v := it.Key(), it.Value()
		if len(k) != 21 || len(v) != 24 {
			return nil, fmt.Errorf("store: corrupt aborted transaction record %x", k)
		}
		if int64(binary.BigEndian.Uint64(k[13:])) >= hw {
			break
		}
		pid, first, lso := int64(binary.BigEndian.Uint64(v)), int64(binary.BigEndian.Uint64(v[8:])), int64(binary.BigEndian.Uint64(v[16:]))
		if first < upper {
			out = append(out, store.AbortedTxn{ProducerID: pid, FirstOffset: first})
		}
		if lso >= upper {
			break
		}
	}
	return out, it.Error()
}

// finishRead fills in the aborted transactions of a Committed read (read
// up to its last stable offset) from offset.
func (s *Store) finishRead(p *partition, from int64, lim store.ReadLimits, res store.ReadResult) (store.ReadResult, error) {
	if !lim.Committed || len(res.Batches) == 0 {
		return res, nil
	}
	upper := res.Batches[len(res.Batches)-1].LastOffset + 1
	aborted, err := s.abortedIn(p, from, upper, res.HighWatermark)
	if err != nil {
		return res, err
	}
	res.Aborted = aborted
	return res, nil
}

// LastStableOffset returns a partition's last stable offset.
func (s *Store) LastStableOffset(ctx context.Context, name string, partitionID int32) (int64, error) {
	st, err := s.stream(name)
	if err != nil {
		return 0, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return 0, err
	}
	_, lso := p.stable(p.logStart.Load())
	return lso, nil
}

// WaitStable blocks until the partition's last stable offset is above
// offset; otherwise as Wait. The LSO moves when the high watermark does,
// which wakes waiters (a trim that lifts it to the new log start does not:
// a waiter then wakes at the next append or its deadline).
func (s *Store) WaitStable(ctx context.Context, name string, partitionID int32, offset int64) error {
	return s.waitFor(ctx, name, partitionID, func(p *partition) bool {
		_, lso := p.stable(p.logStart.Load())
		return lso > offset
	})
}

// OpenTransactions returns the partition's open transactions by producer id.
func (s *Store) OpenTransactions(ctx context.Context, name string, partitionID int32) ([]store.OpenTxn, error) {
	st, err := s.stream(name)
	if err != nil {
		return nil, err
	}
	p, err := st.partition(partitionID)
	if err != nil {
		return nil, err
	}
	p.txns.mu.Lock()
	out := make([]store.OpenTxn, 0, len(p.txns.open))
	for pid, o := range p.txns.open {
		out = append(out, store.OpenTxn{ProducerID: pid, ProducerEpoch: o.epoch, FirstOffset: o.first})
	}
	p.txns.mu.Unlock()
	slices.SortFunc(out, func(a, b store.OpenTxn) int { return cmp.Compare(a.ProducerID, b.ProducerID) })
	return out, nil
}
