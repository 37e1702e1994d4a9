package sqs

import (
	"errors"
	"fmt"

	"github.com/streambridge/bridge/store"
)

// Error is a refusal in SQS's own terms. SQS moved from the Query protocol
// to JSON 1.0 and answers in both, with a different name for the same error
// in each (a JSON __type InvalidParameterValueException is the Query code
// InvalidParameterValue, sent to JSON clients in x-amzn-query-error), so an
// Error carries both and the API layer picks.
type Error struct {
	// Type is the error's name in a JSON 1.0 answer (__type), without the
	// com.amazonaws.sqs# namespace.
	Type string
	// QueryCode is the error's code in a Query answer and in the
	// x-amzn-query-error header of a JSON one.
	QueryCode string
	// Message is the text AWS answers with.
	Message string
}

func (e *Error) Error() string { return e.QueryCode + ": " + e.Message }

// Is reports whether target is an Error of the same kind, so callers can
// test errors.Is(err, sqs.ErrInvalidParameterValue) whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Type == e.Type && t.QueryCode == e.QueryCode
}

// The kinds of Error the message rules return, to compare with errors.Is.
// Their messages are empty; the codes are those the SQS service model and
// the real service's answers use.
var (
	// ErrInvalidParameterValue refuses an attribute or a message too large.
	ErrInvalidParameterValue = &Error{Type: "InvalidParameterValueException", QueryCode: "InvalidParameterValue"}
	// ErrMissingParameter refuses an empty message body.
	ErrMissingParameter = &Error{Type: "MissingRequiredParameterException", QueryCode: "MissingParameter"}
	// ErrInvalidMessageContents refuses a body with a character SQS does
	// not allow.
	ErrInvalidMessageContents = &Error{Type: "InvalidMessageContents", QueryCode: "InvalidMessageContents"}
	// ErrUnsupportedOperation refuses attribute list values, reserved by
	// the API but not implemented by SQS.
	ErrUnsupportedOperation = &Error{Type: "UnsupportedOperation", QueryCode: "AWS.SimpleQueueService.UnsupportedOperation"}
	// ErrInvalidAttributeName refuses a queue attribute SQS does not know
	// (or not for this kind of queue, or not in this operation).
	ErrInvalidAttributeName = &Error{Type: "InvalidAttributeName", QueryCode: "InvalidAttributeName"}
	// ErrInvalidAttributeValue refuses a queue attribute's value.
	ErrInvalidAttributeValue = &Error{Type: "InvalidAttributeValue", QueryCode: "InvalidAttributeValue"}
	// ErrQueueNameExists refuses CreateQueue of a name taken by a queue
	// with other attributes.
	ErrQueueNameExists = &Error{Type: "QueueNameExists", QueryCode: "QueueAlreadyExists"}
)

// The errors of a queue whose KMS key (KmsMasterKeyId) cannot be used: the
// JSON types of the SQS model and the Query codes SQS answered with before.
var (
	ErrKmsNotFound     = &Error{Type: "KmsNotFound", QueryCode: "KMS.NotFoundException"}
	ErrKmsDisabled     = &Error{Type: "KmsDisabled", QueryCode: "KMS.DisabledException"}
	ErrKmsInvalidState = &Error{Type: "KmsInvalidState", QueryCode: "KMS.InvalidStateException"}
	ErrKmsAccessDenied = &Error{Type: "KmsAccessDenied", QueryCode: "KMS.AccessDeniedException"}
)

// kmsError words a store error of encryption at rest (store.IsKeyError).
func kmsError(err error) *Error {
	kind := ErrKmsAccessDenied
	switch {
	case errors.Is(err, store.ErrKeyNotFound), errors.Is(err, store.ErrNoKeyring):
		kind = ErrKmsNotFound
	case errors.Is(err, store.ErrKeyDisabled):
		kind = ErrKmsDisabled
	case errors.Is(err, store.ErrKeyInvalidState):
		kind = ErrKmsInvalidState
	}
	return newError(kind, "%v", err)
}

// newError returns an Error of kind's codes with a formatted message.
func newError(kind *Error, format string, args ...any) *Error {
	return &Error{Type: kind.Type, QueryCode: kind.QueryCode, Message: fmt.Sprintf(format, args...)}
}
