package sqs

// ReceiveMessage, DeleteMessage and ChangeMessageVisibility: the consuming
// side of a queue, over the partitions' visibility indexes (partition.go).

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
)

func init() {
	register("ReceiveMessage", (*Handler).receiveMessage)
	register("DeleteMessage", (*Handler).deleteMessage)
	register("ChangeMessageVisibility", (*Handler).changeMessageVisibility)
}

// Limits of ReceiveMessage, from the SQS API reference.
const (
	maxReceiveMessages   = 10
	maxWaitTimeSeconds   = 20
	maxVisibilityTimeout = 43200
)

// The message system attributes ReceiveMessage can return.
const (
	sysSenderID                         = "SenderId"
	sysSentTimestamp                    = "SentTimestamp"
	sysApproximateReceiveCount          = "ApproximateReceiveCount"
	sysApproximateFirstReceiveTimestamp = "ApproximateFirstReceiveTimestamp"
	sysSequenceNumber                   = "SequenceNumber"
	sysMessageDeduplicationID           = "MessageDeduplicationId"
	sysMessageGroupID                   = "MessageGroupId"
	sysAWSTraceHeader                   = AWSTraceHeader
	sysDeadLetterQueueSourceArn         = "DeadLetterQueueSourceArn"
)

var systemAttributeNames = []string{sysSenderID, sysSentTimestamp, sysApproximateReceiveCount,
	sysApproximateFirstReceiveTimestamp, sysSequenceNumber, sysMessageDeduplicationID, sysMessageGroupID,
	sysAWSTraceHeader, sysDeadLetterQueueSourceArn}

type receiveMessageInput struct {
	QueueUrl                    string   `json:"QueueUrl"`
	AttributeNames              []string `json:"AttributeNames" query:"AttributeName,flat"`
	MessageSystemAttributeNames []string `json:"MessageSystemAttributeNames" query:"MessageSystemAttributeName,flat"`
	MessageAttributeNames       []string `json:"MessageAttributeNames" query:"MessageAttributeName,flat"`
	MaxNumberOfMessages         *int32   `json:"MaxNumberOfMessages"`
	VisibilityTimeout           *int32   `json:"VisibilityTimeout"`
	WaitTimeSeconds             *int32   `json:"WaitTimeSeconds"`
	ReceiveRequestAttemptId     string   `json:"ReceiveRequestAttemptId"`
}

type message struct {
	MessageId              string            `json:"MessageId"`
	ReceiptHandle          string            `json:"ReceiptHandle"`
	MD5OfBody              string            `json:"MD5OfBody"`
	Body                   string            `json:"Body"`
	Attributes             map[string]string `json:"Attributes,omitempty" query:"Attribute,flat,entry=Name/Value"`
	MD5OfMessageAttributes string            `json:"MD5OfMessageAttributes,omitempty"`
	MessageAttributes      MessageAttributes `json:"MessageAttributes,omitempty" query:"MessageAttribute,flat,entry=Name/Value"`
}

type receiveMessageOutput struct {
	Messages []message `json:"Messages,omitempty" query:"Message,flat"`
}

// intParam returns an optional integer parameter, or def, refusing one out
// of [lo, hi] with reason.
func intParam(name string, v *int32, def, lo, hi int64, reason string) (int64, error) {
	if v == nil {
		return def, nil
	}
	n := int64(*v)
	if n < lo || n > hi {
		return 0, invalidParameter(name, strconv.FormatInt(n, 10), reason)
	}
	return n, nil
}

func (h *Handler) receiveMessage(ctx context.Context, x *exchange, in *receiveMessageInput) (*receiveMessageOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	n, err := intParam("MaxNumberOfMessages", in.MaxNumberOfMessages, 1, 1, maxReceiveMessages, "Must be between 1 and 10, if provided.")
	if err != nil {
		return nil, err
	}
	visibility, err := intParam("VisibilityTimeout", in.VisibilityTimeout, t.attrInt(attrVisibilityTimeout), 0, maxVisibilityTimeout, "Must be >= 0 and <= 43200, if provided.")
	if err != nil {
		return nil, err
	}
	wait, err := intParam("WaitTimeSeconds", in.WaitTimeSeconds, t.attrInt(attrReceiveMessageWaitTimeSeconds), 0, maxWaitTimeSeconds, "Must be >= 0 and <= 20, if provided.")
	if err != nil {
		return nil, err
	}
	system, err := systemAttributesAsked(append(in.AttributeNames, in.MessageSystemAttributeNames...))
	if err != nil {
		return nil, err
	}
	attempt := ""
	if t.fifo && in.ReceiveRequestAttemptId != "" {
		if !validFIFOID(in.ReceiveRequestAttemptId) {
			return nil, invalidParameter("ReceiveRequestAttemptId", in.ReceiveRequestAttemptId, "ReceiveRequestAttemptId can only include alphanumeric and punctuation characters. 1 to 128 in length.")
		}
		attempt = in.ReceiveRequestAttemptId // standard queues ignore it, as SQS does
	}
	if err := h.applyGroupCommits(ctx, t); err != nil {
		return nil, err
	}
	ctx, stop := h.untilDraining(ctx)
	defer stop()
	full, err := t.q.inFlightFull(ctx, h.now().UnixMilli(), h.inFlightLimit)
	if err != nil {
		return nil, err
	}
	if full {
		if err := atInFlightLimit(ctx, t.fifo, wait*1000); err != nil {
			return nil, err
		}
		return &receiveMessageOutput{}, nil
	}
	r := receiveRequest{n: int(n), visibility: visibility * 1000, wait: wait * 1000}
	var got []receivedMessage
	if attempt != "" {
		got, err = h.receiveAttempt(ctx, x, t, attempt, r)
	} else {
		got, err = h.receive(ctx, x, t, r)
	}
	if err != nil {
		return nil, err
	}
	out := &receiveMessageOutput{}
	for _, r := range got {
		m, err := h.messageOut(ctx, t, r, system, in.MessageAttributeNames)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, m)
	}
	return out, nil
}

// receiveRequest is what a ReceiveMessage asks for, times in ms.
type receiveRequest struct {
	n                int
	visibility, wait int64
}

// receive receives messages from t, the ones over its maxReceiveCount
// moved to its dead-letter queue.
func (h *Handler) receive(ctx context.Context, x *exchange, t *target, r receiveRequest) ([]receivedMessage, error) {
	clock := func() int64 { return h.now().UnixMilli() }
	now := clock()
	got, err := t.q.receive(ctx, clock, r.n, r.visibility, now+r.wait)
	if err != nil && !(errors.Is(err, context.Canceled) && x.R.Context().Err() == nil) {
		return nil, err // a long poll cut short by draining answers with what it has
	}
	return h.redrive(ctx, t, got)
}

// receiveAttempt is receive with a ReceiveRequestAttemptId (attempts.go):
// a retry of an attempt gets what the attempt got, while that is
// unchanged.
func (h *Handler) receiveAttempt(ctx context.Context, x *exchange, t *target, id string, r receiveRequest) ([]receivedMessage, error) {
	for {
		now := h.now().UnixMilli()
		at, owner, err := t.q.attempts.begin(ctx, id, now)
		if err != nil {
			return nil, err
		}
		if owner {
			got, err := h.receive(ctx, x, t, r)
			t.q.attempts.finish(at, got)
			return got, err
		}
		got, ok, err := t.q.repeat(ctx, at, now, now+r.visibility)
		if err != nil || ok {
			return got, err
		}
		t.q.attempts.forget(at) // its messages moved on: receive anew
	}
}

// untilDraining returns ctx ended also when the handler starts draining,
// so a long poll answers (empty) at shutdown instead of holding it up.
func (h *Handler) untilDraining(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-h.draining:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// systemAttributesAsked returns the system attributes a receive asks for
// (AttributeNames, whose values may also be queue attribute names, which
// SQS accepts and ignores, and MessageSystemAttributeNames).
func systemAttributesAsked(names []string) (map[string]bool, error) {
	asked := map[string]bool{}
	for _, name := range names {
		switch {
		case name == "All":
			for _, s := range systemAttributeNames {
				asked[s] = true
			}
		case slices.Contains(systemAttributeNames, name):
			asked[name] = true
		case isComputed(name) || attrSpecs[name].valid != nil:
		default:
			return nil, unknownAttribute(name)
		}
	}
	return asked, nil
}

// messageOut is a received message as ReceiveMessage answers it.
func (h *Handler) messageOut(ctx context.Context, t *target, r receivedMessage, system map[string]bool, attrNames []string) (message, error) {
	in := messageOf(r.record)
	handle, err := encodeReceipt(ctx, h.receipts, receipt{queue: t.name, partition: r.partition, offset: r.record.Offset, nonce: r.state.nonce})
	if err != nil {
		return message{}, err
	}
	if p, ok := h.receivedPointer(r); ok {
		handle = asPointerMessage(&in, p, handle)
	}
	m := message{
		MessageId:     messageID(t.name, t.st.Created, r.partition, r.record.Offset),
		ReceiptHandle: handle,
		MD5OfBody:     MD5OfBody(in.body),
		Body:          in.body,
	}
	if len(system) > 0 {
		m.Attributes = map[string]string{}
		set := func(name, v string) {
			if system[name] && v != "" {
				m.Attributes[name] = v
			}
		}
		set(sysSenderID, h.cfg.Account)
		set(sysSentTimestamp, strconv.FormatInt(r.record.Timestamp.UnixMilli(), 10))
		set(sysApproximateReceiveCount, strconv.Itoa(int(r.state.receives)))
		set(sysApproximateFirstReceiveTimestamp, strconv.FormatInt(r.state.firstReceived, 10))
		if t.fifo {
			set(sysSequenceNumber, sequenceNumber(r.partition, r.record.Offset))
			set(sysMessageDeduplicationID, in.dedupID)
		}
		set(sysMessageGroupID, in.groupID)
		if v, ok := in.system[AWSTraceHeader]; ok && v.StringValue != nil {
			set(sysAWSTraceHeader, *v.StringValue)
		}
		set(sysDeadLetterQueueSourceArn, in.deadLetterSource)
	}
	for name, v := range in.attributes {
		if attributeAsked(name, attrNames) {
			if m.MessageAttributes == nil {
				m.MessageAttributes = MessageAttributes{}
			}
			m.MessageAttributes[name] = v
		}
	}
	m.MD5OfMessageAttributes = MD5OfMessageAttributes(m.MessageAttributes)
	return m, nil
}

// attributeAsked reports whether MessageAttributeNames asks for an
// attribute: All or .*, the name itself, or a prefix.* it matches.
func attributeAsked(name string, asked []string) bool {
	for _, a := range asked {
		if a == "All" || a == ".*" || a == name {
			return true
		}
		if prefix, ok := strings.CutSuffix(a, ".*"); ok && strings.HasPrefix(name, prefix+".") {
			return true
		}
	}
	return false
}

type receiptInput struct {
	QueueUrl      string `json:"QueueUrl"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

func (h *Handler) deleteMessage(ctx context.Context, _ *exchange, in *receiptInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	errs, err := h.deleteMessages(ctx, t, []string{in.ReceiptHandle})
	if err != nil {
		return nil, err
	}
	return &empty{}, errs[0]
}

// deleteMessages deletes the messages receipt handles name, those of one
// partition in one durable write. errs[i] refuses handle i; err fails all.
// A handle that carries a pointer (offload.go) deletes the message's
// payload too, once the message is deleted: not for a stale handle, whose
// message another consumer may be reading.
func (h *Handler) deleteMessages(ctx context.Context, t *target, handles []string) (errs []error, err error) {
	errs = make([]error, len(handles))
	byPartition := map[int32][]int{}
	receipts := make([]receipt, len(handles))
	for i, handle := range handles {
		r, err := h.receiptOf(ctx, t, handle)
		if err != nil {
			errs[i] = err
			continue
		}
		receipts[i] = r
		byPartition[r.partition] = append(byPartition[r.partition], i)
	}
	for p, idx := range byPartition {
		rs := make([]receipt, len(idx))
		for j, i := range idx {
			rs[j] = receipts[i]
		}
		deleted, err := t.q.parts[p].remove(ctx, rs)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			if _, ptr, ok := splitHandle(handles[i]); ok && deleted[j] {
				h.deletePayload(ctx, t, rs[j], ptr)
			}
		}
	}
	return errs, nil
}

// receiptOf decodes a receipt handle of queue t, one that carries a
// payload's pointer (offload.go) included.
func (h *Handler) receiptOf(ctx context.Context, t *target, handle string) (receipt, error) {
	if handle == "" {
		return receipt{}, missingParameter("ReceiptHandle")
	}
	inner, _, _ := splitHandle(handle)
	r, ok, err := decodeReceipt(ctx, h.receipts, inner)
	if err != nil {
		return receipt{}, err
	}
	if !ok || r.queue != t.name || int(r.partition) >= len(t.q.parts) {
		return receipt{}, &Error{Type: "ReceiptHandleIsInvalid", QueryCode: "ReceiptHandleIsInvalid",
			Message: "The input receipt handle \"" + handle + "\" is not a valid receipt handle."}
	}
	return r, nil
}

type changeVisibilityInput struct {
	QueueUrl          string `json:"QueueUrl"`
	ReceiptHandle     string `json:"ReceiptHandle"`
	VisibilityTimeout *int32 `json:"VisibilityTimeout"`
}

func (h *Handler) changeMessageVisibility(ctx context.Context, _ *exchange, in *changeVisibilityInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	return &empty{}, h.changeVisibility(ctx, t, in.ReceiptHandle, in.VisibilityTimeout)
}

// changeVisibility makes the message a receipt handle names visible
// timeout seconds from now.
func (h *Handler) changeVisibility(ctx context.Context, t *target, handle string, timeout *int32) error {
	if timeout == nil {
		return missingParameter("VisibilityTimeout")
	}
	secs, err := intParam("VisibilityTimeout", timeout, 0, 0, maxVisibilityTimeout, "Must be between 0 and 43200, if provided.")
	if err != nil {
		return err
	}
	r, err := h.receiptOf(ctx, t, handle)
	if err != nil {
		return err
	}
	now := h.now().UnixMilli()
	err = t.q.parts[r.partition].changeVisibility(ctx, r.offset, r.nonce, now, now+secs*1000)
	switch {
	case errors.Is(err, errStaleReceipt):
		return invalidParameter("ReceiptHandle", handle, "Message does not exist or is not available for visibility timeout change.")
	case errors.Is(err, errNotInFlight):
		return &Error{Type: "MessageNotInflight", QueryCode: "AWS.SimpleQueueService.MessageNotInflight",
			Message: "Message does not exist or is not available for visibility timeout change."}
	}
	return err
}
