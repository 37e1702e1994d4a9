package kinesisfloor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/fxamacker/cbor/v2"
)

// newFloor serves a floor and returns its URL and an SDK client of it.
func newFloor(t *testing.T) (string, *kinesis.Client) {
	srv := httptest.NewServer(&Handler{})
	t.Cleanup(srv.Close)
	return srv.URL, kinesis.New(kinesis.Options{Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""), Retryer: aws.NopRetryer{}})
}

// put creates stream with shards and puts n records, data "record-i",
// returning the data by shard in the order put.
func put(t *testing.T, cl *kinesis.Client, stream string, shards, n int) map[string][]string {
	t.Helper()
	ctx := t.Context()
	if _, err := cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String(stream), ShardCount: aws.Int32(int32(shards))}); err != nil {
		t.Fatal(err)
	}
	if err := kinesis.NewStreamExistsWaiter(cl).Wait(ctx, &kinesis.DescribeStreamInput{StreamName: aws.String(stream)}, time.Minute); err != nil {
		t.Fatal(err)
	}
	byShard := map[string][]string{}
	for start := 0; start < n; start += 500 {
		var entries []types.PutRecordsRequestEntry
		for i := start; i < min(start+500, n); i++ {
			entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String(fmt.Sprint("key-", i)), Data: fmt.Appendf(nil, "record-%d", i)})
		}
		out, err := cl.PutRecords(ctx, &kinesis.PutRecordsInput{StreamName: aws.String(stream), Records: entries})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range out.Records {
			id := aws.ToString(r.ShardId)
			byShard[id] = append(byShard[id], string(entries[i].Data))
		}
	}
	return byShard
}

// TestReadBack puts records into a stream of 3 shards and reads each shard
// back with the SDK (JSON) a few records a call: every record comes back,
// once, in the order put, with MillisBehindLatest above 0 until the last
// answer, and AFTER_SEQUENCE_NUMBER continues after the record named.
func TestReadBack(t *testing.T) {
	_, cl := newFloor(t)
	ctx := t.Context()
	want := put(t, cl, "s", 3, 1000)
	shards, err := cl.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("s")})
	if err != nil || len(shards.Shards) != 3 {
		t.Fatalf("ListShards: %v, %v", shards, err)
	}
	total := 0
	for _, sh := range shards.Shards {
		id := aws.ToString(sh.ShardId)
		if len(want[id]) == 0 {
			t.Errorf("shard %s got no records of 1000: the hash key ranges are uneven", id)
		}
		it, err := cl.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: sh.ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var seqs []string
		iter := it.ShardIterator
		for {
			out, err := cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: iter, Limit: aws.Int32(70)})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range out.Records {
				got, seqs = append(got, string(r.Data)), append(seqs, aws.ToString(r.SequenceNumber))
			}
			iter = out.NextShardIterator
			if behind := aws.ToInt64(out.MillisBehindLatest); (behind > 0) != (len(got) < len(want[id])) {
				t.Fatalf("shard %s: MillisBehindLatest %d after %d of %d records", id, behind, len(got), len(want[id]))
			}
			if len(out.Records) == 0 {
				break
			}
		}
		if !slices.Equal(got, want[id]) {
			t.Errorf("shard %s: read %d records, put %d, or out of order", id, len(got), len(want[id]))
		}
		if !slices.IsSorted(seqs) {
			t.Errorf("shard %s: sequence numbers out of order", id)
		}
		total += len(got)

		it, err = cl.GetShardIterator(ctx, &kinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: sh.ShardId,
			ShardIteratorType: types.ShardIteratorTypeAfterSequenceNumber, StartingSequenceNumber: aws.String(seqs[4])})
		if err != nil {
			t.Fatal(err)
		}
		out, err := cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
		if err != nil || len(out.Records) != 1 || string(out.Records[0].Data) != want[id][5] {
			t.Errorf("shard %s: after sequence 4 read %v, %v; want %s", id, out, err, want[id][5])
		}
	}
	if total != 1000 {
		t.Errorf("read %d records, put 1000", total)
	}
}

// TestCBOR reads the same records in CBOR, as the Kinesis source does: the
// answer decodes to what the JSON one says.
func TestCBOR(t *testing.T) {
	url, cl := newFloor(t)
	want := put(t, cl, "s", 1, 300)["shardId-000000000000"]
	it, err := cl.GetShardIterator(t.Context(), &kinesis.GetShardIteratorInput{StreamName: aws.String("s"),
		ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := cbor.Marshal(map[string]any{"ShardIterator": aws.ToString(it.ShardIterator), "Limit": 200})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("X-Amz-Target", targetPrefix+"GetRecords")
	req.Header.Set("Content-Type", contentTypeCBOR)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var answer struct {
		Records []struct {
			SequenceNumber              string
			ApproximateArrivalTimestamp cbor.Tag
			Data                        []byte
			PartitionKey                string
		}
		NextShardIterator  string
		MillisBehindLatest int64
	}
	if err := cbor.Unmarshal(raw, &answer); err != nil {
		t.Fatalf("the CBOR answer (%s) does not decode: %v", resp.Header.Get("Content-Type"), err)
	}
	if len(answer.Records) != 200 || answer.MillisBehindLatest <= 0 || answer.NextShardIterator != "s/0/200" {
		t.Fatalf("%d records, MillisBehindLatest %d, next %q; want 200, above 0, s/0/200", len(answer.Records), answer.MillisBehindLatest, answer.NextShardIterator)
	}
	for i, r := range answer.Records {
		if string(r.Data) != want[i] || r.PartitionKey != fmt.Sprint("key-", i) || r.ApproximateArrivalTimestamp.Number != 1 {
			t.Fatalf("record %d: %+v, want data %s", i, r, want[i])
		}
	}
}

func TestErrors(t *testing.T) {
	_, cl := newFloor(t)
	ctx := t.Context()
	_, err := cl.ListShards(ctx, &kinesis.ListShardsInput{StreamName: aws.String("none")})
	if nf := (*types.ResourceNotFoundException)(nil); !errors.As(err, &nf) {
		t.Errorf("ListShards of a missing stream: %v, want ResourceNotFoundException", err)
	}
	put(t, cl, "s", 1, 1)
	_, err = cl.CreateStream(ctx, &kinesis.CreateStreamInput{StreamName: aws.String("s"), ShardCount: aws.Int32(1)})
	if inUse := (*types.ResourceInUseException)(nil); !errors.As(err, &inUse) {
		t.Errorf("CreateStream of an existing stream: %v, want ResourceInUseException", err)
	}
	_, err = cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("nonsense")})
	if inv := (*types.InvalidArgumentException)(nil); !errors.As(err, &inv) {
		t.Errorf("GetRecords with a malformed iterator: %v, want InvalidArgumentException", err)
	}
	if _, err := cl.DeleteStream(ctx, &kinesis.DeleteStreamInput{StreamName: aws.String("s")}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.GetRecords(ctx, &kinesis.GetRecordsInput{ShardIterator: aws.String("s/0/0")})
	if nf := (*types.ResourceNotFoundException)(nil); !errors.As(err, &nf) {
		t.Errorf("GetRecords of a deleted stream: %v, want ResourceNotFoundException", err)
	}
}
