package sqs

// The operations on queues themselves: CreateQueue, DeleteQueue,
// GetQueueUrl, ListQueues, GetQueueAttributes, SetQueueAttributes,
// PurgeQueue and ListDeadLetterSourceQueues. Queues are streams; see
// queues.go for how their attributes are kept.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/store"
)

func init() {
	register("CreateQueue", (*Handler).createQueue)
	register("DeleteQueue", (*Handler).deleteQueue)
	register("GetQueueUrl", (*Handler).getQueueURL)
	register("ListQueues", (*Handler).listQueues)
	register("GetQueueAttributes", (*Handler).getQueueAttributes)
	register("SetQueueAttributes", (*Handler).setQueueAttributes)
	register("PurgeQueue", (*Handler).purgeQueue)
	register("ListDeadLetterSourceQueues", (*Handler).listDeadLetterSourceQueues)
}

// empty is the output of operations that answer nothing but success.
type empty struct{}

type createQueueInput struct {
	QueueName  string            `json:"QueueName"`
	Attributes map[string]string `json:"Attributes" query:"Attribute,flat,entry=Name/Value"`
	Tags       map[string]string `json:"tags" query:"Tag,flat,entry=Key/Value"`
}

type queueURLOutput struct {
	QueueUrl string `json:"QueueUrl"`
}

func (h *Handler) createQueue(ctx context.Context, x *exchange, in *createQueueInput) (*queueURLOutput, error) {
	if in.QueueName == "" {
		return nil, noQueueName
	}
	fifo, err := checkQueueName(in.QueueName)
	if err != nil {
		return nil, err
	}
	fifoAttr, given := in.Attributes[attrFifoQueue]
	switch {
	case fifo && !strings.EqualFold(fifoAttr, "true"):
		// Without FifoQueue=true it is a standard queue, whose name may
		// not hold a period.
		return nil, errQueueName
	case !fifo && given && strings.EqualFold(fifoAttr, "true"):
		// AWS's words for a FIFO queue without the suffix.
		return nil, newError(ErrInvalidParameterValue, "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.")
	}
	if err := checkAttributes(in.Attributes, fifo, true); err != nil {
		return nil, err
	}
	kmsReplacesSQSEncryption(in.Attributes)
	if err := h.checkRedrive(ctx, fifo, in.Attributes); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags, 0); err != nil {
		return nil, err
	}
	h.lifecycle.Lock()
	defer h.lifecycle.Unlock()
	if _, err := createQueue(ctx, h.store, in.QueueName, in.Attributes, in.Tags, h.now()); err != nil {
		return nil, err
	}
	return &queueURLOutput{QueueUrl: h.queueURL(x.R, in.QueueName)}, nil
}

type queueInput struct {
	QueueUrl string `json:"QueueUrl"`
}

func (h *Handler) deleteQueue(ctx context.Context, _ *exchange, in *queueInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	// AWS keeps a deleted queue's name for 60 seconds; the bridge frees it
	// at once (README, "SQS"). The queue's state goes after its stream (no
	// request finds the queue any more) and after its engine stops writing,
	// and before a queue of the same name can be made (lifecycle), so none
	// of it outlives the queue.
	h.lifecycle.Lock()
	defer h.lifecycle.Unlock()
	if err := h.store.DeleteStream(ctx, t.name); err != nil && !errors.Is(err, store.ErrStreamNotFound) {
		return nil, err
	}
	for _, p := range t.q.parts {
		p.close()
	}
	h.forget(t.name)
	h.forgetMoveTasks(h.queueARN(t.name))
	for _, p := range queuePrefixes(t.name) {
		if err := h.store.DeletePrefix(ctx, stateNamespace, p); err != nil {
			return nil, err
		}
	}
	return &empty{}, nil
}

type getQueueURLInput struct {
	QueueName              string `json:"QueueName"`
	QueueOwnerAWSAccountId string `json:"QueueOwnerAWSAccountId"`
}

func (h *Handler) getQueueURL(ctx context.Context, x *exchange, in *getQueueURLInput) (*queueURLOutput, error) {
	if in.QueueName == "" {
		return nil, noQueueName
	}
	if in.QueueOwnerAWSAccountId != "" && in.QueueOwnerAWSAccountId != h.cfg.Account {
		return nil, errNoQueue
	}
	t, err := h.lookup(ctx, in.QueueName)
	if err != nil {
		return nil, err
	}
	return &queueURLOutput{QueueUrl: h.queueURL(x.R, t.name)}, nil
}

type listQueuesInput struct {
	QueueNamePrefix string `json:"QueueNamePrefix"`
	MaxResults      *int32 `json:"MaxResults"`
	NextToken       string `json:"NextToken"`
}

type listQueuesOutput struct {
	QueueUrls []string `json:"QueueUrls,omitempty" query:"QueueUrl,flat"`
	NextToken string   `json:"NextToken,omitempty"`
}

// maxListedQueues is what ListQueues returns at most without MaxResults.
const maxListedQueues = 1000

func (h *Handler) listQueues(ctx context.Context, x *exchange, in *listQueuesInput) (*listQueuesOutput, error) {
	names, err := h.queueNames(ctx, func(st store.Stream) bool { return strings.HasPrefix(st.Name, in.QueueNamePrefix) })
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(names, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &listQueuesOutput{NextToken: next}
	for _, n := range page {
		out.QueueUrls = append(out.QueueUrls, h.queueURL(x.R, n))
	}
	return out, nil
}

// queueNames returns the names of the queues keep takes, sorted.
func (h *Handler) queueNames(ctx context.Context, keep func(store.Stream) bool) ([]string, error) {
	streams, err := h.store.ListStreams(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, name := range streams {
		st, err := h.store.DescribeStream(ctx, name)
		if errors.Is(err, store.ErrStreamNotFound) {
			continue // deleted meanwhile
		}
		if err != nil {
			return nil, err
		}
		if isQueue(st) && keep(st) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names, nil
}

// paginate returns the page of names after token, of max (1 to 1000) names,
// and the token of the next page ("" for the last). Without max, SQS
// returns up to 1000 and no token.
func paginate(names []string, max *int32, token string) (page []string, next string, err error) {
	if max == nil {
		if token != "" {
			// A token without MaxResults: SQS refuses it.
			return nil, "", invalidParameter("NextToken", token, "MaxResults is a mandatory parameter when you provide a value for NextToken.")
		}
		return names[:min(len(names), maxListedQueues)], "", nil
	}
	if *max < 1 || *max > maxListedQueues {
		// SQS leaves the value out of this one.
		return nil, "", newError(ErrInvalidParameterValue, "Value for parameter MaxResults is invalid. Reason: MaxResults must be an integer between 1 and 1000.")
	}
	start := 0
	if token != "" {
		after, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil {
			return nil, "", invalidParameter("NextToken", token, "Invalid NextToken value.")
		}
		start, _ = slices.BinarySearch(names, string(after)+"\x00")
	}
	end := min(start+int(*max), len(names))
	page = names[start:end]
	if end < len(names) {
		next = base64.RawURLEncoding.EncodeToString([]byte(names[end-1]))
	}
	return page, next, nil
}

type getQueueAttributesInput struct {
	QueueUrl       string   `json:"QueueUrl"`
	AttributeNames []string `json:"AttributeNames" query:"AttributeName,flat"`
}

type attributesOutput struct {
	Attributes map[string]string `json:"Attributes,omitempty" query:"Attribute,flat,entry=Name/Value"`
}

func (h *Handler) getQueueAttributes(ctx context.Context, _ *exchange, in *getQueueAttributesInput) (*attributesOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if err := h.applyGroupCommits(ctx, t); err != nil {
		return nil, err
	}
	computed, err := h.computedAttributes(ctx, t)
	if err != nil {
		return nil, err
	}
	attrs, err := describeAttributes(in.AttributeNames, t.attrs, computed)
	if err != nil {
		return nil, err
	}
	return &attributesOutput{Attributes: attrs}, nil
}

// computedAttributes are the attributes GetQueueAttributes computes.
func (h *Handler) computedAttributes(ctx context.Context, t *target) (map[string]string, error) {
	visible, inFlight, delayed, err := t.q.counts(ctx, h.now().UnixMilli())
	if err != nil {
		return nil, err
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	return map[string]string{
		attrApproximateNumberOfMessages:           itoa(visible),
		attrApproximateNumberOfMessagesNotVisible: itoa(inFlight),
		attrApproximateNumberOfMessagesDelayed:    itoa(delayed),
		attrCreatedTimestamp:                      t.st.Config[cfgCreated],
		attrLastModifiedTimestamp:                 t.st.Config[cfgModified],
		attrQueueArn:                              h.queueARN(t.name),
	}, nil
}

type setQueueAttributesInput struct {
	QueueUrl   string            `json:"QueueUrl"`
	Attributes map[string]string `json:"Attributes" query:"Attribute,flat,entry=Name/Value"`
}

func (h *Handler) setQueueAttributes(ctx context.Context, _ *exchange, in *setQueueAttributesInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if len(in.Attributes) == 0 {
		return nil, missingParameter("Attributes")
	}
	if err := checkAttributes(in.Attributes, t.fifo, false); err != nil {
		return nil, err
	}
	kmsReplacesSQSEncryption(in.Attributes)
	if err := h.checkRedrive(ctx, t.fifo, in.Attributes); err != nil {
		return nil, err
	}
	return &empty{}, setQueueAttributes(ctx, h.store, t.name, in.Attributes, h.now())
}

// checkRedrive refuses a RedrivePolicy whose dead-letter queue does not
// exist or is of the other kind, as SQS does.
func (h *Handler) checkRedrive(ctx context.Context, fifo bool, attrs map[string]string) error {
	v, ok := attrs[attrRedrivePolicy]
	if !ok || v == "" {
		return nil
	}
	var p struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
	}
	_ = json.Unmarshal([]byte(v), &p) // checkAttributes parsed it
	dlq, ok := h.queueOfARN(p.DeadLetterTargetArn)
	if !ok {
		return newError(ErrInvalidParameterValue, "Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter target owner should be same as the source.", v)
	}
	st, err := h.store.DescribeStream(ctx, dlq)
	if errors.Is(err, store.ErrStreamNotFound) || err == nil && !isQueue(st) {
		return newError(ErrInvalidParameterValue, "Value %s for parameter RedrivePolicy is invalid. Reason: Dead letter target does not exist.", v)
	}
	if err != nil {
		return err
	}
	if isFIFOName(dlq) != fifo {
		return newError(ErrInvalidParameterValue, "Value %s for parameter RedrivePolicy is invalid. Reason: Dead-letter queue must be same type of queue as the source.", v)
	}
	return nil
}

// purgeInterval is how often SQS lets a queue be purged.
const purgeInterval = 60 * time.Second

func (h *Handler) purgeQueue(ctx context.Context, _ *exchange, in *queueInput) (*empty, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := h.now()
	h.mu.Lock()
	last, seen := h.purged[t.name]
	if seen && now.Sub(last) < purgeInterval {
		h.mu.Unlock()
		return nil, &Error{Type: "PurgeQueueInProgress", QueryCode: "AWS.SimpleQueueService.PurgeQueueInProgress",
			Message: "Only one PurgeQueue operation on " + t.name + " is allowed every 60 seconds."}
	}
	h.purged[t.name] = now
	h.mu.Unlock()
	return &empty{}, t.q.purge(ctx)
}

type listDeadLetterSourceQueuesInput struct {
	QueueUrl   string `json:"QueueUrl"`
	MaxResults *int32 `json:"MaxResults"`
	NextToken  string `json:"NextToken"`
}

type listDeadLetterSourceQueuesOutput struct {
	QueueUrls []string `json:"queueUrls,omitempty" query:"QueueUrl,flat"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (h *Handler) listDeadLetterSourceQueues(ctx context.Context, x *exchange, in *listDeadLetterSourceQueuesInput) (*listDeadLetterSourceQueuesOutput, error) {
	t, err := h.lookup(ctx, in.QueueUrl)
	if err != nil {
		return nil, err
	}
	arn := h.queueARN(t.name)
	names, err := h.queueNames(ctx, func(st store.Stream) bool {
		dlq, _, ok := redriveTarget(queueAttributes(st))
		return ok && dlq == arn
	})
	if err != nil {
		return nil, err
	}
	page, next, err := paginate(names, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	out := &listDeadLetterSourceQueuesOutput{QueueUrls: []string{}, NextToken: next}
	for _, n := range page {
		out.QueueUrls = append(out.QueueUrls, h.queueURL(x.R, n))
	}
	return out, nil
}

// redriveTarget reads a queue's RedrivePolicy: its dead-letter queue's ARN
// and maxReceiveCount; ok is false when it has none.
func redriveTarget(attrs map[string]string) (arn string, maxReceives int64, ok bool) {
	v := attrs[attrRedrivePolicy]
	if v == "" {
		return "", 0, false
	}
	var p struct {
		DeadLetterTargetArn string          `json:"deadLetterTargetArn"`
		MaxReceiveCount     json.RawMessage `json:"maxReceiveCount"`
	}
	if json.Unmarshal([]byte(v), &p) != nil {
		return "", 0, false
	}
	n, ok := maxReceiveCount(p.MaxReceiveCount)
	return p.DeadLetterTargetArn, n, ok && p.DeadLetterTargetArn != ""
}
