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
//   - QueryProtocol, the Query protocol (SQS's XML API): form parameters
//     (Action=X&...) decoded into the input structs JSON decodes, and an
//     output struct encoded as the <XResponse><XResult>...</XResult>
//     <ResponseMetadata>... answer, by botocore's QuerySerializer and
//     QueryParser rules (query.go, queryxml.go, queryshape.go);
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
//     rest with an error of the request's own protocol (router.go); with an
//     Authenticator it first checks the request's SigV4 signature for that
//     API (security/sigv4), answers a refusal in the API's words and hands
//     the API the principal in the request's context, PrincipalFrom
//     (auth.go).
//
// Where the Query name of a member differs from its json name, a query
// tag says so, as SQS's do:
//
//	Attributes map[string]string `json:"Attributes" query:"Attribute,flat,entry=Name/Value"`
//	Entries    []Entry           `json:"Entries" query:"SendMessageBatchRequestEntry,flat"`
//
// The name (default: the json name, then the field's) is the member's key
// in a form and its element in XML; "-" skips the field. flat drops the
// level that lists and maps otherwise have (Name.member.N, Name.entry.N;
// SQS flattens all of its own); member=M renames that level of a list, and
// entry=K/V names the key and value of a map's entries (default key/value).
// Each type's tags are read once and cached.
//
// Request ids are random version 4 UUIDs from internal/uuid.
//
// awsapi knows no API's operations and no store: APIs depend on it, never
// the other way round, and never on each other.
package awsapi
