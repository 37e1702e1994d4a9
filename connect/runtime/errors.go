package runtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// Stage is where in a task's pipeline an error happened, as Kafka Connect
// names it in logs and in the dead letter queue's headers.
type Stage string

// The stages.
const (
	StageKeyConverter   Stage = "KEY_CONVERTER"
	StageValueConverter Stage = "VALUE_CONVERTER"
	StageTransformation Stage = "TRANSFORMATION"
	StageTaskPut        Stage = "TASK_PUT"
	StageTaskPoll       Stage = "TASK_POLL"
	StageKafkaProduce   Stage = "KAFKA_PRODUCE"
)

// errToleranceExceeded fails a task whose errors.tolerance is none.
var errToleranceExceeded = errors.New("Tolerance exceeded in error handler")

// The headers of a dead letter queue record with
// errors.deadletterqueue.context.headers.enable (Kafka's
// DeadLetterQueueReporter).
const (
	dlqHeaderPrefix = "__connect.errors."
	firstRetryDelay = 300 * time.Millisecond
)

// errorHandler is Kafka Connect's RetryWithToleranceOperator with its
// reporters: it retries retriable failures of one stage with backoff for up
// to errors.retry.timeout, then either fails the task (errors.tolerance=none)
// or skips the record, logging it and writing the original record to the
// dead letter queue.
type errorHandler struct {
	id           TaskID
	log          *slog.Logger
	metrics      *Metrics
	progress     *progress
	tolerateAll  bool
	retryTimeout time.Duration // < 0: forever
	maxDelay     time.Duration
	logErrors    bool
	logMessages  bool
	dlq          *deadLetterQueue // nil without one (always for sources)
}

func newErrorHandler(t *taskRun, vals connect.Values, dlq *deadLetterQueue) *errorHandler {
	timeout := time.Duration(vals.Long(connect.ErrorsRetryTimeout)) * time.Millisecond
	return &errorHandler{
		id: t.id, log: t.log, metrics: t.w.cfg.Metrics, progress: &t.progress,
		tolerateAll:  vals.String(connect.ErrorsTolerance) == "all",
		retryTimeout: timeout,
		maxDelay:     vals.Millis(connect.ErrorsRetryMaxDelay),
		logErrors:    vals.Bool(connect.ErrorsLogEnable),
		logMessages:  vals.Bool(connect.ErrorsLogIncludeMessages),
		dlq:          dlq,
	}
}

// execute runs op, retrying it while it fails retriably and the retry
// timeout allows. It returns skip=true when the record must be dropped (the
// error was tolerated and reported) and a non-nil error when the task must
// fail.
func (h *errorHandler) execute(ctx context.Context, stage Stage, raw *kgo.Record, op func() error) (skip bool, err error) {
	err = op()
	if err == nil {
		return false, nil
	}
	if errors.Is(err, connect.ErrRetriable) && h.retryTimeout != 0 {
		deadline := time.Now().Add(h.retryTimeout)
		delay := firstRetryDelay
		for err != nil && errors.Is(err, connect.ErrRetriable) && (h.retryTimeout < 0 || time.Now().Before(deadline)) {
			if !sleep(ctx, min(delay, h.maxDelay)) {
				return false, ctx.Err()
			}
			delay *= 2
			err = op()
		}
		if err == nil {
			return false, nil
		}
	}
	return true, h.report(ctx, stage, raw, err)
}

// report handles a record's final failure: tolerated (logged, sent to the
// dead letter queue, nil) or not (errToleranceExceeded wrapping err).
func (h *errorHandler) report(ctx context.Context, stage Stage, raw *kgo.Record, err error) error {
	h.metrics.recordError(h.id, stage)
	if !h.tolerateAll {
		return fmt.Errorf("%w: %s: %w", errToleranceExceeded, stage, err)
	}
	h.progress.skip()
	if h.logErrors {
		attrs := []any{"stage", stage, "err", err}
		if raw != nil {
			attrs = append(attrs, "topic", raw.Topic, "partition", raw.Partition, "offset", raw.Offset)
			if h.logMessages {
				attrs = append(attrs, "key", string(raw.Key), "value", string(raw.Value))
			}
		}
		h.log.Error("error encountered in task; record skipped", attrs...)
	}
	if h.dlq != nil && raw != nil {
		if derr := h.dlq.write(ctx, h.id, stage, raw, err); derr != nil {
			h.log.Error("could not write to the dead letter queue", "topic", h.dlq.topic, "err", derr)
		} else {
			h.metrics.recordDLQ(h.id)
		}
	}
	return nil
}

// deadLetterQueue writes failed sink records, as they were consumed, to a
// topic of the worker's cluster.
type deadLetterQueue struct {
	topic   string
	headers bool
	cl      *kgo.Client
	rf      int16
}

func newDeadLetterQueue(vals connect.Values, cl *kgo.Client) *deadLetterQueue {
	topic := vals.String(connect.DLQTopicName)
	if topic == "" {
		return nil
	}
	return &deadLetterQueue{
		topic: topic, cl: cl,
		headers: vals.Bool(connect.DLQContextHeadersEnable),
		rf:      int16(vals.Int(connect.DLQTopicReplicationFactor)),
	}
}

// ensureTopic creates the dead letter queue topic when it does not exist,
// with at most as many replicas as the cluster has brokers (a one-node
// bridge takes the default of 3 as 1).
func (q *deadLetterQueue) ensureTopic(ctx context.Context) error {
	adm := kadm.NewClient(q.cl)
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	rf := min(q.rf, int16(max(len(brokers), 1)))
	_, err = adm.CreateTopic(ctx, 1, rf, nil, q.topic)
	if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
		return err
	}
	return nil
}

func (q *deadLetterQueue) write(ctx context.Context, id TaskID, stage Stage, raw *kgo.Record, cause error) error {
	rec := &kgo.Record{Topic: q.topic, Key: raw.Key, Value: raw.Value, Timestamp: raw.Timestamp}
	rec.Headers = append(rec.Headers, raw.Headers...)
	if q.headers {
		for _, h := range []struct{ k, v string }{
			{"topic", raw.Topic},
			{"partition", strconv.Itoa(int(raw.Partition))},
			{"offset", strconv.FormatInt(raw.Offset, 10)},
			{"connector.name", id.Connector},
			{"task.id", strconv.Itoa(id.Task)},
			{"stage", string(stage)},
			{"class.name", "io.streambridge.connect." + string(stage)},
			{"exception.class.name", "org.apache.kafka.connect.errors.DataException"},
			{"exception.message", cause.Error()},
			{"exception.stacktrace", cause.Error()},
		} {
			rec.Headers = append(rec.Headers, kgo.RecordHeader{Key: dlqHeaderPrefix + h.k, Value: []byte(h.v)})
		}
	}
	return q.cl.ProduceSync(ctx, rec).FirstErr()
}

// sleep waits d or until ctx is done; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
