package awsapi

// The body encodings of AWS's RPC protocols. JSON is what most SDKs send;
// CBOR is the Java SDK's default for Kinesis (and so KCL's and the KPL's).
// Both decode into the same structs: fxamacker/cbor reads json tags.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/fxamacker/cbor/v2"
)

// Content types of the RPC protocols' bodies.
const (
	ContentTypeJSON10 = "application/x-amz-json-1.0" // SQS, DynamoDB
	ContentTypeJSON11 = "application/x-amz-json-1.1" // Kinesis
	ContentTypeCBOR11 = "application/x-amz-cbor-1.1" // Kinesis from the Java SDK
)

// Codec is one body encoding. Decode reports a body it cannot read as an
// *Error of type SerializationException.
type Codec interface {
	ContentType() string
	Decode(body []byte, v any) error
	Encode(v any) ([]byte, error)
}

// JSON10 and JSON11 are the two versions of AWS's JSON protocol; CBOR is
// CBOR 1.1. JSON10 and JSON11 differ on the wire only in their content
// type. They are distinct types so that a hot path can tell JSON from CBOR
// with a type assertion instead of a call.
type (
	JSON10 struct{ jsonRules }
	JSON11 struct{ jsonRules }
	CBOR   struct{}
)

func (JSON10) ContentType() string { return ContentTypeJSON10 }
func (JSON11) ContentType() string { return ContentTypeJSON11 }

// jsonRules is what both JSON versions decode and encode alike.
type jsonRules struct{}

func (jsonRules) Decode(body []byte, v any) error { return decodeJSON(body, v) }
func (jsonRules) Encode(v any) ([]byte, error)    { return json.Marshal(v) }

func (CBOR) ContentType() string          { return ContentTypeCBOR11 }
func (CBOR) Encode(v any) ([]byte, error) { return cborEnc.Marshal(v) }

func (CBOR) Decode(body []byte, v any) error {
	if len(body) == 0 {
		return nil // AWS accepts an empty body as {}
	}
	if err := cborDec.Unmarshal(body, v); err != nil {
		return SerializationError(err)
	}
	return nil
}

// IsJSON reports whether c is one of the JSON codecs.
func IsJSON(c Codec) bool {
	switch c.(type) {
	case JSON10, JSON11:
		return true
	}
	return false
}

func decodeJSON(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil // AWS accepts an empty body as {}
	}
	d := json.NewDecoder(bytes.NewReader(body))
	if err := d.Decode(v); err != nil {
		return SerializationError(err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return Errorf(http.StatusBadRequest, TypeSerialization, "Unexpected content after the end of the JSON document")
	}
	return nil
}

// The CBOR modes bound what a hostile body can make the decoder allocate,
// and refuse duplicate map keys, which JSON decoding would resolve silently
// and differently.
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

// SerializationError is AWS's answer to a body that does not decode.
func SerializationError(err error) *Error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) {
		return Errorf(http.StatusBadRequest, TypeSerialization, "Unexpected value type for member %s: want %s", ute.Field, ute.Type)
	}
	return Errorf(http.StatusBadRequest, TypeSerialization, "%v", err)
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
