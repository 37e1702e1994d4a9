package kinesis

// Data plane benchmarks over the handler, with aws-sdk-go-v2 as the client
// (JSON 1.1 over HTTP/1.1 on 127.0.0.1), each next to a "store" reference
// doing the same work with the store directly in the same invocation, so
// the API's cost shows as the ratio between the two:
//
//	go test -run - -bench 'PutRecords|GetRecords' ./gateway/kinesis/

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

const (
	benchRecords    = 500
	benchRecordSize = 1 << 10
)

func benchEntries() []types.PutRecordsRequestEntry {
	data := make([]byte, benchRecordSize)
	for i := range data {
		data[i] = byte(i)
	}
	entries := make([]types.PutRecordsRequestEntry, benchRecords)
	for i := range entries {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprintf("key-%d", i)), Data: data}
	}
	return entries
}

// BenchmarkPutRecords: PutRecords of 500 records of 1 KiB into 4 shards.
func BenchmarkPutRecords(b *testing.B) {
	ts := startTestServer(b)
	dataStream(b, ts, "bench", 4)
	entries := benchEntries()
	b.Run("api", func(b *testing.B) {
		kc := ts.client()
		b.SetBytes(benchRecords * benchRecordSize)
		b.ReportAllocs()
		for b.Loop() {
			out, err := kc.PutRecords(b.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("bench"), Records: entries})
			if err != nil || aws.ToInt32(out.FailedRecordCount) != 0 {
				b.Fatal(out, err)
			}
		}
		b.ReportMetric(float64(b.N*benchRecords)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("store", func(b *testing.B) {
		// The same records, one AppendToShard per shard, sequentially.
		st, _ := ts.store.DescribeStream(context.Background(), "bench")
		byShard := map[int][]recordbatch.Record{}
		for _, e := range entries {
			sh := st.ShardForHashKey(mapping.HashPartitionKey(aws.ToString(e.PartitionKey)))
			byShard[sh.Index] = append(byShard[sh.Index], recordbatch.Record{Key: []byte(aws.ToString(e.PartitionKey)), Value: e.Data})
		}
		b.SetBytes(benchRecords * benchRecordSize)
		b.ReportAllocs()
		for b.Loop() {
			for shard, recs := range byShard {
				if _, err := ts.store.AppendToShard(b.Context(), "bench", shard, recs, store.AppendOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.N*benchRecords)/b.Elapsed().Seconds(), "records/s")
	})
}

// BenchmarkGetRecords: GetRecords of 10000 records of 1 KiB from one shard.
func BenchmarkGetRecords(b *testing.B) {
	ts := startTestServer(b)
	kc := ts.client()
	dataStream(b, ts, "bench", 1)
	entries := benchEntries()
	const total = 10000
	for range total / benchRecords {
		if _, err := kc.PutRecords(b.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("bench"), Records: entries}); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("api", func(b *testing.B) {
		// Iterators are stateless tokens: one serves every call.
		iter := aws.String(iterator(b, kc, "bench", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon))
		b.SetBytes(total * benchRecordSize)
		b.ReportAllocs()
		for b.Loop() {
			out, err := kc.GetRecords(b.Context(), &awskinesis.GetRecordsInput{ShardIterator: iter})
			if err != nil || len(out.Records) != total {
				b.Fatal(len(out.Records), err)
			}
		}
		b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "records/s")
	})
	b.Run("store", func(b *testing.B) {
		// The view the API encodes, without HTTP and JSON.
		st, _ := ts.store.DescribeStream(context.Background(), "bench")
		b.SetBytes(total * benchRecordSize)
		b.ReportAllocs()
		for b.Loop() {
			recs, _, err := ts.readShard(b.Context(), st, st.Shards[0], 0, total, maxGetRecordsBytes)
			if err != nil || len(recs) != total {
				b.Fatal(len(recs), err)
			}
		}
		b.ReportMetric(float64(b.N*total)/b.Elapsed().Seconds(), "records/s")
	})
}
