package kinesis

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/fxamacker/cbor/v2"
)

// fastSeeds are answers of the shapes services send, and near misses.
func fastSeeds(t testing.TB) [][]byte {
	type record struct {
		SequenceNumber              string
		ApproximateArrivalTimestamp cbor.Tag
		Data                        []byte
		PartitionKey                string
	}
	enc := func(v any) []byte {
		b, err := cborEncode.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	recs := []record{
		{"49590338271490256608559692538361571095921575989136588898", cbor.Tag{Number: 1, Content: uint64(1733400000123)}, []byte("hello"), "k1"},
		{"49590338271490256608559692538361571095921575989136588899", cbor.Tag{Number: 1, Content: 1733400000.5}, []byte{}, "k2"},
	}
	return append([][]byte{
		enc(struct {
			Records            []record
			NextShardIterator  string
			MillisBehindLatest int64
		}{recs, "it", 1000}),
		enc(map[string]any{"Records": []any{}, "NextShardIterator": nil, "MillisBehindLatest": 0}),
		enc(map[string]any{"Records": []any{map[string]any{"SequenceNumber": "1", "EncryptionType": "KMS", "Data": []byte("x")}}}),
		// The codec's: ChildShards, base64 text data, a bare timestamp,
		// a key in another case, a repeated key.
		enc(map[string]any{"Records": []any{}, "ChildShards": []any{map[string]any{"ShardId": "s"}}}),
		enc(map[string]any{"Records": []any{map[string]any{"Data": "eA=="}}}),
		enc(map[string]any{"Records": []any{map[string]any{"ApproximateArrivalTimestamp": 1.5}}}),
		enc(map[string]any{"records": []any{}}),
		{0xa2, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x80, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x80},
		{0xa0}, {0xbf, 0xff}, nil,
	}, timestampEdges()...)
}

// timestampEdges are answers of one record whose timestamp is tag 1 around
// numbers at the edges: huge, not a number, negative, past 2^53.
func timestampEdges() [][]byte {
	var out [][]byte
	for _, n := range [][]byte{
		{0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0x1b, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01},
		{0xfb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0},
		{0xfb, 0xbf, 0xf0, 0, 0, 0, 0, 0, 0},
		{0xfb, 0x7e, 0x37, 0xe4, 0x3c, 0x88, 0x00, 0x75, 0x9c},
		{0xf9, 0x3c, 0x00},
	} {
		b := []byte{0xa1, 0x67, 'R', 'e', 'c', 'o', 'r', 'd', 's', 0x81, 0xa1, 0x78, 27}
		b = append(b, "ApproximateArrivalTimestamp"...)
		b = append(append(b, 0xc1), n...)
		out = append(out, b)
	}
	return out
}

// TestFastCBORTakesWhatServicesSend: the answers AWS and the bridge send
// are decoded in one pass, to what the codec decodes.
func TestFastCBORTakesWhatServicesSend(t *testing.T) {
	for i, body := range fastSeeds(t)[:3] {
		var fast, codec getRecordsAnswer
		if !fast.decodeFast(body) {
			t.Fatalf("seed %d: not decoded in one pass", i)
		}
		if err := cborDecode.Unmarshal(body, &codec); err != nil || !reflect.DeepEqual(fast, codec) {
			t.Fatalf("seed %d: one pass %+v, codec %+v (%v)", i, fast, codec, err)
		}
	}

	// The bridge's own answers, as the source reads them.
	tg := startBridge(t)
	tg.createStream(t, "fast", 1)
	tg.put(t, "fast", entries("rec", 20, 3))
	shards, err := tg.client.ListShards(t.Context(), &awskinesis.ListShardsInput{StreamName: aws.String("fast")})
	if err != nil {
		t.Fatal(err)
	}
	it, err := tg.client.GetShardIterator(t.Context(), &awskinesis.GetShardIteratorInput{StreamName: aws.String("fast"),
		ShardId: shards.Shards[0].ShardId, ShardIteratorType: types.ShardIteratorTypeTrimHorizon})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := cborEncode.Marshal(getRecordsRequest{ShardIterator: aws.ToString(it.ShardIterator)})
	hreq, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, tg.url, bytes.NewReader(req))
	hreq.Header.Set("X-Amz-Target", targetPrefix+"GetRecords")
	hreq.Header.Set("Content-Type", contentTypeCBOR)
	hreq.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var fast getRecordsAnswer
	if resp.StatusCode != 200 || !fast.decodeFast(body) || len(fast.Records) != 20 || fast.Records[0].ApproximateArrivalTimestamp.IsZero() {
		t.Fatalf("the bridge's answer (%d, %d bytes) is not decoded in one pass: %+v", resp.StatusCode, len(body), fast)
	}
}

// FuzzGetRecordsFastCBOR: whatever the one-pass decoder accepts, the codec
// decodes to the same answer.
func FuzzGetRecordsFastCBOR(f *testing.F) {
	for _, seed := range fastSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast getRecordsAnswer
		if !fast.decodeFast(body) {
			return
		}
		var codec getRecordsAnswer
		if err := cborDecode.Unmarshal(body, &codec); err != nil {
			t.Fatalf("one pass decoded %x, the codec refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(fast, codec) {
			t.Fatalf("%x: one pass %+v, codec %+v", body, fast, codec)
		}
	})
}

// BenchmarkGetRecordsDecode decodes an answer of 1000 records of 1 KiB, as
// the bench's copies read, in one pass and with the codec.
func BenchmarkGetRecordsDecode(b *testing.B) {
	type record struct {
		SequenceNumber              string
		ApproximateArrivalTimestamp cbor.Tag
		Data                        []byte
		PartitionKey                string
	}
	recs := make([]record, 1000)
	for i := range recs {
		recs[i] = record{"49590338271490256608559692538361571095921575989136588898", cbor.Tag{Number: 1, Content: uint64(1733400000123)},
			bytes.Repeat([]byte{byte(i)}, 1024), "key-123456"}
	}
	body, err := cborEncode.Marshal(struct {
		Records            []record
		NextShardIterator  string
		MillisBehindLatest int64
	}{recs, "iterator", 1000})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("one-pass", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var a getRecordsAnswer
			if !a.decodeFast(body) {
				b.Fatal("not decoded")
			}
		}
	})
	b.Run("codec", func(b *testing.B) {
		b.SetBytes(int64(len(body)))
		for b.Loop() {
			var a getRecordsAnswer
			if err := cborDecode.Unmarshal(body, &a); err != nil {
				b.Fatal(err)
			}
		}
	})
}
