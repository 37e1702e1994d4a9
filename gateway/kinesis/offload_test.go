package kinesis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/gateway/awsapi/awsapitest"
	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/security/iampolicy"
	"github.com/streambridge/bridge/store"
)

// withOffload gives a test server an Offloader with the server default
// policy (1 MiB, the default bucket).
func withOffload(c *Config) {
	c.Offload = payloads.New(c.Store, payloads.Policy{Threshold: payloads.DefaultThreshold}, nil)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// offloadedObjects lists the keys under the offload prefix of the default
// bucket.
func offloadedObjects(t *testing.T, s store.Objects) []string {
	t.Helper()
	objs, _, err := s.ListObjects(context.Background(), payloads.DefaultBucket, store.ListOptions{Prefix: store.OffloadPrefix})
	if errors.Is(err, store.ErrBucketNotFound) {
		return nil // made on first use: nothing offloaded yet
	}
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range objs {
		keys = append(keys, o.Key)
	}
	return keys
}

// thresholdStream creates a one-shard stream offloading records over
// threshold bytes.
func thresholdStream(t *testing.T, ts *testServer, name string, threshold int) {
	t.Helper()
	if _, err := ts.store.CreateStream(context.Background(), store.StreamConfig{
		Name: name, ShardCount: 1, Config: map[string]string{payloads.ConfigThreshold: strconv.Itoa(threshold)},
	}); err != nil {
		t.Fatal(err)
	}
}

// getRecordsCall makes one GetRecords call with iter and returns the answer.
func getRecordsCall(t *testing.T, kc *awskinesis.Client, iter string) *awskinesis.GetRecordsOutput {
	t.Helper()
	out, err := kc.GetRecords(t.Context(), &awskinesis.GetRecordsInput{ShardIterator: aws.String(iter)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func trimHorizon(t *testing.T, kc *awskinesis.Client, stream string) string {
	t.Helper()
	it, err := kc.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{
		StreamName: aws.String(stream), ShardId: aws.String("shardId-000000000000"), ShardIteratorType: types.ShardIteratorTypeTrimHorizon,
	})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(it.ShardIterator)
}

// pointerIn decodes a record's Data as a PayloadS3Pointer, failing the test
// when it is not one.
func pointerIn(t *testing.T, r types.Record) offload.Pointer {
	t.Helper()
	p, ok := offload.Decode(r.Data)
	if !ok {
		t.Fatalf("record %s: data of %d bytes is not a pointer", aws.ToString(r.SequenceNumber), len(r.Data))
	}
	return p
}

// TestOffloadKafkaRecordsGetRecords reads records a Kafka producer's batch
// offloaded: restored within the 10 MiB budget, split over calls past it,
// and a 12 MiB payload, which no Kinesis record holds, as its pointer.
func TestOffloadKafkaRecordsGetRecords(t *testing.T) {
	ts := startTestServer(t, withOffload)
	st := dataStream(t, ts, "big", 1)
	ctx := t.Context()
	sizes := []int{3 << 20, 3 << 20, 3 << 20, 3 << 20, 12 << 20, 10}
	recs := make([]recordbatch.Record, len(sizes))
	want := make([][]byte, len(sizes))
	for i, n := range sizes {
		want[i] = randomBytes(n)
		recs[i] = recordbatch.Record{Key: []byte("k" + strconv.Itoa(i)), Value: want[i]}
	}
	batch, err := recordbatch.Encode(nil, recs, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// What the Kafka front end's Produce does (gateway/kafka/produce.go).
	out, refs, err := ts.cfg.Offload.Batch(ctx, &st, 0, batch)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 5 {
		t.Fatalf("offloaded %d records, want 5", len(refs))
	}
	if _, err := ts.store.AppendBatch(ctx, "big", 0, out, store.AppendOptions{Objects: refs}); err != nil {
		t.Fatal(err)
	}

	kc := ts.client()
	// 3 x 3 MiB fit in 10 MiB; a fourth would not: it ends the answer.
	first := getRecordsCall(t, kc, trimHorizon(t, kc, "big"))
	if len(first.Records) != 3 {
		t.Fatalf("first call: %d records, want 3", len(first.Records))
	}
	second := getRecordsCall(t, kc, aws.ToString(first.NextShardIterator))
	got := append(first.Records, second.Records...)
	if len(got) != len(sizes) {
		t.Fatalf("read %d records, want %d", len(got), len(sizes))
	}
	for i, r := range got {
		if i == 4 {
			continue
		}
		if !bytes.Equal(r.Data, want[i]) {
			t.Errorf("record %d: %d bytes, not the %d produced", i, len(r.Data), len(want[i]))
		}
		if pk := aws.ToString(r.PartitionKey); pk != "k"+strconv.Itoa(i) {
			t.Errorf("record %d: partition key %q", i, pk)
		}
	}
	// The 12 MiB payload: its pointer, whose object has the payload's size.
	p := pointerIn(t, got[4])
	info, err := ts.store.HeadObject(ctx, p.Bucket, p.Key)
	if err != nil {
		t.Fatal(err)
	}
	if info.Size != 12<<20 {
		t.Errorf("pointed-to object holds %d bytes, want %d", info.Size, 12<<20)
	}
	if aws.ToInt64(second.MillisBehindLatest) != 0 {
		t.Errorf("MillisBehindLatest %d after reading everything", aws.ToInt64(second.MillisBehindLatest))
	}
}

// TestOffloadPutRecordOverThreshold offloads PutRecord(s) records over a
// stream's offload.threshold.bytes, KPL user records one by one, and reads
// them back restored.
func TestOffloadPutRecordOverThreshold(t *testing.T) {
	ts := startTestServer(t, withOffload)
	thresholdStream(t, ts, "low", 1000)
	kc := ts.client()
	ctx := t.Context()

	big := randomBytes(5000)
	if _, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("low"), PartitionKey: aws.String("a"), Data: big}); err != nil {
		t.Fatal(err)
	}
	if keys := offloadedObjects(t, ts.store); len(keys) != 1 {
		t.Fatalf("offloaded objects after PutRecord: %q, want 1", keys)
	}
	users := []aggUser{{key: 0, hashKey: -1, data: randomBytes(3000)}, {key: 1, hashKey: -1, data: []byte("tiny")}}
	agg := kplAggregate([]string{"u0", "u1"}, nil, users)
	big2 := randomBytes(5000)
	put, err := kc.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String("low"), Records: []types.PutRecordsRequestEntry{
		{PartitionKey: aws.String("s"), Data: []byte("small")},
		{PartitionKey: aws.String("b"), Data: big2},
		{PartitionKey: aws.String("agg"), Data: agg},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if n := aws.ToInt32(put.FailedRecordCount); n != 0 {
		t.Fatalf("PutRecords: %d failed", n)
	}
	// big, big2 and the aggregate's 3000-byte user record.
	if keys := offloadedObjects(t, ts.store); len(keys) != 3 {
		t.Fatalf("offloaded objects: %q, want 3", keys)
	}

	// The store keeps pointers, in batches marked Offloaded.
	res, err := ts.store.Read(ctx, "low", 0, 0, store.ReadLimits{})
	if err != nil {
		t.Fatal(err)
	}
	pointers := 0
	for _, b := range res.Batches {
		info, recs, err := recordbatch.Decode(b.Raw)
		if err != nil {
			t.Fatal(err)
		}
		for i := range recs {
			if _, _, ok := payloads.PointerOf(&recs[i]); ok {
				pointers++
				if !info.Offloaded() {
					t.Errorf("batch at %d holds a pointer but is not marked Offloaded", b.BaseOffset)
				}
			}
		}
	}
	if pointers != 3 {
		t.Errorf("stored pointer records: %d, want 3", pointers)
	}
	// A Kafka consumer gets the batch restored too (gateway/kafka's Fetch).
	pieces, _, fits, err := ts.cfg.Offload.RestoreBatch(ctx, "low", 0, res.Batches[0].Raw, 0, 1<<20, false, payloads.RestoreOptions{})
	if err != nil || !fits {
		t.Fatalf("RestoreBatch: fits %v, %v", fits, err)
	}
	raw := bytes.Join(pieces, nil)
	if _, recs, err := recordbatch.Decode(raw); err != nil || len(recs) != 1 || !bytes.Equal(recs[0].Value, big) || len(recs[0].Headers) != 0 {
		t.Errorf("Kafka view of the PutRecord: %d records, %v", len(recs), err)
	}

	got := readShard(t, kc, "low", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	want := []struct {
		key  string
		data []byte
	}{{"a", big}, {"s", []byte("small")}, {"b", big2}, {"u0", users[0].data}, {"u1", users[1].data}}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		if pk := aws.ToString(got[i].PartitionKey); pk != w.key || !bytes.Equal(got[i].Data, w.data) {
			t.Errorf("record %d: key %q, %d bytes; want key %q, %d bytes as put", i, pk, len(got[i].Data), w.key, len(w.data))
		}
	}
}

// TestOffloadUnderThresholdStaysInline checks the default: a stream that
// sets no threshold offloads nothing a 1 MiB Kinesis record can hold.
func TestOffloadUnderThresholdStaysInline(t *testing.T) {
	ts := startTestServer(t, withOffload)
	dataStream(t, ts, "plain", 1)
	kc := ts.client()
	data := randomBytes(1<<20 - 1)
	if _, err := kc.PutRecord(t.Context(), &awskinesis.PutRecordInput{StreamName: aws.String("plain"), PartitionKey: aws.String("k"), Data: data}); err != nil {
		t.Fatal(err)
	}
	if keys := offloadedObjects(t, ts.store); len(keys) != 0 {
		t.Fatalf("offloaded %q under the default threshold", keys)
	}
	got := readShard(t, kc, "plain", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	if len(got) != 1 || !bytes.Equal(got[0].Data, data) {
		t.Fatalf("read %d records, want the one put", len(got))
	}
}

// TestOffloadMissingPayloadReadsAsPointer: a record whose object is gone
// reads as its pointer record rather than failing the shard.
func TestOffloadMissingPayloadReadsAsPointer(t *testing.T) {
	ts := startTestServer(t, withOffload)
	thresholdStream(t, ts, "gone", 1000)
	kc := ts.client()
	ctx := t.Context()
	for i, n := range []int{5000, 5} {
		if _, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("gone"), PartitionKey: aws.String(fmt.Sprint(i)), Data: randomBytes(n)}); err != nil {
			t.Fatal(err)
		}
	}
	keys := offloadedObjects(t, ts.store)
	if len(keys) != 1 {
		t.Fatalf("offloaded objects: %q, want 1", keys)
	}
	if err := ts.store.DeleteObject(ctx, payloads.DefaultBucket, keys[0]); err != nil {
		t.Fatal(err)
	}
	got := readShard(t, kc, "gone", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	if len(got) != 2 {
		t.Fatalf("read %d records, want 2", len(got))
	}
	if p := pointerIn(t, got[0]); p.Bucket != payloads.DefaultBucket || p.Key != keys[0] {
		t.Errorf("pointer %+v, want %s/%s", p, payloads.DefaultBucket, keys[0])
	}
	if !bytes.HasPrefix(got[0].Data, []byte(`["`+offload.PointerClass+`"`)) {
		t.Errorf("pointer data %s does not name its class first", got[0].Data)
	}
	if len(got[1].Data) != 5 {
		t.Errorf("second record: %d bytes, want 5", len(got[1].Data))
	}
}

// TestOffloadSubscribeToShardRestores: SubscribeToShard shares the read
// path, so its events carry restored payloads too.
func TestOffloadSubscribeToShardRestores(t *testing.T) {
	f := newSubFixture(t, 1, withOffload)
	if _, err := f.ts.store.UpdateStream(t.Context(), f.stream, func(st *store.Stream) error {
		if st.Config == nil {
			st.Config = map[string]string{}
		}
		st.Config[payloads.ConfigThreshold] = "1000"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{randomBytes(4000), []byte("small"), randomBytes(1<<20 - 1)}
	entries := make([]types.PutRecordsRequestEntry, len(want))
	for i, d := range want {
		entries[i] = types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: d}
	}
	if _, err := f.kc.PutRecords(t.Context(), &awskinesis.PutRecordsInput{StreamName: aws.String(f.stream), Records: entries}); err != nil {
		t.Fatal(err)
	}
	if keys := offloadedObjects(t, f.ts.store); len(keys) != 2 {
		t.Fatalf("offloaded objects: %q, want 2", keys)
	}
	es := f.subscribe(t, nil, 0, types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon})
	got := collect(t, es, len(want))
	for i := range want {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Errorf("record %d: %d bytes, not the %d put", i, len(got[i].Data), len(want[i]))
		}
	}
}

// TestOffloadRaisedRecordSize: a stream whose record limit UpdateMaxRecordSize
// raised takes a 5 MiB record, which the default 1 MiB threshold offloads,
// and GetRecords returns it restored.
func TestOffloadRaisedRecordSize(t *testing.T) {
	ts := startTestServer(t, withOffload)
	kc := ts.client()
	ctx := t.Context()
	cpCreate(t, kc, "raised", 1)
	if _, err := kc.UpdateMaxRecordSize(ctx, &awskinesis.UpdateMaxRecordSizeInput{
		StreamARN: aws.String(ts.streamARN("raised")), MaxRecordSizeInKiB: aws.Int32(10240),
	}); err != nil {
		t.Fatal(err)
	}
	data := randomBytes(5 << 20)
	if _, err := kc.PutRecord(ctx, &awskinesis.PutRecordInput{StreamName: aws.String("raised"), PartitionKey: aws.String("k"), Data: data}); err != nil {
		t.Fatal(err)
	}
	if keys := offloadedObjects(t, ts.store); len(keys) != 1 {
		t.Fatalf("offloaded objects: %q, want 1", keys)
	}
	got := readShard(t, kc, "raised", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	if len(got) != 1 || !bytes.Equal(got[0].Data, data) {
		t.Fatalf("read %d records, want the 5 MiB one as put", len(got))
	}
}

// TestOffloadClientPointers: a record a client puts as a pointer in its
// class form, after writing the object itself (the Connect Kinesis sink,
// the extended clients), is stored with its size header in a batch marked
// ClientPointers and read restored, byte for byte, by GetRecords and by a
// Kafka consumer; the object stays. A pointer into the bridge's own
// objects, one whose object is missing and one in the bare object form
// are plain data, read as put.
func TestOffloadClientPointers(t *testing.T) {
	ts := startTestServer(t, withOffload)
	ctx := t.Context()
	if _, err := ts.store.CreateStream(ctx, store.StreamConfig{Name: "ptr", ShardCount: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.CreateBucket(ctx, "client-bucket", store.BucketOptions{}); err != nil {
		t.Fatal(err)
	}
	payload := randomBytes(3 << 20)
	if _, err := ts.store.PutObject(ctx, "client-bucket", "kafka/1", bytes.NewReader(payload), store.PutOptions{Size: int64(len(payload))}); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.store.PutObject(ctx, "client-bucket", store.OffloadPrefix+"x", bytes.NewReader(payload[:10]), store.PutOptions{Size: 10}); err != nil {
		t.Fatal(err)
	}
	good := offload.Encode(offload.Pointer{Bucket: "client-bucket", Key: "kafka/1"})
	reserved := offload.Encode(offload.Pointer{Bucket: "client-bucket", Key: store.OffloadPrefix + "x"})
	missing := offload.Encode(offload.Pointer{Bucket: "client-bucket", Key: "gone"})
	bare := []byte(`{"s3BucketName":"client-bucket","s3Key":"kafka/1"}`)
	kc := ts.client()
	var entries []types.PutRecordsRequestEntry
	for _, d := range [][]byte{[]byte("plain"), good, reserved, missing, bare} {
		entries = append(entries, types.PutRecordsRequestEntry{PartitionKey: aws.String("k"), Data: d})
	}
	put, err := kc.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String("ptr"), Records: entries})
	if err != nil || aws.ToInt32(put.FailedRecordCount) != 0 {
		t.Fatalf("PutRecords: %v, %d failed", err, aws.ToInt32(put.FailedRecordCount))
	}

	res, err := ts.store.Read(ctx, "ptr", 0, 0, store.ReadLimits{})
	if err != nil || len(res.Batches) != 1 {
		t.Fatalf("Read: %d batches, %v", len(res.Batches), err)
	}
	info, recs, err := recordbatch.Decode(res.Batches[0].Raw)
	if err != nil {
		t.Fatal(err)
	}
	if !info.ClientPointers() || info.Offloaded() {
		t.Errorf("batch marks: client pointers %v, offloaded %v; want true, false", info.ClientPointers(), info.Offloaded())
	}
	for i := range recs {
		p, size, ok := payloads.PointerOf(&recs[i])
		if ok != (i == 1) || ok && (p.Key != "kafka/1" || size != int64(len(payload))) {
			t.Errorf("stored record %d: pointer %v %+v size %d", i, ok, p, size)
		}
	}

	got := readShard(t, kc, "ptr", "shardId-000000000000", types.ShardIteratorTypeTrimHorizon, "")
	want := [][]byte{[]byte("plain"), payload, reserved, missing, bare}
	if len(got) != len(want) {
		t.Fatalf("read %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if !bytes.Equal(got[i].Data, want[i]) {
			t.Errorf("record %d: %d bytes (%.40q), want %d (%.40q)", i, len(got[i].Data), got[i].Data, len(want[i]), want[i])
		}
	}
	pieces, _, fits, err := ts.cfg.Offload.RestoreBatch(ctx, "ptr", 0, res.Batches[0].Raw, 0, 8<<20, false, payloads.RestoreOptions{})
	if err != nil || !fits {
		t.Fatalf("RestoreBatch: fits %v, %v", fits, err)
	}
	if _, kafka, err := recordbatch.Decode(bytes.Join(pieces, nil)); err != nil || !bytes.Equal(kafka[1].Value, payload) || len(kafka[1].Headers) != 0 {
		t.Errorf("Kafka view of the client pointer: %v", err)
	}
	if _, err := ts.store.HeadObject(ctx, "client-bucket", "kafka/1"); err != nil {
		t.Errorf("the client's object: %v", err)
	}
}

// TestOffloadClientPointerNeedsRead: with requests authorized, a pointer
// record is restorable only when its sender may s3:GetObject the object;
// otherwise it is plain data, so no one reads an object through a pointer
// they could not read themselves.
func TestOffloadClientPointerNeedsRead(t *testing.T) {
	for _, allowed := range []bool{true, false} {
		t.Run(fmt.Sprintf("s3:GetObject=%v", allowed), func(t *testing.T) {
			a := &awsapitest.RecordingAuthorizer{Allow: func(action, _ string, _ *iampolicy.Policy) bool {
				return action != "s3:GetObject" || allowed
			}}
			ts := startTestServer(t, withOffload, func(c *Config) { c.Authorizer = a })
			ctx := t.Context()
			if _, err := ts.store.CreateStream(ctx, store.StreamConfig{Name: "ptr", ShardCount: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := ts.store.CreateBucket(ctx, "b", store.BucketOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := ts.store.PutObject(ctx, "b", "k", strings.NewReader("payload"), store.PutOptions{Size: 7}); err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(map[string]any{"StreamName": "ptr", "PartitionKey": "k", "Data": offload.Encode(offload.Pointer{Bucket: "b", Key: "k"})})
			if w := call(ts.Handler, "AKID", "PutRecord", string(data)); w.Code != http.StatusOK {
				t.Fatalf("PutRecord: HTTP %d %s", w.Code, w.Body)
			}
			res, err := ts.store.Read(ctx, "ptr", 0, 0, store.ReadLimits{})
			if err != nil {
				t.Fatal(err)
			}
			info, recs, err := recordbatch.Decode(res.Batches[0].Raw)
			if err != nil {
				t.Fatal(err)
			}
			_, _, isPointer := payloads.PointerOf(&recs[0])
			if info.ClientPointers() != allowed || isPointer != allowed {
				t.Fatalf("marked %v, pointer record %v; want %v", info.ClientPointers(), isPointer, allowed)
			}
		})
	}
}
