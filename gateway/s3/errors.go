package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/security/sigv4"
	"github.com/streambridge/bridge/store"
)

// S3's error codes this API answers with.
const (
	codeNoSuchBucket       = "NoSuchBucket"
	codeNoSuchKey          = "NoSuchKey"
	codeNoSuchUpload       = "NoSuchUpload"
	codeNoSuchTagSet       = "NoSuchTagSet"
	codeBucketNotEmpty     = "BucketNotEmpty"
	codeBucketOwned        = "BucketAlreadyOwnedByYou"
	codeInvalidBucketName  = "InvalidBucketName"
	codeInvalidRange       = "InvalidRange"
	codeBadDigest          = "BadDigest"
	codeInvalidDigest      = "InvalidDigest"
	codeIncompleteBody     = "IncompleteBody"
	codeInvalidPart        = "InvalidPart"
	codeInvalidPartOrder   = "InvalidPartOrder"
	codeEntityTooSmall     = "EntityTooSmall"
	codeEntityTooLarge     = "EntityTooLarge"
	codeInvalidArgument    = "InvalidArgument"
	codeInvalidRequest     = "InvalidRequest"
	codeMalformedXML       = "MalformedXML"
	codeInvalidTag         = "InvalidTag"
	codeMethodNotAllowed   = "MethodNotAllowed"
	codeNotImplemented     = "NotImplemented"
	codePreconditionFailed = "PreconditionFailed"
	codeAccessDenied       = "AccessDenied"
	codeInternalError      = "InternalError"
	codeSignatureMismatch  = "SignatureDoesNotMatch"
	codeContentSHA256      = "XAmzContentSHA256Mismatch"
)

// s3Err returns an S3 error answer.
func s3Err(status int, code, msg string) *awsapi.Error {
	return &awsapi.Error{Status: status, Type: code, Message: msg}
}

func invalidArgument(msg string) *awsapi.Error {
	return s3Err(http.StatusBadRequest, codeInvalidArgument, msg)
}

// storeErrors are the store's errors as S3 answers them.
var storeErrors = []struct {
	err    error
	status int
	code   string
	msg    string
}{
	{store.ErrBucketNotFound, http.StatusNotFound, codeNoSuchBucket, "The specified bucket does not exist"},
	{store.ErrBucketExists, http.StatusConflict, codeBucketOwned, "Your previous request to create the named bucket succeeded and you already own it."},
	{store.ErrBucketNotEmpty, http.StatusConflict, codeBucketNotEmpty, "The bucket you tried to delete is not empty"},
	{store.ErrObjectNotFound, http.StatusNotFound, codeNoSuchKey, "The specified key does not exist."},
	{store.ErrInvalidRange, http.StatusRequestedRangeNotSatisfiable, codeInvalidRange, "The requested range is not satisfiable"},
	{store.ErrBadDigest, http.StatusBadRequest, codeBadDigest, "The Content-MD5 or checksum value you specified did not match what we received."},
	{store.ErrIncompleteBody, http.StatusBadRequest, codeIncompleteBody, "You did not provide the number of bytes specified by the Content-Length HTTP header."},
	{store.ErrNoSuchUpload, http.StatusNotFound, codeNoSuchUpload, "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."},
	{store.ErrInvalidPart, http.StatusBadRequest, codeInvalidPart, "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag."},
	{store.ErrInvalidPartOrder, http.StatusBadRequest, codeInvalidPartOrder, "The list of parts was not in ascending order. Parts must be ordered by part number."},
	{store.ErrEntityTooSmall, http.StatusBadRequest, codeEntityTooSmall, "Your proposed upload is smaller than the minimum allowed object size."},
}

// errorMap words the errors nothing above names: S3 says NotImplemented
// for what the store cannot do, InternalError for its failures.
var errorMap = awsapi.ErrorMap{
	Unsupported: awsapi.Error{Status: http.StatusNotImplemented, Type: codeNotImplemented},
	Internal:    awsapi.Error{Status: http.StatusInternalServerError, Type: codeInternalError},
}

// errorOf turns an operation's error into S3's answer. An *awsapi.Error
// is its own answer, wherever it is in the chain: the body readers
// (chunked.go) fail with one and the store returns their error wrapped. A
// body whose hash is not the signed one is S3's XAmzContentSHA256Mismatch.
func errorOf(err error) *awsapi.Error {
	var e *awsapi.Error
	if errors.As(err, &e) {
		return e
	}
	var se *sigv4.Error
	if errors.As(err, &se) {
		code, status := se.Code.S3Code()
		return s3Err(status, code, se.Message)
	}
	for _, m := range storeErrors {
		if errors.Is(err, m.err) {
			return s3Err(m.status, m.code, m.msg)
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return s3Err(http.StatusBadRequest, codeEntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	}
	if errors.Is(err, context.Canceled) {
		return s3Err(http.StatusBadRequest, codeIncompleteBody, "The request was cancelled before it completed.")
	}
	return errorMap.Of(err)
}

// errorBody is S3's error document.
type errorBody struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string
	Message    string
	BucketName string `xml:",omitempty"`
	Key        string `xml:",omitempty"`
	UploadID   string `xml:"UploadId,omitempty"`
	Resource   string `xml:",omitempty"`
	RequestID  string `xml:"RequestId"`
	HostID     string `xml:"HostId"`
}

// writeError answers x with e as S3 does: the XML error document, with
// the bucket, key or upload it concerns; a HEAD answer has the status
// alone (S3 sends no body, and SDKs read the code from the status).
func writeError(x *exchange, e *awsapi.Error) {
	h := x.w.Header()
	for _, k := range []string{"Content-Length", "Content-Range", "ETag", "Last-Modified", "Accept-Ranges"} {
		h.Del(k)
	}
	if x.r.Method == http.MethodHead {
		h.Set("x-amz-error-code", e.Type)
		x.w.WriteHeader(e.StatusCode())
		return
	}
	b := errorBody{Code: e.Type, Message: e.Message, Resource: x.r.URL.Path, RequestID: x.requestID, HostID: hostID}
	switch e.Type {
	case codeNoSuchBucket, codeBucketNotEmpty, codeBucketOwned, codeInvalidBucketName:
		b.BucketName = x.bucket
	case codeNoSuchKey:
		b.Key = x.key
	case codeNoSuchUpload:
		b.UploadID = x.query.Get("uploadId")
	}
	body, _ := xml.Marshal(b)
	h.Set("Content-Type", "application/xml")
	x.w.WriteHeader(e.StatusCode())
	_, _ = x.w.Write([]byte(xml.Header))
	_, _ = x.w.Write(body)
}
