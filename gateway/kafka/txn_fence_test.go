package kafka

// A transactional id fenced from outside, as Kafka Connect's exactly-once
// workers fence a task's producers (a bare InitProducerId for the id, from
// a client that is not that producer), then used again by a new producer:
// the new producer's transactions go through with no sequence errors, and
// the fenced one can do nothing more.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fenceRaw bumps id's epoch the way connect/runtime.FenceProducers does.
func fenceRaw(t *testing.T, cl *kgo.Client, id string) {
	t.Helper()
	ctx := testContext(t)
	for {
		req := kmsg.NewPtrInitProducerIDRequest()
		req.TransactionalID = &id
		req.TransactionTimeoutMillis = 60_000
		req.ProducerID, req.ProducerEpoch = -1, -1
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatal(err)
		}
		switch err := kerr.ErrorForCode(resp.ErrorCode); {
		case err == nil:
			return
		case errors.Is(err, kerr.ConcurrentTransactions):
			continue
		default:
			t.Fatalf("fencing %s: %v", id, err)
		}
	}
}

// runTxns runs n transactions of per records spread over 3 partitions,
// produced asynchronously (several batches in flight per partition), each
// committed or, for the ones abort names, aborted.
func runTxns(t *testing.T, cl *kgo.Client, tag string, n, per int, abort map[int]bool) error {
	t.Helper()
	ctx := testContext(t)
	for txn := range n {
		if err := cl.BeginTransaction(); err != nil {
			return err
		}
		errc := make(chan error, per)
		for i := range per {
			r := &kgo.Record{Topic: "fenced", Partition: int32(i % 3), Value: fmt.Appendf(nil, "%s-%d-%d", tag, txn, i)}
			cl.Produce(ctx, r, func(_ *kgo.Record, err error) { errc <- err })
		}
		var first error
		for range per {
			if err := <-errc; err != nil && first == nil {
				first = err
			}
		}
		commit := kgo.TryCommit
		if abort[txn] || first != nil {
			commit = kgo.TryAbort
		}
		if err := cl.EndTransaction(ctx, commit); err != nil {
			return err
		}
		if first != nil {
			return first
		}
	}
	return nil
}

func TestTxnFencedFromOutsideThenReused(t *testing.T) {
	for _, tc := range []struct {
		name string
		// openWhenFenced leaves the old producer's last transaction open
		// (records produced, no EndTxn) when the fence comes, as a worker
		// killed mid-transaction does.
		openWhenFenced bool
	}{
		{"after an abort", false},
		{"mid-transaction", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			ts.createTopic(t, "fenced", 3)
			id := "connect-cluster-copy-0"
			opts := []kgo.Opt{kgo.TransactionalID(id), kgo.ProducerLinger(0), kgo.MaxBufferedRecords(50)}
			old := ts.client(t, opts...)
			if err := runTxns(t, old, "old", 4, 300, map[int]bool{3: true}); err != nil {
				t.Fatalf("the first producer: %v", err)
			}
			if tc.openWhenFenced {
				if err := old.BeginTransaction(); err != nil {
					t.Fatal(err)
				}
				produceTxn(t, old, "fenced", 1, "open")
			}

			fenceRaw(t, ts.client(t), id)

			next := ts.client(t, opts...)
			if err := runTxns(t, next, "next", 4, 300, map[int]bool{1: true}); err != nil {
				t.Fatalf("the producer after the fence: %v", err)
			}
			err := old.ProduceSync(testContext(t), &kgo.Record{Topic: "fenced", Value: []byte("late")}).FirstErr()
			if err == nil {
				t.Error("the fenced producer produced")
			}

			// Every partition holds the committed transactions' records
			// and nothing of the aborted ones once read committed.
			rc := ts.client(t, kgo.ConsumeTopics("fenced"), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			want := (3 + 3) * 300
			got := map[string]bool{}
			ctx, cancel := context.WithTimeout(testContext(t), 10*time.Second)
			defer cancel()
			for len(got) < want && ctx.Err() == nil {
				rc.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
			}
			if len(got) != want {
				t.Errorf("read committed: %d records, want %d", len(got), want)
			}
			for _, v := range []string{"open", "late", "old-3-0", "next-1-0"} {
				if got[v] {
					t.Errorf("read committed sees %q, from an aborted transaction or a fenced producer", v)
				}
			}
		})
	}
}
