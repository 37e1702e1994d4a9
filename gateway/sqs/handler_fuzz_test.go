package sqs

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/store/embedded"
)

// FuzzHandler sends arbitrary requests to the SQS handler in both
// protocols, against a store with one queue holding messages: a JSON 1.0
// body for an operation named by X-Amz-Target, or a Query form. Whatever
// comes in, the handler must answer (no panic, no hang) with 200 or an
// error status, and a 5xx only for a store failure, which an in-memory
// store does not have.
func FuzzHandler(f *testing.F) {
	seeds := []struct{ op, body string }{
		{"SendMessage", `{"QueueUrl":"q","MessageBody":"hi","MessageAttributes":{"a":{"DataType":"String","StringValue":"v"}}}`},
		{"SendMessageBatch", `{"QueueUrl":"/000000000000/q","Entries":[{"Id":"a","MessageBody":"x"},{"Id":"a","MessageBody":"y"}]}`},
		{"ReceiveMessage", `{"QueueUrl":"q","MaxNumberOfMessages":10,"AttributeNames":["All"],"MessageAttributeNames":["a.*"]}`},
		{"DeleteMessage", `{"QueueUrl":"q","ReceiptHandle":"AQAAAAAAAAAAAAAAAAAAAAFxMZqNMkg8rXF3gjjBFYY6oOs"}`},
		{"ChangeMessageVisibilityBatch", `{"QueueUrl":"q","Entries":[{"Id":"1","ReceiptHandle":"x","VisibilityTimeout":5}]}`},
		{"CreateQueue", `{"QueueName":"n.fifo","Attributes":{"FifoQueue":"true","RedrivePolicy":"{\"maxReceiveCount\":\"3\"}"}}`},
		{"SetQueueAttributes", `{"QueueUrl":"q","Attributes":{"VisibilityTimeout":"-1"}}`},
		{"ListQueues", `{"MaxResults":1,"NextToken":"eA"}`},
		{"TagQueue", `{"QueueUrl":"q","Tags":{"k":"v"}}`},
		{"AddPermission", `{"QueueUrl":"q","Label":"l","AWSAccountIds":["1"],"Actions":["SendMessage"]}`},
		{"", "Action=SendMessage&QueueUrl=q&MessageBody=x&MessageAttribute.1.Name=a&MessageAttribute.1.Value.DataType=Number&MessageAttribute.1.Value.StringValue=1e5"},
		{"", "Action=SendMessageBatch&QueueUrl=q&SendMessageBatchRequestEntry.1.Id=a&SendMessageBatchRequestEntry.1.MessageBody=b"},
		{"", "Action=ReceiveMessage&QueueUrl=q&AttributeName.1=All&MaxNumberOfMessages=99"},
		{"", "Action=GetQueueAttributes&QueueUrl=q&AttributeName.1=All"},
		{"", "Action=CreateQueue&QueueName=x&Attribute.1.Name=DelaySeconds&Attribute.1.Value=1000"},
		{"", "Action=DeleteMessageBatch&QueueUrl=q&DeleteMessageBatchRequestEntry.1.Id=a"},
	}
	for _, s := range seeds {
		f.Add(s.op, s.body)
	}
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	h, err := New(Config{Store: s})
	if err != nil {
		f.Fatal(err)
	}
	ctx := f.Context()
	if _, err := createQueue(ctx, s, "q", nil, nil, h.now()); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, op, body string) {
		var r *http.Request
		if op != "" {
			r = httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
			r.Header.Set("X-Amz-Target", TargetPrefix+op)
			r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		} else {
			r = httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		// A long poll (a fuzzed WaitTimeSeconds, or a queue's
		// ReceiveMessageWaitTimeSeconds, possibly percent-encoded in a form)
		// is cut short as a client that gives up would cut it: its answer
		// then does not matter.
		rctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		r = r.WithContext(rctx)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if rctx.Err() != nil {
			return
		}
		if w.Code != http.StatusOK && (w.Code < 400 || w.Code >= 500) {
			t.Fatalf("%s %q: status %d: %s", op, body, w.Code, w.Body)
		}
	})
}
