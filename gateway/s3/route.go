package s3

// Routing: S3 names an operation by the method, whether the request
// addresses a bucket or a key, and its subresource (a query parameter:
// ?tagging, ?uploads, ?delete, ?location), so the table is read in that
// order.

import (
	"net/http"
	"net/url"
	"strconv"
)

// operation is one S3 operation.
type operation struct {
	name string
	// action is the IAM action (s3:GetObject), on the bucket or object
	// the request addresses (authz.go).
	action string
	fn     func(h *Handler, x *exchange) error
	// control marks operations the audit log records when let through:
	// those that create, delete or reconfigure a bucket.
	control bool
	// refusal answers a request no operation serves (fn nil).
	refusal error
}

func (o *operation) nameOr(r *http.Request) string {
	if o == nil || o.name == "" {
		return r.Method
	}
	return o.name
}

var (
	opListBuckets          = &operation{name: "ListBuckets", action: "s3:ListAllMyBuckets", fn: (*Handler).listBuckets}
	opCreateBucket         = &operation{name: "CreateBucket", action: "s3:CreateBucket", fn: (*Handler).createBucket, control: true}
	opDeleteBucket         = &operation{name: "DeleteBucket", action: "s3:DeleteBucket", fn: (*Handler).deleteBucket, control: true}
	opHeadBucket           = &operation{name: "HeadBucket", action: "s3:ListBucket", fn: (*Handler).headBucket}
	opGetBucketLocation    = &operation{name: "GetBucketLocation", action: "s3:GetBucketLocation", fn: (*Handler).getBucketLocation}
	opPutBucketTagging     = &operation{name: "PutBucketTagging", action: "s3:PutBucketTagging", fn: (*Handler).putBucketTagging, control: true}
	opGetBucketTagging     = &operation{name: "GetBucketTagging", action: "s3:GetBucketTagging", fn: (*Handler).getBucketTagging}
	opDeleteBucketTagging  = &operation{name: "DeleteBucketTagging", action: "s3:PutBucketTagging", fn: (*Handler).deleteBucketTagging, control: true}
	opListObjects          = &operation{name: "ListObjects", action: "s3:ListBucket", fn: (*Handler).listObjectsV1}
	opListObjectsV2        = &operation{name: "ListObjectsV2", action: "s3:ListBucket", fn: (*Handler).listObjectsV2}
	opListMultipartUploads = &operation{name: "ListMultipartUploads", action: "s3:ListBucketMultipartUploads", fn: (*Handler).listMultipartUploads}
	opDeleteObjects        = &operation{name: "DeleteObjects", action: "s3:DeleteObject", fn: (*Handler).deleteObjects}

	opPutObject               = &operation{name: "PutObject", action: "s3:PutObject", fn: (*Handler).putObject}
	opCopyObject              = &operation{name: "CopyObject", action: "s3:PutObject", fn: (*Handler).copyObject}
	opGetObject               = &operation{name: "GetObject", action: "s3:GetObject", fn: (*Handler).getObject}
	opHeadObject              = &operation{name: "HeadObject", action: "s3:GetObject", fn: (*Handler).getObject}
	opDeleteObject            = &operation{name: "DeleteObject", action: "s3:DeleteObject", fn: (*Handler).deleteObject}
	opPutObjectTagging        = &operation{name: "PutObjectTagging", action: "s3:PutObjectTagging", fn: (*Handler).putObjectTagging}
	opGetObjectTagging        = &operation{name: "GetObjectTagging", action: "s3:GetObjectTagging", fn: (*Handler).getObjectTagging}
	opDeleteObjectTagging     = &operation{name: "DeleteObjectTagging", action: "s3:DeleteObjectTagging", fn: (*Handler).deleteObjectTagging}
	opCreateMultipartUpload   = &operation{name: "CreateMultipartUpload", action: "s3:PutObject", fn: (*Handler).createMultipartUpload}
	opUploadPart              = &operation{name: "UploadPart", action: "s3:PutObject", fn: (*Handler).uploadPart}
	opUploadPartCopy          = &operation{name: "UploadPartCopy", action: "s3:PutObject", fn: (*Handler).uploadPartCopy}
	opCompleteMultipartUpload = &operation{name: "CompleteMultipartUpload", action: "s3:PutObject", fn: (*Handler).completeMultipartUpload}
	opAbortMultipartUpload    = &operation{name: "AbortMultipartUpload", action: "s3:AbortMultipartUpload", fn: (*Handler).abortMultipartUpload}
	opListParts               = &operation{name: "ListParts", action: "s3:ListMultipartUploadParts", fn: (*Handler).listParts}
)

// unsupportedSubresources are S3's other subresources: a request naming
// one is an operation this API does not have (NotImplemented), not the
// plain operation on the bucket or object.
var unsupportedSubresources = []string{
	"accelerate", "acl", "analytics", "attributes", "cors", "encryption", "intelligent-tiering",
	"inventory", "legal-hold", "lifecycle", "logging", "metadataTable", "metrics", "notification",
	"object-lock", "ownershipControls", "policy", "policyStatus", "publicAccessBlock", "replication",
	"requestPayment", "restore", "retention", "select", "session", "torrent", "versioning", "versions", "website",
}

// route is the operation of a request; one with no fn carries the
// refusal to answer with.
func route(method, bucket, key string, q url.Values, hdr http.Header) *operation {
	has := func(k string) bool { _, ok := q[k]; return ok }
	for _, s := range unsupportedSubresources {
		if has(s) {
			return refused(http.StatusNotImplemented, codeNotImplemented, "The ?"+s+" subresource is not implemented by this bridge.")
		}
	}
	switch {
	case bucket == "":
		if method == http.MethodGet {
			return opListBuckets
		}
	case key == "":
		switch method {
		case http.MethodPut:
			if has("tagging") {
				return opPutBucketTagging
			}
			return opCreateBucket
		case http.MethodDelete:
			if has("tagging") {
				return opDeleteBucketTagging
			}
			return opDeleteBucket
		case http.MethodHead:
			return opHeadBucket
		case http.MethodGet:
			switch {
			case has("location"):
				return opGetBucketLocation
			case has("tagging"):
				return opGetBucketTagging
			case has("uploads"):
				return opListMultipartUploads
			case q.Get("list-type") == "2":
				return opListObjectsV2
			}
			return opListObjects
		case http.MethodPost:
			if has("delete") {
				return opDeleteObjects
			}
		}
	default:
		switch method {
		case http.MethodPut:
			switch {
			case has("tagging"):
				return opPutObjectTagging
			case has("uploadId") && has("partNumber") && hdr.Get("x-amz-copy-source") != "":
				return opUploadPartCopy
			case has("uploadId") && has("partNumber"):
				return opUploadPart
			case hdr.Get("x-amz-copy-source") != "":
				return opCopyObject
			}
			return opPutObject
		case http.MethodGet:
			switch {
			case has("tagging"):
				return opGetObjectTagging
			case has("uploadId"):
				return opListParts
			}
			return opGetObject
		case http.MethodHead:
			return opHeadObject
		case http.MethodDelete:
			switch {
			case has("tagging"):
				return opDeleteObjectTagging
			case has("uploadId"):
				return opAbortMultipartUpload
			}
			return opDeleteObject
		case http.MethodPost:
			switch {
			case has("uploads"):
				return opCreateMultipartUpload
			case has("uploadId"):
				return opCompleteMultipartUpload
			}
		}
	}
	return refused(http.StatusMethodNotAllowed, codeMethodNotAllowed, "The specified method is not allowed against this resource.")
}

func refused(status int, code, msg string) *operation {
	return &operation{refusal: s3Err(status, code, msg)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
