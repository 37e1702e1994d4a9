package kinesis

// The event-stream framing of SubscribeToShard, checked byte by byte.

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/fxamacker/cbor/v2"
)

// rawSubscribe posts a SubscribeToShard request encoded with c and returns
// the response.
func rawSubscribe(t *testing.T, ts *testServer, c codec, body any) *http.Response {
	t.Helper()
	return ts.post(t, "SubscribeToShard", c, body)
}

// frameReader decodes event stream messages with the SDK's decoder and
// checks each message's framing by hand too: total length, prelude CRC and
// message CRC.
type frameReader struct {
	t   *testing.T
	raw bytes.Buffer
	r   io.Reader
	dec *eventstream.Decoder
}

func newFrameReader(t *testing.T, body io.Reader) *frameReader {
	fr := &frameReader{t: t, dec: eventstream.NewDecoder()}
	fr.r = io.TeeReader(body, &fr.raw)
	return fr
}

func (fr *frameReader) next() (eventstream.Message, error) {
	fr.raw.Reset()
	msg, err := fr.dec.Decode(fr.r, nil)
	if err != nil {
		return msg, err
	}
	b := fr.raw.Bytes()
	if total := binary.BigEndian.Uint32(b[0:4]); int(total) != len(b) {
		fr.t.Errorf("prelude total length %d, message is %d bytes", total, len(b))
	}
	if want, got := crc32.ChecksumIEEE(b[0:8]), binary.BigEndian.Uint32(b[8:12]); want != got {
		fr.t.Errorf("prelude CRC %08x, want %08x", got, want)
	}
	if want, got := crc32.ChecksumIEEE(b[:len(b)-4]), binary.BigEndian.Uint32(b[len(b)-4:]); want != got {
		fr.t.Errorf("message CRC %08x, want %08x", got, want)
	}
	return msg, nil
}

func header(m eventstream.Message, name string) string {
	if v := m.Headers.Get(name); v != nil {
		return v.String()
	}
	return ""
}

// TestSubscribeToShardFraming checks the raw response of a JSON and a CBOR
// subscription: the status and Content-Type, the initial-response event,
// the headers of every message, the CRCs, and payloads in the request's
// encoding.
func TestSubscribeToShardFraming(t *testing.T) {
	for _, c := range []codec{jsonCodec{}, cborCodec{}} {
		t.Run(c.ContentType(), func(t *testing.T) {
			f := newSubFixture(t, 1)
			seqs := f.put(t, "k1", "k2")
			resp := rawSubscribe(t, f.ts, c, map[string]any{
				"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000",
				"StartingPosition": map[string]any{"Type": "TRIM_HORIZON"},
			})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != contentTypeEventStream {
				t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			fr := newFrameReader(t, resp.Body)
			first, err := fr.next()
			if err != nil {
				t.Fatal(err)
			}
			if header(first, ":message-type") != "event" || header(first, ":event-type") != "initial-response" || header(first, ":content-type") != c.ContentType() {
				t.Fatalf("first message headers %v", first.Headers)
			}
			var empty map[string]any
			if err := c.Decode(first.Payload, &empty); err != nil || len(empty) != 0 {
				t.Fatalf("initial-response payload %q (%v), want {}", first.Payload, err)
			}

			type record struct {
				SequenceNumber string
				Data           []byte // base64 in JSON, a byte string in CBOR
				PartitionKey   string
			}
			var got []record
			for len(got) < 3 {
				msg, err := fr.next()
				if err != nil {
					t.Fatal(err)
				}
				if header(msg, ":message-type") != "event" || header(msg, ":event-type") != "SubscribeToShardEvent" || header(msg, ":content-type") != c.ContentType() {
					t.Fatalf("event headers %v", msg.Headers)
				}
				if c.ContentType() == contentTypeCBOR {
					if err := cbor.Wellformed(msg.Payload); err != nil {
						t.Fatalf("payload is not CBOR: %v", err)
					}
				} else if !json.Valid(msg.Payload) {
					t.Fatalf("payload is not JSON: %q", msg.Payload)
				}
				var ev struct {
					Records                    []record
					ContinuationSequenceNumber string
					MillisBehindLatest         *int64
				}
				if err := c.Decode(msg.Payload, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.MillisBehindLatest == nil || ev.ContinuationSequenceNumber != ev.Records[len(ev.Records)-1].SequenceNumber {
					t.Errorf("event without MillisBehindLatest or with ContinuationSequenceNumber %s: %q", ev.ContinuationSequenceNumber, msg.Payload)
				}
				got = append(got, ev.Records...)
				if len(got) == 2 {
					seqs = append(seqs, f.put(t, "k3")...)
				}
			}
			for i, r := range got {
				want := []string{"k1#0", "k2#1", "k3#0"}[i]
				if r.SequenceNumber != seqs[i] || string(r.Data) != want || r.PartitionKey != want[:2] {
					t.Errorf("record %d: %+v, want %s %q %s", i, r, seqs[i], want, want[:2])
				}
			}
		})
	}
}

// TestSubscribeToShardExceptionFraming: an exception after the stream has
// started is an exception message with the AWS type in :exception-type.
func TestSubscribeToShardExceptionFraming(t *testing.T) {
	f := newSubFixture(t, 1)
	resp := rawSubscribe(t, f.ts, jsonCodec{}, map[string]any{
		"ConsumerARN": f.consumerARN, "ShardId": "shardId-000000000000",
		"StartingPosition": map[string]any{"Type": "LATEST"},
	})
	fr := newFrameReader(t, resp.Body)
	if _, err := fr.next(); err != nil {
		t.Fatal(err)
	}
	if err := f.ts.store.DeleteStream(t.Context(), f.stream); err != nil {
		t.Fatal(err)
	}
	msg, err := fr.next()
	if err != nil {
		t.Fatal(err)
	}
	if header(msg, ":message-type") != "exception" || header(msg, ":exception-type") != errResourceNotFound {
		t.Fatalf("headers %v, want a ResourceNotFoundException exception", msg.Headers)
	}
	var body map[string]string
	if err := json.Unmarshal(msg.Payload, &body); err != nil || !strings.Contains(body["message"], f.stream) {
		t.Fatalf("payload %q (%v)", msg.Payload, err)
	}
	if _, err := fr.next(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the exception: %v, want the end of the stream", err)
	}
}
