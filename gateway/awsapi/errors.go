package awsapi

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error is an AWS error answer: an HTTP status, the error's type and a
// message. Operations return it as their error; the API writes it in the
// shape of the request's protocol (WriteJSON, WriteQuery, WriteRESTXML).
type Error struct {
	// Status is the HTTP status; zero means 400.
	Status int
	// Type names the error: __type in a JSON answer
	// (ResourceNotFoundException, com.amazonaws.sqs#QueueDoesNotExist), and
	// Code in an XML one unless QueryCode is set.
	Type    string
	Message string
	// QueryCode is the error's code in the Query protocol when it differs
	// from Type (AWS.SimpleQueueService.NonExistentQueue): Code in a Query
	// answer, and x-amzn-query-error in a JSON one, which is how SDKs of a
	// service that moved from Query to JSON (SQS) still see the old codes.
	QueryCode string
}

// Errorf returns an Error with a formatted message.
func Errorf(status int, typ, format string, args ...any) *Error {
	return &Error{Status: status, Type: typ, Message: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string { return e.Type + ": " + e.Message }

// Error types and codes more than one API answers with.
const (
	TypeSerialization    = "SerializationException"
	TypeValidation       = "ValidationException"
	TypeUnknownOperation = "UnknownOperationException"
	TypeInternalFailure  = "InternalFailure"
	// CodeInvalidAction and CodeMissingAction are the Query protocol's
	// answers to an Action no API serves, and to no Action at all.
	CodeInvalidAction = "InvalidAction"
	CodeMissingAction = "MissingAction"
)

// Headers of AWS answers.
const (
	HeaderRequestID  = "x-amzn-RequestId"
	HeaderErrorType  = "x-amzn-ErrorType"
	HeaderQueryError = "x-amzn-query-error"
)

// StatusCode is e's HTTP status.
func (e *Error) StatusCode() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// Fault says whose fault the error is, in the Query protocol's words:
// Receiver for a server error (5xx), Sender otherwise.
func (e *Error) Fault() string {
	if e.StatusCode() >= 500 {
		return "Receiver"
	}
	return "Sender"
}

// code is the error's Code in the Query protocol.
func (e *Error) code() string {
	if e.QueryCode != "" {
		return e.QueryCode
	}
	return e.Type
}

type jsonErrorBody struct {
	Type    string `json:"__type"`
	Message string `json:"message,omitempty"`
}

// WriteJSON writes e the way the JSON (and CBOR) RPC protocols do:
// {"__type": ..., "message": ...} in codec c, the type again in
// x-amzn-ErrorType, and x-amzn-query-error when e has a QueryCode.
func (e *Error) WriteJSON(w http.ResponseWriter, c Codec) {
	// A message may quote what the client sent (a header, a value), which
	// need not be UTF-8: encoding/json repairs it, but the CBOR encoder
	// would write a text string clients refuse to decode.
	body, err := c.Encode(jsonErrorBody{Type: strings.ToValidUTF8(e.Type, "\uFFFD"), Message: strings.ToValidUTF8(e.Message, "\uFFFD")})
	if err != nil {
		body = []byte(`{"__type":"InternalFailure"}`)
	}
	h := w.Header()
	h.Set("Content-Type", c.ContentType())
	h.Set(HeaderErrorType, e.Type)
	if e.QueryCode != "" {
		h.Set(HeaderQueryError, e.QueryCode+";"+e.Fault())
	}
	w.WriteHeader(e.StatusCode())
	_, _ = w.Write(body)
}

type queryErrorBody struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr,omitempty"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// WriteQuery writes e the way the Query protocol does (SQS's XML API):
//
//	<ErrorResponse><Error><Type>Sender</Type><Code>...</Code>
//	<Message>...</Message></Error><RequestId>...</RequestId></ErrorResponse>
func (e *Error) WriteQuery(w http.ResponseWriter, requestID string) {
	e.writeQuery(w, requestID, "")
}

// writeQuery is WriteQuery with the API's namespace on the root element,
// as AWS writes it; SDKs find the error without it, so only an exchange
// that knows its API's namespace (Exchange.WriteError) adds it.
func (e *Error) writeQuery(w http.ResponseWriter, requestID, namespace string) {
	b := queryErrorBody{Xmlns: namespace, RequestID: requestID}
	b.Error.Type, b.Error.Code, b.Error.Message = e.Fault(), e.code(), e.Message
	writeXML(w, "text/xml", e.StatusCode(), b)
}

type restErrorBody struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string
	Message   string
	RequestID string `xml:"RequestId"`
}

// WriteRESTXML writes e the way REST-XML APIs (S3) do:
//
//	<Error><Code>...</Code><Message>...</Message><RequestId>...</RequestId></Error>
//
// with the request id in S3's header too, where S3 SDKs read it.
func (e *Error) WriteRESTXML(w http.ResponseWriter, requestID string) {
	w.Header().Set("x-amz-request-id", requestID)
	writeXML(w, "application/xml", e.StatusCode(), restErrorBody{Code: e.code(), Message: e.Message, RequestID: requestID})
}

func writeXML(w http.ResponseWriter, contentType string, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		// Only plain strings go in, which always marshal.
		panic(err)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write([]byte(xml.Header))
	_, _ = w.Write(body)
}

// ErrorMap turns whatever error an operation returns into the API's
// answer. An *Error is its own answer. A backend that cannot do an
// operation (a store without it, or an AWS service behind the bridge that
// lacks it) gets Unsupported, so each API says so in its own words; anything
// else is a failure of the bridge and gets Internal.
type ErrorMap struct {
	// Unsupported is the answer's status, type and query code; its message
	// is the error's text. AWS's words: Kinesis 400
	// InvalidArgumentException; SQS 400 AWS.SimpleQueueService.UnsupportedOperation
	// (QueryCode; JSON type com.amazonaws.sqs#UnsupportedOperation); S3 501
	// NotImplemented. A zero Unsupported means Internal.
	Unsupported Error
	// IsUnsupported recognises those errors; nil means errors.Is(err,
	// errors.ErrUnsupported), which a store's own sentinel may wrap.
	IsUnsupported func(error) bool
	// Internal is the answer to any other error; zero means 500
	// InternalFailure (S3 says InternalError).
	Internal Error
}

// Of returns err as the API's *Error.
func (m *ErrorMap) Of(err error) *Error {
	var e *Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	answer := m.Internal
	if answer.Type == "" {
		answer = Error{Status: http.StatusInternalServerError, Type: TypeInternalFailure}
	}
	if m.Unsupported.Type != "" && m.isUnsupported(err) {
		answer = m.Unsupported
	}
	answer.Message = err.Error()
	return &answer
}

func (m *ErrorMap) isUnsupported(err error) bool {
	if m.IsUnsupported != nil {
		return m.IsUnsupported(err)
	}
	return errors.Is(err, errors.ErrUnsupported)
}
