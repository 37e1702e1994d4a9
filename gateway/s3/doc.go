// Package s3 serves an S3-style REST API (REST XML, S3's own wire, signing
// name s3) on the AWS port, over the store's objects (store.Objects):
// buckets, objects written and read as streams, multipart uploads, tags,
// checksums. AWS SDKs, the AWS CLI and boto3 talk to it as to S3 with a
// custom endpoint, path-style (/bucket/key) or virtual-host style
// (Host: bucket.<base host>, Config.VirtualHosts).
//
// The package is a translation: a request's method, path and query name
// the operation (route.go), its headers and XML body are decoded here,
// and the store does the work; the store's errors become S3's codes
// (errors.go). Bodies are never whole in memory: an upload is handed to
// the store as a reader (aws-chunked bodies decoded on the way, chunked.go)
// that fails at its end when the body is not what the client signed or
// checksummed, and the store commits only a body read to its end without
// error.
//
// Authorization: with an Authorizer, each operation is the IAM action S3
// names (s3:GetObject, s3:PutObject, s3:ListBucket, ...) on
// arn:aws:s3:::bucket or arn:aws:s3:::bucket/key; see authz.go.
package s3
