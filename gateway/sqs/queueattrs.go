package sqs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Queue attributes as CreateQueue and SetQueueAttributes take them and
// GetQueueAttributes returns them: names, defaults, ranges and AWS's
// refusals ("Invalid value for the parameter X." with InvalidAttributeValue,
// "Unknown Attribute X." with InvalidAttributeName). The values are kept as
// the strings the API carries; the queue engine parses the ones it uses.
//
// MaximumMessageSize defaults to 1 MiB, the limit SQS raised it to in 2025;
// clients that assume the old 256 KiB still fit.

// Settable attribute names.
const (
	attrDelaySeconds                  = "DelaySeconds"
	attrMaximumMessageSize            = "MaximumMessageSize"
	attrMessageRetentionPeriod        = "MessageRetentionPeriod"
	attrPolicy                        = "Policy"
	attrReceiveMessageWaitTimeSeconds = "ReceiveMessageWaitTimeSeconds"
	attrVisibilityTimeout             = "VisibilityTimeout"
	attrRedrivePolicy                 = "RedrivePolicy"
	attrRedriveAllowPolicy            = "RedriveAllowPolicy"
	attrKmsMasterKeyID                = "KmsMasterKeyId"
	attrKmsDataKeyReusePeriodSeconds  = "KmsDataKeyReusePeriodSeconds"
	attrSqsManagedSseEnabled          = "SqsManagedSseEnabled"
	attrFifoQueue                     = "FifoQueue"
	attrContentBasedDeduplication     = "ContentBasedDeduplication"
	attrDeduplicationScope            = "DeduplicationScope"
	attrFifoThroughputLimit           = "FifoThroughputLimit"
)

// Attributes only GetQueueAttributes returns: the queue computes them.
const (
	attrApproximateNumberOfMessages           = "ApproximateNumberOfMessages"
	attrApproximateNumberOfMessagesDelayed    = "ApproximateNumberOfMessagesDelayed"
	attrApproximateNumberOfMessagesNotVisible = "ApproximateNumberOfMessagesNotVisible"
	attrCreatedTimestamp                      = "CreatedTimestamp"
	attrLastModifiedTimestamp                 = "LastModifiedTimestamp"
	attrQueueArn                              = "QueueArn"
)

// attrSpec is one settable attribute.
type attrSpec struct {
	def        string // the value of a queue that was not given one; "" for none
	fifoOnly   bool   // unknown on standard queues
	createOnly bool   // refused by SetQueueAttributes
	valid      func(string) bool
}

var attrSpecs = map[string]attrSpec{
	attrDelaySeconds:                  {def: "0", valid: intIn(0, 900)},
	attrMaximumMessageSize:            {def: "1048576", valid: intIn(1024, 1<<20)},
	attrMessageRetentionPeriod:        {def: "345600", valid: intIn(60, 1209600)},
	attrPolicy:                        {valid: jsonObject},
	attrReceiveMessageWaitTimeSeconds: {def: "0", valid: intIn(0, 20)},
	attrVisibilityTimeout:             {def: "30", valid: intIn(0, 43200)},
	attrRedrivePolicy:                 {valid: func(v string) bool { return checkRedrivePolicy(v) == nil }},
	attrRedriveAllowPolicy:            {valid: validRedriveAllowPolicy},
	attrKmsMasterKeyID:                {valid: func(string) bool { return true }},
	attrKmsDataKeyReusePeriodSeconds:  {valid: intIn(60, 86400)},
	attrSqsManagedSseEnabled:          {def: "true", valid: boolean},
	attrFifoQueue:                     {fifoOnly: true, createOnly: true, def: "true", valid: boolean},
	attrContentBasedDeduplication:     {fifoOnly: true, def: "false", valid: boolean},
	attrDeduplicationScope:            {fifoOnly: true, def: "queue", valid: oneOf("messageGroup", "queue")},
	attrFifoThroughputLimit:           {fifoOnly: true, def: "perQueue", valid: oneOf("perQueue", "perMessageGroupId")},
}

// unknownAttribute is SQS's refusal of an attribute name.
func unknownAttribute(name string) *Error {
	return newError(ErrInvalidAttributeName, "Unknown Attribute %s.", name)
}

// invalidAttribute is SQS's refusal of an attribute's value.
func invalidAttribute(name string) *Error {
	return newError(ErrInvalidAttributeValue, "Invalid value for the parameter %s.", name)
}

// checkAttributes checks the attributes of a CreateQueue (creating) or a
// SetQueueAttributes on a queue, FIFO or not. Names are checked in sorted
// order, so the first refusal is the same whatever the request's order.
func checkAttributes(attrs map[string]string, fifo, creating bool) error {
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		spec, ok := attrSpecs[name]
		switch {
		case !ok:
			return unknownAttribute(name)
		case spec.fifoOnly && !fifo && (name == attrDeduplicationScope || name == attrFifoThroughputLimit):
			return newError(ErrInvalidAttributeName, "You can specify the %s only when FifoQueue is set to true.", name)
		case spec.fifoOnly && !fifo:
			return unknownAttribute(name)
		case spec.createOnly && !creating && name == attrFifoQueue:
			return newError(ErrInvalidAttributeValue, "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.")
		case spec.createOnly && !creating:
			return unknownAttribute(name)
		case name == attrRedrivePolicy:
			if err := checkRedrivePolicy(attrs[name]); err != nil {
				return err
			}
		case !spec.valid(attrs[name]):
			return invalidAttribute(name)
		}
	}
	if attrs[attrKmsMasterKeyID] != "" && strings.EqualFold(attrs[attrSqsManagedSseEnabled], "true") {
		return newError(ErrInvalidAttributeName, "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.")
	}
	return nil
}

// checkRedrivePolicy refuses a RedrivePolicy as SQS does, naming what is
// wrong with it. An empty one removes the policy.
func checkRedrivePolicy(v string) error {
	if v == "" {
		return nil
	}
	invalid := func(reason string) error {
		return newError(ErrInvalidParameterValue, "Value %s for parameter RedrivePolicy is invalid. Reason: %s", v, reason)
	}
	var p map[string]json.RawMessage
	if json.Unmarshal([]byte(v), &p) != nil {
		return invalid("Redrive policy is not a valid JSON map.")
	}
	for _, field := range []string{"deadLetterTargetArn", "maxReceiveCount"} {
		if _, ok := p[field]; !ok {
			return invalid("Redrive policy does not contain mandatory attribute: " + field + ".")
		}
	}
	var arn string
	if json.Unmarshal(p["deadLetterTargetArn"], &arn) != nil || !strings.HasPrefix(arn, "arn:aws:sqs:") {
		return invalid("Invalid value for deadLetterTargetArn.")
	}
	n, ok := maxReceiveCount(p["maxReceiveCount"])
	if !ok || n < 1 || n > 1000 {
		return invalid(fmt.Sprintf("Invalid value for maxReceiveCount: %s, valid values are from 1 to 1000 both inclusive.", strings.Trim(string(p["maxReceiveCount"]), `"`)))
	}
	return nil
}

// withDefaults returns the settable attributes of a new queue: the given
// ones over the defaults of its kind.
func withDefaults(attrs map[string]string, fifo bool) map[string]string {
	out := make(map[string]string, len(attrSpecs))
	for name, spec := range attrSpecs {
		if spec.def != "" && (fifo || !spec.fifoOnly) {
			out[name] = spec.def
		}
	}
	for name, v := range attrs {
		out[name] = v
	}
	if fifo {
		out[attrFifoQueue] = "true"
	}
	return out
}

func intIn(lo, hi int64) func(string) bool {
	return func(v string) bool {
		n, err := strconv.ParseInt(v, 10, 64)
		return err == nil && n >= lo && n <= hi
	}
}

func boolean(v string) bool { return strings.EqualFold(v, "true") || strings.EqualFold(v, "false") }

func oneOf(allowed ...string) func(string) bool {
	return func(v string) bool { return slices.Contains(allowed, v) }
}

func jsonObject(v string) bool {
	var m map[string]json.RawMessage
	return json.Unmarshal([]byte(v), &m) == nil
}

// maxReceiveCount reads a redrive policy's count, a JSON number or string.
func maxReceiveCount(raw json.RawMessage) (int64, bool) {
	var n json.Number // takes a number, or a string holding one
	if json.Unmarshal(raw, &n) != nil {
		return 0, false
	}
	v, err := n.Int64()
	return v, err == nil
}

// validRedriveAllowPolicy: redrivePermission allowAll, denyAll or byQueue,
// the last with 1 to 10 source queue ARNs.
func validRedriveAllowPolicy(v string) bool {
	var p struct {
		RedrivePermission string   `json:"redrivePermission"`
		SourceQueueArns   []string `json:"sourceQueueArns"`
	}
	if json.Unmarshal([]byte(v), &p) != nil {
		return false
	}
	switch p.RedrivePermission {
	case "allowAll", "denyAll":
		return len(p.SourceQueueArns) == 0
	case "byQueue":
		return len(p.SourceQueueArns) >= 1 && len(p.SourceQueueArns) <= 10
	}
	return false
}

// describeAttributes returns the attributes GetQueueAttributes asks for
// (names; "All" for every one), from the queue's settable attributes and
// the computed ones. Unknown names are refused as SQS refuses them.
func describeAttributes(asked []string, settable, computed map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for _, name := range asked {
		if name == "All" {
			for k, v := range settable {
				out[k] = v
			}
			for k, v := range computed {
				out[k] = v
			}
			continue
		}
		if v, ok := settable[name]; ok {
			out[name] = v
			continue
		}
		if v, ok := computed[name]; ok {
			out[name] = v
			continue
		}
		if _, known := attrSpecs[name]; !known && !isComputed(name) {
			return nil, unknownAttribute(name)
		}
	}
	return out, nil
}

func isComputed(name string) bool {
	switch name {
	case attrApproximateNumberOfMessages, attrApproximateNumberOfMessagesDelayed,
		attrApproximateNumberOfMessagesNotVisible, attrCreatedTimestamp,
		attrLastModifiedTimestamp, attrQueueArn:
		return true
	}
	return false
}

// kmsReplacesSQSEncryption turns SQS-managed encryption off in attrs when
// they set a KMS key and say nothing of it: a queue has one kind of
// server-side encryption, and SQS switches to KMS.
func kmsReplacesSQSEncryption(attrs map[string]string) {
	if _, said := attrs[attrSqsManagedSseEnabled]; attrs[attrKmsMasterKeyID] != "" && !said {
		attrs[attrSqsManagedSseEnabled] = "false"
	}
}
