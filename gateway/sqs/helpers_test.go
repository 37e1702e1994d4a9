package sqs

import (
	"errors"
	"testing"
)

func str(s string) *string { return &s }

// sendMessageRequest is the part of an SQS JSON 1.0 SendMessage request
// the message rules look at.
type sendMessageRequest struct {
	MessageBody             string
	MessageAttributes       MessageAttributes
	MessageSystemAttributes MessageSystemAttributes
}

func invalid(format string, args ...any) *Error {
	return newError(ErrInvalidParameterValue, format, args...)
}

func strAttr(dataType, value string) MessageAttributeValue {
	return MessageAttributeValue{DataType: dataType, StringValue: &value}
}

func binAttr(dataType string, value []byte) MessageAttributeValue {
	return MessageAttributeValue{DataType: dataType, BinaryValue: value}
}

// checkError fails t unless err is nil when want is nil, or else an *Error
// of want's kind with want's message.
func checkError(t *testing.T, err error, want *Error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want nil", err)
		}
		return
	}
	var got *Error
	if !errors.As(err, &got) {
		t.Fatalf("err = %v (%T), want *Error %v", err, err, want)
	}
	if !errors.Is(err, want) || got.Message != want.Message {
		t.Fatalf("err = %#v\nwant  %#v", got, want)
	}
}
