package kinesis

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// TestClosedShardAfterTransactionInMerge: a Kafka transaction open in a
// partition whose shard is merged away holds a Kinesis reader of that
// closed shard at its first record until the coordinator's marker, which
// the merged-away partition still takes; after a commit the reader gets the
// transaction's records and reaches the shard's end (no next iterator),
// after an abort it reaches the end without them.
func TestClosedShardAfterTransactionInMerge(t *testing.T) {
	for _, tc := range []struct {
		typ  recordbatch.ControlType
		rest string
	}{
		{recordbatch.ControlCommit, "[t1 t2]"},
		{recordbatch.ControlAbort, "[]"},
	} {
		t.Run(tc.typ.String(), func(t *testing.T) {
			ts := startTestServer(t)
			kc := ts.client()
			dataStream(t, ts, "mt", 2)
			appendRaw := func(raw []byte, err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
				if _, err := ts.store.AppendBatch(t.Context(), "mt", 1, raw, store.AppendOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			data := func(pid int64, values ...string) ([]byte, error) {
				recs := make([]recordbatch.Record, len(values))
				for i, v := range values {
					recs[i] = recordbatch.Record{Offset: int64(i), Key: []byte("k"), Value: []byte(v), Timestamp: time.Now()}
				}
				opts := recordbatch.EncodeOptions{}
				if pid >= 0 {
					opts = recordbatch.EncodeOptions{Idempotent: true, Transactional: true, ProducerID: pid}
				}
				return recordbatch.Encode(nil, recs, opts)
			}
			appendRaw(data(-1, "p0"))
			appendRaw(data(3, "t1", "t2"))
			if _, err := ts.store.MergeShards(t.Context(), "mt", 0, 1); err != nil {
				t.Fatal(err)
			}
			const shard = "shardId-000000000001"
			got, out := readFrom(t, kc, iterator(t, kc, "mt", shard, types.ShardIteratorTypeTrimHorizon), 0)
			if fmt.Sprint(dataOf(got)) != "[p0]" || out.NextShardIterator == nil {
				t.Fatalf("with the transaction open: %v, next iterator %v", dataOf(got), out.NextShardIterator)
			}
			appendRaw(recordbatch.EncodeControl(3, 0, recordbatch.Control{Type: tc.typ}, time.Now()))
			got, out = readFrom(t, kc, aws.ToString(out.NextShardIterator), 0)
			if fmt.Sprint(dataOf(got)) != tc.rest {
				t.Fatalf("after the marker: %v, want %s", dataOf(got), tc.rest)
			}
			if out.NextShardIterator != nil {
				// readFrom stops at an empty answer; the closed shard's end
				// comes with no next iterator.
				got, out = readFrom(t, kc, aws.ToString(out.NextShardIterator), 0)
				if len(got) != 0 || out.NextShardIterator != nil {
					t.Fatalf("past the transaction: %v, next iterator %v", dataOf(got), out.NextShardIterator)
				}
			}
		})
	}
}
