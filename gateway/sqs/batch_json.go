package sqs

// A decoder for the JSON body of SendMessageBatch, the busiest request:
// up to 10 message bodies of up to 1 MiB together, where encoding/json
// (which scans a body twice and copies each string) took a sixth of the
// server's CPU under load. It accepts the shape SDKs send for messages
// without attributes, and gives up on anything else (attributes, \u
// escapes, numbers that are not plain integers), leaving that body to
// encoding/json; FuzzSendMessageBatchFastJSON holds what it accepts to
// decode exactly as encoding/json would.

import "github.com/streambridge/bridge/gateway/awsapi"

// fastJSON is implemented by inputs with a decoder of their own for the
// common shape of their JSON bodies.
type fastJSON interface {
	decodeFastJSON(body []byte) bool
}

func (in *sendMessageBatchInput) decodeFastJSON(body []byte) bool {
	d := awsapi.JSONScanner{B: body}
	var out sendMessageBatchInput
	ok := d.Object(func(key []byte) bool {
		switch string(key) {
		case "QueueUrl":
			s, ok := d.Text()
			out.QueueUrl = s
			return ok
		case "Entries":
			return d.Array(func() bool {
				var e sendMessageBatchEntry
				if !d.Object(func(key []byte) bool {
					switch string(key) {
					case "Id":
						s, ok := d.Text()
						e.Id = s
						return ok
					case "MessageBody":
						return d.TextPtr(&e.MessageBody)
					case "DelaySeconds":
						return d.Int32Ptr(&e.DelaySeconds)
					case "MessageGroupId":
						s, ok := d.Text()
						e.MessageGroupId = s
						return ok
					case "MessageDeduplicationId":
						return d.TextPtr(&e.MessageDeduplicationId)
					}
					return false
				}) {
					return false
				}
				out.Entries = append(out.Entries, e)
				return true
			})
		}
		return false
	})
	if !ok || !d.End() {
		return false
	}
	*in = out
	return true
}
