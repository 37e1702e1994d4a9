// Package kinesis serves the Amazon Kinesis Data Streams API over the
// store: AWS SDKs, the AWS CLI and KCL talk to it unchanged, and see the same
// streams and records as Kafka clients.
//
// # Wire
//
// Every operation is a POST to / naming it in X-Amz-Target
// (Kinesis_20131202.PutRecord). Bodies are JSON 1.1
// (application/x-amz-json-1.1; blobs base64, timestamps epoch seconds as
// numbers) or CBOR (application/x-amz-cbor-1.1, what the Java SDK and so KCL
// send; blobs as byte strings, timestamps as tag 1 around epoch
// milliseconds). A response uses the request's encoding. The codecs are
// gateway/awsapi's, like the error shapes, ARNs, the operation registry and
// the validation wording, which every AWS-style API shares; wire.go picks
// the codecs Kinesis accepts. Request and response shapes are plain structs
// with json tags, which the CBOR codec honours too.
//
// Errors are HTTP 400 with {"__type": "...", "message": "..."} and AWS's
// type names (errors.go). Field checks use AWS's wording: "1 validation
// error detected: Value null at 'streamName' failed to satisfy constraint:
// Member must not be null" (validate.go).
//
// # Operations
//
// One file per group of operations, each opening with what the operations do
// and where they differ from AWS. An operation registers itself in init:
//
//	func init() { register("PutRecord", putRecord) }
//	func putRecord(ctx context.Context, h *Handler, req *putRecordInput) (*putRecordOutput, error)
//
// register decodes the body into the handler's input type, so a handler
// starts from a typed request and returns a typed response or an *Error.
//
// # Model
//
// A Kinesis stream is a store stream; a shard is a store shard; a record's
// sequence number is mapping.SequenceNumber(shard index, Kafka offset), so
// Kafka offsets and sequence numbers convert both ways without an index.
// Kinesis metadata that only this API reads (tags, stream mode, encryption,
// enhanced monitoring, max record size, warm throughput, record
// distribution strategy, resource policy, status) lives in the stream's
// Config under keys starting with "kinesis."; consumers and the account's
// settings live in the store's state area.
package kinesis
