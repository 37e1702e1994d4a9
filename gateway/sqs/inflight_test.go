package sqs

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
)

// At the in-flight quota (lowered to 5 here; SQS's is 120,000) a short
// poll on a standard queue is refused with OverLimit in both protocols, a
// long poll answers empty after its wait, and receiving works again once
// messages are deleted or their visibility timeout ends.
func TestInFlightLimitStandard(t *testing.T) {
	sh := newSDKHandler(t)
	sh.h.inFlightLimit = 5
	q := sh.createQueue(t, "jobs", map[string]string{"VisibilityTimeout": "30"})
	for _, b := range []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"} {
		sh.send(t, q, "", b, "")
	}
	got := sh.receive(t, q, 5, "")
	if len(got) != 5 {
		t.Fatalf("received %d of 5", len(got))
	}
	_, err := sh.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(q)})
	checkAPIError(t, err, "OverLimit", errOverLimit.Message)

	ts := httptest.NewServer(sh.h)
	defer ts.Close()
	resp, err := http.PostForm(ts.URL, url.Values{"Action": {"ReceiveMessage"}, "Version": {"2012-11-05"}, "QueueUrl": {q}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Type>Sender</Type><Code>OverLimit</Code>") {
		t.Fatalf("Query answer %d:\n%s", resp.StatusCode, body)
	}

	start := time.Now()
	out, err := sh.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(q), WaitTimeSeconds: 1})
	if err != nil || len(out.Messages) != 0 || time.Since(start) < time.Second {
		t.Fatalf("long poll at the quota: %v messages, %v, after %v; want none, no error, after its wait", len(out.Messages), err, time.Since(start))
	}

	// Deleting one frees the quota. A receive under it takes what it asks
	// for, past the quota (SQS's is approximate).
	sh.delete(t, q, got[0])
	if more := sh.receive(t, q, 10, ""); len(more) != 3 {
		t.Fatalf("after a delete: received %q, want the other 3", bodies(more))
	}
	_, err = sh.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(q)})
	checkAPIError(t, err, "OverLimit", errOverLimit.Message)

	// Visibility timeouts ending free it too: nothing is in flight, though
	// every message still has a state.
	sh.clock.Add(31 * time.Second)
	if again := sh.receive(t, q, 10, ""); len(again) == 0 {
		t.Fatal("nothing received after the visibility timeouts ended")
	}
}

// A FIFO queue at the quota answers every receive empty, without an error.
func TestInFlightLimitFIFO(t *testing.T) {
	sh := newSDKHandler(t)
	sh.h.inFlightLimit = 3
	q := sh.createQueue(t, "jobs.fifo", fifoAttrs())
	for i, g := range []string{"a", "b", "c", "d"} {
		sh.send(t, q, g, "m-"+g, string(rune('0'+i)))
	}
	if got := sh.receive(t, q, 3, ""); len(got) != 3 {
		t.Fatalf("received %d of 3", len(got))
	}
	out, err := sh.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(q), MaxNumberOfMessages: 10})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("FIFO short poll at the quota: %q, %v; want nothing and no error", bodies(out.Messages), err)
	}
}
