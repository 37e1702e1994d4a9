package sqs

// Decoders for the JSON bodies of the busiest requests. SendMessageBatch
// carries up to 10 message bodies of up to 1 MiB together, where
// encoding/json (which scans a body twice and copies each string) took a
// sixth of the server's CPU under load; ReceiveMessage and
// DeleteMessageBatch come as often, and their decoding was a quarter of
// DeleteMessageBatch's CPU. Each accepts the shape SDKs send (for
// SendMessageBatch: messages without attributes), and gives up on anything
// else (attributes, \u escapes, numbers that are not plain integers),
// leaving that body to encoding/json; the Fuzz*FastJSON tests hold what
// they accept to decode exactly as encoding/json would.

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
			out.Entries = out.Entries[:0] // encoding/json keeps the last of repeated keys
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

func (in *deleteMessageBatchInput) decodeFastJSON(body []byte) bool {
	d := awsapi.JSONScanner{B: body}
	var out deleteMessageBatchInput
	ok := d.Object(func(key []byte) bool {
		switch string(key) {
		case "QueueUrl":
			s, ok := d.Text()
			out.QueueUrl = s
			return ok
		case "Entries":
			out.Entries = out.Entries[:0]
			return d.Array(func() bool {
				var e deleteMessageBatchEntry
				if !d.Object(func(key []byte) bool {
					var ok bool
					switch string(key) {
					case "Id":
						e.Id, ok = d.Text()
					case "ReceiptHandle":
						e.ReceiptHandle, ok = d.Text()
					}
					return ok
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

func (in *receiveMessageInput) decodeFastJSON(body []byte) bool {
	d := awsapi.JSONScanner{B: body}
	var out receiveMessageInput
	texts := func(dst *[]string) bool {
		*dst = (*dst)[:0]
		return d.Array(func() bool {
			s, ok := d.Text()
			*dst = append(*dst, s)
			return ok
		})
	}
	ok := d.Object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "QueueUrl":
			out.QueueUrl, ok = d.Text()
		case "ReceiveRequestAttemptId":
			out.ReceiveRequestAttemptId, ok = d.Text()
		case "MaxNumberOfMessages":
			ok = d.Int32Ptr(&out.MaxNumberOfMessages)
		case "VisibilityTimeout":
			ok = d.Int32Ptr(&out.VisibilityTimeout)
		case "WaitTimeSeconds":
			ok = d.Int32Ptr(&out.WaitTimeSeconds)
		case "AttributeNames":
			ok = texts(&out.AttributeNames)
		case "MessageSystemAttributeNames":
			ok = texts(&out.MessageSystemAttributeNames)
		case "MessageAttributeNames":
			ok = texts(&out.MessageAttributeNames)
		}
		return ok
	})
	if !ok || !d.End() {
		return false
	}
	*in = out
	return true
}
