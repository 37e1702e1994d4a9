// Package offload is the wire form of payloads kept in an object store: the
// pointer a record or message carries instead of its payload, as AWS's
// extended clients write and read it (the SQS Extended Client Library for
// Java and Python, the Payload Offloading library), and the receipt handles
// in which the Java client carries the pointer so that DeleteMessage can
// delete the object too. Pure encoding: no I/O, nothing else of this
// module.
//
// The pointer is the JSON Jackson writes for the payload offloading
// library's PayloadS3Pointer, with its class name first:
//
//	["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"B","s3Key":"K"}]
//
// Decoding also takes any JSON whitespace (the Python client's json.dumps
// puts spaces after separators) and the first Java client's form, an object
// alone: {"s3BucketName":"B","s3Key":"K"}, which it marked with the
// SQSLargePayloadSize message attribute rather than a class name. The
// bridge writes the same pointer into Kinesis records and Kafka records it
// offloads, so one parser reads them all.
package offload

import (
	"bytes"
	"encoding/json"
	"strings"
)

// PointerClass is the class name that opens a pointer.
const PointerClass = "software.amazon.payloadoffloading.PayloadS3Pointer"

// The SQS message attributes that mark an offloaded message and hold the
// payload's size in bytes (a Number): the current clients' and the first
// Java client's.
const (
	AttrPayloadSize       = "ExtendedPayloadSize"
	AttrLegacyPayloadSize = "SQSLargePayloadSize"
)

// Receipt handle markers of the Java extended client.
const (
	bucketMarker = "-..s3BucketName..-"
	keyMarker    = "-..s3Key..-"
)

// MaxPointerSize bounds what Decode looks at: a pointer names a bucket (at
// most 63 bytes) and a key (at most 1024 bytes of UTF-8, which JSON may
// escape to six bytes a byte), so anything longer is a payload.
const MaxPointerSize = 8 << 10

// Pointer names the object that holds a payload.
type Pointer struct {
	Bucket string `json:"s3BucketName"`
	Key    string `json:"s3Key"`
}

// Encode returns p as Jackson writes it.
func Encode(p Pointer) []byte {
	b, _ := json.Marshal([]any{PointerClass, p}) // strings only: cannot fail
	return b
}

// Decode reads a pointer in either form. ok is false for anything else,
// including a pointer with an empty bucket or key, so a payload that only
// looks like one is left alone.
func Decode(b []byte) (p Pointer, ok bool) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || len(b) > MaxPointerSize {
		return Pointer{}, false
	}
	switch b[0] {
	case '[':
		var parts []json.RawMessage
		if json.Unmarshal(b, &parts) != nil || len(parts) != 2 {
			return Pointer{}, false
		}
		var class string
		if json.Unmarshal(parts[0], &class) != nil || class != PointerClass {
			return Pointer{}, false
		}
		b = parts[1]
	case '{':
	default:
		return Pointer{}, false
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(b, &fields) != nil || len(fields) != 2 {
		return Pointer{}, false
	}
	if json.Unmarshal(fields["s3BucketName"], &p.Bucket) != nil || json.Unmarshal(fields["s3Key"], &p.Key) != nil {
		return Pointer{}, false
	}
	if p.Bucket == "" || p.Key == "" {
		return Pointer{}, false
	}
	return p, true
}

// EmbedInReceiptHandle returns handle with p in front of it, as the Java
// extended client makes the handles it hands to its callers.
func EmbedInReceiptHandle(p Pointer, handle string) string {
	return bucketMarker + p.Bucket + bucketMarker + keyMarker + p.Key + keyMarker + handle
}

// SplitReceiptHandle undoes EmbedInReceiptHandle: the pointer and the
// handle SQS issued. ok is false for a handle without a pointer.
func SplitReceiptHandle(h string) (p Pointer, handle string, ok bool) {
	rest, found := strings.CutPrefix(h, bucketMarker)
	if !found {
		return Pointer{}, h, false
	}
	bucket, rest, found := strings.Cut(rest, bucketMarker+keyMarker)
	if !found {
		return Pointer{}, h, false
	}
	key, handle, found := strings.Cut(rest, keyMarker)
	if !found || bucket == "" || key == "" {
		return Pointer{}, h, false
	}
	return Pointer{Bucket: bucket, Key: key}, handle, true
}
