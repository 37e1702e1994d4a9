// Package sqsbench is an SQS load generator built on aws-sdk-go-v2, for any
// SQS endpoint that speaks the JSON 1.0 protocol: `bridge bench sqs` runs
// it.
//
// A run creates a queue with a name of its own (so no run sees another's
// messages, and emulators that refuse to recreate a deleted name for 60 s,
// as AWS does, are no obstacle), moves a number of messages through it in
// phases, and deletes it at the end, whether the run succeeded or not:
//
//   - send: concurrent senders call SendMessageBatch, Batch messages a call;
//   - receive: concurrent receivers long-poll ReceiveMessage (10 messages a
//     call) until every message sent was received once, keeping the
//     receipt handles; the queue's visibility timeout is 12 hours, so
//     nothing comes back during the run;
//   - delete: concurrent deleters call DeleteMessageBatch with those
//     handles, Batch a call;
//   - pipeline: senders and receivers run at once, each receiver deleting
//     what it received with one DeleteMessageBatch before its next receive,
//     as an SQS consumer does; the phase ends when every message was
//     deleted. Messages through send, receive and delete per second here
//     is the bench's headline figure.
//
// A FIFO queue hides the rest of a message group while some of it is in
// flight, so receiving everything before deleting anything cannot work
// there: on FIFO queues the receive and delete phases are one,
// receive+delete, in which receivers delete as in the pipeline.
//
// Each phase reports messages and MB per second and the latency of each
// operation it calls (p50, p99). Throttling and the service's transient
// failures are retried after a backoff and counted; the SDK's own retryer
// is off, so every retry is one this package made and counted. Any other
// error fails the run: a load generator that retried a send it could not
// account for would report what it cannot vouch for.
package sqsbench

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/bench/measure"
	"github.com/streambridge/bridge/bench/sdkclient"
	"github.com/streambridge/bridge/internal/uuid"
)

// SQS's own limits that shape a run.
const (
	MaxBatch        = 10      // entries per SendMessageBatch and DeleteMessageBatch, messages per ReceiveMessage
	maxBatchBytes   = 1 << 20 // bodies in one SendMessageBatch (and the largest message)
	MaxWaitSeconds  = 20      // ReceiveMessage WaitTimeSeconds
	maxQueueNameLen = 80
	// uniqueSuffix is what a run adds to Config.Queue: "-" and 12 hex digits.
	uniqueSuffix = 13
	// visibilityTimeout is the queues' VisibilityTimeout, SQS's largest (12
	// hours): a message received in the receive phase must stay invisible
	// until the delete phase deletes it, however slow the endpoint.
	visibilityTimeout = "43200"
)

// DefaultRegion is the region requests are signed for unless Config says.
const DefaultRegion = "us-east-1"

// Phase names, in the order a run goes through them.
const (
	PhaseSend          = "send"
	PhaseReceive       = "receive"
	PhaseDelete        = "delete"
	PhaseReceiveDelete = "receive+delete" // FIFO queues: receive and delete are one phase
	PhasePipeline      = "pipeline"
)

// Op is an SQS operation the bench calls.
type Op int

const (
	OpSend Op = iota
	OpReceive
	OpDelete
	numOps
)

func (o Op) String() string {
	return [...]string{"SendMessageBatch", "ReceiveMessage", "DeleteMessageBatch"}[o]
}

// Config is one benchmark run.
type Config struct {
	// Endpoint is the SQS endpoint URL, e.g. http://127.0.0.1:4566.
	Endpoint string
	// Region signs the requests; empty means DefaultRegion. Credentials are
	// dummy ones.
	Region string
	// Queue is the start of the queue's name; the run adds "-" and 12 random
	// hex digits (and ".fifo" on a FIFO queue).
	Queue string
	// FIFO makes the queue a FIFO queue; its messages are spread over
	// Groups message groups (message n in group n mod Groups) and carry a
	// MessageDeduplicationId unique to the run.
	FIFO   bool
	Groups int
	// BodySize is the size in bytes of each message body.
	BodySize int
	// Messages to send in each phase that sends (send and pipeline).
	Messages int64
	// Senders, Receivers and Deleters are the concurrent callers of
	// SendMessageBatch, ReceiveMessage and (in the delete phase)
	// DeleteMessageBatch. In the pipeline and receive+delete phases the
	// receivers delete.
	Senders, Receivers, Deleters int
	// Batch is the entries of a SendMessageBatch or DeleteMessageBatch
	// call (at most 10; sends of fewer when Batch bodies would pass 1 MiB).
	Batch int
	// WaitSeconds is ReceiveMessage's WaitTimeSeconds (1 to 20).
	WaitSeconds int
	// Phases limits the run to these phases (names as Phase*; receive and
	// delete on a FIFO queue mean receive+delete). Empty means all. A
	// receive phase needs send; delete needs receive; pipeline after send
	// needs receive and delete.
	Phases []string
	// StallTimeout bounds how long a phase may go without moving a
	// message, retrying or polling, before the run fails (default 1 min).
	StallTimeout time.Duration
	// ServerCPU, if set, reports the CPU seconds the server under load has
	// used so far (measure.ProcessCPU of its pid): the result then has the
	// server's CPU time per phase, and each phase ends when the server is
	// idle again, so work it deferred is charged to the phase that caused
	// it.
	ServerCPU func() (float64, error)
	// ClientCPU, if set, reports this load generator's CPU seconds so far,
	// for a server in another process.
	ClientCPU func() (float64, error)
	// Progress, if set, receives a line every ProgressEvery (default 2s).
	Progress      io.Writer
	ProgressEvery time.Duration
}

// Result is what a run measured.
type Result struct {
	Target string // a name for the table, e.g. "bridge" or "local-aws-sqs"
	Queue  string // the queue the run created (and deleted)
	Phases []Phase
}

// Phase is what one phase of a run measured.
type Phase struct {
	Name     string
	Messages int64 // messages the phase sent, received or deleted (each once)
	Bytes    int64 // their bodies
	Time     time.Duration
	Ops      [numOps]OpStats // the operations the phase called
	// Duplicates counts messages received again after their first
	// receipt (standard queues deliver at least once).
	Duplicates int64
	// ServerCPU and ClientCPU are the CPU seconds the server and this load
	// generator spent in the phase; negative when unknown.
	ServerCPU, ClientCPU float64
}

// OpStats describes the calls of one operation in one phase.
type OpStats struct {
	Calls int64 // retries included
	// Retries counts calls sent again, whole or in part, after a retryable
	// refusal of the call or of some of its entries.
	Retries int64
	// Empty counts ReceiveMessage calls answered with no message.
	Empty int64
	// Latency percentiles of the calls, retries included. Only
	// ReceiveMessage calls that returned messages count: an empty long
	// poll lasts the wait time by design.
	P50, P99, Max time.Duration
}

// MsgsPerS and MBps are the phase's rates.
func (p Phase) MsgsPerS() float64 { return measure.PerSec(p.Messages, p.Time) }
func (p Phase) MBps() float64     { return measure.MBps(p.Bytes, p.Time) }

// ServerCPUPerMsg and ClientCPUPerMsg are CPU microseconds per message
// moved in the phase; negative when unknown.
func (p Phase) ServerCPUPerMsg() float64 { return perMsg(p.ServerCPU, p.Messages) }
func (p Phase) ClientCPUPerMsg() float64 { return perMsg(p.ClientCPU, p.Messages) }

func perMsg(seconds float64, n int64) float64 {
	if seconds < 0 || n == 0 {
		return -1
	}
	return seconds * 1e6 / float64(n)
}

// Phase returns the result's phase of that name.
func (r Result) Phase(name string) (Phase, bool) {
	for _, p := range r.Phases {
		if p.Name == name {
			return p, true
		}
	}
	return Phase{}, false
}

var queueNameChars = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (c *Config) check() error {
	var errs []error
	if c.Endpoint == "" {
		errs = append(errs, errors.New("no endpoint"))
	} else if !strings.HasPrefix(c.Endpoint, "http://") && !strings.HasPrefix(c.Endpoint, "https://") {
		errs = append(errs, fmt.Errorf("endpoint %q: want an http:// or https:// URL", c.Endpoint))
	}
	if maxLen := maxQueueNameLen - uniqueSuffix - len(".fifo"); !queueNameChars.MatchString(c.Queue) || len(c.Queue) > maxLen {
		errs = append(errs, fmt.Errorf("queue %q: want 1 to %d of A-Z, a-z, 0-9, _ and - (the run adds a suffix of its own)", c.Queue, maxLen))
	}
	if c.FIFO && c.Groups < 1 {
		errs = append(errs, fmt.Errorf("groups %d: want at least 1", c.Groups))
	}
	if c.BodySize < 1 || c.BodySize > maxBatchBytes {
		errs = append(errs, fmt.Errorf("body size %d: want 1 to %d bytes", c.BodySize, maxBatchBytes))
	}
	if c.Messages < 1 {
		errs = append(errs, fmt.Errorf("messages %d: want at least 1", c.Messages))
	}
	for _, n := range []struct {
		what string
		n    int
	}{{"senders", c.Senders}, {"receivers", c.Receivers}, {"deleters", c.Deleters}} {
		if n.n < 1 {
			errs = append(errs, fmt.Errorf("%s %d: want at least 1", n.what, n.n))
		}
	}
	if c.Batch < 1 || c.Batch > MaxBatch {
		errs = append(errs, fmt.Errorf("batch %d: want 1 to %d", c.Batch, MaxBatch))
	}
	if c.WaitSeconds < 1 || c.WaitSeconds > MaxWaitSeconds {
		errs = append(errs, fmt.Errorf("wait %d s: want a long poll of 1 to %d s", c.WaitSeconds, MaxWaitSeconds))
	}
	if _, err := c.phases(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// phases returns the phases the run goes through, in order.
func (c *Config) phases() ([]string, error) {
	all := []string{PhaseSend, PhaseReceive, PhaseDelete, PhasePipeline}
	if c.FIFO {
		all = []string{PhaseSend, PhaseReceiveDelete, PhasePipeline}
	}
	if len(c.Phases) == 0 {
		return all, nil
	}
	want := map[string]bool{}
	for _, p := range c.Phases {
		switch {
		case c.FIFO && (p == PhaseReceive || p == PhaseDelete):
			p = PhaseReceiveDelete
		case !c.FIFO && p == PhaseReceiveDelete:
			want[PhaseReceive], want[PhaseDelete] = true, true
			continue
		}
		known := false
		for _, a := range all {
			known = known || a == p
		}
		if !known {
			return nil, fmt.Errorf("phase %q: want some of %s", p, strings.Join(all, ", "))
		}
		want[p] = true
	}
	if (want[PhaseReceive] || want[PhaseReceiveDelete]) && !want[PhaseSend] {
		return nil, errors.New("phases: receiving needs the send phase")
	}
	if want[PhaseDelete] && !want[PhaseReceive] {
		return nil, errors.New("phases: delete needs the receive phase")
	}
	// The pipeline ends when as many messages as it sent were deleted, so
	// it must start on an empty queue.
	if want[PhasePipeline] && want[PhaseSend] && !want[PhaseDelete] && !want[PhaseReceiveDelete] {
		return nil, errors.New("phases: a pipeline after the send phase needs the messages sent deleted first (receive and delete)")
	}
	var out []string
	for _, a := range all {
		if want[a] {
			out = append(out, a)
		}
	}
	return out, nil
}

func (c *Config) setDefaults() {
	if c.Region == "" {
		c.Region = DefaultRegion
	}
	if c.StallTimeout <= 0 {
		c.StallTimeout = time.Minute
	}
	if c.ProgressEvery <= 0 {
		c.ProgressEvery = 2 * time.Second
	}
}

// sendBatch is the entries of a SendMessageBatch call: Batch, fewer when
// that many bodies would pass the 1 MiB a call may carry.
func (c *Config) sendBatch() int {
	return max(1, min(c.Batch, maxBatchBytes/c.BodySize))
}

// newClient returns an SQS client for cfg.Endpoint with dummy credentials,
// no SDK retries (this package retries and counts), and a connection pool
// big enough that no caller waits for a connection. The SDK checks the
// MD5 of every body sent and received, so what comes back is what went in.
func newClient(cfg Config) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       cfg.Region,
		BaseEndpoint: aws.String(cfg.Endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDBRIDGEBENCH", "bench-secret", ""),
		Retryer:      aws.NopRetryer{},
		HTTPClient:   sdkclient.New(cfg.Senders + cfg.Receivers + cfg.Deleters + 4),
	})
}

// Run runs the benchmark against cfg.Endpoint.
func Run(ctx context.Context, cfg Config) (res Result, err error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	cfg.setDefaults()
	phases, _ := cfg.phases()
	r := &runner{cfg: cfg, cl: newClient(cfg), bodies: bodies(cfg.BodySize), prefix: runID()}
	res.Queue = cfg.Queue + "-" + r.prefix
	if cfg.FIFO {
		res.Queue += ".fifo"
	}
	if r.url, err = createQueue(ctx, r.cl, res.Queue, cfg.FIFO); err != nil {
		return res, err
	}
	defer func() {
		// Also after a failed or cancelled run, but not waiting forever on
		// a server that stopped answering.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, delErr := r.cl.DeleteQueue(dctx, &sqs.DeleteQueueInput{QueueUrl: aws.String(r.url)})
		if err == nil && delErr != nil {
			err = fmt.Errorf("delete queue %s: %w", res.Queue, delErr)
		}
	}()
	var handles []string // from the receive phase, for the delete phase
	for _, name := range phases {
		serverSince, clientSince := measure.CPUSince(cfg.ServerCPU), measure.CPUSince(cfg.ClientCPU)
		var p Phase
		switch name {
		case PhaseSend:
			p, err = r.send(ctx)
		case PhaseReceive:
			p, handles, err = r.receive(ctx, false)
		case PhaseReceiveDelete:
			p, _, err = r.receive(ctx, true)
		case PhaseDelete:
			p, err = r.delete(ctx, handles)
		case PhasePipeline:
			p, err = r.pipeline(ctx)
		}
		if err != nil {
			return res, fmt.Errorf("%s phase: %w", name, err)
		}
		p.ClientCPU = clientSince()
		if err := measure.WaitIdle(ctx, cfg.ServerCPU); err != nil {
			return res, err
		}
		p.ServerCPU = serverSince()
		res.Phases = append(res.Phases, p)
	}
	return res, nil
}

// createQueue creates the run's queue and returns its URL.
func createQueue(ctx context.Context, cl *sqs.Client, name string, fifo bool) (string, error) {
	attrs := map[string]string{"VisibilityTimeout": visibilityTimeout}
	if fifo {
		attrs["FifoQueue"], attrs["ContentBasedDeduplication"] = "true", "false"
	}
	out, err := cl.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		if code := errorCode(err); code == "UnknownOperationException" || code == "InvalidAction" {
			return "", fmt.Errorf("create queue %s: the endpoint does not serve SQS (JSON 1.0): %w", name, err)
		}
		return "", fmt.Errorf("create queue %s: %w", name, err)
	}
	if aws.ToString(out.QueueUrl) == "" {
		return "", fmt.Errorf("create queue %s: no QueueUrl in the answer", name)
	}
	return *out.QueueUrl, nil
}

// runID returns 12 hex digits unique to one run (a UUID's first six bytes,
// which hold no version bits): the queue name's suffix and the start of
// every MessageDeduplicationId.
func runID() string {
	u := uuid.New()
	return hex.EncodeToString(u[:6])
}

// bodies returns a few distinct bodies of size n, as measure.Payloads
// makes them (upper-case letters, all valid in an SQS body).
func bodies(n int) []string {
	p := measure.Payloads(n)
	out := make([]string, len(p))
	for i, b := range p {
		out[i] = string(b)
	}
	return out
}

// errorCode is the AWS error type of err ("AWS.SimpleQueueService.NonExistentQueue"),
// or "" when err is nil or not an answer from the service.
func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

// retryable says whether a call or batch entry refused with this error type
// may succeed when sent again: throttling, and the service's own transient
// failures.
func retryable(code string) bool {
	switch code {
	case "ThrottlingException", "RequestThrottled", "KmsThrottled", "ServiceUnavailable",
		"InternalError", "InternalFailure", "InternalServerError":
		return true
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// backoff is a capped exponential wait with jitter between retries.
type backoff struct{ next time.Duration }

func (b *backoff) wait(ctx context.Context) error {
	if b.next == 0 {
		b.next = 5 * time.Millisecond
	}
	d := b.next/2 + rand.N(b.next/2+1)
	b.next = min(2*b.next, time.Second)
	return sleep(ctx, d)
}
