package sqs

// Authorization and auditing of SQS requests (Config.Authorizer,
// Config.Audit), in both protocols. Each operation is its IAM action,
// sqs:OPERATION, except the batch operations, which IAM has no actions
// for: SendMessageBatch is authorized as sqs:SendMessage,
// DeleteMessageBatch as sqs:DeleteMessage and ChangeMessageVisibilityBatch
// as sqs:ChangeMessageVisibility, as AWS does. The resource is the queue's
// ARN (from QueueUrl, QueueName, or the message move tasks' SourceArn and
// task handle), "*" for ListQueues. The queue's Policy attribute is its
// resource policy.

import (
	"context"
	"errors"
	"net/http"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/store"
)

// batchActions are the operations authorized as another's IAM action.
var batchActions = map[string]string{
	"SendMessageBatch":             "sqs:SendMessage",
	"DeleteMessageBatch":           "sqs:DeleteMessage",
	"ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
}

// controlPlane are the operations the audit log records when they are let
// through: the ones that change a queue rather than its messages.
var controlPlane = map[string]bool{
	"CreateQueue": true, "DeleteQueue": true, "SetQueueAttributes": true, "PurgeQueue": true,
	"TagQueue": true, "UntagQueue": true, "AddPermission": true, "RemovePermission": true,
	"StartMessageMoveTask": true, "CancelMessageMoveTask": true,
}

// policyOps read or replace the queue's Policy itself (awsapi.Check).
var policyOps = map[string]bool{"GetQueueAttributes": true, "SetQueueAttributes": true, "AddPermission": true, "RemovePermission": true}

// accessDenied is SQS's refusal: AccessDenied, HTTP 403, in the Query
// protocol; in JSON the Query code goes in x-amzn-query-error, where the
// SDKs read it, and __type is Coral's AccessDeniedException.
func accessDenied(msg string) *awsapi.Error {
	return &awsapi.Error{Status: http.StatusForbidden, Type: "com.amazon.coral.service#AccessDeniedException", QueryCode: "AccessDenied", Message: msg}
}

// authorize is the operations' authorization step: it runs with the
// decoded input, before the operation does anything.
func (h *Handler) authorize(ctx context.Context, x *exchange, in any) error {
	if h.cfg.Authorizer == nil && (h.cfg.Audit == nil || !controlPlane[x.Op]) {
		return nil // nothing to decide, nothing to record: no lookups
	}
	x.Action = batchActions[x.Op]
	if x.Action == "" {
		x.Action = "sqs:" + x.Op
	}
	x.Resource = h.resourceOf(in)
	c := awsapi.Check{Source: "sqs", Op: x.Op, Action: x.Action, Resource: x.Resource,
		ManagesPolicy: policyOps[x.Op], DeniedCode: "AccessDenied"}
	if name, ok := h.queueOfARN(x.Resource); ok {
		c.Policy = func(ctx context.Context) (string, error) { return h.queuePolicy(ctx, name) }
	}
	d := awsapi.Authorize(ctx, h.cfg.Authorizer, h.cfg.Audit, h.log, x.R, c)
	if d == nil {
		return nil
	}
	x.Denied = true
	// SQS writes the action in lower case: "... is not authorized to
	// perform: sqs:sendmessage on resource: ...".
	return accessDenied(d.Message(true))
}

// audit records a control-plane call that was let through, with the
// error code it was answered with ("" for success).
func (h *Handler) audit(x *exchange, code, msg string) {
	if controlPlane[x.Op] {
		awsapi.RecordExchange(h.cfg.Audit, x, "sqs", code, msg)
	}
}

// resourceOf is the queue ARN an operation's input names, "" when it
// names none (the operation will refuse it), "*" for ListQueues.
func (h *Handler) resourceOf(in any) string {
	var ref string
	switch in := in.(type) {
	case *listQueuesInput:
		return "*"
	case *createQueueInput:
		ref = in.QueueName
	case *getQueueURLInput:
		ref = in.QueueName
	case *startMessageMoveTaskInput:
		return in.SourceArn
	case *listMessageMoveTasksInput:
		return in.SourceArn
	case *cancelMessageMoveTaskInput:
		_, source, _ := decodeTaskHandle(in.TaskHandle)
		return source
	case *sendMessageInput:
		ref = in.QueueUrl
	case *sendMessageBatchInput:
		ref = in.QueueUrl
	case *receiveMessageInput:
		ref = in.QueueUrl
	case *receiptInput:
		ref = in.QueueUrl
	case *deleteMessageBatchInput:
		ref = in.QueueUrl
	case *changeVisibilityInput:
		ref = in.QueueUrl
	case *changeVisibilityBatchInput:
		ref = in.QueueUrl
	case *queueInput:
		ref = in.QueueUrl
	case *getQueueAttributesInput:
		ref = in.QueueUrl
	case *setQueueAttributesInput:
		ref = in.QueueUrl
	case *listDeadLetterSourceQueuesInput:
		ref = in.QueueUrl
	case *tagQueueInput:
		ref = in.QueueUrl
	case *untagQueueInput:
		ref = in.QueueUrl
	case *addPermissionInput:
		ref = in.QueueUrl
	case *removePermissionInput:
		ref = in.QueueUrl
	}
	name, ok := queueNameOf(ref, h.cfg.Account)
	if ref == "" || !ok {
		return ""
	}
	return h.queueARN(name)
}

// queuePolicy is the Policy attribute of queue name, "" when it has none
// or there is no such queue.
func (h *Handler) queuePolicy(ctx context.Context, name string) (string, error) {
	st, err := h.store.DescribeStream(ctx, name)
	if errors.Is(err, store.ErrStreamNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	if !isQueue(st) {
		return "", nil
	}
	return st.Config[cfgAttr+attrPolicy], nil
}
