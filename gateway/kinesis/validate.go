package kinesis

import (
	"regexp"

	"github.com/streambridge/bridge/gateway/awsapi"
)

// maxNextTokenLength is the API model's bound on every NextToken member.
const maxNextTokenLength = 1048576

// validator collects field constraint violations and reports them the way
// AWS does (awsapi.Violations): one ValidationException listing every
// violation. Kinesis code appends its own wording to violations too.
type validator struct {
	violations awsapi.Violations
}

// fail records a violation of constraint by value at field.
func (v *validator) fail(field string, value any, constraint string) {
	v.violations.Fail(field, value, constraint)
}

// err returns the ValidationException for what was recorded, or nil.
func (v *validator) err() *Error { return v.violations.Err() }

// required checks that a member is present.
func (v *validator) required(field string, present bool) bool {
	return v.violations.Required(field, present)
}

// str checks an optional string's form and its length in characters.
func (v *validator) str(field string, s *string, minLen, maxLen int, pattern *regexp.Regexp) {
	v.violations.Str(field, s, minLen, maxLen, pattern)
}

// intRange checks an optional number against [lo, hi].
func (v *validator) intRange(field string, n *int, lo, hi int) {
	v.violations.IntRange(field, n, lo, hi)
}

// oneOf checks an optional enum member.
func (v *validator) oneOf(field string, s *string, allowed ...string) {
	v.violations.OneOf(field, s, allowed...)
}

// anchored compiles an AWS member pattern so that it must match the whole
// value; validator.str prints it back without the anchors.
func anchored(pattern string) *regexp.Regexp { return awsapi.Anchored(pattern) }

// Member patterns from the Kinesis API model.
var (
	streamNamePattern   = anchored(`[a-zA-Z0-9_.-]+`)
	streamARNPattern    = anchored(`arn:aws.*:kinesis:.*:\d{12}:stream/\S+`)
	shardIDPattern      = anchored(`[a-zA-Z0-9_.-]+`)
	sequencePattern     = anchored(`0|([1-9]\d{0,128})`)
	hashKeyPattern      = anchored(`0|([1-9]\d{0,38})`)
	consumerNamePattern = anchored(`[a-zA-Z0-9_.-]+`)
	consumerARNPattern  = anchored(`^(arn):aws.*:kinesis:.*:\d{12}:.*stream\/[a-zA-Z0-9_.-]+\/consumer\/[a-zA-Z0-9_.-]+:[0-9]+`)
)
