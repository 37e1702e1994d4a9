package embedded

// What the cleaner does with transactions (Kafka's LogCleaner with its
// CleanedTransactionMetadata, KIP-98 "Log compaction", KAFKA-5283):
//
//   - The aborted transactions whose records may lie in the cleaned part
//     come from the aborted index ('a' keys: producer, first offset, marker).
//     A walk over the batches in offset order (cleanTxns) knows, at each
//     transactional data batch of producer P, whether P is inside one of
//     them: from the first offset of an aborted transaction of P up to its
//     marker, P's transactional batches are aborted. Any other
//     transactional batch below the cleanable end (capped by the last stable
//     offset, so every transaction there is decided) is committed.
//   - Aborted batches never enter the offset map (an aborted record must not
//     hide a committed one of its key) and the rewrite removes them whole.
//     Committed transactional records are records like any other: they
//     enter the map and are kept only while they are their key's latest.
//   - A marker (a COMMIT or ABORT control batch) stays while any batch of
//     its transaction was present when the pass began. A pass that found
//     none makes it removable: the first such pass keeps it and writes its
//     delete horizon (the tombstones' 'c' key: now + delete.retention.ms), a
//     pass at or past the horizon removes it, with its 'a' entry (an abort's)
//     in the same commit. This is Kafka's two-pass rule: a marker outlives
//     its transaction's records by at least one pass and delete.retention.ms,
//     so a consumer that read the records before they went still finds the
//     marker that decides them.
//   - The 'a' entry goes only with its marker, never before: a committed
//     read takes the batches and then the aborted index, each from its own
//     snapshot, so an entry that outlives its records costs nothing (its
//     marker still ends it for the reader), while one gone before its marker
//     could hand a reader aborted records it read earlier without saying so.
//     Removing both together keeps the index exactly the aborted
//     transactions whose markers are in the log, and a read that saw the
//     aborted records saw them at least delete.retention.ms before the
//     marker and entry could go (the same bound as for tombstones).
//   - Producer state needs nothing from the log: idempotent and
//     transactional producers' epochs and sequences live in the state area
//     (gateway/kafka producers.go), written in the same commit as their
//     batches, so Kafka's empty batch header for a producer's last batch
//     (BatchRetention.RETAIN_EMPTY) has no use here and an emptied batch is
//     deleted whole, header too.

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// abortedEntry is one entry of the aborted index.
type abortedEntry struct {
	pid, first, marker int64
}

// abortedEntries returns p's aborted transactions with a first offset below
// upper, by first offset. Every transaction with records below the last
// stable offset is decided and its marker durable, so for upper at most the
// LSO the list is complete.
func (s *Store) abortedEntries(p *partition, upper int64) ([]abortedEntry, error) {
	prefix := partitionPrefix(nil, tagAborted, p.id, p.number)
	var out []abortedEntry
	err := s.scan(prefix, prefixEnd(prefix), func(k, v []byte) error {
		if len(k) != 21 || len(v) != 24 {
			return fmt.Errorf("store: corrupt aborted transaction record %x", k)
		}
		e := abortedEntry{pid: int64(binary.BigEndian.Uint64(v)), first: int64(binary.BigEndian.Uint64(v[8:])), marker: int64(binary.BigEndian.Uint64(k[13:]))}
		if e.first < upper {
			out = append(out, e)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b abortedEntry) int { return cmp.Compare(a.first, b.first) })
	return out, err
}

// cleanTxns follows transactions along one walk of a partition's batches in
// offset order, from a walk start on (Kafka's CleanedTransactionMetadata).
type cleanTxns struct {
	pending []abortedEntry          // aborted transactions not reached yet, by first offset
	aborted map[int64]*abortedEntry // producer -> the aborted transaction it is in
	// seen holds the producers with a batch of their current transaction
	// seen on this walk (aborted or committed): their marker stays.
	seen map[int64]bool
}

// newCleanTxns starts a walk at from: the aborted transactions whose
// markers lie before it are over and left out (their producers' later
// batches are not theirs).
func newCleanTxns(entries []abortedEntry, from int64) *cleanTxns {
	c := &cleanTxns{aborted: map[int64]*abortedEntry{}, seen: map[int64]bool{}}
	for _, e := range entries {
		if e.marker >= from {
			c.pending = append(c.pending, e)
		}
	}
	return c
}

// reach enters the aborted transactions that begin at or before last.
func (c *cleanTxns) reach(last int64) {
	for len(c.pending) > 0 && c.pending[0].first <= last {
		e := c.pending[0]
		c.pending = c.pending[1:]
		c.aborted[e.pid] = &e
	}
}

// data notes a transactional data batch of pid ending at last and reports
// whether it is aborted.
func (c *cleanTxns) data(pid, last int64) bool {
	c.reach(last)
	c.seen[pid] = true
	_, ok := c.aborted[pid]
	return ok
}

// marker notes pid's marker at offset and reports whether its transaction
// had no batch left on this walk (the marker may go, once its horizon
// passed).
func (c *cleanTxns) marker(pid, offset int64) (empty bool) {
	c.reach(offset)
	empty = !c.seen[pid]
	delete(c.seen, pid)
	delete(c.aborted, pid)
	return empty
}

// txnClass is what a walk learns of a transactional batch.
type txnClass struct {
	aborted bool // a data batch of an aborted transaction
	marker  bool // a COMMIT or ABORT marker
	empty   bool // a marker whose transaction had no batch left
}

// classify feeds the transactional batch v (stored at base, parsed as info)
// to c. A control batch that is not a marker the store understands is
// neither: it stays, as the transaction bookkeeping (planTxn) ignores it.
func (s *Store) classify(ctx context.Context, st *stream, p *partition, c *cleanTxns, base int64, v []byte, info recordbatch.Info) (txnClass, error) {
	last := base + int64(info.LastOffsetDelta)
	if !info.Control() {
		return txnClass{aborted: c.data(info.ProducerID, last)}, nil
	}
	plain, err := s.open(ctx, st, p, base, v, nil)
	if err != nil {
		return txnClass{}, err
	}
	m, err := recordbatch.ParseControl(plain)
	if err != nil || (m.Type != recordbatch.ControlAbort && m.Type != recordbatch.ControlCommit) {
		c.reach(last)
		return txnClass{}, nil
	}
	return txnClass{marker: true, empty: c.marker(info.ProducerID, last)}, nil
}

// cleanTxnBatch adds to ch what cleaning the transactional batch v at base
// takes (removing an aborted batch, keeping a marker, setting its horizon or
// removing it) and returns its size after (0: removed), how many records
// went, and done false for a committed data batch, which the caller cleans
// as any other.
func (s *Store) cleanTxnBatch(ctx context.Context, st *stream, p *partition, tx *cleanTxns, ch *chunk, tit *pebble.Iterator, base int64, v []byte, info recordbatch.Info, now int64, cfg store.Compaction) (n, gone int, done bool, err error) {
	if !info.Transactional() || info.ProducerID < 0 {
		return len(v), 0, true, nil // a control batch of no producer: not the store's to judge
	}
	tb, err := s.classify(ctx, st, p, tx, base, v, info)
	if err != nil {
		return 0, 0, true, err
	}
	hkey := horizonKey(p.id, p.number, base)
	switch {
	case tb.aborted:
		if info.Offloaded() {
			offsets := make([]int64, 0, int(info.LastOffsetDelta)+1)
			for o := base; o <= base+int64(info.LastOffsetDelta); o++ {
				offsets = append(offsets, o)
			}
			names, err := s.releaseRecordRefs(ch.b, p, offsets)
			if err != nil {
				return 0, 0, true, err
			}
			ch.released = append(ch.released, names...)
		}
		s.removeBatch(ch, tit, p, base)
		return 0, int(info.NumRecords), true, nil
	case tb.marker && tb.empty:
		hv, err := s.getCopy(hkey)
		if err != nil {
			return 0, 0, true, err
		}
		if len(hv) != 8 {
			_ = ch.b.Set(hkey, binary.BigEndian.AppendUint64(nil, uint64(now+cfg.DeleteRetention.Milliseconds())), nil)
			return len(v), 0, true, nil
		}
		if now < int64(binary.BigEndian.Uint64(hv)) {
			return len(v), 0, true, nil
		}
		s.removeBatch(ch, tit, p, base)
		_ = ch.b.Delete(abortedKey(p.id, p.number, base), nil)
		return 0, int(info.NumRecords), true, nil
	case tb.marker, info.Control():
		return len(v), 0, true, nil
	}
	return 0, 0, false, nil
}

// removeBatch adds to ch the deletion of the batch at base with its time
// index entry and delete horizon.
func (s *Store) removeBatch(ch *chunk, tit *pebble.Iterator, p *partition, base int64) {
	_ = ch.b.Delete(dataKey(p.id, p.number, base), nil)
	if k := timeKeyOf(tit, base); k != nil {
		_ = ch.b.Delete(k, nil)
	}
	_ = ch.b.Delete(horizonKey(p.id, p.number, base), nil)
}
