package kafka

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestTransactionEndsInMergedAwayPartition: franz-go's transactional
// producer writes to partition 1, whose shard is then merged away (Kinesis
// MergeShards). The partition refuses records from then on, but the
// coordinator's markers still land there, so EndTxn completes and the
// partition's last stable offset moves past the transaction: a commit is
// read by a read_committed consumer, an abort after the producer's refused
// produce is hidden.
func TestTransactionEndsInMergedAwayPartition(t *testing.T) {
	for _, tc := range []struct {
		name   string
		commit kgo.TransactionEndTry
	}{
		{"commit", kgo.TryCommit},
		{"abort", kgo.TryAbort},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startServer(t)
			ts.createTopic(t, "merged", 2)
			ctx := testContext(t)
			pr := ts.client(t, kgo.TransactionalID("merged-"+tc.name), kgo.DefaultProduceTopic("merged"),
				kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.RecordRetries(1))
			if err := pr.BeginTransaction(); err != nil {
				t.Fatal(err)
			}
			for _, v := range []string{"a", "b", "c"} {
				if err := pr.ProduceSync(ctx, &kgo.Record{Partition: 1, Key: []byte(v), Value: []byte(v)}).FirstErr(); err != nil {
					t.Fatal(err)
				}
			}
			// Shard 1 (partition 1) merges into shard 0: partition 1 retires.
			if _, err := ts.store.MergeShards(ctx, "merged", 0, 1); err != nil {
				t.Fatal(err)
			}
			if tc.commit == kgo.TryAbort {
				if err := pr.ProduceSync(ctx, &kgo.Record{Partition: 1, Value: []byte("late")}).FirstErr(); err == nil {
					t.Fatal("a produce to the merged-away partition succeeded")
				}
			}
			if err := pr.EndTransaction(ctx, tc.commit); err != nil {
				t.Fatalf("EndTransaction: %v", err)
			}
			adm := kadm.NewClient(ts.client(t))
			ends, err := adm.ListEndOffsets(ctx, "merged")
			if err != nil {
				t.Fatal(err)
			}
			stable, err := adm.ListCommittedOffsets(ctx, "merged")
			if err != nil {
				t.Fatal(err)
			}
			end, _ := ends.Lookup("merged", 1)
			lso, _ := stable.Lookup("merged", 1)
			if end.Err != nil || lso.Err != nil || end.Offset != 4 || lso.Offset != end.Offset {
				t.Fatalf("partition 1: end %+v, last stable %+v; want both 4 (3 records and the marker)", end, lso)
			}
			if tc.commit == kgo.TryCommit {
				cl := ts.client(t, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"merged": {1: kgo.NewOffset().AtStart()}}),
					kgo.FetchIsolationLevel(kgo.ReadCommitted()))
				var got []string
				for len(got) < 3 {
					fs := cl.PollFetches(ctx)
					if ctx.Err() != nil {
						t.Fatalf("read_committed got %q before the deadline", got)
					}
					fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
				}
				if len(got) != 3 || got[0] != "a" || got[2] != "c" {
					t.Errorf("read_committed: %q", got)
				}
			}
		})
	}
}
