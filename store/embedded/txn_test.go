package embedded

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// txnBatch encodes n records of producer pid's transaction.
func txnBatch(t testing.TB, pid int64, n int, tag string) []byte {
	t.Helper()
	recs := make([]recordbatch.Record, n)
	for i := range recs {
		recs[i] = recordbatch.Record{Key: fmt.Appendf(nil, "k-%s-%d", tag, i), Value: fmt.Appendf(nil, "v-%s-%d", tag, i), Timestamp: time.UnixMilli(1000 + int64(i))}
	}
	raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Idempotent: true, ProducerID: pid, ProducerEpoch: 1, Transactional: true})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func marker(t testing.TB, pid int64, typ recordbatch.ControlType) []byte {
	t.Helper()
	raw, err := recordbatch.EncodeControl(pid, 1, recordbatch.Control{Type: typ}, time.UnixMilli(2000))
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func appendRaw(t testing.TB, s *Store, name string, raw []byte) store.AppendResult {
	t.Helper()
	res, err := s.AppendBatch(ctx, name, 0, raw, store.AppendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// committedView reads partition 0 committed from offset: the LSO, the last
// offset returned + 1, and the aborted transactions.
func committedView(t testing.TB, s *Store, name string, from int64) (lso, upper int64, aborted []store.AbortedTxn) {
	t.Helper()
	res, err := s.Read(ctx, name, 0, from, store.ReadLimits{Committed: true})
	if err != nil {
		t.Fatal(err)
	}
	upper = from
	if n := len(res.Batches); n > 0 {
		upper = res.Batches[n-1].LastOffset + 1
	}
	if lso2, err := s.LastStableOffset(ctx, name, 0); err != nil || lso2 != res.LastStableOffset {
		t.Fatalf("LastStableOffset = %d, %v; Read said %d", lso2, err, res.LastStableOffset)
	}
	return res.LastStableOffset, upper, res.Aborted
}

// TestTransactionsLSOAndAborted walks a partition through interleaved
// transactions and checks what a committed reader gets at each step.
func TestTransactionsLSOAndAborted(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		s := openStore(t, dir)
		mustCreate(t, s, "tx", 1)
		appendRaw(t, s, "tx", kafkaBatch(t, 2, "plain", 1)) // 0-1
		appendRaw(t, s, "tx", txnBatch(t, 7, 3, "a"))       // 2-4: pid 7 opens
		appendRaw(t, s, "tx", kafkaBatch(t, 1, "plain", 1)) // 5
		appendRaw(t, s, "tx", txnBatch(t, 8, 2, "b"))       // 6-7: pid 8 opens
		steps := []struct {
			name          string
			raw           []byte
			lso, upper    int64
			aborted       []store.AbortedTxn
			open          []int64
			readFrom      int64
			wantHW        int64
			uncommittedTo int64
		}{
			{name: "two open", lso: 2, upper: 2, open: []int64{7, 8}, wantHW: 8},
			{name: "7 aborts", raw: marker(t, 7, recordbatch.ControlAbort), lso: 6, upper: 6, aborted: []store.AbortedTxn{{ProducerID: 7, FirstOffset: 2}}, open: []int64{8}, wantHW: 9},
			{name: "unknown producer's marker", raw: marker(t, 99, recordbatch.ControlCommit), lso: 6, upper: 6, aborted: []store.AbortedTxn{{ProducerID: 7, FirstOffset: 2}}, open: []int64{8}, wantHW: 10},
			{name: "8 commits", raw: marker(t, 8, recordbatch.ControlCommit), lso: 11, upper: 11, aborted: []store.AbortedTxn{{ProducerID: 7, FirstOffset: 2}}, wantHW: 11},
			{name: "7 again, aborts", raw: txnBatch(t, 7, 1, "c"), lso: 11, upper: 11, aborted: []store.AbortedTxn{{ProducerID: 7, FirstOffset: 2}}, open: []int64{7}, wantHW: 12},
		}
		for _, st := range steps {
			if st.raw != nil {
				appendRaw(t, s, "tx", st.raw)
			}
			lso, upper, aborted := committedView(t, s, "tx", 0)
			if lso != st.lso || upper != st.upper || !slices.Equal(aborted, st.aborted) {
				t.Errorf("%s: lso %d upper %d aborted %v, want %d %d %v", st.name, lso, upper, aborted, st.lso, st.upper, st.aborted)
			}
			open, _ := s.OpenTransactions(ctx, "tx", 0)
			var pids []int64
			for _, o := range open {
				pids = append(pids, o.ProducerID)
			}
			if !slices.Equal(pids, st.open) {
				t.Errorf("%s: open %v, want %v", st.name, pids, st.open)
			}
			if _, hw, _ := s.Offsets(ctx, "tx", 0); hw != st.wantHW {
				t.Errorf("%s: hw %d want %d", st.name, hw, st.wantHW)
			}
		}
		appendRaw(t, s, "tx", marker(t, 7, recordbatch.ControlAbort)) // 12
		// Aborted ranges overlapping [from, upper) only.
		for _, c := range []struct {
			from int64
			want []store.AbortedTxn
		}{
			{0, []store.AbortedTxn{ab(7, 2), ab(7, 11)}},
			{5, []store.AbortedTxn{ab(7, 2), ab(7, 11)}},
			{9, []store.AbortedTxn{ab(7, 11)}},
			{12, []store.AbortedTxn{ab(7, 11)}},
			{13, nil},
		} {
			if _, _, got := committedView(t, s, "tx", c.from); !slices.Equal(got, c.want) {
				t.Errorf("from %d: aborted %v, want %v", c.from, got, c.want)
			}
		}
		// A read that stops early gets only what overlaps its range.
		res, err := s.Read(ctx, "tx", 0, 0, store.ReadLimits{Committed: true, MaxRecords: 1})
		if err != nil || len(res.Batches) != 1 || len(res.Aborted) != 0 {
			t.Errorf("first batch only: %d batches, aborted %v, %v", len(res.Batches), res.Aborted, err)
		}
		// Uncommitted reads see everything, with the LSO and no aborted list.
		res, err = s.Read(ctx, "tx", 0, 0, store.ReadLimits{})
		if err != nil || res.Batches[len(res.Batches)-1].LastOffset != 12 || res.LastStableOffset != 13 || res.Aborted != nil {
			t.Errorf("uncommitted read: %+v, %v", res, err)
		}
		if dir == "" {
			s.Close()
			continue
		}
		// Restart: the same view, rebuilt from 'q' and 'a'.
		appendRaw(t, s, "tx", txnBatch(t, 9, 2, "d")) // 13-14 open
		s.Close()
		s = openStore(t, dir)
		lso, _, aborted := committedView(t, s, "tx", 0)
		if lso != 13 || !slices.Equal(aborted, []store.AbortedTxn{ab(7, 2), ab(7, 11)}) {
			t.Errorf("after reopen: lso %d aborted %v", lso, aborted)
		}
		appendRaw(t, s, "tx", marker(t, 9, recordbatch.ControlAbort)) // 15
		if lso, _, aborted := committedView(t, s, "tx", 13); lso != 16 || !slices.Equal(aborted, []store.AbortedTxn{ab(9, 13)}) {
			t.Errorf("after reopen and abort: lso %d aborted %v", lso, aborted)
		}
		s.Close()
	}
}

// TestTransactionsTrimAndDelete: retention and TrimBefore take the aborted
// index with the data; an open transaction trimmed under holds the LSO at
// the log start; DeleteStream leaves nothing for a new stream of that name.
func TestTransactionsTrimAndDelete(t *testing.T) {
	s := openStore(t, t.TempDir())
	defer s.Close()
	mustCreate(t, s, "tx", 1)
	appendRaw(t, s, "tx", txnBatch(t, 7, 2, "a"))                 // 0-1
	appendRaw(t, s, "tx", marker(t, 7, recordbatch.ControlAbort)) // 2
	appendRaw(t, s, "tx", txnBatch(t, 8, 2, "b"))                 // 3-4 open
	appendRaw(t, s, "tx", kafkaBatch(t, 2, "plain", 1))           // 5-6
	if _, _, ab := committedView(t, s, "tx", 0); len(ab) != 1 {
		t.Fatalf("aborted %v", ab)
	}
	if _, err := s.TrimBefore(ctx, "tx", 0, 4); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, tagAborted); n != 0 {
		t.Errorf("%d aborted entries left below the log start", n)
	}
	if lso, _, _ := committedView(t, s, "tx", 4); lso != 4 {
		t.Errorf("lso %d after trimming into an open transaction, want the log start 4", lso)
	}
	if err := s.DeleteStream(ctx, "tx"); err != nil {
		t.Fatal(err)
	}
	if n := countKeys(t, s, tagTxnOpen); n != 0 {
		t.Errorf("%d open transaction keys outlive their stream", n)
	}
}

func countKeys(t testing.TB, s *Store, tag byte) int {
	t.Helper()
	it, err := s.db.NewIter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer it.Close()
	n := 0
	for it.SeekGE([]byte{tag}); it.Valid() && it.Key()[0] == tag; it.Next() {
		n++
	}
	return n
}

// TestWaitStable: a committed waiter sleeps through an open transaction's
// appends and wakes when its marker is durable.
func TestWaitStable(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustCreate(t, s, "tx", 1)
	appendRaw(t, s, "tx", txnBatch(t, 7, 2, "a")) // 0-1
	var wg sync.WaitGroup
	woke := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		woke <- s.WaitStable(ctx, "tx", 0, 0)
	}()
	appendRaw(t, s, "tx", kafkaBatch(t, 1, "plain", 1)) // 2: still unstable at 0
	select {
	case err := <-woke:
		t.Fatalf("woke with the transaction open: %v", err)
	default:
	}
	appendRaw(t, s, "tx", marker(t, 7, recordbatch.ControlCommit))
	wg.Wait()
	if err := <-woke; err != nil {
		t.Fatal(err)
	}
	if lso, _ := s.LastStableOffset(ctx, "tx", 0); lso != 4 {
		t.Errorf("lso %d want 4", lso)
	}
}

// TestTransactionsConcurrent: producers running transactions side by side
// with committed readers. Every committed read, replayed against the
// outcomes in the final log, holds only decided transactions and lists
// every aborted one whose records it holds.
func TestTransactionsConcurrent(t *testing.T) {
	s := openStore(t, "")
	defer s.Close()
	mustCreate(t, s, "tx", 1)
	const producers, rounds = 4, 30
	var wg sync.WaitGroup
	for pid := int64(1); pid <= producers; pid++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				appendRaw(t, s, "tx", txnBatch(t, pid, 2, fmt.Sprint(r)))
				appendRaw(t, s, "tx", txnBatch(t, pid, 1, fmt.Sprint(r)))
				typ := recordbatch.ControlCommit
				if r%3 == 0 {
					typ = recordbatch.ControlAbort
				}
				appendRaw(t, s, "tx", marker(t, pid, typ))
			}
		}()
	}
	done := make(chan struct{})
	var (
		rg    sync.WaitGroup
		reads []store.ReadResult
	)
	rg.Add(1)
	go func() {
		defer rg.Done()
		for len(reads) < 500 {
			select {
			case <-done:
				return
			default:
			}
			res, err := s.Read(ctx, "tx", 0, 0, store.ReadLimits{Committed: true, MaxBytes: 1 << 30})
			if err != nil {
				t.Error(err)
				return
			}
			reads = append(reads, res)
		}
	}()
	wg.Wait()
	close(done)
	rg.Wait()
	final, _ := s.Read(ctx, "tx", 0, 0, store.ReadLimits{Committed: true, MaxBytes: 1 << 30})
	if final.LastStableOffset != final.HighWatermark {
		t.Errorf("lso %d hw %d with every transaction ended", final.LastStableOffset, final.HighWatermark)
	}
	outcomes := txnOutcomes(t, final)
	if n := checkCommittedView(t, final, outcomes); n != producers*rounds/3*3 {
		t.Errorf("%d aborted records, want %d", n, producers*rounds/3*3)
	}
	for _, res := range reads {
		checkCommittedView(t, res, outcomes)
	}
	t.Logf("%d concurrent reads checked", len(reads))
}

// txnOutcomes maps each transaction (producer id, first offset) of a whole
// log to its marker.
func txnOutcomes(t *testing.T, res store.ReadResult) map[store.AbortedTxn]recordbatch.ControlType {
	t.Helper()
	out := map[store.AbortedTxn]recordbatch.ControlType{}
	openAt := map[int64]int64{}
	for _, b := range res.Batches {
		info, err := recordbatch.Parse(b.Raw)
		if err != nil {
			t.Fatal(err)
		}
		pid := info.ProducerID
		switch {
		case !info.Transactional():
		case info.Control():
			c, err := recordbatch.ParseControl(b.Raw)
			if err != nil {
				t.Fatal(err)
			}
			if first, ok := openAt[pid]; ok {
				out[ab(pid, first)] = c.Type
			}
			delete(openAt, pid)
		default:
			if _, ok := openAt[pid]; !ok {
				openAt[pid] = b.BaseOffset
			}
		}
	}
	return out
}

// checkCommittedView replays res as a read_committed consumer does: each
// transaction with records in it must be decided in outcomes (no record of
// an open one), and each aborted one must be in res.Aborted. It returns the
// number of aborted records.
func checkCommittedView(t *testing.T, res store.ReadResult, outcomes map[store.AbortedTxn]recordbatch.ControlType) int {
	t.Helper()
	openAt := map[int64]int64{}
	records := map[store.AbortedTxn]int{}
	for _, b := range res.Batches {
		info, err := recordbatch.Parse(b.Raw)
		if err != nil {
			t.Fatal(err)
		}
		pid := info.ProducerID
		switch {
		case !info.Transactional():
		case info.Control():
			delete(openAt, pid)
		default:
			if _, ok := openAt[pid]; !ok {
				openAt[pid] = b.BaseOffset
			}
			records[ab(pid, openAt[pid])] += int(info.NumRecords)
		}
	}
	aborted := 0
	for txn, n := range records {
		typ, ok := outcomes[txn]
		switch {
		case !ok:
			t.Errorf("read (lso %d hw %d) holds records of transaction %v, never decided", res.LastStableOffset, res.HighWatermark, txn)
		case typ == recordbatch.ControlAbort:
			aborted += n
			if !slices.Contains(res.Aborted, txn) {
				t.Errorf("read (lso %d hw %d): aborted transaction %v not in %v", res.LastStableOffset, res.HighWatermark, txn, res.Aborted)
			}
		}
	}
	return aborted
}

func ab(pid, first int64) store.AbortedTxn {
	return store.AbortedTxn{ProducerID: pid, FirstOffset: first}
}

// BenchmarkReadTransactions reads 1 MiB at a time over a partition of
// transactions (4 producers interleaved, one transaction in three aborted,
// about 2 KiB batches, 10 per transaction): "uncommitted" as a plain read,
// "committed" with the LSO and the aborted index scan, to show what
// read_committed costs.
func BenchmarkReadTransactions(b *testing.B) {
	s := openStore(b, b.TempDir())
	defer s.Close()
	mustCreate(b, s, "tx", 1)
	recs := make([]recordbatch.Record, 16)
	for i := range recs {
		recs[i] = recordbatch.Record{Offset: int64(i), Value: make([]byte, 128), Timestamp: time.UnixMilli(1)}
	}
	for round := 0; round < 400; round++ {
		for i := 0; i < 10; i++ {
			for pid := int64(1); pid <= 4; pid++ {
				raw, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid})
				if err != nil {
					b.Fatal(err)
				}
				appendRaw(b, s, "tx", raw)
			}
		}
		for pid := int64(1); pid <= 4; pid++ {
			typ := recordbatch.ControlCommit
			if (round+int(pid))%3 == 0 {
				typ = recordbatch.ControlAbort
			}
			appendRaw(b, s, "tx", marker(b, pid, typ))
		}
	}
	if err := s.db.Flush(); err != nil {
		b.Fatal(err)
	}
	for _, committed := range []bool{false, true} {
		name := "uncommitted"
		if committed {
			name = "committed"
		}
		b.Run(name, func(b *testing.B) {
			var total, aborted int64
			off := int64(0)
			for b.Loop() {
				res, err := s.Read(ctx, "tx", 0, off, store.ReadLimits{MaxBytes: 1 << 20, Committed: committed})
				if err != nil {
					b.Fatal(err)
				}
				aborted += int64(len(res.Aborted))
				for _, batch := range res.Batches {
					total += int64(len(batch.Raw))
					off = batch.LastOffset + 1
				}
				if off >= res.LastStableOffset {
					off = 0
				}
			}
			b.ReportMetric(float64(total)/1e6/b.Elapsed().Seconds(), "MB/s")
			b.ReportMetric(float64(aborted)/float64(b.N), "aborted/read")
		})
	}
}

// TestTransactionsEncrypted: on a stream encrypted at rest the markers are
// read before sealing and the index needs no key: a restart rebuilds the
// open transactions and the aborted index alike.
func TestTransactionsEncrypted(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(Options{Dir: dir, Keyring: fixedTestKeyring("a")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateStream(ctx, store.StreamConfig{Name: "tx", ShardCount: 1, Encryption: store.Encryption{KeyID: "a"}}); err != nil {
		t.Fatal(err)
	}
	appendRaw(t, s, "tx", txnBatch(t, 7, 2, "a"))                 // 0-1
	appendRaw(t, s, "tx", marker(t, 7, recordbatch.ControlAbort)) // 2
	appendRaw(t, s, "tx", txnBatch(t, 8, 1, "b"))                 // 3 open
	check := func(when string) {
		t.Helper()
		lso, _, aborted := committedView(t, s, "tx", 0)
		if lso != 3 || !slices.Equal(aborted, []store.AbortedTxn{ab(7, 0)}) {
			t.Errorf("%s: lso %d aborted %v", when, lso, aborted)
		}
	}
	check("before the restart")
	s.Close()
	if s, err = Open(Options{Dir: dir, Keyring: fixedTestKeyring("a")}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("after the restart")
}
