package embedded

import (
	"maps"
	"slices"
	"testing"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// txnModel is what a partition's transactions should be, kept alongside
// the appends: open transactions by producer, and the aborted ones with
// their markers' offsets.
type txnModel struct {
	open    map[int64]int64
	aborted []struct{ pid, first, marker int64 }
}

// FuzzTransactionIndex drives a partition through appends the input spells
// (per byte: a producer, and one of transactional data, a commit marker, an
// abort marker, plain data or a trim to half the high watermark), and after
// each compares the store's LSO, open transactions and, from every offset
// up to the LSO, a committed read's aborted transactions with the model.
func FuzzTransactionIndex(f *testing.F) {
	f.Add([]byte{0, 4, 1, 9, 5, 12, 2, 6})
	f.Add([]byte{0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 16, 17})
	f.Add([]byte{3, 0, 0, 1, 8, 4, 20, 12, 13, 9})
	f.Fuzz(func(t *testing.T, ops []byte) {
		if len(ops) > 64 {
			ops = ops[:64]
		}
		s := openStore(t, "")
		defer s.Close()
		mustCreate(t, s, "tx", 1)
		m := txnModel{open: map[int64]int64{}}
		for _, op := range ops {
			pid := int64(op%4) + 1
			switch (op / 4) % 5 {
			case 0:
				res := appendRaw(t, s, "tx", txnBatch(t, pid, 1+int(op/20)%3, "f"))
				if _, ok := m.open[pid]; !ok {
					m.open[pid] = res.BaseOffset
				}
			case 1, 2:
				typ := recordbatch.ControlType((op/4)%5 - 1)
				res := appendRaw(t, s, "tx", marker(t, pid, typ))
				if first, ok := m.open[pid]; ok && typ == recordbatch.ControlAbort {
					m.aborted = append(m.aborted, struct{ pid, first, marker int64 }{pid, first, res.BaseOffset})
				}
				delete(m.open, pid)
			case 3:
				appendRaw(t, s, "tx", kafkaBatch(t, 1, "plain", 1))
			case 4:
				_, hw, _ := s.Offsets(ctx, "tx", 0)
				start, err := s.TrimBefore(ctx, "tx", 0, hw/2)
				if err != nil {
					t.Fatal(err)
				}
				m.aborted = slices.DeleteFunc(m.aborted, func(a struct{ pid, first, marker int64 }) bool { return a.marker < start })
			}
			checkTxnModel(t, s, m)
		}
	})
}

func checkTxnModel(t *testing.T, s *Store, m txnModel) {
	t.Helper()
	logStart, hw, _ := s.Offsets(ctx, "tx", 0)
	got, _ := s.OpenTransactions(ctx, "tx", 0)
	open := map[int64]int64{}
	for _, o := range got {
		open[o.ProducerID] = o.FirstOffset
	}
	if !maps.Equal(open, m.open) {
		t.Fatalf("open transactions: store %v, model %v", open, m.open)
	}
	lso := hw
	for _, first := range m.open {
		lso = min(lso, first)
	}
	lso = max(lso, logStart)
	for from := logStart; from <= lso; from++ {
		res, err := s.Read(ctx, "tx", 0, from, store.ReadLimits{Committed: true, MaxBytes: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		if res.LastStableOffset != lso {
			t.Fatalf("lso %d, model %d", res.LastStableOffset, lso)
		}
		if len(res.Batches) == 0 {
			continue
		}
		upper := res.Batches[len(res.Batches)-1].LastOffset + 1
		var want []store.AbortedTxn
		for _, a := range m.aborted {
			if a.marker >= from && a.first < upper {
				want = append(want, ab(a.pid, a.first))
			}
		}
		if !slices.Equal(res.Aborted, want) {
			t.Fatalf("committed read from %d to %d: aborted %v, model %v", from, upper, res.Aborted, want)
		}
	}
}
