package s3

// Authorization and auditing of S3 requests (Config.Authorizer,
// Config.Audit). Each operation is the IAM action S3 documents for it
// (route.go's table: s3:GetObject for GetObject and HeadObject,
// s3:ListBucket for the listings and HeadBucket, s3:PutObject for every
// write of an object, multipart ones included) on arn:aws:s3:::BUCKET for
// bucket operations and arn:aws:s3:::BUCKET/KEY for object ones;
// ListBuckets is s3:ListAllMyBuckets on "*". CopyObject and UploadPartCopy
// also need s3:GetObject on the source, DeleteObjects s3:DeleteObject on
// each key (a denied key is reported in the answer, as S3 does). S3 ARNs
// have no region or account.

import (
	"context"
	"net/http"

	"github.com/streambridge/bridge/gateway/awsapi"
)

func bucketARN(bucket string) string { return "arn:aws:s3:::" + bucket }

func objectARN(bucket, key string) string { return "arn:aws:s3:::" + bucket + "/" + key }

// authorize decides x's operation on the resource it addresses.
func (h *Handler) authorize(x *exchange) error {
	if h.cfg.Authorizer == nil && (h.cfg.Audit == nil || !x.op.control) {
		return nil
	}
	x.action, x.resource = x.op.action, "*"
	switch {
	case x.op == opDeleteObjects:
		return nil // each key is decided alone (deleteObjects)
	case x.op == opListBuckets:
	case x.key == "":
		x.resource = bucketARN(x.bucket)
	default:
		x.resource = objectARN(x.bucket, x.key)
	}
	return h.check(x, x.action, x.resource)
}

// check decides one action on one resource for x's principal.
func (h *Handler) check(x *exchange, action, resource string) error {
	c := awsapi.Check{Source: "s3", Op: x.op.name, Action: action, Resource: resource, DeniedCode: codeAccessDenied}
	if d := awsapi.Authorize(x.r.Context(), h.cfg.Authorizer, h.cfg.Audit, h.log, x.r, c); d != nil {
		x.denied = true
		return s3Err(http.StatusForbidden, codeAccessDenied, d.Message(false))
	}
	return nil
}

// allowed reports whether x's principal may do action on resource,
// without refusing x (DeleteObjects' keys, a copy's source).
func (h *Handler) allowed(ctx context.Context, x *exchange, action, resource string) bool {
	c := awsapi.Check{Source: "s3", Op: x.op.name, Action: action, Resource: resource, DeniedCode: codeAccessDenied}
	return awsapi.Authorize(ctx, h.cfg.Authorizer, h.cfg.Audit, h.log, x.r, c) == nil
}

// audit records a control-plane call that was let through, with the
// code it was answered with ("" for success).
func (h *Handler) audit(x *exchange, code, msg string) {
	if h.cfg.Audit == nil || x.denied || x.op == nil || !x.op.control {
		return
	}
	resource := x.resource
	if resource == "" {
		resource = bucketARN(x.bucket)
	}
	awsapi.RecordCall(x.r.Context(), h.cfg.Audit, x.r, "s3", x.op.name, x.op.action, resource, code, msg)
}
