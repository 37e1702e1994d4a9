package kinesis

// Authorization and auditing of Kinesis requests (Config.Authorizer,
// Config.Audit). Each operation is its IAM action, kinesis:OPERATION, as
// AWS names them, on the resource the decoded input names: the stream
// ARN, the consumer ARN for the operations on a consumer (SubscribeToShard,
// DescribeStreamConsumer, ...), "*" for the operations on no resource
// (ListStreams, DescribeLimits, the account settings). GetRecords names
// its stream only inside the shard iterator, and ListShards with a
// NextToken inside the token: both are read for it.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/streambridge/bridge/gateway/awsapi"
	"github.com/streambridge/bridge/store"
)

func init() { operations.Authorize = authorize }

// controlPlane are the operations the audit log records when they are let
// through: the ones that change a stream, a consumer or the account.
var controlPlane = map[string]bool{
	"CreateStream": true, "DeleteStream": true, "UpdateShardCount": true, "SplitShard": true, "MergeShards": true,
	"PutResourcePolicy": true, "DeleteResourcePolicy": true,
	"AddTagsToStream": true, "RemoveTagsFromStream": true, "TagResource": true, "UntagResource": true,
	"StartStreamEncryption": true, "StopStreamEncryption": true,
	"IncreaseStreamRetentionPeriod": true, "DecreaseStreamRetentionPeriod": true, "UpdateStreamMode": true,
	"EnableEnhancedMonitoring": true, "DisableEnhancedMonitoring": true, "UpdateMaxRecordSize": true,
	"RegisterStreamConsumer": true, "DeregisterStreamConsumer": true,
	"UpdateStreamWarmThroughput": true, "UpdateStreamRecordDistributionStrategy": true, "UpdateAccountSettings": true,
}

// policyOps read or replace the resource policy itself (awsapi.Check).
var policyOps = map[string]bool{"PutResourcePolicy": true, "GetResourcePolicy": true, "DeleteResourcePolicy": true}

// authorize is the operations' authorization step: it runs with the
// decoded input, before the operation does anything.
func authorize(ctx context.Context, h *Handler, x *exchange, in any) error {
	if h.cfg.Authorizer == nil && (h.cfg.Audit == nil || !controlPlane[x.Op]) {
		return nil // nothing to decide, nothing to record: no lookups
	}
	x.Action, x.Resource = "kinesis:"+x.Op, h.resourceOf(ctx, in)
	c := awsapi.Check{Source: "kinesis", Op: x.Op, Action: x.Action, Resource: x.Resource,
		ManagesPolicy: policyOps[x.Op], DeniedCode: errAccessDenied}
	if x.Resource != "*" {
		res := x.Resource
		c.Policy = func(ctx context.Context) (string, error) { return h.resourcePolicy(ctx, res) }
	}
	d := awsapi.Authorize(ctx, h.cfg.Authorizer, h.cfg.Audit, h.log, x.R, c)
	if d == nil {
		return nil
	}
	x.Denied = true
	return newError(errAccessDenied, "%s", d.Message(false))
}

// audit records a control-plane call that was let through, with the
// error type it was answered with ("" for success).
func (h *Handler) audit(x *exchange, errType, errMsg string) {
	if controlPlane[x.Op] {
		awsapi.RecordExchange(h.cfg.Audit, x, "kinesis", errType, errMsg)
	}
}

// streamRefHolder is every input that embeds streamRef.
type streamRefHolder interface{ ref() streamRef }

func (r streamRef) ref() streamRef { return r }

// resourceOf is the ARN an operation's input names. Names the operation
// will refuse still give an ARN (a stream that cannot exist), so a
// principal allowed nothing there is refused before the validation error;
// an input naming nothing gives "".
func (h *Handler) resourceOf(ctx context.Context, in any) string {
	switch in := in.(type) {
	case *listStreamsInput, *describeLimitsInput, *describeAccountSettingsInput, *updateAccountSettingsInput:
		return "*"
	case *listShardsInput:
		if in.StreamName == nil && in.StreamARN == nil && in.NextToken != nil {
			var tok listShardsToken
			if b, err := base64.RawURLEncoding.DecodeString(*in.NextToken); err == nil && json.Unmarshal(b, &tok) == nil {
				return h.streamARN(tok.Stream)
			}
			return ""
		}
		return h.refARN(in.ref())
	case streamRefHolder:
		return h.refARN(in.ref())
	case *createStreamInput:
		return h.refARN(streamRef{StreamName: in.StreamName})
	case *updateDistributionInput:
		return h.refARN(streamRef{StreamARN: in.StreamARN})
	case *registerConsumerInput:
		return h.refARN(streamRef{StreamARN: in.StreamARN})
	case *listConsumersInput:
		return h.refARN(streamRef{StreamARN: in.StreamARN})
	case *updateStreamModeInput:
		return h.refARN(streamRef{StreamARN: in.StreamARN})
	case *consumerRefInput:
		if in.ConsumerARN != nil {
			return *in.ConsumerARN
		}
		return h.consumerARNByName(ctx, in.StreamARN, in.ConsumerName)
	case *subscribeToShardInput:
		return deref(in.ConsumerARN)
	case *resourcePolicyInput:
		return deref(in.ResourceARN)
	case *resourceTagsInput:
		return deref(in.ResourceARN)
	case *getRecordsInput:
		if in.ShardIterator != nil {
			if it, err := h.parseIterator(ctx, *in.ShardIterator); err == nil {
				return h.streamARN(it.stream)
			}
		}
		return h.refARN(streamRef{StreamARN: in.StreamARN})
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// refARN is the stream ARN of a StreamName / StreamARN pair: the ARN
// rebuilt from the name it holds, so the policy sees the canonical form.
func (h *Handler) refARN(r streamRef) string {
	if r.StreamARN != nil {
		if name, ok := h.parseStreamARN(*r.StreamARN); ok {
			return h.streamARN(name)
		}
		return *r.StreamARN
	}
	if r.StreamName != nil {
		return h.streamARN(*r.StreamName)
	}
	return ""
}

// consumerARNByName is the ARN of a consumer named by stream ARN and name
// (DescribeStreamConsumer and DeregisterStreamConsumer allow that): the
// registered consumer's, or one without a creation time when there is
// none, which the operation will refuse.
func (h *Handler) consumerARNByName(ctx context.Context, streamARN, name *string) string {
	stream := h.refARN(streamRef{StreamARN: streamARN})
	if stream == "" || name == nil {
		return stream
	}
	if sn, ok := h.parseStreamARN(stream); ok {
		if st, err := h.store.DescribeStream(ctx, sn); err == nil {
			if rec, ok, err := h.loadConsumer(ctx, st, *name); err == nil && ok {
				return h.consumerARN(sn, rec)
			}
		}
	}
	return stream + "/consumer/" + *name
}

// resourcePolicy is the policy stored for a stream or consumer ARN, ""
// when there is none or the resource does not exist.
func (h *Handler) resourcePolicy(ctx context.Context, arn string) (string, error) {
	if strings.Contains(arn, "/consumer/") {
		p, err := h.consumerPolicy(ctx, arn)
		var e *Error
		if errors.As(err, &e) && e.Type == errResourceNotFound {
			return "", nil
		}
		return p, err
	}
	name, ok := h.parseStreamARN(arn)
	if !ok {
		return "", nil
	}
	st, err := h.store.DescribeStream(ctx, name)
	if errors.Is(err, store.ErrStreamNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return st.Config[cfgPolicy], nil
}
