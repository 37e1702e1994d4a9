package kinesis

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
)

// TestSequenceIteratorsAtShardStart: AT_ and AFTER_SEQUENCE_NUMBER with a
// shard's own StartingSequenceNumber, on shards that hold no record yet
// (new, made by a split of a full or of an empty shard, closed empty), as
// AWS takes them: the iterator reads from the shard's first record, which
// a put after the call is.
func TestSequenceIteratorsAtShardStart(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	ctx := t.Context()
	cpCreate(t, kc, "e", 2)
	// Records in shard 0, whose lower child then continues its partition
	// past offset 0; none in shard 1, which closes empty.
	for i := range 3 {
		if _, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("e"), PartitionKey: aws.String("k"),
			ExplicitHashKey: aws.String(strconv.Itoa(i)), Data: []byte("full")}); err != nil {
			t.Fatal(err)
		}
	}
	split := func(shard, at string) {
		t.Helper()
		if _, err := kc.SplitShard(ctx, &awskinesis.SplitShardInput{StreamName: aws.String("e"), ShardToSplit: aws.String(shard), NewStartingHashKey: aws.String(at)}); err != nil {
			t.Fatal(err)
		}
	}
	half := "85070591730234615865843651857942052864" // 2^126, inside shard 0
	split("shardId-000000000000", half)
	split("shardId-000000000001", "255211775190703847597530955573826158592") // 3*2^126

	shards, err := kc.ListShards(ctx, &awskinesis.ListShardsInput{StreamName: aws.String("e")})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]types.Shard{}
	for _, s := range shards.Shards {
		byID[*s.ShardId] = s
	}
	for _, tc := range []struct {
		shard  string
		closed bool
	}{
		{"shardId-000000000002", false}, // lower child of a shard with records: starts past offset 0
		{"shardId-000000000003", false}, // upper child: a new partition
		{"shardId-000000000001", true},  // closed without a record
		{"shardId-000000000004", false}, // children of the empty shard
		{"shardId-000000000005", false},
	} {
		for _, typ := range []types.ShardIteratorType{types.ShardIteratorTypeAtSequenceNumber, types.ShardIteratorTypeAfterSequenceNumber} {
			t.Run(tc.shard+"/"+string(typ), func(t *testing.T) {
				sh, ok := byID[tc.shard]
				if !ok {
					t.Fatalf("no %s in %v", tc.shard, slices.Sorted(maps.Keys(byID)))
				}
				it, err := kc.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{
					StreamName: aws.String("e"), ShardId: sh.ShardId, ShardIteratorType: typ,
					StartingSequenceNumber: sh.SequenceNumberRange.StartingSequenceNumber,
				})
				if err != nil {
					t.Fatalf("StartingSequenceNumber %s: %v", aws.ToString(sh.SequenceNumberRange.StartingSequenceNumber), err)
				}
				if tc.closed {
					out, err := kc.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
					if err != nil || len(out.Records) != 0 || out.NextShardIterator != nil || len(out.ChildShards) != 2 {
						t.Fatalf("closed empty shard: %+v, %v", out, err)
					}
					return
				}
				data := fmt.Sprintf("%s-%s", tc.shard, typ)
				put, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("e"), PartitionKey: aws.String("k"),
					ExplicitHashKey: sh.HashKeyRange.StartingHashKey, Data: []byte(data)})
				if err != nil || *put.ShardId != tc.shard {
					t.Fatalf("put to %s: %+v, %v", tc.shard, put, err)
				}
				recs, _ := readFrom(t, kc, *it.ShardIterator, 0)
				if got := dataOf(recs); len(got) == 0 || got[len(got)-1] != data {
					t.Fatalf("read %v, want it to end with %q", got, data)
				}
			})
		}
	}
	// A number past a shard's records is still not one of its own.
	_, err = kc.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{
		StreamName: aws.String("e"), ShardId: aws.String("shardId-000000000003"), ShardIteratorType: types.ShardIteratorTypeAtSequenceNumber,
		StartingSequenceNumber: aws.String(cpSeq(3, 50)),
	})
	apiError(t, err, errInvalidArgument, "did not come from this stream")
}

// TestSubscribeAtEmptyShardStart: SubscribeToShard takes an empty shard's
// StartingSequenceNumber too, and delivers the shard's first record.
func TestSubscribeAtEmptyShardStart(t *testing.T) {
	f := newSubFixture(t, 1)
	shards, err := f.kc.ListShards(t.Context(), &awskinesis.ListShardsInput{StreamName: aws.String(f.stream)})
	if err != nil {
		t.Fatal(err)
	}
	start := shards.Shards[0].SequenceNumberRange.StartingSequenceNumber
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: start})
	f.put(t, "first")
	if recs := collect(t, es, 1); string(recs[0].Data) != "first#0" {
		t.Fatalf("first record %q", recs[0].Data)
	}
}

// TestGetRecordsQuotedIterator: an iterator in double quotes, as the AWS
// CLI prints one without --output text, reads like the bare one; other
// damage is still refused.
func TestGetRecordsQuotedIterator(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "q", 1)
	putN(t, kc, "q", "r", 3)
	it := iterator(t, kc, "q", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon)
	for _, tc := range []struct {
		name, iterator string
		ok             bool
	}{
		{"bare", it, true},
		{"quoted", `"` + it + `"`, true},
		{"quote before only", `"` + it, false},
		{"quote after only", it + `"`, false},
		{"single quotes", "'" + it + "'", false},
		{"two quotes each side", `""` + it + `""`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, out := ts.call(t, "GetRecords", map[string]any{"ShardIterator": tc.iterator})
			if !tc.ok {
				rawError(t, status, out, errInvalidArgument, "Invalid ShardIterator.")
				return
			}
			recs, _ := out["Records"].([]any)
			if status != 200 || len(recs) != 3 || out["NextShardIterator"] == nil {
				t.Fatalf("%d, %d records: %v", status, len(recs), out)
			}
		})
	}
}
