package kinesis

import (
	"context"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/store"
)

// A stream compacted by the store (a Kafka topic with cleanup.policy=compact)
// read through Kinesis: records compaction removed are skipped, the others
// keep their sequence numbers, and an iterator at a removed record's
// sequence number starts at the next record.
func TestGetRecordsSkipsCompactedRecords(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "cfg", 1)
	if _, err := ts.store.UpdateStream(context.Background(), "cfg", func(st *store.Stream) error {
		st.Compaction = store.Compaction{Enabled: true}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, kv := range [][2]string{{"a", "a1"}, {"b", "b1"}, {"a", "a2"}, {"c", "c1"}} {
		out, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("cfg"), PartitionKey: aws.String(kv[0]), Data: []byte(kv[1])})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	if err := ts.store.Compact(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ types.ShardIteratorType
		at  string
	}{
		{types.ShardIteratorTypeTrimHorizon, ""},
		{types.ShardIteratorTypeAtSequenceNumber, seqs[0]},
		{types.ShardIteratorTypeAfterSequenceNumber, seqs[0]},
	} {
		in := &awskinesis.GetShardIteratorInput{StreamName: aws.String("cfg"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: tc.typ}
		if tc.at != "" {
			in.StartingSequenceNumber = aws.String(tc.at)
		}
		it, err := kc.GetShardIterator(t.Context(), in)
		if err != nil {
			t.Fatal(err)
		}
		out, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range out.Records {
			got = append(got, string(r.Data)+"@"+aws.ToString(r.SequenceNumber))
		}
		want := fmt.Sprint([]string{"b1@" + seqs[1], "a2@" + seqs[2], "c1@" + seqs[3]})
		if fmt.Sprint(got) != want {
			t.Errorf("%s: %v, want %v", tc.typ, got, want)
		}
	}
}
