// Resource policies: PutResourcePolicy, GetResourcePolicy and
// DeleteResourcePolicy, on a stream ARN or a consumer ARN.
//
// A stream's policy lives in its Config (kinesis.policy), a consumer's in
// its record (consumers.go), so a policy is as durable as its resource and
// goes with it. A policy must be a JSON object of at most 20 KiB; it is
// stored and returned as sent, byte for byte. GetResourcePolicy on a
// resource without one answers {"Policy": "{}"}, and DeleteResourcePolicy
// there ResourceNotFoundException "No resource policy found for resource
// ARN ...", as AWS does; an unknown stream is "Stream ARN under account
// ACCOUNT not found.", an unknown consumer the consumer operations' message.
//
// Policies are enforced when the handler has an Authorizer (authz.go,
// bridge serve --aws-policies-file); without one a policy changes nothing
// about who may call what. AWS does not document a Kinesis policy's size
// limit or the messages for a policy that is not JSON or too large; 20 KiB
// is the limit AWS documents for the resource policies of other services
// (S3 buckets, Secrets Manager, DynamoDB), and the messages are the
// bridge's own, as InvalidArgumentException.
package kinesis

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/streambridge/bridge/store"
)

// maxPolicyBytes bounds a resource policy document.
const maxPolicyBytes = 20 << 10

// emptyPolicy is GetResourcePolicy's answer for a resource without one.
const emptyPolicy = "{}"

// policyARNPattern is the ResourceARN pattern of the policy operations,
// narrower than the tagging operations' one.
var policyARNPattern = anchored(`arn:aws.*:kinesis:.*:\d{12}:.*stream/\S+`)

type resourcePolicyInput struct {
	ResourceARN *string `json:"ResourceARN,omitempty"`
	Policy      *string `json:"Policy,omitempty"`
	StreamId    *string `json:"StreamId,omitempty"`
}

type getResourcePolicyOutput struct {
	Policy string `json:"Policy"`
}

func init() {
	register("PutResourcePolicy", putResourcePolicy)
	register("GetResourcePolicy", getResourcePolicy)
	register("DeleteResourcePolicy", deleteResourcePolicy)
}

// policyResource validates the ResourceARN member (and the Policy member,
// when the operation takes one) and returns what the ARN names.
func (h *Handler) policyResource(in *resourcePolicyInput, takesPolicy bool) (taggedResource, error) {
	var v validator
	if takesPolicy {
		v.required("policy", in.Policy != nil)
	}
	if v.required("resourceARN", in.ResourceARN != nil) {
		v.str("resourceARN", in.ResourceARN, 1, 2048, policyARNPattern)
	}
	if err := v.err(); err != nil {
		return taggedResource{}, err
	}
	r := h.resolveResource(&v, in.ResourceARN)
	if err := v.err(); err != nil {
		return taggedResource{}, err
	}
	return r, nil
}

// checkPolicy refuses a document that is not a JSON object or is too big.
func checkPolicy(policy string) error {
	if len(policy) > maxPolicyBytes {
		return invalidArgument("Policy size of %d bytes exceeds the maximum of %d bytes.", len(policy), maxPolicyBytes)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal([]byte(policy), &doc); err != nil || doc == nil {
		return invalidArgument("Policy is not a valid JSON policy document: it must be a JSON object.")
	}
	return nil
}

// policyStreamNotFound is the policy operations' message for a stream ARN
// that names no stream.
func (h *Handler) policyStreamNotFound(arn string) *Error {
	return resourceNotFound("Stream %s under account %s not found.", arn, h.cfg.Account)
}

// changeStreamPolicy applies change to the policy of the stream arn names;
// change gets the current policy ("" for none) and returns the new one.
func (h *Handler) changeStreamPolicy(ctx context.Context, arn, name string, change func(current string) (string, error)) error {
	if _, _, err := h.lookupStream(ctx, name); err != nil {
		return h.policyError(arn, err)
	}
	_, err := h.store.UpdateStream(ctx, name, func(st *store.Stream) error {
		policy, err := change(st.Config[cfgPolicy])
		if err != nil {
			return err
		}
		if st.Config == nil {
			st.Config = map[string]string{}
		}
		if policy == "" {
			delete(st.Config, cfgPolicy)
		} else {
			st.Config[cfgPolicy] = policy
		}
		return nil
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return e // change's own answer
		}
		return h.policyError(arn, h.storeError(name, err))
	}
	return nil
}

// policyError is err with a stream that is not there put in the policy
// operations' words.
func (h *Handler) policyError(arn string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Type == errResourceNotFound {
		return h.policyStreamNotFound(arn)
	}
	return err
}

// changePolicy is changeStreamPolicy for either kind of resource.
func (h *Handler) changePolicy(ctx context.Context, arn string, r taggedResource, change func(current string) (string, error)) error {
	if r.consumer == "" {
		return h.changeStreamPolicy(ctx, arn, r.stream, change)
	}
	return h.updateConsumer(ctx, arn, func(c *consumerRecord) error {
		policy, err := change(c.Policy)
		if err != nil {
			return err
		}
		c.Policy = policy
		return nil
	})
}

func putResourcePolicy(ctx context.Context, h *Handler, in *resourcePolicyInput) (*ackOutput, error) {
	r, err := h.policyResource(in, true)
	if err != nil {
		return nil, err
	}
	if err := checkPolicy(*in.Policy); err != nil {
		return nil, err
	}
	err = h.changePolicy(ctx, *in.ResourceARN, r, func(string) (string, error) { return *in.Policy, nil })
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}

func getResourcePolicy(ctx context.Context, h *Handler, in *resourcePolicyInput) (*getResourcePolicyOutput, error) {
	r, err := h.policyResource(in, false)
	if err != nil {
		return nil, err
	}
	arn := *in.ResourceARN
	var policy string
	if r.consumer == "" {
		st, _, err := h.lookupStream(ctx, r.stream)
		if err != nil {
			return nil, h.policyError(arn, err)
		}
		policy = st.Config[cfgPolicy]
	} else if policy, err = h.consumerPolicy(ctx, arn); err != nil {
		return nil, err
	}
	if policy == "" {
		policy = emptyPolicy
	}
	return &getResourcePolicyOutput{Policy: policy}, nil
}

// consumerPolicy returns the policy of the consumer arn names, "" for none.
func (h *Handler) consumerPolicy(ctx context.Context, arn string) (string, error) {
	stream, c, err := h.consumerByARN(ctx, arn)
	if err != nil {
		return "", err
	}
	st, err := h.store.DescribeStream(ctx, stream)
	if err != nil {
		return "", h.consumerNotFound(arn)
	}
	rec, ok, err := h.loadConsumer(ctx, st, c.Name)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", h.consumerNotFound(arn)
	}
	return rec.Policy, nil
}

func deleteResourcePolicy(ctx context.Context, h *Handler, in *resourcePolicyInput) (*ackOutput, error) {
	r, err := h.policyResource(in, false)
	if err != nil {
		return nil, err
	}
	arn := *in.ResourceARN
	err = h.changePolicy(ctx, arn, r, func(current string) (string, error) {
		if current == "" {
			return "", resourceNotFound("No resource policy found for resource ARN %s.", arn)
		}
		return "", nil
	})
	if err != nil {
		return nil, err
	}
	return &ackOutput{}, nil
}
