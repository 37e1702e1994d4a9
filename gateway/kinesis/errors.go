package kinesis

import (
	"errors"
	"net/http"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/store"
)

// Error is an AWS error response: HTTP status, __type and message.
type Error = awsapi.Error

func newError(typ, format string, args ...any) *Error {
	return awsapi.Errorf(http.StatusBadRequest, typ, format, args...)
}

// The error types Kinesis answers with.
const (
	errResourceNotFound     = "ResourceNotFoundException"
	errResourceInUse        = "ResourceInUseException"
	errInvalidArgument      = "InvalidArgumentException"
	errValidation           = awsapi.TypeValidation
	errLimitExceeded        = "LimitExceededException"
	errExpiredIterator      = "ExpiredIteratorException"
	errExpiredNextToken     = "ExpiredNextTokenException"
	errThroughputExceeded   = "ProvisionedThroughputExceededException"
	errUnknownOperation     = awsapi.TypeUnknownOperation
	errSerialization        = awsapi.TypeSerialization
	errAccessDenied         = "AccessDeniedException"
	errInternalFailure      = awsapi.TypeInternalFailure
	errKMSInvalidState      = "KMSInvalidStateException"
	errKMSNotFound          = "KMSNotFoundException"
	errKMSDisabled          = "KMSDisabledException"
	errKMSAccessDenied      = "KMSAccessDeniedException"
	errMissingAction        = "MissingAction"
	errIncompleteSignature  = "IncompleteSignatureException"
	errInvalidContentType   = "InvalidContentTypeException"
	errUnsupportedMediaType = "UnsupportedMediaTypeException"
)

func resourceNotFound(format string, args ...any) *Error {
	return newError(errResourceNotFound, format, args...)
}

func resourceInUse(format string, args ...any) *Error {
	return newError(errResourceInUse, format, args...)
}

func invalidArgument(format string, args ...any) *Error {
	return newError(errInvalidArgument, format, args...)
}

func limitExceeded(format string, args ...any) *Error {
	return newError(errLimitExceeded, format, args...)
}

// streamNotFound is AWS's message for a stream that does not exist.
func (h *Handler) streamNotFound(name string) *Error {
	return resourceNotFound("Stream %s under account %s not found.", name, h.cfg.Account)
}

// storeError translates a store error about stream name into the API's
// error; errors it does not know become InternalFailure (HTTP 500).
func (h *Handler) storeError(name string, err error) *Error {
	var e *Error
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, store.ErrStreamNotFound):
		return h.streamNotFound(name)
	case errors.Is(err, store.ErrStreamExists):
		return resourceInUse("Stream %s under account %s already exists.", name, h.cfg.Account)
	case errors.Is(err, store.ErrShardNotFound):
		return resourceNotFound("Could not find shard in stream %s under account %s.", name, h.cfg.Account)
	case errors.Is(err, store.ErrInvalidArgument), errors.Is(err, store.ErrShardClosed),
		errors.Is(err, store.ErrOffsetOutOfRange):
		return invalidArgument("%v", err)
	case errors.Is(err, store.ErrKeyNotFound), errors.Is(err, store.ErrNoKeyring):
		return newError(errKMSNotFound, "Stream %s under account %s: %v", name, h.cfg.Account, err)
	case errors.Is(err, store.ErrKeyDisabled):
		return newError(errKMSDisabled, "Stream %s under account %s: %v", name, h.cfg.Account, err)
	case errors.Is(err, store.ErrKeyInvalidState):
		return newError(errKMSInvalidState, "Stream %s under account %s: %v", name, h.cfg.Account, err)
	case errors.Is(err, store.ErrKeyAccessDenied):
		return newError(errKMSAccessDenied, "Stream %s under account %s: %v", name, h.cfg.Account, err)
	}
	return errorMap.Of(err)
}

// errorMap words the errors no operation chose: Kinesis answers a backend
// that cannot do something with InvalidArgumentException, as AWS does for
// features a stream's mode lacks, and anything else with InternalFailure.
var errorMap = awsapi.ErrorMap{
	Unsupported: Error{Status: http.StatusBadRequest, Type: errInvalidArgument},
	Internal:    Error{Status: http.StatusInternalServerError, Type: errInternalFailure},
}
