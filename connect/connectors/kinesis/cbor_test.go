package kinesis

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/fxamacker/cbor/v2"
)

// TestCBORTimesAndData: the timestamp and data forms services send.
func TestCBORTimesAndData(t *testing.T) {
	ms := time.UnixMilli(1_733_400_000_123)
	times := []struct {
		name string
		v    any
		want time.Time
		bad  bool
	}{
		{"tag 1 around milliseconds (AWS)", cbor.Tag{Number: 1, Content: ms.UnixMilli()}, ms, false},
		{"seconds with a fraction (kinesalite)", 1_733_400_000.123, ms, false},
		{"whole seconds", uint64(1_733_400_000), time.Unix(1_733_400_000, 0), false},
		{"text", "yesterday", time.Time{}, true},
		{"negative", -5, time.Time{}, true},
	}
	for _, c := range times {
		b, err := cborEncode.Marshal(c.v)
		if err != nil {
			t.Fatal(err)
		}
		var got cborTime
		err = got.UnmarshalCBOR(b)
		if (err != nil) != c.bad || !got.Equal(c.want) {
			t.Errorf("%s: %v, %v; want %v (error %v)", c.name, got.Time, err, c.want, c.bad)
		}
	}
	long := bytes.Repeat([]byte("x"), 70000)
	for _, c := range []struct {
		v    any
		want []byte
	}{{[]byte("hello"), []byte("hello")}, {"aGVsbG8=", []byte("hello")}, {long, long}, {[]byte{}, []byte{}}} {
		b, _ := cborEncode.Marshal(c.v)
		var got cborBlob
		if err := got.UnmarshalCBOR(b); err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%.20v: %.20q, %v", c.v, got, err)
		}
	}
	// A byte string in chunks (indefinite length) is read too.
	chunked := []byte{0x5f, 0x42, 'h', 'e', 0x43, 'l', 'l', 'o', 0xff}
	var got cborBlob
	if err := got.UnmarshalCBOR(chunked); err != nil || string(got) != "hello" {
		t.Errorf("chunks: %q, %v", got, err)
	}
	for _, v := range []any{[]byte("hello"), "aGVsbG8="} {
		b, _ := cborEncode.Marshal(v)
		var got cborBlob
		if err := got.UnmarshalCBOR(b); err != nil || string(got) != "hello" {
			t.Errorf("%v: %q, %v", v, got, err)
		}
	}
	b, _ := cborEncode.Marshal("not base64!")
	var blob cborBlob
	if err := blob.UnmarshalCBOR(b); err == nil {
		t.Error("text that is not base64 decoded")
	}
}

// TestCBORErrorsKeepTheirTypes: an error answered in CBOR reaches the
// connector as the SDK's typed error, as in JSON.
func TestCBORErrorsKeepTheirTypes(t *testing.T) {
	for _, kind := range targetKinds {
		t.Run(kind.name, func(t *testing.T) {
			tg := kind.start(t)
			tg.createStream(t, "errs", 1)
			cl := awskinesis.New(tg.client.Options(), withCBOR)
			_, err := cl.GetRecords(context.Background(), &awskinesis.GetRecordsInput{ShardIterator: aws.String("bm90IGFuIGl0ZXJhdG9y")})
			var invalid *types.InvalidArgumentException
			if !errors.As(err, &invalid) {
				t.Fatalf("GetRecords with a bad iterator: %v (%T), want InvalidArgumentException", err, err)
			}
		})
	}
}

// FuzzCBORGetRecords: any answer body decodes or fails cleanly.
func FuzzCBORGetRecords(f *testing.F) {
	good, _ := cborEncode.Marshal(map[string]any{
		"Records": []any{map[string]any{"SequenceNumber": "1", "Data": []byte("x"), "PartitionKey": "k",
			"ApproximateArrivalTimestamp": cbor.Tag{Number: 1, Content: 1733400000123}}},
		"NextShardIterator": "it", "MillisBehindLatest": 0,
		"ChildShards": []any{map[string]any{"ShardId": "s", "ParentShards": []string{"p"},
			"HashKeyRange": map[string]any{"StartingHashKey": "0", "EndingHashKey": "9"}}},
	})
	text, _ := cborEncode.Marshal(map[string]any{"Records": []any{map[string]any{"Data": "eA==", "ApproximateArrivalTimestamp": 1.5}}})
	for _, seed := range [][]byte{good, text, {0xa0}, {0xbf}, nil} {
		f.Add(seed)
	}
	p := &cborProtocol{}
	f.Fuzz(func(t *testing.T, body []byte) {
		resp := &smithyhttp.Response{Response: &http.Response{StatusCode: 200,
			Header: http.Header{"Content-Type": {contentTypeCBOR}}, ContentLength: int64(len(body)),
			Body: io.NopCloser(bytes.NewReader(body))}}
		var out awskinesis.GetRecordsOutput
		_ = p.DeserializeResponse(context.Background(), nil, nil, resp, &out)
	})
}
