package kinesis

// The two body encodings Kinesis speaks, from awsapi. JSON 1.1 is what most
// SDKs send; CBOR 1.1 is the Java SDK's default (and so KCL's and the
// KPL's).

import "github.com/streambridge/bridge/gateway/awsapi"

const (
	contentTypeJSON = awsapi.ContentTypeJSON11
	contentTypeCBOR = awsapi.ContentTypeCBOR11
)

type (
	codec     = awsapi.Codec
	jsonCodec = awsapi.JSON11
	cborCodec = awsapi.CBOR
)

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

// Timestamp is a point in time on the wire: epoch seconds in JSON, CBOR tag
// 1 around epoch milliseconds (see awsapi.Timestamp).
type Timestamp = awsapi.Timestamp
