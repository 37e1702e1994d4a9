package kinesis

import (
	"bytes"
	"context"
	"crypto/md5"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
)

// aggUser is one user record to pack, by index into the key tables
// (hashKey -1: none).
type aggUser struct {
	key, hashKey int
	data         []byte
	tags         map[string]string
}

// kplAggregate builds a KPL aggregated record by hand, as the KPL and
// aws-kinesis-agg do.
func kplAggregate(keys, hashKeys []string, users []aggUser) []byte {
	var body []byte
	for _, k := range keys {
		body = protowire.AppendTag(body, aggPartitionKeyTable, protowire.BytesType)
		body = protowire.AppendString(body, k)
	}
	for _, k := range hashKeys {
		body = protowire.AppendTag(body, aggExplicitHashKeyTable, protowire.BytesType)
		body = protowire.AppendString(body, k)
	}
	for _, u := range users {
		var rec []byte
		rec = protowire.AppendTag(rec, recPartitionKeyIndex, protowire.VarintType)
		rec = protowire.AppendVarint(rec, uint64(u.key))
		if u.hashKey >= 0 {
			rec = protowire.AppendTag(rec, recExplicitHashKeyIndex, protowire.VarintType)
			rec = protowire.AppendVarint(rec, uint64(u.hashKey))
		}
		rec = protowire.AppendTag(rec, recData, protowire.BytesType)
		rec = protowire.AppendBytes(rec, u.data)
		for k, v := range u.tags {
			var tag []byte
			tag = protowire.AppendTag(tag, 1, protowire.BytesType)
			tag = protowire.AppendString(tag, k)
			tag = protowire.AppendTag(tag, 2, protowire.BytesType)
			tag = protowire.AppendString(tag, v)
			rec = protowire.AppendTag(rec, recTags, protowire.BytesType)
			rec = protowire.AppendBytes(rec, tag)
		}
		body = protowire.AppendTag(body, aggRecords, protowire.BytesType)
		body = protowire.AppendBytes(body, rec)
	}
	return sealAggregate(body)
}

func sealAggregate(body []byte) []byte {
	sum := md5.Sum(body)
	out := append(bytes.Clone(kplMagic), body...)
	return append(out, sum[:]...)
}

func TestDeaggregate(t *testing.T) {
	good := kplAggregate([]string{"a", "b"}, []string{"12345"}, []aggUser{
		{key: 0, hashKey: -1, data: []byte("one")},
		{key: 1, hashKey: 0, data: []byte{0, 1, 2}, tags: map[string]string{"t": "v"}},
		{key: 0, hashKey: -1, data: []byte{}},
	})
	users, ok := deaggregate(good)
	if !ok || len(users) != 3 {
		t.Fatalf("valid aggregate: %v %v", users, ok)
	}
	if fmt.Sprint(users) != fmt.Sprint([]userRecord{{"a", []byte("one")}, {"b", []byte{0, 1, 2}}, {"a", []byte{}}}) {
		t.Fatalf("user records %v", users)
	}

	badMD5 := bytes.Clone(good)
	badMD5[len(badMD5)-1] ^= 1
	tests := map[string][]byte{
		"bad MD5":             badMD5,
		"no magic":            good[1:],
		"too short":           kplMagic,
		"key index too big":   kplAggregate([]string{"a"}, nil, []aggUser{{key: 1, hashKey: -1, data: []byte("x")}}),
		"hash index too big":  kplAggregate([]string{"a"}, nil, []aggUser{{key: 0, hashKey: 0, data: []byte("x")}}),
		"no user records":     kplAggregate([]string{"a"}, nil, nil),
		"empty partition key": kplAggregate([]string{""}, nil, []aggUser{{key: 0, hashKey: -1, data: []byte("x")}}),
		"truncated protobuf":  sealAggregate([]byte{byte(aggRecords<<3 | 2), 50, 1}),
		"record without data": sealAggregate(protowire.AppendBytes(protowire.AppendTag(protowire.AppendString(protowire.AppendTag(nil, 1, protowire.BytesType), "a"), 3, protowire.BytesType), protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 0))),
		"plain data":          []byte("hello"),
	}
	for name, data := range tests {
		if users, ok := deaggregate(data); ok {
			t.Errorf("%s: accepted as %v", name, users)
		}
	}
}

func FuzzDeaggregate(f *testing.F) {
	f.Add(kplAggregate([]string{"a", "b"}, []string{"1"}, []aggUser{{key: 1, hashKey: 0, data: []byte("x"), tags: map[string]string{"k": "v"}}}))
	f.Add([]byte("plain"))
	f.Add(sealAggregate([]byte{0x1a, 0x02, 0x08, 0x00}))
	f.Fuzz(func(t *testing.T, data []byte) {
		users, ok := deaggregate(data)
		if ok && len(users) == 0 {
			t.Fatal("valid aggregate without user records")
		}
		// A body that verifies once verifies again.
		if ok {
			if again, ok2 := deaggregate(data); !ok2 || len(again) != len(users) {
				t.Fatal("not deterministic")
			}
		}
	})
}

// TestAggregatedRecordsStoredAsUserRecords: Kafka sees the user records,
// each with its partition key and offset; Kinesis readers read them as
// plain records.
func TestAggregatedRecordsStoredAsUserRecords(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "agg", 1)
	agg := kplAggregate([]string{"user-a", "user-b"}, nil, []aggUser{
		{key: 0, hashKey: -1, data: []byte("a1")},
		{key: 1, hashKey: -1, data: []byte("b1")},
		{key: 0, hashKey: -1, data: []byte("a2")},
	})
	bad := bytes.Clone(agg)
	bad[len(bad)-1] ^= 1
	out, err := kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String("agg"), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("outer"), Data: agg},
		{PartitionKey: aws.String("plain"), Data: []byte("p")},
		{PartitionKey: aws.String("broken"), Data: bad},
	}})
	if err != nil {
		t.Fatal(err)
	}
	seqs := []string{}
	for _, r := range out.Records {
		seqs = append(seqs, aws.ToString(r.SequenceNumber))
	}
	// The aggregate's answer is its first user record; the next entry comes
	// after all three.
	if want := []string{"0", "3", "4"}; fmt.Sprint(seqOffsets(t, seqs)) != fmt.Sprint(want) {
		t.Fatalf("offsets of the answers %v, want %v", seqOffsets(t, seqs), want)
	}

	// Kafka view.
	res, err := ts.store.Read(t.Context(), "agg", 0, 0, store.ReadLimits{})
	if err != nil {
		t.Fatal(err)
	}
	var kafka []string
	for _, b := range res.Batches {
		_, recs, err := recordbatch.Decode(b.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			kafka = append(kafka, fmt.Sprintf("%d:%s=%q", r.Offset, r.Key, r.Value))
		}
	}
	want := fmt.Sprint([]string{`0:user-a="a1"`, `1:user-b="b1"`, `2:user-a="a2"`, `3:plain="p"`, fmt.Sprintf("4:broken=%q", bad)})
	if fmt.Sprint(kafka) != want {
		t.Fatalf("Kafka records %v\nwant %v", kafka, want)
	}

	// Kinesis view.
	got := readShard(t, kc, "agg", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	var kin []string
	for _, r := range got {
		kin = append(kin, aws.ToString(r.PartitionKey)+"="+string(r.Data))
	}
	if fmt.Sprint(kin[:4]) != "[user-a=a1 user-b=b1 user-a=a2 plain=p]" || !bytes.Equal(got[4].Data, bad) {
		t.Fatalf("Kinesis records %v", kin)
	}

	// PutRecord too.
	one, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("agg"), PartitionKey: aws.String("outer"), Data: agg})
	if err != nil || fmt.Sprint(seqOffsets(t, []string{aws.ToString(one.SequenceNumber)})) != "[5]" {
		t.Fatalf("PutRecord of an aggregate: %v %v", one, err)
	}
	if _, hw, _ := ts.store.Offsets(context.Background(), "agg", 0); hw != 8 {
		t.Fatalf("high watermark %d, want 8", hw)
	}
}

func seqOffsets(t testing.TB, seqs []string) []string {
	t.Helper()
	var out []string
	for _, s := range seqs {
		_, off, err := mapping.ParseSequenceNumber(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(off))
	}
	return out
}
