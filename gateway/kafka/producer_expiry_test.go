package kafka

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/store"
)

// Idempotent producer state expiry, applied directly at chosen times (no
// wall-clock thresholds): an idle idempotent producer's state goes from
// DescribeProducers and the store, and the producer goes on producing; a
// producer with a transaction open keeps its state whatever its age.
func TestProducerIDExpiry(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "pe", 2)
	adm := kadm.NewClient(ts.client(t))
	ctx := testContext(t)

	idem := ts.client(t, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	produce := func() {
		t.Helper()
		if err := idem.ProduceSync(ctx, &kgo.Record{Topic: "pe", Partition: 0, Value: []byte("i")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	produce()
	txn := ts.client(t, kgo.TransactionalID("pe-txn"), kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.TransactionTimeout(time.Minute))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatal(err)
	}
	produceTxn(t, txn, "pe", 1, "open")
	txnPID := describeTxn(t, adm, "pe-txn").ProducerID

	producers := func() map[int32][]int64 {
		t.Helper()
		d, err := adm.DescribeProducers(ctx, kadm.TopicsSet{"pe": {0: {}, 1: {}}})
		if err != nil {
			t.Fatal(err)
		}
		out := map[int32][]int64{}
		d.EachPartition(func(p kadm.DescribedProducersPartition) {
			for _, ap := range p.ActiveProducers {
				out[p.Partition] = append(out[p.Partition], ap.ProducerID)
			}
		})
		return out
	}
	before := producers()
	if len(before[0]) != 1 || len(before[1]) != 1 || before[1][0] != txnPID {
		t.Fatalf("before expiry: %v", before)
	}
	idemPID := before[0][0]

	for _, tc := range []struct {
		name      string
		at        time.Time
		wantPart0 int // producers left on partition 0
	}{
		{"fresh", time.Now(), 1},
		{"idle past the expiration", time.Now().Add(2 * time.Hour), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts.expireProducers(tc.at, time.Hour)
			got := producers()
			if len(got[0]) != tc.wantPart0 {
				t.Errorf("partition 0 producers %v, want %d", got[0], tc.wantPart0)
			}
			if len(got[1]) != 1 || got[1][0] != txnPID {
				t.Errorf("partition 1 producers %v: the open transaction's producer %d must stay", got[1], txnPID)
			}
			pp := ts.producers.partition(topicIDOf(t, ts, "pe"), 0)
			_, err := ts.store.Get(ctx, producerNamespace, pp.key(idemPID))
			if stored := err == nil; stored != (tc.wantPart0 == 1) {
				t.Errorf("stored state of %d: %v", idemPID, err)
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				t.Error(err)
			}
		})
	}
	// The expired producer goes on, and has state again.
	produce()
	if got := producers(); len(got[0]) != 1 || got[0][0] != idemPID {
		t.Errorf("after producing again: %v", got)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatal(err)
	}
}

// topicIDOf returns a topic's id.
func topicIDOf(t testing.TB, ts *testServer, topic string) [16]byte {
	t.Helper()
	st, err := ts.store.DescribeStream(testContext(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	return topicID(st)
}

// State stored before lastMs was kept decodes with lastMs 0 (it expires
// at the first check); the current form keeps it.
func TestProducerEntryLastMs(t *testing.T) {
	e := &producerEntry{epoch: 1, batches: []batchMeta{{0, 4, 0, 4, nil}}, lastMs: 1234}
	b := e.encode()
	got, ok := decodeProducerEntry(b)
	if !ok || got.lastMs != 1234 {
		t.Fatalf("round trip: %+v %v", got, ok)
	}
	old, ok := decodeProducerEntry(b[:len(b)-8])
	if !ok || old.lastMs != 0 || old.epoch != 1 || len(old.batches) != 1 {
		t.Fatalf("old form: %+v %v", old, ok)
	}
	if k, p, pid, ok := parseProducerKey("00112233445566778899aabbccddeeff/3/42"); !ok || p != 3 || pid != 42 || k[15] != 0xff {
		t.Errorf("parseProducerKey: %x %d %d %v", k, p, pid, ok)
	}
	for _, bad := range []string{"", "x/1/2", "00112233445566778899aabbccddeeff/1", "00112233445566778899aabbccddeeff/a/2"} {
		if _, _, _, ok := parseProducerKey(bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
}

// FuzzProducerEntry: stored producer state of any bytes decodes or is
// refused without a panic, and what decodes encodes back to the current
// form with the same fields; any key parses or is refused.
func FuzzProducerEntry(f *testing.F) {
	cur := (&producerEntry{epoch: 3, batches: []batchMeta{{0, 4, 10, 14, nil}, {5, 5, 15, 15, nil}}, lastMs: 99}).encode()
	f.Add(cur, "00112233445566778899aabbccddeeff/0/1")
	f.Add(cur[:len(cur)-8], "x/y/z")
	f.Add([]byte{0, 1, 0}, "")
	f.Add([]byte{0, 1, 9}, "//")
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		parseProducerKey(key)
		e, ok := decodeProducerEntry(b)
		if !ok {
			return
		}
		back, ok := decodeProducerEntry(e.encode())
		if !ok || back.epoch != e.epoch || back.lastMs != e.lastMs || len(back.batches) != len(e.batches) {
			t.Fatalf("round trip of %x: %+v vs %+v", b, back, e)
		}
	})
}
