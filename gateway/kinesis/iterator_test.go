package kinesis

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// putN puts n records with data "<prefix><i>" and returns their sequence
// numbers.
func putN(t testing.TB, kc *awskinesis.Client, stream, prefix string, n int) []string {
	t.Helper()
	var seqs []string
	for i := range n {
		out, err := kc.PutRecord(context.Background(), &awskinesis.PutRecordInput{
			StreamName: aws.String(stream), PartitionKey: aws.String(fmt.Sprintf("%s%d", prefix, i)), Data: []byte(fmt.Sprintf("%s%d", prefix, i)),
		})
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, aws.ToString(out.SequenceNumber))
	}
	return seqs
}

func dataOf(recs []types.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = string(r.Data)
	}
	return out
}

func TestShardIteratorTypes(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "it", 1)
	seqs := putN(t, kc, "it", "r", 5)
	const shard = "shardId-000000000000"

	tests := []struct {
		typ  types.ShardIteratorType
		seq  string
		want string
	}{
		{types.ShardIteratorTypeTrimHorizon, "", "[r0 r1 r2 r3 r4]"},
		{types.ShardIteratorTypeLatest, "", "[]"},
		{types.ShardIteratorTypeAtSequenceNumber, seqs[2], "[r2 r3 r4]"},
		{types.ShardIteratorTypeAfterSequenceNumber, seqs[2], "[r3 r4]"},
		{types.ShardIteratorTypeAfterSequenceNumber, seqs[4], "[]"},
		{types.ShardIteratorTypeAtSequenceNumber, seqs[0], "[r0 r1 r2 r3 r4]"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			if got := fmt.Sprint(dataOf(readShard(t, kc, "it", shard, tt.typ, tt.seq))); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}

	// A LATEST iterator sees what is put after it was taken.
	it, err := kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{StreamName: aws.String("it"), ShardId: aws.String("0"), ShardIteratorType: types.ShardIteratorTypeLatest})
	if err != nil {
		t.Fatal(err)
	}
	putN(t, kc, "it", "late", 2)
	if got, _ := readFrom(t, kc, aws.ToString(it.ShardIterator), 0); fmt.Sprint(dataOf(got)) != "[late0 late1]" {
		t.Fatalf("LATEST then put: %v", dataOf(got))
	}
}

func TestShardIteratorAtTimestamp(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "ts", 1)
	// Kafka records with timestamps of our choosing, one second apart.
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var recs []recordbatch.Record
	for i := range 5 {
		recs = append(recs, recordbatch.Record{Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte(fmt.Sprintf("v%d", i)), Timestamp: base.Add(time.Duration(i) * time.Second)})
	}
	batch, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.AppendBatch(t.Context(), "ts", 0, batch, store.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		at   time.Time
		want string
	}{
		{base.Add(-time.Hour), "[v0 v1 v2 v3 v4]"},
		{base, "[v0 v1 v2 v3 v4]"},
		{base.Add(2500 * time.Millisecond), "[v3 v4]"},
		{base.Add(3 * time.Second), "[v3 v4]"},
		{base.Add(time.Minute), "[]"},
	}
	for _, tt := range tests {
		it, err := kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{
			StreamName: aws.String("ts"), ShardId: aws.String("shardId-000000000000"),
			ShardIteratorType: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(tt.at),
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := readFrom(t, kc, aws.ToString(it.ShardIterator), 0)
		if fmt.Sprint(dataOf(got)) != tt.want {
			t.Fatalf("AT_TIMESTAMP %v: got %v, want %s", tt.at.Sub(base), dataOf(got), tt.want)
		}
		for _, r := range got {
			if r.ApproximateArrivalTimestamp.Before(tt.at) {
				t.Fatalf("record %s at %v, before %v", r.Data, r.ApproximateArrivalTimestamp, tt.at)
			}
		}
	}
}

func TestShardIteratorErrors(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "s", 2)
	seqs := putN(t, kc, "s", "x", 10)
	out, _ := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("s"), PartitionKey: aws.String("p"), Data: []byte("p")})
	shard := aws.ToString(out.ShardId)
	other := "shardId-000000000000"
	if shard == other {
		other = "shardId-000000000001"
	}
	seq := aws.ToString(out.SequenceNumber)
	_ = seqs
	future := float64(time.Now().Add(time.Hour).Unix())

	tests := []struct {
		name    string
		body    map[string]any
		code    string
		message string
	}{
		{"nothing", map[string]any{}, errValidation,
			"2 validation errors detected: Value null at 'shardId' failed to satisfy constraint: Member must not be null; Value null at 'shardIteratorType' failed to satisfy constraint: Member must not be null"},
		{"bad type", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "OLDEST"}, errValidation,
			"1 validation error detected: Value 'OLDEST' at 'shardIteratorType' failed to satisfy constraint: Member must satisfy enum value set: [AFTER_SEQUENCE_NUMBER, LATEST, AT_TIMESTAMP, AT_SEQUENCE_NUMBER, TRIM_HORIZON]"},
		{"sequence with TRIM_HORIZON", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "TRIM_HORIZON", "StartingSequenceNumber": seq}, errInvalidArgument,
			"Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified TRIM_HORIZON and also a StartingSequenceNumber."},
		{"AT_SEQUENCE_NUMBER without one", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "AT_SEQUENCE_NUMBER"}, errInvalidArgument,
			"Must either specify (1) AT_SEQUENCE_NUMBER or AFTER_SEQUENCE_NUMBER and StartingSequenceNumber or (2) TRIM_HORIZON or LATEST and no StartingSequenceNumber. Request specified AT_SEQUENCE_NUMBER and no StartingSequenceNumber."},
		{"sequence of another shard", map[string]any{"StreamName": "s", "ShardId": other, "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": seq}, errInvalidArgument,
			"Invalid StartingSequenceNumber. It encodes " + shard + ", while it was used in a call to a shard with " + other},
		{"foreign sequence", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": "12345"}, errInvalidArgument,
			"StartingSequenceNumber 12345 used in GetShardIterator on shard " + shard + " in stream s under account 000000000000 is invalid."},
		{"malformed sequence", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": "01"}, errValidation,
			"1 validation error detected: Value '01' at 'startingSequenceNumber' failed to satisfy constraint: Member must satisfy regular expression pattern: 0|([1-9]\\d{0,128})"},
		{"AT_TIMESTAMP without one", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "AT_TIMESTAMP"}, errInvalidArgument,
			"Must specify timestampInMillis parameter for iterator of type AT_TIMESTAMP. Current request has no timestamp parameter."},
		{"AT_TIMESTAMP in the future", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": future}, errInvalidArgument, ""},
		{"unknown shard", map[string]any{"StreamName": "s", "ShardId": "shardId-000000000009", "ShardIteratorType": "LATEST"}, errResourceNotFound,
			"Shard shardId-000000000009 in stream s under account 000000000000 does not exist"},
		{"shard id not a number", map[string]any{"StreamName": "s", "ShardId": "shardId-x", "ShardIteratorType": "LATEST"}, errResourceNotFound,
			"Could not find shard shardId-x in stream s under account 000000000000."},
		{"unknown stream", map[string]any{"StreamName": "nope", "ShardId": "shardId-000000000000", "ShardIteratorType": "LATEST"}, errResourceNotFound,
			"Shard shardId-000000000000 in stream nope under account 000000000000 does not exist"},
		{"dry run", map[string]any{"StreamName": "s", "ShardId": shard, "ShardIteratorType": "LATEST", "DryRun": true}, errDryRun, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := ts.call(t, "GetShardIterator", tt.body)
			rawError(t, status, body, tt.code, tt.message)
		})
	}
}

func TestShardIteratorExpires(t *testing.T) {
	clock := newMovableClock()
	ts := startTestServer(t, func(c *Config) { c.Now = clock.Now })
	kc := ts.client()
	dataStream(t, ts, "exp", 1)
	putN(t, kc, "exp", "r", 3)
	it, err := kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{StreamName: aws.String("exp"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	clock.add(iteratorLifetime)
	out, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator, Limit: aws.Int32(1)})
	if err != nil {
		t.Fatalf("iterator at exactly five minutes: %v", err)
	}
	// The next iterator is issued now: it has five minutes of its own.
	clock.add(time.Millisecond)
	_, err = kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	apiError(t, err, errExpiredIterator, "Iterator expired. The iterator was created at time ")
	apiError(t, err, errExpiredIterator, "which is further in the future than the tolerated delay of 300000 milliseconds.")
	clock.add(4 * time.Minute)
	next, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: out.NextShardIterator})
	if err != nil || fmt.Sprint(dataOf(next.Records)) != "[r1 r2]" {
		t.Fatalf("fresh NextShardIterator: %v %v", next, err)
	}
}

func TestShardIteratorInvalid(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "s", 1)
	it, err := kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	good := aws.ToString(it.ShardIterator)
	raw, _ := base64.StdEncoding.DecodeString(good)
	flip := func(i int) string {
		b := bytes.Clone(raw)
		b[i] ^= 1
		return base64.StdEncoding.EncodeToString(b)
	}
	// A token signed by another store's key.
	other := startTestServer(t)
	dataStream(t, other, "s", 1)
	foreign, err := other.client().GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{StreamName: aws.String("s"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	for name, token := range map[string]string{
		"not base64":     "!!!",
		"short":          base64.StdEncoding.EncodeToString(raw[:20]),
		"offset changed": flip(30),
		"shard changed":  flip(20),
		"mac changed":    flip(len(raw) - 1),
		"name changed":   flip(iteratorFixed),
		"extra byte":     base64.StdEncoding.EncodeToString(append(bytes.Clone(raw), 0)),
		"other store":    aws.ToString(foreign.ShardIterator),
	} {
		t.Run(name, func(t *testing.T) {
			status, body := ts.call(t, "GetRecords", map[string]any{"ShardIterator": token})
			rawError(t, status, body, errInvalidArgument, "Invalid ShardIterator.")
		})
	}
}

// TestShardIteratorSurvivesRestart: the signing key lives in the store, so
// an iterator handed out before a restart still reads after it.
func TestShardIteratorSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() (*embedded.Store, *Handler) {
		st, err := embedded.Open(embedded.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		h, err := New(Config{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		return st, h
	}
	st, h := open()
	stream, err := st.CreateStream(ctx, store.StreamConfig{Name: "durable", ShardCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	token, err := h.newIterator(ctx, &stream, 0, 7)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, h = open()
	defer st.Close()
	it, err := h.parseIterator(ctx, token)
	if err != nil {
		t.Fatalf("iterator from before the restart: %v", err)
	}
	if it.stream != "durable" || it.shard != 0 || it.offset != 7 || it.streamCreated != stream.Created.UnixMilli() {
		t.Fatalf("iterator decoded as %+v", it)
	}
}

func TestGetRecordsStreamGone(t *testing.T) {
	ts := startTestServer(t)
	kc := ts.client()
	dataStream(t, ts, "gone", 1)
	putN(t, kc, "gone", "r", 2)
	it, err := kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{StreamName: aws.String("gone"), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.DeleteStream(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	_, err = kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	apiError(t, err, errResourceNotFound, "Shard shardId-000000000000 in stream gone under account 000000000000 does not exist")

	// A new stream of the same name is not the one the iterator was for.
	// (Streams are told apart by their creation time in milliseconds.)
	time.Sleep(2 * time.Millisecond)
	dataStream(t, ts, "gone", 1)
	_, err = kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
	apiError(t, err, errResourceNotFound, "Shard shardId-000000000000 in stream gone under account 000000000000 does not exist")
}
