package sqs

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// waitMoveTask waits until a task has ended, for tests; ok is false when
// the handle names no task.
func (h *Handler) waitMoveTask(ctx context.Context, handle string) (ok bool) {
	id, _, ok := decodeTaskHandle(handle)
	if !ok {
		return false
	}
	h.moves.mu.Lock()
	t := h.moves.byID[id]
	h.moves.mu.Unlock()
	if t == nil {
		return false
	}
	select {
	case <-t.done:
	case <-ctx.Done():
	}
	return true
}

// deadLetter sends bodies to src (of group, if given) and receives each
// until its queue's maxReceiveCount of 1 sends it to the dead-letter
// queue; src's visibility timeout is 10 s.
func (sh *sdkHandler) deadLetter(t *testing.T, src, group string, bodies ...string) {
	t.Helper()
	for _, b := range bodies {
		in := &awssqs.SendMessageInput{QueueUrl: aws.String(src), MessageBody: aws.String(b)}
		if group != "" {
			in.MessageGroupId = aws.String(group)
		}
		if _, err := sh.c.SendMessage(t.Context(), in); err != nil {
			t.Fatal(err)
		}
	}
	for range 2 {
		for range len(bodies) {
			sh.receive(t, src, 10, "")
		}
		sh.clock.Add(10 * time.Second)
	}
	if got := sh.receive(t, src, 10, ""); len(got) != 0 {
		t.Fatalf("left in the source after dead-lettering: %q", bodies)
	}
}

// redrivePair makes a queue and its dead-letter queue (maxReceiveCount 1)
// and returns their URLs.
func (sh *sdkHandler) redrivePair(t *testing.T, src, dlq string, fifo bool) (string, string) {
	t.Helper()
	attrs := func(extra ...string) map[string]string {
		if fifo {
			return fifoAttrs(extra...)
		}
		m := map[string]string{}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i]] = extra[i+1]
		}
		return m
	}
	d := sh.createQueue(t, dlq, attrs())
	s := sh.createQueue(t, src, attrs("VisibilityTimeout", "10",
		"RedrivePolicy", `{"deadLetterTargetArn":"`+sh.h.queueARN(dlq)+`","maxReceiveCount":"1"}`))
	return s, d
}

func (sh *sdkHandler) drain(t *testing.T, url string) []string {
	t.Helper()
	var out []string
	for {
		msgs := sh.receive(t, url, 10, "")
		if len(msgs) == 0 {
			return out
		}
		for _, m := range msgs {
			if m.Attributes["DeadLetterQueueSourceArn"] != "" && !strings.Contains(url, "dead") {
				t.Fatalf("moved message %q still names a dead-letter source", aws.ToString(m.Body))
			}
			out = append(out, aws.ToString(m.Body))
			sh.delete(t, url, m)
		}
	}
}

func (sh *sdkHandler) listTasks(t *testing.T, source string, n int32) []sqstypes.ListMessageMoveTasksResultEntry {
	t.Helper()
	out, err := sh.c.ListMessageMoveTasks(t.Context(), &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(source), MaxResults: aws.Int32(n)})
	if err != nil {
		t.Fatalf("ListMessageMoveTasks: %v", err)
	}
	return out.Results
}

func (sh *sdkHandler) startTask(t *testing.T, in *awssqs.StartMessageMoveTaskInput) string {
	t.Helper()
	out, err := sh.c.StartMessageMoveTask(t.Context(), in)
	if err != nil {
		t.Fatalf("StartMessageMoveTask: %v", err)
	}
	return aws.ToString(out.TaskHandle)
}

// Without a destination, dead-lettered messages go back to the queues
// they came from, two sources sharing one dead-letter queue.
func TestSDKMoveTaskBackToSources(t *testing.T) {
	sh := newSDKHandler(t)
	src1, dlq := sh.redrivePair(t, "work1", "dead", false)
	src2 := sh.createQueue(t, "work2", map[string]string{"VisibilityTimeout": "10",
		"RedrivePolicy": `{"deadLetterTargetArn":"` + sh.h.queueARN("dead") + `","maxReceiveCount":1}`})
	sh.deadLetter(t, src1, "", "one-1", "one-2")
	sh.deadLetter(t, src2, "", "two-1")
	dlqARN := sh.h.queueARN("dead")
	handle := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN)})
	if !sh.h.waitMoveTask(t.Context(), handle) {
		t.Fatal("no such task")
	}
	tasks := sh.listTasks(t, dlqARN, 10)
	if len(tasks) != 1 || aws.ToString(tasks[0].Status) != "COMPLETED" || tasks[0].ApproximateNumberOfMessagesMoved != 3 ||
		aws.ToInt64(tasks[0].ApproximateNumberOfMessagesToMove) != 3 || tasks[0].DestinationArn != nil || tasks[0].TaskHandle != nil ||
		aws.ToString(tasks[0].SourceArn) != dlqARN || tasks[0].StartedTimestamp != sh.clock.Now().UnixMilli() {
		t.Fatalf("tasks: %+v", tasks)
	}
	if got := sh.drain(t, src1); strings.Join(got, " ") != "one-1 one-2" {
		t.Fatalf("back in work1: %q", got)
	}
	if got := sh.drain(t, src2); strings.Join(got, " ") != "two-1" {
		t.Fatalf("back in work2: %q", got)
	}
	if got := sh.drain(t, dlq); len(got) != 0 {
		t.Fatalf("left in the dead-letter queue: %q", got)
	}
}

// With a destination, every message goes there; a FIFO dead-letter
// queue's groups keep their order.
func TestSDKMoveTaskToDestination(t *testing.T) {
	for _, fifo := range []bool{false, true} {
		name := func(s string) string {
			if fifo {
				return s + ".fifo"
			}
			return s
		}
		t.Run(name("queue"), func(t *testing.T) {
			sh := newSDKHandler(t)
			src, _ := sh.redrivePair(t, name("work"), name("dead"), fifo)
			group := ""
			if fifo {
				group = "G"
			}
			sh.deadLetter(t, src, group, "m1", "m2", "m3")
			destAttrs := map[string]string{}
			if fifo {
				destAttrs = fifoAttrs()
			}
			dest := sh.createQueue(t, name("elsewhere"), destAttrs)
			handle := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(sh.h.queueARN(name("dead"))),
				DestinationArn: aws.String(sh.h.queueARN(name("elsewhere"))), MaxNumberOfMessagesPerSecond: aws.Int32(500)})
			sh.h.waitMoveTask(t.Context(), handle)
			tasks := sh.listTasks(t, sh.h.queueARN(name("dead")), 1)
			if len(tasks) != 1 || aws.ToString(tasks[0].Status) != "COMPLETED" || aws.ToString(tasks[0].DestinationArn) != sh.h.queueARN(name("elsewhere")) ||
				aws.ToInt32(tasks[0].MaxNumberOfMessagesPerSecond) != 500 {
				t.Fatalf("tasks: %+v", tasks)
			}
			if got := sh.drain(t, dest); strings.Join(got, " ") != "m1 m2 m3" {
				t.Fatalf("in the destination: %q", got)
			}
			if got := sh.drain(t, src); len(got) != 0 {
				t.Fatalf("back in the source: %q", got)
			}
		})
	}
}

// A cancelled task stops between messages: what it moved is in the
// destination, the rest still in the dead-letter queue. Starting a second
// task while one runs is refused.
func TestSDKMoveTaskCancel(t *testing.T) {
	sh := newSDKHandler(t)
	src, dlq := sh.redrivePair(t, "work", "dead", false)
	sh.deadLetter(t, src, "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10")
	dlqARN := sh.h.queueARN("dead")
	// One a second: the task is still running when it is cancelled (it
	// would need 9 seconds to finish).
	handle := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN), MaxNumberOfMessagesPerSecond: aws.Int32(1)})
	_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN)})
	checkAPIError(t, err, "InvalidParameterValue", "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
	running := sh.listTasks(t, dlqARN, 1)
	if len(running) != 1 || aws.ToString(running[0].TaskHandle) != handle || aws.ToString(running[0].Status) != "RUNNING" {
		t.Fatalf("while running: %+v", running)
	}
	out, err := sh.c.CancelMessageMoveTask(t.Context(), &awssqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(handle)})
	if err != nil {
		t.Fatal(err)
	}
	sh.h.waitMoveTask(t.Context(), handle)
	tasks := sh.listTasks(t, dlqARN, 1)
	if aws.ToString(tasks[0].Status) != "CANCELLED" || tasks[0].ApproximateNumberOfMessagesMoved < out.ApproximateNumberOfMessagesMoved {
		t.Fatalf("after cancelling (moved %d then): %+v", out.ApproximateNumberOfMessagesMoved, tasks)
	}
	moved, left := sh.drain(t, src), sh.drain(t, dlq)
	if int64(len(moved)) != tasks[0].ApproximateNumberOfMessagesMoved || len(moved)+len(left) != 10 || len(left) == 0 {
		t.Fatalf("moved %q, left %q; the task says %d moved", moved, left, tasks[0].ApproximateNumberOfMessagesMoved)
	}
	_, err = sh.c.CancelMessageMoveTask(t.Context(), &awssqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(handle)})
	checkAPIError(t, err, "AWS.SimpleQueueService.UnsupportedOperation", "Only a message movement task in RUNNING status can be cancelled; this one is CANCELLED.")
	// The next task may start; the list shows the newest first.
	next := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN)})
	sh.h.waitMoveTask(t.Context(), next)
	if tasks := sh.listTasks(t, dlqARN, 10); len(tasks) != 2 || aws.ToString(tasks[0].Status) != "COMPLETED" || aws.ToString(tasks[1].Status) != "CANCELLED" {
		t.Fatalf("two tasks: %+v", tasks)
	}
}

// A destination deleted while the task runs fails it; the message it was
// moving stays in the dead-letter queue.
func TestSDKMoveTaskFailsWithoutDestination(t *testing.T) {
	sh := newSDKHandler(t)
	src, dlq := sh.redrivePair(t, "work", "dead", false)
	sh.deadLetter(t, src, "", "m1")
	if _, err := sh.c.DeleteQueue(t.Context(), &awssqs.DeleteQueueInput{QueueUrl: aws.String(src)}); err != nil {
		t.Fatal(err)
	}
	// work is gone, so nothing names dead as its dead-letter queue: another
	// queue does, to allow the task.
	sh.createQueue(t, "other", map[string]string{"RedrivePolicy": `{"deadLetterTargetArn":"` + sh.h.queueARN("dead") + `","maxReceiveCount":1}`})
	handle := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(sh.h.queueARN("dead"))})
	sh.h.waitMoveTask(t.Context(), handle)
	tasks := sh.listTasks(t, sh.h.queueARN("dead"), 1)
	if aws.ToString(tasks[0].Status) != "FAILED" || aws.ToString(tasks[0].FailureReason) != "AWS.SimpleQueueService.NonExistentQueue" || tasks[0].ApproximateNumberOfMessagesMoved != 0 {
		t.Fatalf("tasks: %+v", tasks)
	}
	if got := sh.drain(t, dlq); strings.Join(got, " ") != "m1" {
		t.Fatalf("in the dead-letter queue: %q, want m1 visible again", got)
	}
}

func checkAPIError(t *testing.T, err error, code, message string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != message {
		t.Fatalf("error %v, want %s: %s", err, code, message)
	}
}

func TestSDKMoveTaskRefusals(t *testing.T) {
	sh := newSDKHandler(t)
	sh.redrivePair(t, "work", "dead", false)
	sh.createQueue(t, "plain", nil)
	sh.redrivePair(t, "work.fifo", "dead.fifo", true)
	arn := sh.h.queueARN
	missing := arn("missing")
	foreign := strings.Replace(arn("dead"), "us-east-1", "eu-west-1", 1)
	tests := []struct {
		name          string
		call          func() error
		code, message string
	}{
		{"source not a dead-letter queue", func() error {
			_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn("plain"))})
			return err
		}, "InvalidParameterValue", "Source queue must be configured as a Dead Letter Queue."},
		{"unknown source", func() error {
			_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(missing)})
			return err
		}, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."},
		{"source of another region", func() error {
			_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(foreign)})
			return err
		}, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."},
		{"unknown destination", func() error {
			_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn("dead")), DestinationArn: aws.String(missing)})
			return err
		}, "ResourceNotFoundException", "The resource that you specified for the DestinationArn parameter doesn't exist."},
		{"destination of the other kind", func() error {
			_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn("dead.fifo")), DestinationArn: aws.String(arn("plain"))})
			return err
		}, "InvalidParameterValue", "The source and destination queues must both be FIFO queues or both be standard queues."},
		{"rate 0", func() error {
			_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn("dead")), MaxNumberOfMessagesPerSecond: aws.Int32(0)})
			return err
		}, "InvalidParameterValue", "Value 0 for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500, if provided."},
		{"rate 501", func() error {
			_, err := sh.c.StartMessageMoveTask(t.Context(), &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn("dead")), MaxNumberOfMessagesPerSecond: aws.Int32(501)})
			return err
		}, "InvalidParameterValue", "Value 501 for parameter MaxNumberOfMessagesPerSecond is invalid. Reason: Must be between 1 and 500, if provided."},
		{"list of an unknown queue", func() error {
			_, err := sh.c.ListMessageMoveTasks(t.Context(), &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(missing)})
			return err
		}, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."},
		{"list of 11", func() error {
			_, err := sh.c.ListMessageMoveTasks(t.Context(), &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(arn("dead")), MaxResults: aws.Int32(11)})
			return err
		}, "InvalidParameterValue", "Value 11 for parameter MaxResults is invalid. Reason: Must be between 1 and 10, if provided."},
		{"cancel with a handle that is not one", func() error {
			_, err := sh.c.CancelMessageMoveTask(t.Context(), &awssqs.CancelMessageMoveTaskInput{TaskHandle: aws.String("foobared")})
			return err
		}, "InvalidParameterValue", "Value for parameter TaskHandle is invalid."},
		{"cancel of a task of an unknown queue", func() error {
			_, err := sh.c.CancelMessageMoveTask(t.Context(), &awssqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(encodeTaskHandle("10f57157-fc38-4da9-a113-4de7e12d05dd", missing))})
			return err
		}, "ResourceNotFoundException", "The resource that you specified for the SourceArn parameter doesn't exist."},
		{"cancel of an unknown task", func() error {
			_, err := sh.c.CancelMessageMoveTask(t.Context(), &awssqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(encodeTaskHandle("10f57157-fc38-4da9-a113-4de7e12d05dd", arn("dead")))})
			return err
		}, "ResourceNotFoundException", "Task does not exist."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			checkAPIError(t, err, tc.code, tc.message)
		})
	}
	// The list of a dead-letter queue without tasks is empty, not absent.
	if tasks := sh.listTasks(t, arn("dead"), 10); tasks == nil || len(tasks) != 0 {
		t.Fatalf("tasks of a queue without any: %#v", tasks)
	}
}

// The Query protocol lists tasks as flat ListMessageMoveTasksResultEntry
// elements.
func TestMoveTasksQuery(t *testing.T) {
	sh := newSDKHandler(t)
	src, _ := sh.redrivePair(t, "work", "dead", false)
	sh.deadLetter(t, src, "", "m1")
	handle := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(sh.h.queueARN("dead"))})
	sh.h.waitMoveTask(t.Context(), handle)
	ts := httptest.NewServer(sh.h)
	defer ts.Close()
	form := url.Values{"Action": {"ListMessageMoveTasks"}, "Version": {"2012-11-05"}, "SourceArn": {sh.h.queueARN("dead")}, "MaxResults": {"10"}}
	resp, err := http.PostForm(ts.URL, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"<ListMessageMoveTasksResult><ListMessageMoveTasksResultEntry>", "<Status>COMPLETED</Status>",
		"<ApproximateNumberOfMessagesMoved>1</ApproximateNumberOfMessagesMoved>", "</ListMessageMoveTasksResultEntry></ListMessageMoveTasksResult>"} {
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), want) {
			t.Fatalf("Query answer %d lacks %s:\n%s", resp.StatusCode, want, body)
		}
	}
}
