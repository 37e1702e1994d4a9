package sqs

// Message move tasks: StartMessageMoveTask, ListMessageMoveTasks and
// CancelMessageMoveTask, SQS's dead-letter queue redrive. A task moves the
// messages of a dead-letter queue (a queue some queue's RedrivePolicy
// names) to DestinationArn, or, without one, each back to the queue it was
// dead-lettered from (its sqs-dead-letter-source header, deadletter.go).
//
// A task runs in a goroutine of the Handler, which Shutdown stops and
// waits for. Each step receives up to 10 messages from the source (no long
// poll; as a receive, so a FIFO dead-letter queue gives each group's
// messages in order), appends them to their destinations and then deletes
// them from the source: a crash between the two leaves a message in both,
// never in neither (at least once, like the rest of SQS). The task ends
// COMPLETED when a step finds nothing visible to move. With
// MaxNumberOfMessagesPerSecond, steps are paced so that the messages moved
// since the start never run ahead of that rate.
//
// The 10 most recent tasks per source queue (what ListMessageMoveTasks
// can show) are kept, in memory and in the store (movetasks_persist.go): a
// task a restart interrupts goes on after it. Messages a task had received
// and not moved when the bridge stopped become visible again when their
// visibility timeout ends.
//
// Refusals are worded as the real service's, captured by LocalStack's
// AWS-validated tests, except where noted.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/store"
)

func init() {
	register("StartMessageMoveTask", (*Handler).startMessageMoveTask)
	register("ListMessageMoveTasks", (*Handler).listMessageMoveTasks)
	register("CancelMessageMoveTask", (*Handler).cancelMessageMoveTask)
}

// Limits of the move task operations, from the SQS API reference.
const (
	maxMoveRate        = 500
	maxListedMoveTasks = 10
	moveBatch          = maxReceiveMessages
)

// The statuses of a move task.
const (
	moveRunning    = "RUNNING"
	moveCompleted  = "COMPLETED"
	moveCancelling = "CANCELLING"
	moveCancelled  = "CANCELLED"
	moveFailed     = "FAILED"
)

// failNoQueue is a task's FailureReason when a queue it moves to or from
// is gone, as SQS reports it.
const failNoQueue = "AWS.SimpleQueueService.NonExistentQueue"

// moveTasks are a Handler's move tasks. The zero value is ready to use.
type moveTasks struct {
	// saveMu orders the writes of task records with DeleteQueue's
	// (movetasks_persist.go); it is taken before mu.
	saveMu sync.Mutex

	mu       sync.Mutex
	bySource map[string][]*moveTask // by source ARN, oldest first
	byID     map[string]*moveTask
	stopped  bool
	// base is the context of the tasks' store calls, ended by stop once
	// its wait gives up.
	base    context.Context
	endBase context.CancelFunc
	wg      sync.WaitGroup
}

// moveTask is one task. Its fields after started are guarded by
// moveTasks.mu.
type moveTask struct {
	id, handle   string
	source, dest string // ARNs; dest "" for each message's own source
	rate         int64  // messages a second; 0 for no limit
	started      int64  // Unix ms
	toMove       int64
	stop         chan struct{} // closed by halt: a cancel, Shutdown, DeleteQueue
	done         chan struct{} // closed when the goroutine ended
	halted       bool          // stop is closed

	status  string
	moved   int64
	failure string
}

// errNoTask refuses a task handle of a task the bridge does not have.
var errNoTask = &awsapi.Error{Status: http.StatusNotFound, Type: jsonType("ResourceNotFoundException"), QueryCode: "ResourceNotFoundException", Message: "Task does not exist."}

// notFound refuses an ARN parameter naming no queue.
func notFound(param string) error {
	return &awsapi.Error{Status: http.StatusNotFound, Type: jsonType("ResourceNotFoundException"), QueryCode: "ResourceNotFoundException",
		Message: "The resource that you specified for the " + param + " parameter doesn't exist."}
}

type startMessageMoveTaskInput struct {
	SourceArn                    string `json:"SourceArn"`
	DestinationArn               string `json:"DestinationArn"`
	MaxNumberOfMessagesPerSecond *int32 `json:"MaxNumberOfMessagesPerSecond"`
}

type startMessageMoveTaskOutput struct {
	TaskHandle string `json:"TaskHandle"`
}

func (h *Handler) startMessageMoveTask(ctx context.Context, _ *exchange, in *startMessageMoveTaskInput) (*startMessageMoveTaskOutput, error) {
	if in.SourceArn == "" {
		return nil, missingParameter("SourceArn")
	}
	rate, err := intParam("MaxNumberOfMessagesPerSecond", in.MaxNumberOfMessagesPerSecond, 0, 1, maxMoveRate, "Must be between 1 and 500, if provided.")
	if err != nil {
		return nil, err
	}
	src, err := h.queueByARN(ctx, in.SourceArn, "SourceArn")
	if err != nil {
		return nil, err
	}
	sources, err := h.queueNames(ctx, func(st store.Stream) bool {
		dlq, _, ok := redriveTarget(queueAttributes(st))
		return ok && dlq == in.SourceArn
	})
	if err != nil {
		return nil, err
	}
	if len(sources) == 0 {
		return nil, newError(ErrInvalidParameterValue, "Source queue must be configured as a Dead Letter Queue.")
	}
	if in.DestinationArn != "" {
		dst, err := h.queueByARN(ctx, in.DestinationArn, "DestinationArn")
		if err != nil {
			return nil, err
		}
		if dst.fifo != src.fifo {
			// The bridge's words: a FIFO message needs its group kept.
			return nil, newError(ErrInvalidParameterValue, "The source and destination queues must both be FIFO queues or both be standard queues.")
		}
	}
	visible, _, _, err := src.q.counts(ctx, h.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	task := &moveTask{
		id: uuid.NewString(), source: in.SourceArn, dest: in.DestinationArn, rate: rate,
		started: h.now().UnixMilli(), toMove: visible, status: moveRunning,
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	task.handle = encodeTaskHandle(task.id, task.source)
	dropped, err := h.moves.add(task)
	if err != nil {
		return nil, err
	}
	h.moves.mu.Lock()
	rec := recordOf(task)
	h.moves.mu.Unlock()
	if err := h.saveMoveTask(ctx, rec, dropped...); err != nil {
		h.moves.remove(task)
		return nil, err
	}
	go h.runMove(task)
	return &startMessageMoveTaskOutput{TaskHandle: task.handle}, nil
}

// queueByARN finds the queue an ARN parameter names.
func (h *Handler) queueByARN(ctx context.Context, arn, param string) (*target, error) {
	if parts := strings.Split(arn, ":"); len(parts) < 6 || parts[0] != "arn" {
		return nil, newError(ErrInvalidParameterValue, "You must use this format to specify the %s: arn:<partition>:<service>:<region>:<account-id>:<resource-id>", param)
	}
	name, ok := h.queueOfARN(arn)
	if !ok {
		return nil, notFound(param)
	}
	t, err := h.lookup(ctx, name)
	if errors.Is(err, errNoQueue) {
		return nil, notFound(param)
	}
	return t, err
}

// init makes the maps and the tasks' context; the caller holds mu.
func (m *moveTasks) init() {
	if m.byID == nil {
		m.bySource, m.byID = map[string][]*moveTask{}, map[string]*moveTask{}
		m.base, m.endBase = context.WithCancel(context.Background())
	}
}

// add registers a task, refusing a second active one on its source, and
// returns the ended task it no longer lists, if any.
func (m *moveTasks) add(task *moveTask) (dropped []*moveTask, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return nil, errors.Join(context.Canceled, errors.New("the handler is shutting down"))
	}
	m.init()
	list := m.bySource[task.source]
	for _, t := range list {
		if t.status == moveRunning || t.status == moveCancelling {
			return nil, newError(ErrInvalidParameterValue, "There is already a task running. Only one active task is allowed for a source queue arn at a given time.")
		}
	}
	// Only the newest is ever active, so the ones dropped have ended.
	if len(list) == maxListedMoveTasks {
		dropped = list[:1:1]
		delete(m.byID, list[0].id)
		list = list[1:]
	}
	m.bySource[task.source] = append(list, task)
	m.byID[task.id] = task
	m.wg.Add(1)
	return dropped, nil
}

// remove takes back a task add registered whose goroutine never started.
func (m *moveTasks) remove(task *moveTask) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.byID, task.id)
	m.bySource[task.source] = slices.DeleteFunc(m.bySource[task.source], func(t *moveTask) bool { return t == task })
	close(task.done)
	m.wg.Done()
}

// halt closes a task's stop channel once; the caller holds mu.
func (t *moveTask) halt() {
	if !t.halted {
		t.halted = true
		close(t.stop)
	}
}

// stop stops every task and waits for them until ctx ends (Shutdown).
func (m *moveTasks) stop(ctx context.Context) error {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return nil
	}
	m.stopped = true
	for _, t := range m.byID {
		// Still RUNNING, in memory and in the store: the next start
		// resumes it.
		t.halt()
	}
	endBase := m.endBase
	m.mu.Unlock()
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		if endBase != nil {
			endBase() // the store calls in progress give up
		}
		<-done
		return ctx.Err()
	}
}

// runMove is a task's goroutine.
func (h *Handler) runMove(task *moveTask) {
	defer h.moves.wg.Done()
	defer close(task.done)
	failure, err := h.moveAll(task)
	m := &h.moves
	m.mu.Lock()
	switch {
	case failure != "":
		task.status, task.failure = moveFailed, failure
	case err != nil:
		h.log.Error("sqs: message move task failed", "task", task.id, "source", task.source, "err", err)
		task.status, task.failure = moveFailed, "InternalError"
	case task.status == moveCancelling:
		task.status = moveCancelled
	case task.halted:
		// Shutdown: stays RUNNING, to be resumed.
	default:
		task.status = moveCompleted
	}
	rec := recordOf(task)
	m.mu.Unlock()
	if err := h.saveMoveTask(m.base, rec); err != nil {
		h.log.Error("sqs: a message move task's end was not recorded", "task", task.id, "source", task.source, "status", rec.Status, "err", err)
	}
}

// moveAll moves messages until none is left, the task is stopped, or it
// fails: with a reason for the task (failure), or an error of the bridge.
func (h *Handler) moveAll(task *moveTask) (failure string, err error) {
	ctx := h.moves.base
	h.moves.mu.Lock()
	before := task.moved // a resumed task's earlier progress
	h.moves.mu.Unlock()
	begin, saved := time.Now(), time.Now()
	var moved int64 // since begin, which paces the rate
	for {
		n := moveBatch
		if task.rate > 0 {
			n = int(min(task.rate, moveBatch))
			// The messages moved so far may not run ahead of the rate.
			if wait := time.Until(begin.Add(time.Duration(moved) * time.Second / time.Duration(task.rate))); wait > 0 {
				timer := time.NewTimer(wait)
				select {
				case <-task.stop:
					timer.Stop()
					return "", nil
				case <-timer.C:
				}
			}
		}
		select {
		case <-task.stop:
			return "", nil
		default:
		}
		k, failure, err := h.moveStep(ctx, task, n)
		if failure != "" || err != nil || k == 0 {
			return failure, err
		}
		moved += int64(k)
		h.moves.mu.Lock()
		task.moved = before + moved
		rec := recordOf(task)
		h.moves.mu.Unlock()
		if time.Since(saved) >= moveSaveInterval {
			if err := h.saveMoveTask(ctx, rec); err != nil {
				return "", err
			}
			saved = time.Now()
		}
	}
}

// moveStep moves up to n messages; k is how many, 0 when none was left.
func (h *Handler) moveStep(ctx context.Context, task *moveTask, n int) (k int, failure string, err error) {
	srcName, _ := h.queueOfARN(task.source)
	src, err := h.lookup(ctx, srcName)
	if errors.Is(err, errNoQueue) {
		return 0, failNoQueue, nil
	}
	if err != nil {
		return 0, "", err
	}
	now := h.now().UnixMilli()
	got, err := src.q.receive(ctx, func() int64 { return now }, n, src.attrInt(attrVisibilityTimeout)*1000, now)
	if err != nil || len(got) == 0 {
		return 0, "", err
	}
	// Each message to its destination, in the order received, which keeps
	// a FIFO group's order.
	dests := map[string]*target{}
	var order []string
	byDest := map[string][]storedRecord{}
	for _, m := range got {
		arn := task.dest
		if arn == "" {
			arn = messageOf(m.record).deadLetterSource
		}
		if dests[arn] == nil {
			name, ok := h.queueOfARN(arn)
			if !ok {
				// Not dead-lettered here (sent to the dead-letter queue
				// directly), or from elsewhere: nowhere to go back to.
				return 0, failNoQueue, h.release(ctx, src, got)
			}
			dst, err := h.lookup(ctx, name)
			if errors.Is(err, errNoQueue) {
				return 0, failNoQueue, h.release(ctx, src, got)
			}
			if err != nil {
				return 0, "", err
			}
			dests[arn] = dst
			order = append(order, arn)
		}
		byDest[arn] = append(byDest[arn], movedRecord(m, ""))
	}
	for _, arn := range order {
		if err := h.appendRecords(ctx, dests[arn], byDest[arn]); err != nil {
			return 0, "", err
		}
	}
	if err := src.q.removeReceived(ctx, got); err != nil {
		return 0, "", err
	}
	return len(got), "", nil
}

// release makes messages a failed step received visible again, so the
// task's failure does not hide them for a visibility timeout.
func (h *Handler) release(ctx context.Context, src *target, msgs []receivedMessage) error {
	now := h.now().UnixMilli()
	for _, m := range msgs {
		err := src.q.parts[m.partition].changeVisibility(ctx, m.record.Offset, m.state.nonce, now, now)
		if err != nil && !errors.Is(err, errStaleReceipt) && !errors.Is(err, errNotInFlight) {
			return err
		}
	}
	return nil
}

type listMessageMoveTasksInput struct {
	SourceArn  string `json:"SourceArn"`
	MaxResults *int32 `json:"MaxResults"`
}

type moveTaskEntry struct {
	TaskHandle                        string `json:"TaskHandle,omitempty"`
	Status                            string `json:"Status"`
	SourceArn                         string `json:"SourceArn"`
	DestinationArn                    string `json:"DestinationArn,omitempty"`
	MaxNumberOfMessagesPerSecond      *int32 `json:"MaxNumberOfMessagesPerSecond,omitempty"`
	ApproximateNumberOfMessagesMoved  int64  `json:"ApproximateNumberOfMessagesMoved"`
	ApproximateNumberOfMessagesToMove *int64 `json:"ApproximateNumberOfMessagesToMove,omitempty"`
	FailureReason                     string `json:"FailureReason,omitempty"`
	StartedTimestamp                  int64  `json:"StartedTimestamp"`
}

type listMessageMoveTasksOutput struct {
	Results []moveTaskEntry `json:"Results" query:"ListMessageMoveTasksResultEntry,flat"`
}

func (h *Handler) listMessageMoveTasks(ctx context.Context, _ *exchange, in *listMessageMoveTasksInput) (*listMessageMoveTasksOutput, error) {
	if in.SourceArn == "" {
		return nil, missingParameter("SourceArn")
	}
	n, err := intParam("MaxResults", in.MaxResults, 1, 1, maxListedMoveTasks, "Must be between 1 and 10, if provided.")
	if err != nil {
		return nil, err
	}
	if _, err := h.queueByARN(ctx, in.SourceArn, "SourceArn"); err != nil {
		return nil, err
	}
	m := &h.moves
	m.mu.Lock()
	defer m.mu.Unlock()
	out := &listMessageMoveTasksOutput{Results: []moveTaskEntry{}}
	list := m.bySource[in.SourceArn]
	for i := len(list) - 1; i >= 0 && len(out.Results) < int(n); i-- {
		t := list[i]
		e := moveTaskEntry{Status: t.status, SourceArn: t.source, DestinationArn: t.dest,
			ApproximateNumberOfMessagesMoved: t.moved, ApproximateNumberOfMessagesToMove: &t.toMove,
			FailureReason: t.failure, StartedTimestamp: t.started}
		if t.status == moveRunning {
			e.TaskHandle = t.handle // SQS shows it only while it can be used
		}
		if t.rate > 0 {
			r := int32(t.rate)
			e.MaxNumberOfMessagesPerSecond = &r
		}
		out.Results = append(out.Results, e)
	}
	return out, nil
}

type cancelMessageMoveTaskInput struct {
	TaskHandle string `json:"TaskHandle"`
}

type cancelMessageMoveTaskOutput struct {
	ApproximateNumberOfMessagesMoved int64 `json:"ApproximateNumberOfMessagesMoved"`
}

func (h *Handler) cancelMessageMoveTask(ctx context.Context, _ *exchange, in *cancelMessageMoveTaskInput) (*cancelMessageMoveTaskOutput, error) {
	if in.TaskHandle == "" {
		return nil, missingParameter("TaskHandle")
	}
	id, source, ok := decodeTaskHandle(in.TaskHandle)
	if !ok {
		return nil, newError(ErrInvalidParameterValue, "Value for parameter TaskHandle is invalid.")
	}
	if _, err := h.queueByARN(ctx, source, "SourceArn"); err != nil {
		return nil, err
	}
	m := &h.moves
	m.mu.Lock()
	t := m.byID[id]
	if t == nil || t.source != source {
		m.mu.Unlock()
		return nil, errNoTask
	}
	if t.status != moveRunning {
		m.mu.Unlock()
		// SQS cancels only a RUNNING task; the code is a guess (the API
		// lists UnsupportedOperation among this operation's errors).
		return nil, newError(ErrUnsupportedOperation, "Only a message movement task in RUNNING status can be cancelled; this one is %s.", t.status)
	}
	t.status = moveCancelling
	t.halt()
	rec := recordOf(t)
	m.mu.Unlock()
	// Durable before the answer: a restart must not resume it.
	if err := h.saveMoveTask(ctx, rec); err != nil {
		return nil, err
	}
	return &cancelMessageMoveTaskOutput{ApproximateNumberOfMessagesMoved: rec.Moved}, nil
}

// A task handle is, as SQS makes it, base64 of a JSON object naming the
// task and its source queue.
type taskHandle struct {
	TaskID    string `json:"taskId"`
	SourceArn string `json:"sourceArn"`
}

func encodeTaskHandle(id, source string) string {
	b, _ := json.Marshal(taskHandle{TaskID: id, SourceArn: source}) // strings always encode
	return base64.StdEncoding.EncodeToString(b)
}

func decodeTaskHandle(handle string) (id, source string, ok bool) {
	b, err := base64.StdEncoding.DecodeString(handle)
	if err != nil {
		return "", "", false
	}
	var th taskHandle
	if json.Unmarshal(b, &th) != nil || th.TaskID == "" || th.SourceArn == "" {
		return "", "", false
	}
	return th.TaskID, th.SourceArn, true
}
