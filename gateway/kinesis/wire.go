package kinesis

// The two body encodings Kinesis speaks. JSON 1.1 is what most SDKs send;
// CBOR 1.1 is the Java SDK's default (and so KCL's and the KPL's). Both
// decode into the same structs: fxamacker/cbor reads json tags.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

const (
	contentTypeJSON = "application/x-amz-json-1.1"
	contentTypeCBOR = "application/x-amz-cbor-1.1"
)

// codec is one body encoding.
type codec interface {
	contentType() string
	decode(body []byte, v any) error
	encode(v any) ([]byte, error)
}

type jsonCodec struct{}

func (jsonCodec) contentType() string { return contentTypeJSON }

func (jsonCodec) decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil // AWS accepts an empty body as {}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return serializationError(err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return newError(errSerialization, "Unexpected content after the end of the JSON document")
	}
	return nil
}

func (jsonCodec) encode(v any) ([]byte, error) { return json.Marshal(v) }

type cborCodec struct{}

var (
	cborDec = func() cbor.DecMode {
		m, err := cbor.DecOptions{
			MaxNestedLevels:  32,
			MaxArrayElements: 100_000,
			MaxMapPairs:      100_000,
			DupMapKey:        cbor.DupMapKeyEnforcedAPF,
		}.DecMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
	cborEnc = func() cbor.EncMode {
		m, err := cbor.EncOptions{}.EncMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
)

func (cborCodec) contentType() string { return contentTypeCBOR }

func (cborCodec) decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil
	}
	if err := cborDec.Unmarshal(body, v); err != nil {
		return serializationError(err)
	}
	return nil
}

func (cborCodec) encode(v any) ([]byte, error) { return cborEnc.Marshal(v) }

// codecFor picks the codec for a request's Content-Type. AWS SDKs send
// application/x-amz-json-1.1; some tools send application/json.
func codecFor(contentType string) (codec, bool) {
	switch contentType {
	case contentTypeJSON, "application/json", "":
		return jsonCodec{}, true
	case contentTypeCBOR, "application/cbor":
		return cborCodec{}, true
	}
	return nil, false
}

func serializationError(err error) *Error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return newError(errSerialization, "Unexpected value type for member %s: want %s", ute.Field, ute.Type)
	}
	return newError(errSerialization, "%v", err)
}

// Timestamp is a point in time on the wire: epoch seconds as a JSON number
// (fractional, millisecond precision), or in CBOR tag 1 around epoch
// milliseconds, the Java SDK's form. Decoding also takes what clients send
// in practice: JSON numbers or numeric strings, CBOR integers or floats,
// tagged or not.
type Timestamp struct{ time.Time }

func (t Timestamp) MarshalJSON() ([]byte, error) {
	ms := t.UnixMilli()
	return strconv.AppendFloat(nil, float64(ms)/1000, 'f', -1, 64), nil
}

func (t *Timestamp) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if tt, perr := time.Parse(time.RFC3339Nano, s); perr == nil {
			t.Time = tt
			return nil
		}
		return fmt.Errorf("timestamp %s: not epoch seconds", b)
	}
	t.Time = fromEpochSeconds(f)
	return nil
}

func (t Timestamp) MarshalCBOR() ([]byte, error) {
	return cborEnc.Marshal(cbor.Tag{Number: 1, Content: t.UnixMilli()})
}

func (t *Timestamp) UnmarshalCBOR(b []byte) error {
	var raw cbor.RawTag
	var content any
	if err := cborDec.Unmarshal(b, &raw); err == nil {
		if raw.Number != 1 {
			return fmt.Errorf("timestamp: unexpected CBOR tag %d", raw.Number)
		}
		if err := cborDec.Unmarshal(raw.Content, &content); err != nil {
			return err
		}
	} else if err := cborDec.Unmarshal(b, &content); err != nil {
		return err
	}
	switch n := content.(type) {
	case uint64:
		t.Time = time.UnixMilli(int64(min(n, math.MaxInt64)))
	case int64:
		t.Time = time.UnixMilli(n)
	case float64:
		t.Time = time.UnixMilli(int64(n))
	case nil:
	default:
		return fmt.Errorf("timestamp: unexpected CBOR value %T", content)
	}
	return nil
}

func fromEpochSeconds(f float64) time.Time {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e3))*1e6)
}
