package kinesis

// Kinesis speaks CBOR as well as JSON (application/x-amz-cbor-1.1): the
// Java SDK, and so KCL and the KPL, use it by default, and so do the
// emulators (kinesalite, LocalStack). In CBOR record data travels as byte
// strings; in JSON as base64 text that the Go SDK decodes through its
// generic document parser, which made GetRecords the copy's bottleneck
// (README: "bridge bench connect"). cborProtocol puts GetRecords in CBOR
// and leaves every other call, and every error, to the SDK's JSON protocol.
// PutRecords stays JSON: kinesalite keeps data put in CBOR as raw buffers
// and then answers JSON readers with {"type":"Buffer",...} instead of
// base64, and the sink is not held back by JSON (README).

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/fxamacker/cbor/v2"
)

const (
	contentTypeCBOR = "application/x-amz-cbor-1.1"
	targetPrefix    = "Kinesis_20131202."
	// maxCBORAnswer bounds what a GetRecords answer may make us read: the
	// service's own limit is 10 MiB of data per call (base64 or not), plus
	// the records' keys and sequence numbers.
	maxCBORAnswer = 64 << 20
)

// withCBOR makes a client's GetRecords speak CBOR.
func withCBOR(o *awskinesis.Options) {
	o.Protocol = &cborProtocol{json: o.Protocol}
}

// cborProtocol is the SDK's client protocol with GetRecords in CBOR.
type cborProtocol struct {
	json smithyhttp.ClientProtocol
}

var _ smithyhttp.ClientProtocol = (*cborProtocol)(nil)

// The CBOR modes bound what a hostile answer can make the decoder allocate.
var (
	cborDecode = func() cbor.DecMode {
		m, err := cbor.DecOptions{MaxNestedLevels: 16, MaxArrayElements: 100_000, MaxMapPairs: 1_000}.DecMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
	cborEncode = func() cbor.EncMode {
		m, err := cbor.EncOptions{}.EncMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
)

func (p *cborProtocol) ID() smithy.ShapeID { return p.json.ID() }

// The request and answer bodies, keyed as the service keys them.
type (
	getRecordsRequest struct {
		ShardIterator string
		Limit         int32  `cbor:",omitempty"`
		StreamARN     string `cbor:",omitempty"`
	}
	getRecordsAnswer struct {
		Records            []cborRecord
		NextShardIterator  *string
		MillisBehindLatest *int64
		ChildShards        []cborChildShard
	}
	cborRecord struct {
		SequenceNumber              string
		ApproximateArrivalTimestamp cborTime
		Data                        cborBlob
		PartitionKey                string
		EncryptionType              string
	}
	cborChildShard struct {
		ShardId      string
		ParentShards []string
		HashKeyRange struct{ StartingHashKey, EndingHashKey string }
	}
)

// SerializeRequest implements smithyhttp.ClientProtocol.
func (p *cborProtocol) SerializeRequest(ctx context.Context, schema *smithy.OperationSchema, in smithy.Serializable, req *smithyhttp.Request) error {
	var body any
	switch in := in.(type) {
	case *awskinesis.GetRecordsInput:
		body = getRecordsRequest{ShardIterator: aws.ToString(in.ShardIterator), Limit: aws.ToInt32(in.Limit), StreamARN: aws.ToString(in.StreamARN)}
	default:
		return p.json.SerializeRequest(ctx, schema, in, req)
	}
	b, err := cborEncode.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode %s in CBOR: %w", schema.ID().Name, err)
	}
	req.Method = http.MethodPost
	if req.URL.Path == "" {
		req.URL.Path = "/"
	}
	req.Header.Set("X-Amz-Target", targetPrefix+schema.ID().Name)
	req.Header.Set("Content-Type", contentTypeCBOR)
	sreq, err := req.SetStream(bytes.NewReader(b))
	if err != nil {
		return err
	}
	*req = *sreq
	return nil
}

// DeserializeResponse implements smithyhttp.ClientProtocol. An answer the
// service gave in JSON, and every error, goes to the JSON protocol (errors
// after turning a CBOR body into JSON), so errors keep the SDK's types.
func (p *cborProtocol) DeserializeResponse(ctx context.Context, schema *smithy.OperationSchema, reg *smithy.TypeRegistry, resp *smithyhttp.Response, out smithy.Deserializable) error {
	records, ok := out.(*awskinesis.GetRecordsOutput)
	if !ok {
		return p.json.DeserializeResponse(ctx, schema, reg, resp, out)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != contentTypeCBOR {
		return p.json.DeserializeResponse(ctx, schema, reg, resp, out)
	}
	body, err := readBody(ctx, resp)
	if err != nil {
		return &smithy.DeserializationError{Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return p.jsonError(ctx, schema, reg, resp, body, out)
	}
	var a getRecordsAnswer
	if !a.decodeFast(body) {
		a = getRecordsAnswer{}
		if err := cborDecode.Unmarshal(body, &a); err != nil {
			return &smithy.DeserializationError{Err: err}
		}
	}
	a.fill(records)
	return nil
}

// readBody reads an answer whole: its length is known, so one buffer of
// the right size (the SDK's JSON path grows a buffer by doubling), the
// source task's to reuse when ctx has its answerSlot (answers.go).
func readBody(ctx context.Context, resp *smithyhttp.Response) ([]byte, error) {
	if resp.ContentLength > maxCBORAnswer {
		return nil, fmt.Errorf("answer of %d bytes is over %d", resp.ContentLength, maxCBORAnswer)
	}
	if resp.ContentLength >= 0 {
		b := answerBuffer(ctx, int(resp.ContentLength))
		_, err := io.ReadFull(resp.Body, b)
		return b, err
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxCBORAnswer+1))
	if err == nil && len(b) > maxCBORAnswer {
		err = fmt.Errorf("answer is over %d bytes", maxCBORAnswer)
	}
	return b, err
}

// jsonError hands a CBOR error answer to the JSON protocol as JSON.
func (p *cborProtocol) jsonError(ctx context.Context, schema *smithy.OperationSchema, reg *smithy.TypeRegistry, resp *smithyhttp.Response, body []byte, out smithy.Deserializable) error {
	var fields map[string]any
	if err := cborDecode.Unmarshal(body, &fields); err != nil {
		fields = map[string]any{}
	}
	asJSON := map[string]any{}
	for k, v := range fields {
		if s, ok := v.(string); ok {
			asJSON[k] = s
		}
	}
	b, _ := json.Marshal(asJSON)
	jresp := *resp.Response
	jresp.Header = resp.Header.Clone()
	jresp.Header.Set("Content-Type", "application/x-amz-json-1.1")
	jresp.Body = io.NopCloser(bytes.NewReader(b))
	jresp.ContentLength = int64(len(b))
	return p.json.DeserializeResponse(ctx, schema, reg, &smithyhttp.Response{Response: &jresp}, out)
}

func (a *getRecordsAnswer) fill(out *awskinesis.GetRecordsOutput) {
	out.NextShardIterator, out.MillisBehindLatest = a.NextShardIterator, a.MillisBehindLatest
	out.Records = make([]types.Record, len(a.Records))
	for i := range a.Records {
		r := &a.Records[i]
		out.Records[i] = types.Record{
			Data: r.Data, PartitionKey: &r.PartitionKey, SequenceNumber: &r.SequenceNumber,
			EncryptionType: types.EncryptionType(r.EncryptionType),
		}
		if !r.ApproximateArrivalTimestamp.IsZero() {
			out.Records[i].ApproximateArrivalTimestamp = &r.ApproximateArrivalTimestamp.Time
		}
	}
	for _, c := range a.ChildShards {
		out.ChildShards = append(out.ChildShards, types.ChildShard{
			ShardId: aws.String(c.ShardId), ParentShards: c.ParentShards,
			HashKeyRange: &types.HashKeyRange{StartingHashKey: aws.String(c.HashKeyRange.StartingHashKey), EndingHashKey: aws.String(c.HashKeyRange.EndingHashKey)},
		})
	}
}

// cborBlob is record data: a byte string from AWS and the bridge, text (the
// base64 it keeps) from kinesalite.
type cborBlob []byte

func (b *cborBlob) UnmarshalCBOR(data []byte) error {
	if raw, ok := byteString(data); ok {
		*b = raw
		return nil
	}
	if len(data) > 0 && data[0]>>5 == 2 { // a byte string in chunks
		return cborDecode.Unmarshal(data, (*[]byte)(b))
	}
	var text string
	if err := cborDecode.Unmarshal(data, &text); err != nil {
		return fmt.Errorf("record data: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(text)
	if err != nil {
		return fmt.Errorf("record data: text that is not base64: %w", err)
	}
	*b = raw
	return nil
}

// byteString returns the content of data when it is exactly one definite
// byte string, without copying: the decoder hands an Unmarshaler a slice
// of the answer's body, which the records then share (one allocation per
// answer rather than one per record).
func byteString(data []byte) ([]byte, bool) {
	if len(data) == 0 || data[0]>>5 != 2 {
		return nil, false
	}
	var n uint64
	head := 1
	switch ai := data[0] & 0x1f; {
	case ai < 24:
		n = uint64(ai)
	case ai == 24 && len(data) >= 2:
		n, head = uint64(data[1]), 2
	case ai == 25 && len(data) >= 3:
		n, head = uint64(binary.BigEndian.Uint16(data[1:])), 3
	case ai == 26 && len(data) >= 5:
		n, head = uint64(binary.BigEndian.Uint32(data[1:])), 5
	case ai == 27 && len(data) >= 9:
		n, head = binary.BigEndian.Uint64(data[1:]), 9
	default:
		return nil, false
	}
	if uint64(len(data)-head) != n {
		return nil, false
	}
	return data[head:len(data):len(data)], true
}

// cborTime is a timestamp as services write it in CBOR: AWS (and the
// bridge) tag 1 around epoch milliseconds, the Java SDK's form rather than
// RFC 8949's seconds; kinesalite a bare number of seconds. A number below
// 1e11 is read as seconds (as milliseconds it would be in 1973).
type cborTime struct{ time.Time }

func (t *cborTime) UnmarshalCBOR(b []byte) error {
	if len(b) > 0 && b[0] == 0xc1 { // tag 1
		b = b[1:]
	}
	var n float64
	if err := cborDecode.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("timestamp: %w", err)
	}
	var err error
	t.Time, err = epochTime(n)
	return err
}

// epochTime is the time n (seconds below 1e11, else milliseconds) names.
func epochTime(n float64) (time.Time, error) {
	switch {
	case math.IsNaN(n) || math.IsInf(n, 0) || n < 0:
		return time.Time{}, fmt.Errorf("timestamp: %v", n)
	case n < 1e11:
		sec, frac := math.Modf(n)
		return time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6), nil
	}
	return time.UnixMilli(int64(n)), nil
}

// The event stream calls (SubscribeToShard) stay JSON.

func (p *cborProtocol) HasInitialEventMessage() bool { return p.json.HasInitialEventMessage() }

func (p *cborProtocol) SerializeEventMessage(schema, variant *smithy.Schema, v smithy.Serializable, w io.Writer) error {
	return p.json.SerializeEventMessage(schema, variant, v, w)
}

func (p *cborProtocol) DeserializeEventMessage(schema *smithy.Schema, reg *smithy.TypeRegistry, r io.Reader) (smithy.Deserializable, error) {
	return p.json.DeserializeEventMessage(schema, reg, r)
}

func (p *cborProtocol) SerializeInitialRequest(schema *smithy.Schema, v smithy.Serializable, w io.Writer) error {
	return p.json.SerializeInitialRequest(schema, v, w)
}

func (p *cborProtocol) DeserializeInitialResponse(schema *smithy.Schema, r io.Reader, out smithy.Deserializable) error {
	return p.json.DeserializeInitialResponse(schema, r, out)
}
