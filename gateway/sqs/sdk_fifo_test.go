package sqs

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/store/embedded"
)

// testClock is the handler's clock in these tests: it moves only when a
// test moves it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// sdkHandler is the real handler over an in-memory store, served on
// 127.0.0.1, and an aws-sdk-go-v2 client of it.
type sdkHandler struct {
	h     *Handler
	c     *awssqs.Client
	clock *testClock
	close func() // stops the handler and closes its store, as a shutdown does
}

func newSDKHandler(t *testing.T) *sdkHandler {
	t.Helper()
	return newSDKHandlerAt(t, "", &testClock{now: time.UnixMilli(1_750_000_000_000)})
}

// newSDKHandlerAt is newSDKHandler over the store in dir ("" for one in
// memory), closed when the test ends or by the returned handler's close.
func newSDKHandlerAt(t *testing.T, dir string, clock *testClock) *sdkHandler {
	t.Helper()
	s, err := embedded.Open(embedded.Options{Dir: dir, InMemory: dir == ""})
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeStore := func() { once.Do(func() { s.Close() }) }
	t.Cleanup(closeStore)
	h, err := New(Config{Store: s, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Shutdown(t.Context()) })
	return &sdkHandler{h: h, c: sqsClient(t, h), clock: clock, close: func() {
		h.Shutdown(t.Context())
		closeStore()
	}}
}

// createQueue makes a queue and returns its URL.
func (sh *sdkHandler) createQueue(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := sh.c.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func (sh *sdkHandler) send(t *testing.T, url, group, body, dedup string) *awssqs.SendMessageOutput {
	t.Helper()
	in := &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageGroupId: aws.String(group)}
	if dedup != "" {
		in.MessageDeduplicationId = aws.String(dedup)
	}
	out, err := sh.c.SendMessage(t.Context(), in)
	if err != nil {
		t.Fatalf("SendMessage %q: %v", body, err)
	}
	return out
}

func (sh *sdkHandler) receive(t *testing.T, url string, n int32, attempt string) []sqstypes.Message {
	t.Helper()
	in := &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: n,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}}
	if attempt != "" {
		in.ReceiveRequestAttemptId = aws.String(attempt)
	}
	out, err := sh.c.ReceiveMessage(t.Context(), in)
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	return out.Messages
}

func (sh *sdkHandler) delete(t *testing.T, url string, m sqstypes.Message) {
	t.Helper()
	if _, err := sh.c.DeleteMessage(t.Context(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage %q: %v", aws.ToString(m.Body), err)
	}
}

func bodies(ms []sqstypes.Message) string {
	var s []byte
	for i, m := range ms {
		if i > 0 {
			s = append(s, ' ')
		}
		s = append(s, aws.ToString(m.Body)...)
	}
	return string(s)
}

func fifoAttrs(extra ...string) map[string]string {
	attrs := map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}
	for i := 0; i+1 < len(extra); i += 2 {
		attrs[extra[i]] = extra[i+1]
	}
	return attrs
}

// Many messages of several groups, sent one by one and in batches, are
// received in random-sized receives; some are not deleted and come back
// when their visibility timeout ends. Whenever a message is delivered,
// every earlier one of its group is deleted or comes before it in the same
// receive; in the end each group's messages were deleted in the order sent.
func TestSDKFIFOOrderPerGroup(t *testing.T) {
	sh := newSDKHandler(t)
	url := sh.createQueue(t, "orders.fifo", fifoAttrs("VisibilityTimeout", "30"))
	rng := rand.New(rand.NewPCG(3, 4))
	groups := []string{"g1", "g2", "g3", "g4"}
	sent := map[string][]string{}
	for i := 0; i < 120; {
		if rng.IntN(2) == 0 {
			g := groups[rng.IntN(len(groups))]
			body := fmt.Sprintf("%s-%03d", g, i)
			sh.send(t, url, g, body, "")
			sent[g] = append(sent[g], body)
			i++
			continue
		}
		var entries []sqstypes.SendMessageBatchRequestEntry
		for j := range 1 + rng.IntN(10) {
			g := groups[rng.IntN(len(groups))]
			body := fmt.Sprintf("%s-%03d", g, i)
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String("e" + strconv.Itoa(j)), MessageBody: aws.String(body), MessageGroupId: aws.String(g)})
			sent[g] = append(sent[g], body)
			i++
		}
		out, err := sh.c.SendMessageBatch(t.Context(), &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries})
		if err != nil || len(out.Failed) != 0 {
			t.Fatalf("SendMessageBatch: %v %+v", err, out)
		}
	}
	deleted := map[string][]string{} // per group, in the order deleted
	for range 1000 {
		msgs := sh.receive(t, url, int32(1+rng.IntN(10)), "")
		if len(msgs) == 0 {
			if len(deleted) == len(sent) && fmt.Sprint(deleted) == fmt.Sprint(sent) {
				break
			}
			sh.clock.Add(30 * time.Second) // what was not deleted comes back
			continue
		}
		inThis := map[string]int{}
		for _, m := range msgs {
			g := m.Attributes["MessageGroupId"]
			if m.Attributes["SequenceNumber"] == "" || m.Attributes["MessageDeduplicationId"] == "" {
				t.Fatalf("message %q without SequenceNumber or MessageDeduplicationId: %v", aws.ToString(m.Body), m.Attributes)
			}
			// Before it: the deleted ones, then those of this receive.
			k := len(deleted[g]) + inThis[g]
			if k >= len(sent[g]) || sent[g][k] != aws.ToString(m.Body) {
				t.Fatalf("group %s delivered %q after deleting %v and receiving %d in this receive", g, aws.ToString(m.Body), deleted[g], inThis[g])
			}
			inThis[g]++
		}
		// Deleting stops at the first message left undeleted of a group:
		// deletes out of order would break the bookkeeping above, not SQS.
		stopped := map[string]bool{}
		for _, m := range msgs {
			g := m.Attributes["MessageGroupId"]
			if stopped[g] || rng.IntN(4) == 0 {
				stopped[g] = true
				continue
			}
			sh.delete(t, url, m)
			deleted[g] = append(deleted[g], aws.ToString(m.Body))
		}
	}
	for _, g := range groups {
		if fmt.Sprint(deleted[g]) != fmt.Sprint(sent[g]) {
			t.Fatalf("group %s: deleted\n%v\nsent\n%v", g, deleted[g], sent[g])
		}
	}
}

// A group with a message in flight gives nothing more until it is deleted
// or its visibility timeout ends; then the earliest comes first. Other
// groups go on meanwhile.
func TestSDKFIFOBlockingAndVisibility(t *testing.T) {
	sh := newSDKHandler(t)
	url := sh.createQueue(t, "jobs.fifo", fifoAttrs("VisibilityTimeout", "30"))
	for _, m := range []struct{ group, body string }{{"A", "a1"}, {"A", "a2"}, {"B", "b1"}, {"A", "a3"}, {"B", "b2"}} {
		sh.send(t, url, m.group, m.body, "")
	}
	first := sh.receive(t, url, 1, "")
	if bodies(first) != "a1" {
		t.Fatalf("first receive: %q, want a1", bodies(first))
	}
	if got := bodies(sh.receive(t, url, 10, "")); got != "b1 b2" {
		t.Fatalf("while a1 is in flight: %q, want b1 b2", got)
	}
	if got := sh.receive(t, url, 10, ""); len(got) != 0 {
		t.Fatalf("while both groups are in flight: %q", bodies(got))
	}
	sh.clock.Add(29 * time.Second)
	if got := sh.receive(t, url, 10, ""); len(got) != 0 {
		t.Fatalf("a second before the timeout: %q", bodies(got))
	}
	sh.clock.Add(time.Second)
	again := sh.receive(t, url, 2, "")
	if bodies(again) != "a1 a2" || again[0].Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("after the timeout: %q %v, want a1 (received twice) then a2", bodies(again), again[0].Attributes)
	}
	// The first receipt handle is stale now: deleting with it keeps a1.
	sh.delete(t, url, first[0])
	if got := bodies(sh.receive(t, url, 10, "")); got != "b1 b2" {
		t.Fatalf("group B after its timeout: %q", got)
	}
	// Making a2 visible again does not unblock A while a1 is in flight.
	if _, err := sh.c.ChangeMessageVisibility(t.Context(), &awssqs.ChangeMessageVisibilityInput{QueueUrl: aws.String(url), ReceiptHandle: again[1].ReceiptHandle, VisibilityTimeout: 0}); err != nil {
		t.Fatal(err)
	}
	if got := sh.receive(t, url, 10, ""); len(got) != 0 {
		t.Fatalf("with a1 in flight: %q", bodies(got))
	}
	sh.delete(t, url, again[0])
	if got := bodies(sh.receive(t, url, 10, "")); got != "a2 a3" {
		t.Fatalf("after deleting a1: %q, want a2 a3", got)
	}
}

// Deduplication by explicit id and by content, within a batch and across
// requests, outliving the deletion of the first message, for 5 minutes.
func TestSDKFIFODeduplication(t *testing.T) {
	sh := newSDKHandler(t)
	url := sh.createQueue(t, "dedup.fifo", fifoAttrs())
	one := sh.send(t, url, "A", "hello", "id-1")
	if again := sh.send(t, url, "A", "other body", "id-1"); aws.ToString(again.MessageId) != aws.ToString(one.MessageId) || aws.ToString(again.SequenceNumber) != aws.ToString(one.SequenceNumber) {
		t.Fatalf("a repeated id answered %v, want the first's %v", aws.ToString(again.MessageId), aws.ToString(one.MessageId))
	}
	content := sh.send(t, url, "A", "same body", "")
	if again := sh.send(t, url, "B", "same body", ""); aws.ToString(again.MessageId) != aws.ToString(content.MessageId) {
		t.Fatal("a repeated body (content-based) was not deduplicated")
	}
	batch := func(entries ...[3]string) []sqstypes.SendMessageBatchResultEntry {
		t.Helper()
		var in []sqstypes.SendMessageBatchRequestEntry
		for i, e := range entries {
			en := sqstypes.SendMessageBatchRequestEntry{Id: aws.String("e" + strconv.Itoa(i)), MessageGroupId: aws.String(e[0]), MessageBody: aws.String(e[1])}
			if e[2] != "" {
				en.MessageDeduplicationId = aws.String(e[2])
			}
			in = append(in, en)
		}
		out, err := sh.c.SendMessageBatch(t.Context(), &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: in})
		if err != nil || len(out.Failed) != 0 || len(out.Successful) != len(entries) {
			t.Fatalf("SendMessageBatch: %v %+v", err, out)
		}
		ids := map[string]sqstypes.SendMessageBatchResultEntry{}
		for _, s := range out.Successful {
			ids[aws.ToString(s.Id)] = s
		}
		res := make([]sqstypes.SendMessageBatchResultEntry, len(entries))
		for i := range entries {
			res[i] = ids["e"+strconv.Itoa(i)]
		}
		return res
	}
	b1 := batch([3]string{"A", "x", "id-2"}, [3]string{"A", "y", "id-2"}, [3]string{"B", "z", ""}, [3]string{"B", "z", ""})
	if aws.ToString(b1[0].MessageId) != aws.ToString(b1[1].MessageId) || aws.ToString(b1[2].MessageId) != aws.ToString(b1[3].MessageId) || aws.ToString(b1[0].MessageId) == aws.ToString(b1[2].MessageId) {
		t.Fatalf("repeats within a batch: %+v", b1)
	}
	b2 := batch([3]string{"C", "x2", "id-2"}, [3]string{"C", "z", ""}, [3]string{"C", "hello", "id-1"})
	if aws.ToString(b2[0].MessageId) != aws.ToString(b1[0].MessageId) || aws.ToString(b2[1].MessageId) != aws.ToString(b1[2].MessageId) || aws.ToString(b2[2].MessageId) != aws.ToString(one.MessageId) {
		t.Fatalf("repeats across batches: %+v", b2)
	}
	var got []string
	for {
		msgs := sh.receive(t, url, 10, "")
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			got = append(got, aws.ToString(m.Body))
			sh.delete(t, url, m)
		}
	}
	if fmt.Sprint(got) != "[hello same body x z]" {
		t.Fatalf("delivered %v, want each first message once", got)
	}
	// Deleted, yet still a duplicate within 5 minutes; new after.
	sh.clock.Add(dedupWindow - time.Second)
	sh.send(t, url, "A", "hello", "id-1")
	if msgs := sh.receive(t, url, 10, ""); len(msgs) != 0 {
		t.Fatalf("a duplicate of a deleted message came back: %q", bodies(msgs))
	}
	sh.clock.Add(time.Second)
	sh.send(t, url, "A", "hello again", "id-1")
	if got := bodies(sh.receive(t, url, 10, "")); got != "hello again" {
		t.Fatalf("after the window: %q, want the new message", got)
	}
}

// A FIFO queue's dead-letter queue gets a message received more than
// maxReceiveCount times, with its group; the group then goes on.
func TestSDKFIFODeadLetter(t *testing.T) {
	sh := newSDKHandler(t)
	dlq := sh.createQueue(t, "dead.fifo", fifoAttrs())
	dlqARN := sh.h.queueARN("dead.fifo")
	src := sh.createQueue(t, "work.fifo", fifoAttrs("VisibilityTimeout", "10",
		"RedrivePolicy", `{"deadLetterTargetArn":"`+dlqARN+`","maxReceiveCount":2}`))
	sh.send(t, src, "A", "a1", "")
	sh.send(t, src, "A", "a2", "")
	sh.send(t, src, "B", "b1", "")
	for i := 1; i <= 2; i++ {
		if got := bodies(sh.receive(t, src, 1, "")); got != "a1" {
			t.Fatalf("receive %d: %q, want a1", i, got)
		}
		sh.clock.Add(10 * time.Second)
	}
	// The third receive of a1 moves it; a2 follows in the same receive.
	if got := bodies(sh.receive(t, src, 2, "")); got != "a2" {
		t.Fatalf("third receive: %q, want a2 (a1 dead-lettered)", got)
	}
	moved := sh.receive(t, dlq, 10, "")
	if len(moved) != 1 || aws.ToString(moved[0].Body) != "a1" || moved[0].Attributes["MessageGroupId"] != "A" ||
		moved[0].Attributes["DeadLetterQueueSourceArn"] != sh.h.queueARN("work.fifo") {
		t.Fatalf("dead-letter queue holds %q %v", bodies(moved), moved)
	}
	if got := bodies(sh.receive(t, src, 10, "")); got != "b1" {
		t.Fatalf("the other group: %q", got)
	}
}

// A receive retried with its ReceiveRequestAttemptId gets the same
// messages and receipt handles, until one of them changes.
func TestSDKFIFOReceiveRequestAttemptID(t *testing.T) {
	sh := newSDKHandler(t)
	url := sh.createQueue(t, "attempts.fifo", fifoAttrs("VisibilityTimeout", "30"))
	for _, b := range []string{"a1", "a2", "a3"} {
		sh.send(t, url, "A", b, "")
	}
	sh.send(t, url, "B", "b1", "")
	first := sh.receive(t, url, 2, "try-1")
	if bodies(first) != "a1 a2" {
		t.Fatalf("first: %q", bodies(first))
	}
	sh.clock.Add(20 * time.Second)
	retry := sh.receive(t, url, 2, "try-1")
	if bodies(retry) != "a1 a2" || aws.ToString(retry[0].ReceiptHandle) != aws.ToString(first[0].ReceiptHandle) ||
		aws.ToString(retry[1].ReceiptHandle) != aws.ToString(first[1].ReceiptHandle) || retry[0].Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("retry: %q, handles equal %v", bodies(retry), aws.ToString(retry[0].ReceiptHandle) == aws.ToString(first[0].ReceiptHandle))
	}
	// The retry started the visibility timeout again: 30 s from it.
	sh.clock.Add(29 * time.Second)
	if got := bodies(sh.receive(t, url, 10, "")); got != "b1" {
		t.Fatalf("before the renewed timeout ends: %q, want b1", got)
	}
	// Once one of its messages is deleted, a retry is a receive of its own.
	sh.delete(t, url, first[0])
	sh.clock.Add(time.Second)
	if got := bodies(sh.receive(t, url, 10, "try-1")); got != "a2 a3" {
		t.Fatalf("retry after a delete: %q, want a new receive (a2 a3)", got)
	}
	// Standard queues ignore it; FIFO queues check it.
	_, err := sh.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), ReceiveRequestAttemptId: aws.String("bad id")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("an attempt id with a space: %v", err)
	}
	std := sh.createQueue(t, "plain", nil)
	if _, err := sh.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(std), ReceiveRequestAttemptId: aws.String("bad id")}); err != nil {
		t.Fatalf("a standard queue refused an attempt id: %v", err)
	}
}

// Blocking, order and in-flight messages survive a restart of the bridge:
// a new handler over the same store.
func TestSDKFIFORestart(t *testing.T) {
	dir := t.TempDir()
	clock := &testClock{now: time.UnixMilli(1_750_000_000_000)}
	sh := newSDKHandlerAt(t, dir, clock)
	url := sh.createQueue(t, "restart.fifo", fifoAttrs("VisibilityTimeout", "30"))
	for _, m := range []struct{ group, body string }{{"A", "a1"}, {"A", "a2"}, {"B", "b1"}, {"A", "a3"}, {"C", "c1"}} {
		sh.send(t, url, m.group, m.body, "")
	}
	first := sh.receive(t, url, 1, "")
	if got := bodies(sh.receive(t, url, 1, "")); bodies(first) != "a1" || got != "b1" {
		t.Fatalf("before the restart: %q then %q", bodies(first), got)
	}
	sh.close()

	sh = newSDKHandlerAt(t, dir, clock)
	if got := bodies(sh.receive(t, url, 10, "")); got != "c1" {
		t.Fatalf("after the restart, with A and B in flight: %q, want c1", got)
	}
	sh.delete(t, url, first[0]) // a receipt handle from before the restart
	if got := bodies(sh.receive(t, url, 10, "")); got != "a2 a3" {
		t.Fatalf("after deleting a1: %q, want a2 a3", got)
	}
	clock.Add(30 * time.Second)
	if got := bodies(sh.receive(t, url, 10, "")); got != "a2 a3 b1 c1" {
		t.Fatalf("after the timeouts: %q", got)
	}
}
