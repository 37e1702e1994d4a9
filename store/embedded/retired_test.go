package embedded

import (
	"errors"
	"testing"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// A transaction open in a partition when its shard is merged away ends
// there by its marker: the retired partition takes control batches (and
// nothing else), the marker lands past the closed shard's end, and the last
// stable offset moves on, across a restart too.
func TestRetiredPartitionTakesMarkers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		typ     recordbatch.ControlType
		aborted []store.AbortedTxn
	}{
		{"commit", recordbatch.ControlCommit, nil},
		{"abort", recordbatch.ControlAbort, []store.AbortedTxn{{ProducerID: 5, FirstOffset: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := openStore(t, dir)
			defer func() { s.Close() }()
			mustCreate(t, s, "m", 2)
			appendTo := func(partition int32, raw []byte) (store.AppendResult, error) {
				return s.AppendBatch(ctx, "m", partition, raw, store.AppendOptions{})
			}
			if _, err := appendTo(1, kafkaBatch(t, 2, "plain", 1000)); err != nil { // 0-1
				t.Fatal(err)
			}
			if _, err := appendTo(1, txnBatch(t, 5, 3, "t")); err != nil { // 2-4, open
				t.Fatal(err)
			}
			// Shard 1 (partition 1) merges into shard 0: partition 1 retires.
			if _, err := s.MergeShards(ctx, "m", 0, 1); err != nil {
				t.Fatal(err)
			}
			if lso, _ := s.LastStableOffset(ctx, "m", 1); lso != 2 {
				t.Fatalf("LSO %d before the marker, want 2", lso)
			}
			if _, err := appendTo(1, kafkaBatch(t, 1, "late", 1000)); !errors.Is(err, store.ErrPartitionRetired) {
				t.Fatalf("records to the retired partition: %v", err)
			}
			if _, err := appendTo(1, txnBatch(t, 5, 1, "late")); !errors.Is(err, store.ErrPartitionRetired) {
				t.Fatalf("transactional records to the retired partition: %v", err)
			}
			if _, err := s.AppendToShard(ctx, "m", 1, []recordbatch.Record{{Key: []byte("k")}}, store.AppendOptions{}); err == nil {
				t.Fatal("a Kinesis append to the closed shard was taken")
			}
			res, err := appendTo(1, marker(t, 5, tc.typ))
			if err != nil || res.BaseOffset != 5 {
				t.Fatalf("marker: %+v %v", res, err)
			}
			// A second marker (a coordinator writing again) is taken too.
			if _, err := appendTo(1, marker(t, 5, tc.typ)); err != nil {
				t.Fatal(err)
			}
			check := func(when string) {
				t.Helper()
				res, err := s.Read(ctx, "m", 1, 0, store.ReadLimits{Committed: true})
				if err != nil {
					t.Fatal(err)
				}
				if res.LastStableOffset != 7 || len(res.Batches) != 4 {
					t.Errorf("%s: LSO %d (want 7), %d batches read (want 4)", when, res.LastStableOffset, len(res.Batches))
				}
				if aborted := res.Aborted; len(aborted) != len(tc.aborted) || (len(aborted) == 1 && aborted[0] != tc.aborted[0]) {
					t.Errorf("%s: aborted %v, want %v", when, aborted, tc.aborted)
				}
				desc, err := s.DescribeStream(ctx, "m")
				if err != nil {
					t.Fatal(err)
				}
				if sh := desc.Shards[1]; sh.EndOffset != 5 || !desc.Partitions[1].Retired {
					t.Errorf("%s: shard 1 ends at %d (want 5), retired %v", when, sh.EndOffset, desc.Partitions[1].Retired)
				}
				if open, _ := s.OpenTransactions(ctx, "m", 1); len(open) != 0 {
					t.Errorf("%s: open transactions %v", when, open)
				}
			}
			check("after the marker")
			s.Close()
			s = openStore(t, dir)
			check("after a restart")
			if _, err := appendTo(1, kafkaBatch(t, 1, "late", 1000)); !errors.Is(err, store.ErrPartitionRetired) {
				t.Fatalf("records to the retired partition after a restart: %v", err)
			}
		})
	}
}
