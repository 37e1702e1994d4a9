package kafka

import (
	"testing"
)

// The transaction APIs are producers' data path: FuzzRequest runs their
// handlers too, not only their decoders.
func init() {
	for _, k := range []int16{24, 25, 26, 28, 65, 66} {
		fuzzHandled[k] = true
	}
}

// FuzzTxnMeta feeds the stored form of a transactional id's state to its
// decoder: a corrupt record must be refused (and is then ignored at load
// with a warning), never a panic, and one that decodes must encode back to
// a record that decodes the same.
func FuzzTxnMeta(f *testing.F) {
	m := &txnMeta{ID: "tx", PID: 7, Epoch: 3, LastPID: 7, LastEpoch: 2, TimeoutMs: 60000, State: txnPrepareCommit, StartMs: 1700000000000,
		Parts: []txnPart{{"t", 0}, {"u", 3}}, Groups: []string{"g"}, Offsets: map[string][]txnOffset{"g": {{Topic: "t", Partition: 0, Offset: 42, LeaderEpoch: -1}}}}
	f.Add(m.encode())
	f.Add((&txnMeta{ID: "e", State: txnEmpty, StartMs: -1}).encode())
	f.Add([]byte(`{"id":"x","state":99}`))
	f.Add([]byte(`{`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeTxnMeta(b)
		if err != nil {
			return
		}
		_ = m.State.String()
		back, err := decodeTxnMeta(m.encode())
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if string(back.encode()) != string(m.encode()) {
			t.Fatalf("state changed through encode/decode: %s vs %s", back.encode(), m.encode())
		}
	})
}

func TestTxnStateNames(t *testing.T) {
	for i, name := range txnStateNames {
		st, ok := parseTxnState(name)
		if !ok || st != txnState(i) || st.String() != name {
			t.Errorf("%s: %v %v", name, st, ok)
		}
	}
	if _, ok := parseTxnState("Bogus"); ok {
		t.Error("Bogus parsed")
	}
}
