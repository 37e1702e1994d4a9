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

// decodeBatchJSON reads {"QueueUrl": "...", "Entries": [{...}, ...]},
// each entry's members through entryMember, which reads the value of key
// into e and reports whether it could.
func decodeBatchJSON[E any](body []byte, entryMember func(d *awsapi.JSONScanner, e *E, key []byte) bool) (queueURL string, entries []E, ok bool) {
	d := awsapi.JSONScanner{B: body}
	ok = d.Object(func(key []byte) bool {
		var ok bool
		switch string(key) {
		case "QueueUrl":
			queueURL, ok = d.Text()
		case "Entries":
			entries = entries[:0] // encoding/json keeps the last of repeated keys
			ok = d.Array(func() bool {
				var e E
				if !d.Object(func(key []byte) bool { return entryMember(&d, &e, key) }) {
					return false
				}
				entries = append(entries, e)
				return true
			})
		}
		return ok
	})
	return queueURL, entries, ok && d.End()
}

func (in *sendMessageBatchInput) decodeFastJSON(body []byte) bool {
	url, entries, ok := decodeBatchJSON(body, func(d *awsapi.JSONScanner, e *sendMessageBatchEntry, key []byte) bool {
		var ok bool
		switch string(key) {
		case "Id":
			e.Id, ok = d.Text()
		case "MessageBody":
			ok = d.TextPtr(&e.MessageBody)
		case "DelaySeconds":
			ok = d.Int32Ptr(&e.DelaySeconds)
		case "MessageGroupId":
			e.MessageGroupId, ok = d.Text()
		case "MessageDeduplicationId":
			ok = d.TextPtr(&e.MessageDeduplicationId)
		}
		return ok
	})
	if ok {
		*in = sendMessageBatchInput{QueueUrl: url, Entries: entries}
	}
	return ok
}

func (in *deleteMessageBatchInput) decodeFastJSON(body []byte) bool {
	url, entries, ok := decodeBatchJSON(body, func(d *awsapi.JSONScanner, e *deleteMessageBatchEntry, key []byte) bool {
		var ok bool
		switch string(key) {
		case "Id":
			e.Id, ok = d.Text()
		case "ReceiptHandle":
			e.ReceiptHandle, ok = d.Text()
		}
		return ok
	})
	if ok {
		*in = deleteMessageBatchInput{QueueUrl: url, Entries: entries}
	}
	return ok
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
