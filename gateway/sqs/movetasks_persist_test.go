package sqs

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/streambridge/bridge/store"
)

// storedTask reads a task's record from the store, for tests.
func (h *Handler) storedTask(t *testing.T, handle string) (moveTaskRecord, bool) {
	t.Helper()
	id, source, ok := decodeTaskHandle(handle)
	if !ok {
		t.Fatalf("bad handle %q", handle)
	}
	v, err := h.store.Get(t.Context(), stateNamespace, h.moveTaskKey(source, id))
	if err != nil {
		return moveTaskRecord{}, false
	}
	var rec moveTaskRecord
	if err := json.Unmarshal(v, &rec); err != nil {
		t.Fatal(err)
	}
	return rec, true
}

// Shutdown stops a running task and waits for it; the next start over the
// same store resumes it, and it moves the rest, as an SQS task goes on
// whatever happens to the hosts that run it.
func TestMoveTaskResumesAfterRestart(t *testing.T) {
	dir, clock := t.TempDir(), &testClock{now: time.UnixMilli(1_750_000_000_000)}
	sh := newSDKHandlerAt(t, dir, clock)
	src, dlq := sh.redrivePair(t, "work", "dead", false)
	bodies := []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8", "m9", "m10"}
	sh.deadLetter(t, src, "", bodies...)
	dlqARN := sh.h.queueARN("dead")
	// Five a second: a step moves five, then the task waits a second for
	// the next five, and Shutdown comes in that wait.
	handle := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN), MaxNumberOfMessagesPerSecond: aws.Int32(5)})
	if rec, ok := sh.h.storedTask(t, handle); !ok || rec.Status != moveRunning || rec.Rate != 5 || rec.ToMove != 10 {
		t.Fatalf("record after the start: %+v %v", rec, ok)
	}
	if err := sh.h.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel() // the task must have ended already
	if !sh.h.waitMoveTask(ctx, handle) {
		t.Fatal("the task is gone")
	}
	rec, ok := sh.h.storedTask(t, handle)
	if !ok || rec.Status != moveRunning {
		t.Fatalf("record after Shutdown: %+v %v, want RUNNING", rec, ok)
	}
	sh.close()

	sh = newSDKHandlerAt(t, dir, clock)
	if !sh.h.waitMoveTask(t.Context(), handle) {
		t.Fatal("the restarted handler does not know the task")
	}
	tasks := sh.listTasks(t, dlqARN, 10)
	if len(tasks) != 1 || aws.ToString(tasks[0].Status) != moveCompleted || tasks[0].ApproximateNumberOfMessagesMoved != 10 ||
		aws.ToInt64(tasks[0].ApproximateNumberOfMessagesToMove) != 10 || aws.ToInt32(tasks[0].MaxNumberOfMessagesPerSecond) != 5 {
		t.Fatalf("after resuming: %+v", tasks)
	}
	moved := sh.drain(t, src)
	slices.Sort(moved)
	want := slices.Clone(bodies)
	slices.Sort(want)
	if !slices.Equal(moved, want) {
		t.Fatalf("moved %q, want %q", moved, want)
	}
	if left := sh.drain(t, dlq); len(left) != 0 {
		t.Fatalf("left in the dead-letter queue: %q", left)
	}
	if rec, ok := sh.h.storedTask(t, handle); !ok || rec.Status != moveCompleted || rec.Moved != 10 {
		t.Fatalf("record at the end: %+v %v", rec, ok)
	}
}

// A cancelled task stays cancelled across a restart, and DeleteQueue
// drops the tasks of its queue for good.
func TestMoveTaskCancelSurvivesRestart(t *testing.T) {
	dir, clock := t.TempDir(), &testClock{now: time.UnixMilli(1_750_000_000_000)}
	sh := newSDKHandlerAt(t, dir, clock)
	src, dlq := sh.redrivePair(t, "work", "dead", false)
	sh.deadLetter(t, src, "", "m1", "m2", "m3", "m4", "m5")
	dlqARN := sh.h.queueARN("dead")
	handle := sh.startTask(t, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(dlqARN), MaxNumberOfMessagesPerSecond: aws.Int32(1)})
	if _, err := sh.c.CancelMessageMoveTask(t.Context(), &awssqs.CancelMessageMoveTaskInput{TaskHandle: aws.String(handle)}); err != nil {
		t.Fatal(err)
	}
	// What a crash right after the answer leaves: the record says
	// CANCELLING (the task's goroutine may have written CANCELLED since).
	if rec, ok := sh.h.storedTask(t, handle); !ok || (rec.Status != moveCancelling && rec.Status != moveCancelled) {
		t.Fatalf("record after the cancel: %+v %v", rec, ok)
	}
	sh.h.waitMoveTask(t.Context(), handle)
	moved := len(sh.drain(t, src))
	sh.close()

	sh = newSDKHandlerAt(t, dir, clock)
	tasks := sh.listTasks(t, dlqARN, 10)
	if len(tasks) != 1 || aws.ToString(tasks[0].Status) != moveCancelled || tasks[0].TaskHandle != nil {
		t.Fatalf("after the restart: %+v", tasks)
	}
	if left := sh.drain(t, dlq); len(left)+moved != 5 || len(left) == 0 {
		t.Fatalf("%d moved, %q left: the cancelled task went on", moved, left)
	}

	if _, err := sh.c.DeleteQueue(t.Context(), &awssqs.DeleteQueueInput{QueueUrl: aws.String(dlq)}); err != nil {
		t.Fatal(err)
	}
	sh.createQueue(t, "dead", nil)
	if tasks := sh.listTasks(t, dlqARN, 10); len(tasks) != 0 {
		t.Fatalf("a new queue of the name lists the old one's tasks: %+v", tasks)
	}
	sh.close()
	sh = newSDKHandlerAt(t, dir, clock)
	if tasks := sh.listTasks(t, dlqARN, 10); len(tasks) != 0 {
		t.Fatalf("after another restart, the deleted queue's tasks are back: %+v", tasks)
	}
}

// Loading records: a CANCELLING one (a crash between the cancel's answer
// and the task's end) loads as CANCELLED and is not resumed, a corrupt one
// is skipped, and only the newest ten of a source are kept.
func TestMoveTaskRecordsLoad(t *testing.T) {
	dir, clock := t.TempDir(), &testClock{now: time.UnixMilli(1_750_000_000_000)}
	sh := newSDKHandlerAt(t, dir, clock)
	sh.createQueue(t, "dead", nil)
	arn := sh.h.queueARN("dead")
	put := func(key string, v []byte) {
		t.Helper()
		if err := sh.h.store.Update(t.Context(), store.KV{Namespace: stateNamespace, Key: key, Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	for i := range 12 {
		rec := moveTaskRecord{ID: fmt.Sprintf("00000000-0000-0000-0000-%012d", i), Source: arn, Started: int64(1000 + i), ToMove: 3, Status: moveCompleted, Moved: 3}
		if i == 11 {
			rec.Status, rec.Moved = moveCancelling, 1
		}
		v, _ := json.Marshal(rec)
		put(sh.h.moveTaskKey(arn, rec.ID), v)
		ids = append(ids, rec.ID)
	}
	put(sh.h.moveTaskKey(arn, "broken"), []byte("{"))
	sh.close()

	sh = newSDKHandlerAt(t, dir, clock)
	tasks := sh.listTasks(t, arn, 10)
	if len(tasks) != 10 || aws.ToString(tasks[0].Status) != moveCancelled || tasks[0].ApproximateNumberOfMessagesMoved != 1 ||
		tasks[0].StartedTimestamp != 1011 || tasks[9].StartedTimestamp != 1002 {
		t.Fatalf("loaded: %+v", tasks)
	}
	if stored, ok := sh.h.storedTask(t, encodeTaskHandle(ids[11], arn)); !ok || stored.Status != moveCancelled {
		t.Fatalf("the cancelling task's record after loading: %+v %v", stored, ok)
	}
	for _, id := range ids[:2] {
		if _, ok := sh.h.storedTask(t, encodeTaskHandle(id, arn)); ok {
			t.Fatalf("task %s, the eleventh newest or older, is still stored", id)
		}
	}
}
