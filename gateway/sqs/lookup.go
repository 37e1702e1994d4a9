package sqs

import (
	"context"
	"errors"
	"strconv"

	"github.com/streambridge/bridge/store"
)

// errNoQueue is SQS's answer to a queue URL or name that names no queue.
var errNoQueue = &Error{Type: "QueueDoesNotExist", QueryCode: "AWS.SimpleQueueService.NonExistentQueue", Message: "The specified queue does not exist."}

// target is the queue a request is about: its stream as it is now, its
// attributes, and its engine.
type target struct {
	name  string
	st    store.Stream
	attrs map[string]string
	fifo  bool
	q     *queue
}

// attrInt returns an integer attribute of the queue (a default-valued one
// is always set).
func (t *target) attrInt(name string) int64 {
	n, _ := strconv.ParseInt(t.attrs[name], 10, 64)
	return n
}

// lookup finds the queue a QueueUrl (or name) names and opens its engine.
func (h *Handler) lookup(ctx context.Context, ref string) (*target, error) {
	if ref == "" {
		return nil, missingParameter("QueueUrl")
	}
	name, ok := queueNameOf(ref, h.cfg.Account)
	if !ok {
		return nil, errNoQueue
	}
	st, err := h.store.DescribeStream(ctx, name)
	if errors.Is(err, store.ErrStreamNotFound) || err == nil && !isQueue(st) {
		return nil, errNoQueue
	}
	if err != nil {
		return nil, err
	}
	q, err := h.open(ctx, st)
	if err != nil {
		return nil, err
	}
	return &target{name: name, st: st, attrs: queueAttributes(st), fifo: isFIFOName(name), q: q}, nil
}

// open returns the engine of a queue's stream, loading it on first use.
// A stream deleted and made again (its Created changes) gets a new
// engine; one that grew partitions (Kafka CreatePartitions) gets engines
// for the new ones, the old ones kept as they are.
func (h *Handler) open(ctx context.Context, st store.Stream) (*queue, error) {
	h.mu.Lock()
	q := h.queues[st.Name]
	h.mu.Unlock()
	if q != nil && q.created.Equal(st.Created) && len(q.parts) == len(st.Partitions) {
		return q, nil
	}
	fresh, err := openQueue(ctx, h.store, st)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	q = h.queues[st.Name]
	switch {
	case q != nil && q.created.Equal(st.Created) && len(q.parts) >= len(st.Partitions):
		return q, nil // another request got there first
	case q != nil && q.created.Equal(st.Created):
		fresh.parts = append(q.parts[:len(q.parts):len(q.parts)], fresh.parts[len(q.parts):]...)
	}
	h.queues[st.Name] = fresh
	return fresh, nil
}

// forget drops a queue's engine (DeleteQueue).
func (h *Handler) forget(name string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.queues, name)
	delete(h.purged, name)
}

func isFIFOName(name string) bool {
	return len(name) > len(fifoSuffix) && name[len(name)-len(fifoSuffix):] == fifoSuffix
}

// missingParameter refuses a request without a required parameter.
func missingParameter(name string) *Error {
	return newError(ErrMissingParameter, "The request must contain the parameter %s.", name)
}

// noQueueName is SQS's answer to a request without its QueueName.
var noQueueName = newError(ErrInvalidParameterValue, "Value for parameter QueueName is invalid. Reason: Must specify a queue name.")

// invalidParameter refuses a parameter's value, in SQS's words.
func invalidParameter(name, value, reason string) *Error {
	return newError(ErrInvalidParameterValue, "Value %s for parameter %s is invalid. Reason: %s", value, name, reason)
}
