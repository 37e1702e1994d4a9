package sqs

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
)

// A queue deleted and made again under its name starts empty: nothing of
// the first one's state (cursor, in-flight messages, deduplication ids)
// survives, and a receipt handle of the first one deletes nothing.
func TestDeletedQueueLeavesNoState(t *testing.T) {
	sh := newSDKHandler(t)
	ctx := t.Context()
	for _, name := range []string{"again", "again.fifo"} {
		attrs, dedup := map[string]string(nil), func(string) string { return "" }
		if isFIFOName(name) {
			attrs, dedup = fifoAttrs(), func(body string) string { return "d-" + body }
		}
		url := sh.createQueue(t, name, attrs)
		for _, body := range []string{"a", "b", "c"} {
			sh.send(t, url, "g", body, dedup(body))
		}
		got := sh.receive(t, url, 2, "")
		if len(got) != 2 {
			t.Fatalf("%s: received %d of 3", name, len(got))
		}
		sh.delete(t, url, got[0])
		if _, err := sh.c.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(url)}); err != nil {
			t.Fatal(err)
		}
		for _, prefix := range queuePrefixes(name) {
			err := sh.h.store.Scan(ctx, stateNamespace, prefix, func(key string, _ []byte) error {
				return errors.New("state left: " + key)
			})
			if err != nil {
				t.Fatalf("%s: after DeleteQueue: %v", name, err)
			}
		}
		url = sh.createQueue(t, name, attrs)
		sh.send(t, url, "g", "a", dedup("a")) // the first queue's deduplication id
		if _, err := sh.c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: got[1].ReceiptHandle}); err != nil {
			t.Fatalf("%s: an old receipt handle: %v", name, err)
		}
		if got := sh.receive(t, url, 10, ""); bodies(got) != "a" {
			t.Fatalf("%s made again: received %q, want the one message sent to it", name, bodies(got))
		}
	}
}
