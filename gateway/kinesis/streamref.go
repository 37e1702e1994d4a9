package kinesis

import (
	"fmt"
	"strings"

	"github.com/streambridge/bridge/gateway/awsapi"
)

// Keys of the stream Config entries this API owns. Values are strings, as
// the store keeps them.
const (
	cfgPrefix        = "kinesis."
	cfgStatus        = "kinesis.status"          // CREATING, UPDATING, DELETING; absent = ACTIVE
	cfgStatusUntil   = "kinesis.status.until"    // unix ms at which the status ends
	cfgStreamMode    = "kinesis.mode"            // PROVISIONED (absent) or ON_DEMAND
	cfgMonitoring    = "kinesis.monitoring"      // comma-separated shard-level metrics
	cfgMaxRecordKiB  = "kinesis.max-record-kib"  // UpdateMaxRecordSize; absent = 1024
	cfgTagPrefix     = "kinesis.tag."            // kinesis.tag.<key> = value
	cfgModeUpdatedMs = "kinesis.mode.updated-ms" // last UpdateStreamMode, unix ms
	cfgWarmMiBps     = "kinesis.warm-mibps"      // warm throughput target, MiB/s; absent = none
	cfgDistribution  = "kinesis.distribution"    // AUTO; absent = USER_PARTITION_KEY
	cfgPolicy        = "kinesis.policy"          // resource policy JSON; absent = none
)

// streamRef is the StreamName / StreamARN pair most operations take; an
// input struct embeds it.
type streamRef struct {
	StreamName *string `json:"StreamName,omitempty"`
	StreamARN  *string `json:"StreamARN,omitempty"`
}

// name resolves the reference: the name, or the name inside the ARN. Both
// may be given if they agree. Violations go to v; name is "" then.
func (h *Handler) name(v *validator, ref streamRef) string {
	v.str("streamName", ref.StreamName, 1, 128, streamNamePattern)
	v.str("streamARN", ref.StreamARN, 1, 2048, streamARNPattern)
	var fromARN string
	if ref.StreamARN != nil {
		n, ok := h.parseStreamARN(*ref.StreamARN)
		if !ok {
			if len(v.violations) == 0 {
				v.violations = append(v.violations, fmt.Sprintf("Value '%s' at 'streamARN' failed to satisfy constraint: Member must be a stream ARN in %s of account %s", *ref.StreamARN, h.cfg.Region, h.cfg.Account))
			}
			return ""
		}
		fromARN = n
	}
	switch {
	case ref.StreamName != nil && ref.StreamARN != nil:
		if *ref.StreamName != fromARN {
			v.violations = append(v.violations, "StreamARN and StreamName do not name the same stream")
			return ""
		}
		return fromARN
	case ref.StreamARN != nil:
		return fromARN
	case ref.StreamName != nil:
		return *ref.StreamName
	}
	return ""
}

// requireName is name for operations where one of the two is required.
func (h *Handler) requireName(v *validator, ref streamRef) string {
	if ref.StreamName == nil && ref.StreamARN == nil {
		if len(v.violations) == 0 {
			return h.nameMissing(v)
		}
		return ""
	}
	return h.name(v, ref)
}

func (h *Handler) nameMissing(v *validator) string {
	v.violations = append(v.violations, "Either StreamName or StreamARN should be provided.")
	return ""
}

// arns builds and reads the ARNs of this region and account.
func (h *Handler) arns() awsapi.ARNScope {
	return awsapi.ARNScope{Service: "kinesis", Region: h.cfg.Region, Account: h.cfg.Account}
}

// streamARN returns the ARN of stream name.
func (h *Handler) streamARN(name string) string {
	return h.arns().ARN("stream/" + name)
}

// parseStreamARN returns the stream name of an ARN of this region and
// account.
func (h *Handler) parseStreamARN(arn string) (string, bool) {
	res, _ := h.arns().Resource(arn)
	name, ok := strings.CutPrefix(res, "stream/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return name, true
}
