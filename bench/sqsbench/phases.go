package sqsbench

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/bench/measure"
)

// runner is one run against one queue.
type runner struct {
	cfg    Config
	cl     *sqs.Client
	url    string
	bodies []string
	prefix string // unique to the run: MessageDeduplicationIds start with it
}

// opTimes are one worker's call latencies by operation; each worker keeps
// its own, so that timing a call takes no lock.
type opTimes [numOps][]time.Duration

// phaseRun is what the workers of one phase share.
type phaseRun struct {
	cfg    *Config
	name   string
	parent context.Context // the run's: its end is the run's
	// ctx is the calls' context. It ends when the phase fails, not when
	// its work is done: a long poll cut short by a closed connection is
	// not noticed by every server (local-aws-sqs goes on to hand the next
	// messages to the dead poll, hiding them for the visibility timeout),
	// so when the work is done the receivers' last polls run out instead
	// and the phase's time ends with its last message.
	ctx      context.Context
	fail     context.CancelFunc
	finished atomic.Bool
	start    time.Time
	wg       sync.WaitGroup

	mu   sync.Mutex
	err  error
	end  time.Time // when the phase's work was done, if it ended early
	lats opTimes

	calls, retries, empty [numOps]atomic.Int64
	moved                 atomic.Int64 // messages sent, received or deleted (each once)
	lastMove              atomic.Int64 // time.Now().UnixNano() at the start and at each move
}

func (r *runner) newPhase(ctx context.Context, name string) *phaseRun {
	p := &phaseRun{cfg: &r.cfg, name: name, parent: ctx, start: time.Now()}
	p.ctx, p.fail = context.WithCancel(ctx)
	p.lastMove.Store(p.start.UnixNano())
	return p
}

// worker runs f in a goroutine of the phase; the first error f returns
// ends the phase.
func (p *phaseRun) worker(f func(t *opTimes) error) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var t opTimes
		err := f(&t)
		p.mu.Lock()
		defer p.mu.Unlock()
		for op := range t {
			p.lats[op] = append(p.lats[op], t[op]...)
		}
		if err != nil && p.err == nil && !p.finished.Load() {
			p.err = err
			p.fail()
		}
	}()
}

// finish records that the phase's work is done: its time ends now, and
// workers stop once their calls return.
func (p *phaseRun) finish() {
	p.mu.Lock()
	if p.end.IsZero() {
		p.end = time.Now()
	}
	p.mu.Unlock()
	p.finished.Store(true)
}

// over says whether the phase's work is done or it failed.
func (p *phaseRun) over() bool { return p.finished.Load() || p.ctx.Err() != nil }

// moveN records n messages moved and returns the total so far.
func (p *phaseRun) moveN(n int) int64 {
	p.lastMove.Store(time.Now().UnixNano())
	return p.moved.Add(int64(n))
}

// stalled says whether the phase has moved nothing for the stall timeout.
func (p *phaseRun) stalled() bool {
	return time.Since(time.Unix(0, p.lastMove.Load())) > p.cfg.StallTimeout
}

// timed calls f, counts the call, and returns how long it took.
func (p *phaseRun) timed(op Op, f func(ctx context.Context) error) (time.Duration, error) {
	t0 := time.Now()
	err := f(p.ctx)
	p.calls[op].Add(1)
	return time.Since(t0), err
}

// wait waits for the workers and returns the phase's result, or its first
// error. A phase that ends when its workers run out of work ends now.
func (p *phaseRun) wait() (Phase, error) {
	stopProgress := measure.Progress(p.cfg.Progress, p.cfg.ProgressEvery, p.name, &p.moved, p.cfg.BodySize)
	p.wg.Wait()
	stopProgress()
	p.fail() // releases the context
	end := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return Phase{}, p.err
	}
	if err := p.parent.Err(); err != nil {
		return Phase{}, err
	}
	if !p.end.IsZero() {
		end = p.end
	}
	ph := Phase{Name: p.name, Messages: p.moved.Load(), Time: end.Sub(p.start)}
	ph.Bytes = ph.Messages * int64(p.cfg.BodySize)
	for op := range numOps {
		lats := p.lats[op]
		slices.Sort(lats)
		ph.Ops[op] = OpStats{
			Calls: p.calls[op].Load(), Retries: p.retries[op].Load(), Empty: p.empty[op].Load(),
			P50: measure.Percentile(lats, 0.50), P99: measure.Percentile(lats, 0.99), Max: measure.Percentile(lats, 1),
		}
	}
	return ph, nil
}

// send runs the send phase: N messages from the senders.
func (r *runner) send(ctx context.Context) (Phase, error) {
	p := r.newPhase(ctx, PhaseSend)
	r.startSenders(p, 0, func(n int) { p.moveN(n) })
	ph, err := p.wait()
	if err == nil && ph.Messages != r.cfg.Messages {
		err = fmt.Errorf("sent %d messages, want %d", ph.Messages, r.cfg.Messages)
	}
	return ph, err
}

// startSenders starts the senders of a phase: they send messages first to
// first+N-1 (numbers that make distinct deduplication ids) and call sent
// after each batch they got accepted.
func (r *runner) startSenders(p *phaseRun, first int64, sent func(n int)) {
	batch := int64(r.cfg.sendBatch())
	var claimed atomic.Int64
	for range r.cfg.Senders {
		p.worker(func(t *opTimes) error {
			entries := make([]types.SendMessageBatchRequestEntry, 0, batch)
			for !p.over() {
				from := claimed.Add(batch) - batch
				if from >= r.cfg.Messages {
					return nil
				}
				entries = entries[:0]
				for i, n := 0, first+from; n < first+min(from+batch, r.cfg.Messages); i, n = i+1, n+1 {
					e := types.SendMessageBatchRequestEntry{
						Id:          aws.String(strconv.Itoa(i)),
						MessageBody: aws.String(r.bodies[n%int64(len(r.bodies))]),
					}
					if r.cfg.FIFO {
						e.MessageGroupId = aws.String("g" + strconv.FormatInt(n%int64(r.cfg.Groups), 10))
						e.MessageDeduplicationId = aws.String(r.prefix + "-" + strconv.FormatInt(n, 10))
					}
					entries = append(entries, e)
				}
				err := retryBatch(p, OpSend, t, entries, func(e types.SendMessageBatchRequestEntry) *string { return e.Id },
					func(ctx context.Context, pending []types.SendMessageBatchRequestEntry) (int, []types.BatchResultErrorEntry, error) {
						out, err := r.cl.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(r.url), Entries: pending})
						if err != nil {
							return 0, nil, err
						}
						return len(out.Successful), out.Failed, nil
					})
				if err != nil || p.over() {
					return err
				}
				sent(len(entries))
			}
			return nil
		})
	}
}

// deleteEntries deletes the messages of entries with one DeleteMessageBatch
// (retried until each is deleted).
func (r *runner) deleteEntries(p *phaseRun, t *opTimes, entries []types.DeleteMessageBatchRequestEntry) error {
	return retryBatch(p, OpDelete, t, entries, func(e types.DeleteMessageBatchRequestEntry) *string { return e.Id },
		func(ctx context.Context, pending []types.DeleteMessageBatchRequestEntry) (int, []types.BatchResultErrorEntry, error) {
			out, err := r.cl.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(r.url), Entries: pending})
			if err != nil {
				return 0, nil, err
			}
			return len(out.Successful), out.Failed, nil
		})
}

// retryBatch calls a batch operation (call) with entries until each is
// accepted: a call refused with a retryable error is sent again whole, and
// entries refused with one are sent again, after a backoff. Any other
// refusal is an error. It returns nil without finishing when the phase
// ended meanwhile.
func retryBatch[E any](p *phaseRun, op Op, t *opTimes, entries []E, id func(E) *string,
	call func(ctx context.Context, pending []E) (succeeded int, failed []types.BatchResultErrorEntry, err error)) error {
	pending := entries
	var bo backoff
	for {
		var ok int
		var failed []types.BatchResultErrorEntry
		d, err := p.timed(op, func(ctx context.Context) (err error) {
			ok, failed, err = call(ctx, pending)
			return err
		})
		if p.ctx.Err() != nil {
			return nil // the phase failed elsewhere
		}
		t[op] = append(t[op], d)
		var again []E
		switch {
		case err != nil && retryable(errorCode(err)):
			again = pending
		case err != nil:
			return fmt.Errorf("%s: %w", op, err)
		case ok+len(failed) != len(pending):
			return fmt.Errorf("%s answered %d successes and %d failures for %d entries", op, ok, len(failed), len(pending))
		default:
			for _, f := range failed {
				code := aws.ToString(f.Code)
				if f.SenderFault || !retryable(code) {
					return fmt.Errorf("%s refused entry %s: %s: %s", op, aws.ToString(f.Id), code, aws.ToString(f.Message))
				}
				i := slices.IndexFunc(pending, func(e E) bool { return aws.ToString(id(e)) == aws.ToString(f.Id) })
				if i < 0 {
					return fmt.Errorf("%s refused entry %q, which the call did not have", op, aws.ToString(f.Id))
				}
				again = append(again, pending[i])
			}
		}
		if len(again) == 0 {
			return nil
		}
		p.retries[op].Add(1)
		if p.stalled() {
			return fmt.Errorf("%s: nothing moved for %v of retrying; last refusal: %v", op, p.cfg.StallTimeout, refusal(err, failed))
		}
		if bo.wait(p.ctx) != nil {
			return nil
		}
		pending = again
	}
}

func refusal(err error, failed []types.BatchResultErrorEntry) string {
	if err != nil {
		return err.Error()
	}
	if len(failed) > 0 {
		return aws.ToString(failed[0].Code) + ": " + aws.ToString(failed[0].Message)
	}
	return "none"
}

// seenSet is the messages a phase received, by MessageId, with the
// receipt handle of their latest receipt (an earlier one may no longer
// delete the message).
type seenSet struct {
	mu      sync.Mutex
	handles map[string]string
	dups    atomic.Int64
}

// add records a receipt and says whether it was the message's first.
func (s *seenSet) add(id, handle string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, again := s.handles[id]
	s.handles[id] = handle
	if again {
		s.dups.Add(1)
	}
	return !again
}

// receive runs the receive phase (deleteNow false: the receivers keep the
// receipt handles, which it returns) or the receive+delete phase of FIFO
// queues (deleteNow: each receiver deletes what it received before it
// receives again). It ends once every message sent was received, or
// deleted, once.
func (r *runner) receive(ctx context.Context, deleteNow bool) (Phase, []string, error) {
	name := PhaseReceive
	if deleteNow {
		name = PhaseReceiveDelete
	}
	p := r.newPhase(ctx, name)
	seen := &seenSet{handles: make(map[string]string, r.cfg.Messages)}
	r.startReceivers(p, seen, deleteNow)
	ph, err := p.wait()
	ph.Duplicates = seen.dups.Load()
	if err != nil {
		return ph, nil, err
	}
	handles := make([]string, 0, len(seen.handles))
	for _, h := range seen.handles {
		handles = append(handles, h)
	}
	return ph, handles, nil
}

// startReceivers starts the receivers of a phase. Each long-polls
// ReceiveMessage for up to 10 messages, checks them, and with deleteNow
// deletes them with one DeleteMessageBatch before polling again. A message
// counts as moved when first received (or, with deleteNow, once that
// receipt was deleted); the phase ends when Messages have moved.
func (r *runner) startReceivers(p *phaseRun, seen *seenSet, deleteNow bool) {
	for range r.cfg.Receivers {
		p.worker(func(t *opTimes) error {
			var bo backoff
			for !p.over() {
				var out *sqs.ReceiveMessageOutput
				d, err := p.timed(OpReceive, func(ctx context.Context) (err error) {
					out, err = r.cl.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
						QueueUrl:            aws.String(r.url),
						MaxNumberOfMessages: MaxBatch,
						WaitTimeSeconds:     int32(r.cfg.WaitSeconds),
					})
					return err
				})
				switch {
				case p.ctx.Err() != nil:
					return nil // the phase failed elsewhere
				case err != nil && !retryable(errorCode(err)):
					return fmt.Errorf("ReceiveMessage: %w", err)
				case err != nil:
					p.retries[OpReceive].Add(1)
				case len(out.Messages) == 0:
					p.empty[OpReceive].Add(1)
				}
				if err != nil || len(out.Messages) == 0 {
					if p.stalled() {
						return fmt.Errorf("%d of %d messages after %v without one more (last ReceiveMessage: %v; the queue says %s)",
							p.moved.Load(), r.cfg.Messages, p.cfg.StallTimeout, orNone(err), r.queueCounts(p.parent))
					}
					if err != nil && bo.wait(p.ctx) != nil {
						return nil
					}
					continue
				}
				// Only answers with messages count for latency: an empty long
				// poll takes the wait time by design.
				t[OpReceive] = append(t[OpReceive], d)
				bo = backoff{}
				fresh := 0
				entries := make([]types.DeleteMessageBatchRequestEntry, 0, len(out.Messages))
				for i, m := range out.Messages {
					if m.MessageId == nil || m.ReceiptHandle == nil {
						return fmt.Errorf("ReceiveMessage: a message without MessageId or ReceiptHandle")
					}
					if n := len(aws.ToString(m.Body)); n != r.cfg.BodySize {
						return fmt.Errorf("ReceiveMessage: message %s has a body of %d bytes, want %d", *m.MessageId, n, r.cfg.BodySize)
					}
					if seen.add(*m.MessageId, *m.ReceiptHandle) {
						fresh++
					}
					entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: m.ReceiptHandle})
				}
				if deleteNow {
					if err := r.deleteEntries(p, t, entries); err != nil || p.over() {
						return err
					}
				}
				if total := p.moveN(fresh); total >= r.cfg.Messages {
					if total > r.cfg.Messages {
						return fmt.Errorf("received %d distinct messages, %d were sent", total, r.cfg.Messages)
					}
					p.finish()
				}
			}
			return nil
		})
	}
}

// delete runs the delete phase: the deleters delete the messages of
// handles, Batch a call.
func (r *runner) delete(ctx context.Context, handles []string) (Phase, error) {
	p := r.newPhase(ctx, PhaseDelete)
	batch := int64(r.cfg.Batch)
	var claimed atomic.Int64
	for range r.cfg.Deleters {
		p.worker(func(t *opTimes) error {
			entries := make([]types.DeleteMessageBatchRequestEntry, 0, batch)
			for !p.over() {
				from := claimed.Add(batch) - batch
				if from >= int64(len(handles)) {
					return nil
				}
				entries = entries[:0]
				for i, h := range handles[from:min(from+batch, int64(len(handles)))] {
					entries = append(entries, types.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), ReceiptHandle: aws.String(h)})
				}
				if err := r.deleteEntries(p, t, entries); err != nil || p.over() {
					return err
				}
				p.moveN(len(entries))
			}
			return nil
		})
	}
	ph, err := p.wait()
	if err == nil && ph.Messages != int64(len(handles)) {
		err = fmt.Errorf("deleted %d messages, want %d", ph.Messages, len(handles))
	}
	return ph, err
}

// pipeline runs the pipeline phase: senders and receivers at once, the
// receivers deleting what they receive; it ends when every message sent
// was deleted.
func (r *runner) pipeline(ctx context.Context) (Phase, error) {
	p := r.newPhase(ctx, PhasePipeline)
	seen := &seenSet{handles: make(map[string]string, r.cfg.Messages)}
	// Messages from Messages on: the send phase's deduplication ids are
	// still remembered by a FIFO queue (5 minutes).
	r.startSenders(p, r.cfg.Messages, func(int) {})
	r.startReceivers(p, seen, true)
	ph, err := p.wait()
	ph.Duplicates = seen.dups.Load()
	return ph, err
}

// queueCounts describes the queue's approximate message counts, for the
// error of a phase that stalled.
func (r *runner) queueCounts(ctx context.Context) string {
	out, err := r.cl.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(r.url),
		AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible, types.QueueAttributeNameApproximateNumberOfMessagesDelayed},
	})
	if err != nil {
		return fmt.Sprintf("nothing (GetQueueAttributes: %v)", err)
	}
	a := out.Attributes
	return fmt.Sprintf("%s visible, %s in flight, %s delayed", a["ApproximateNumberOfMessages"], a["ApproximateNumberOfMessagesNotVisible"], a["ApproximateNumberOfMessagesDelayed"])
}

func orNone(err error) string {
	if err == nil {
		return "no message"
	}
	return err.Error()
}
