package kafka

import (
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TestReadCommittedKgoTransactions: franz-go's transactional producer
// commits one transaction and aborts another; a read_committed consumer
// gets the committed records only, a read_uncommitted one all of them.
//
// It needs the transaction coordinator (InitProducerId with a
// transactional id, AddPartitionsToTxn, EndTxn), which is another part of
// issue 14: on a branch without it, it fails at the first transactional
// produce.
func TestReadCommittedKgoTransactions(t *testing.T) {
	ts := startServer(t)
	ts.createTopic(t, "kt", 1)
	ctx := testContext(t)
	pr := ts.client(t, kgo.TransactionalID("txnlog-kgo"), kgo.DefaultProduceTopic("kt"))
	run := func(commit kgo.TransactionEndTry, values ...string) {
		t.Helper()
		if err := pr.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for _, v := range values {
			if err := pr.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
				t.Fatal(err)
			}
		}
		if err := pr.EndTransaction(ctx, commit); err != nil {
			t.Fatal(err)
		}
	}
	run(kgo.TryCommit, "c1", "c2")
	run(kgo.TryAbort, "a1")
	run(kgo.TryCommit, "c3")

	values := func(recs []*kgo.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, string(r.Value))
		}
		return out
	}
	if got := values(ts.consumeAll(t, "kt", 4)); !slices.Equal(got, []string{"c1", "c2", "a1", "c3"}) {
		t.Errorf("read_uncommitted: %q", got)
	}
	if got := values(ts.consumeAll(t, "kt", 3, kgo.FetchIsolationLevel(kgo.ReadCommitted()))); !slices.Equal(got, []string{"c1", "c2", "c3"}) {
		t.Errorf("read_committed: %q", got)
	}
}
