// Package awsapi is the AWS protocol layer the bridge's AWS-style front ends
// share (Kinesis now; SQS and the S3-style API next), so that each of them
// only says what its operations do:
//
//   - codecs for JSON 1.0/1.1 and CBOR bodies, with the decode rules AWS
//     services keep (an empty body is {}, content after the document is
//     refused), and Timestamp, a time in either encoding (codec.go);
//   - Error, an HTTP status, an error type and a message, and its three wire
//     shapes: a JSON __type body, a Query <ErrorResponse> and a REST-XML
//     (S3) <Error>; ErrorMap turns any other error into an API's own words,
//     a backend that cannot do an operation included (errors.go);
//   - ARNs: parsing, printing, and ARNScope for the ARNs of one service in
//     one region and account (arn.go);
//   - the Query protocol (query.go, queryxml.go, queryshape.go):
//     QueryProtocol decodes form parameters (Action=X&...) into the same
//     input structs JSON decodes, and encodes an output struct as the
//     <XResponse><XResult>...</XResult><ResponseMetadata>... answer,
//     following botocore's QuerySerializer and QueryParser. Where the Query
//     name of a member differs from its json one, a query tag says so:
//
//     Attributes map[string]string `json:"Attributes" query:"Attribute,flat,entry=Name/Value"`
//     Entries    []Entry           `json:"Entries" query:"SendMessageBatchRequestEntry,flat"`
//
//     The name (default: the json name, then the field's) is the member's
//     key prefix and element name; "-" skips the field. flat drops the
//     level lists and maps otherwise have (Name.member.N, Name.entry.N;
//     SQS flattens all of its own); member=M renames that level of a list,
//     entry=K/V names a map entry's key and value (default key/value).
//     Types are read once and cached;
//   - Registry, the operations of one API by name, decoding each request
//     into a typed input and encoding the typed output (registry.go). An
//     Exchange whose Query is set is a Query request, so the same
//     registered operations serve JSON and Query: Exchange.Decode,
//     Respond and WriteError follow the request's protocol;
//   - Violations, field checks worded as AWS words them ("1 validation error
//     detected: Value '...' at 'streamName' failed to satisfy constraint:
//     ...") (validate.go);
//   - Router, the http.Handler of the AWS port: it sends a request to the
//     API that serves it, by X-Amz-Target prefix (JSON protocols), by the
//     Action parameter (Query protocol) or by path (REST), and answers the
//     rest with an error of the request's own protocol (router.go).
//
// Request ids are random version 4 UUIDs from internal/uuid.
//
// awsapi knows no API's operations and no store: APIs depend on it, never
// the other way round, and never on each other.
package awsapi
