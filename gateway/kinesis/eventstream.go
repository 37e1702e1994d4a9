package kinesis

// The response side of an AWS event stream (application/vnd.amazon.eventstream),
// as SubscribeToShard sends it. Each message is framed by the SDK's own
// encoder: a prelude (total length, headers length, prelude CRC32), typed
// headers, the payload and a CRC32 of everything before it. Three kinds are
// sent here:
//
//	:message-type=event      :event-type=initial-response      payload {}
//	:message-type=event      :event-type=SubscribeToShardEvent payload the event
//	:message-type=exception  :exception-type=<AWS error type>  payload {"message": ...}
//
// Every message carries :content-type, the request's body encoding, and
// payloads use that encoding (JSON 1.1 or CBOR), as Kinesis does.

import (
	"errors"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream/eventstreamapi"
)

// contentTypeEventStream is the response Content-Type of an event stream.
const contentTypeEventStream = "application/vnd.amazon.eventstream"

// eventTypeInitialResponse names the first event of every RPC-protocol event
// stream; aws-sdk-go-v2 refuses a stream that does not start with it.
const eventTypeInitialResponse = "initial-response"

// eventWriter writes event stream messages to an HTTP response, flushing
// each one so it reaches the client at once. It is not safe for concurrent
// use: one goroutine owns a stream.
type eventWriter struct {
	w     http.ResponseWriter
	rc    *http.ResponseController
	codec codec
	enc   *eventstream.Encoder
	// started is set once the 200 and the headers are out: from then on
	// errors travel as exception messages, not HTTP statuses.
	started bool
}

func newEventWriter(w http.ResponseWriter, c codec) *eventWriter {
	return &eventWriter{w: w, rc: http.NewResponseController(w), codec: c, enc: eventstream.NewEncoder()}
}

// start sends the response status and headers and the initial-response
// event. The write deadline, if the server set one, is lifted: a
// subscription legitimately writes for minutes.
func (ew *eventWriter) start() error {
	_ = ew.rc.SetWriteDeadline(time.Time{}) // not every writer supports deadlines
	ew.w.Header().Set("Content-Type", contentTypeEventStream)
	ew.w.WriteHeader(http.StatusOK)
	ew.started = true
	return ew.event(eventTypeInitialResponse, struct{}{})
}

// event sends one event message whose payload is v in the stream's codec.
func (ew *eventWriter) event(eventType string, v any) error {
	payload, err := ew.codec.Encode(v)
	if err != nil {
		return err
	}
	var msg eventstream.Message
	msg.Headers.Set(eventstreamapi.EventTypeHeader, eventstream.StringValue(eventType))
	msg.Headers.Set(eventstreamapi.ContentTypeHeader, eventstream.StringValue(ew.codec.ContentType()))
	msg.Headers.Set(eventstreamapi.MessageTypeHeader, eventstream.StringValue(eventstreamapi.EventMessageType))
	msg.Payload = payload
	return ew.write(msg)
}

// exception sends e as an exception message, the way a stream that has
// started reports an error; the stream ends after it.
func (ew *eventWriter) exception(e *Error) error {
	payload, err := ew.codec.Encode(exceptionBody{Message: e.Message})
	if err != nil {
		return err
	}
	var msg eventstream.Message
	msg.Headers.Set(eventstreamapi.ExceptionTypeHeader, eventstream.StringValue(e.Type))
	msg.Headers.Set(eventstreamapi.ContentTypeHeader, eventstream.StringValue(ew.codec.ContentType()))
	msg.Headers.Set(eventstreamapi.MessageTypeHeader, eventstream.StringValue(eventstreamapi.ExceptionMessageType))
	msg.Payload = payload
	return ew.write(msg)
}

// exceptionBody is an exception message's payload: the type travels in the
// :exception-type header.
type exceptionBody struct {
	Message string `json:"message"`
}

func (ew *eventWriter) write(msg eventstream.Message) error {
	if err := ew.enc.Encode(ew.w, msg); err != nil {
		return err
	}
	if err := ew.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}
