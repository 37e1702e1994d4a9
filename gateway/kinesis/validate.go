package kinesis

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// maxNextTokenLength is the API model's bound on every NextToken member.
const maxNextTokenLength = 1048576

// validator collects field constraint violations and reports them the way
// AWS does: one ValidationException listing every violation,
//
//	2 validation errors detected: Value null at 'streamName' failed to
//	satisfy constraint: Member must not be null; Value '0' at 'shardCount'
//	failed to satisfy constraint: Member must have value greater than or
//	equal to 1
//
// Field names are the members' names with a lower-case first letter, as in
// AWS's messages. Checks run in the order of the operation's members.
type validator struct {
	violations []string
}

// fail records a violation of constraint by value at field. value is
// printed as AWS does: null for nil, quoted otherwise.
func (v *validator) fail(field string, value any, constraint string) {
	v.violations = append(v.violations, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", quoteValue(value), field, constraint))
}

func quoteValue(value any) string {
	switch x := value.(type) {
	case nil:
		return "null"
	case *string:
		if x == nil {
			return "null"
		}
		return "'" + *x + "'"
	case *int:
		if x == nil {
			return "null"
		}
		return fmt.Sprintf("'%d'", *x)
	case *int64:
		if x == nil {
			return "null"
		}
		return fmt.Sprintf("'%d'", *x)
	}
	return fmt.Sprintf("'%v'", value)
}

// err returns the ValidationException for what was recorded, or nil.
func (v *validator) err() *Error {
	switch n := len(v.violations); n {
	case 0:
		return nil
	case 1:
		return newError(errValidation, "1 validation error detected: %s", v.violations[0])
	default:
		return newError(errValidation, "%d validation errors detected: %s", n, strings.Join(v.violations, "; "))
	}
}

// required checks that a member is present.
func (v *validator) required(field string, present bool) bool {
	if !present {
		v.fail(field, nil, "not be null")
	}
	return present
}

// str checks an optional string's form, when pattern is not nil, and its
// length in characters. A nil s passes.
func (v *validator) str(field string, s *string, minLen, maxLen int, pattern *regexp.Regexp) {
	if s == nil {
		return
	}
	// AWS lists a pattern violation before length violations (an empty
	// name breaks both).
	if pattern != nil && !pattern.MatchString(*s) {
		v.fail(field, s, "satisfy regular expression pattern: "+strings.TrimSuffix(strings.TrimPrefix(pattern.String(), "^(?:"), ")$"))
	}
	n := utf8.RuneCountInString(*s)
	if n < minLen {
		v.fail(field, s, fmt.Sprintf("have length greater than or equal to %d", minLen))
	}
	if maxLen > 0 && n > maxLen {
		v.fail(field, s, fmt.Sprintf("have length less than or equal to %d", maxLen))
	}
}

// intRange checks an optional number against [lo, hi].
func (v *validator) intRange(field string, n *int, lo, hi int) {
	if n == nil {
		return
	}
	if *n < lo {
		v.fail(field, n, fmt.Sprintf("have value greater than or equal to %d", lo))
	}
	if *n > hi {
		v.fail(field, n, fmt.Sprintf("have value less than or equal to %d", hi))
	}
}

// oneOf checks an optional enum member.
func (v *validator) oneOf(field string, s *string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.fail(field, s, "satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// anchored compiles an AWS member pattern so that it must match the whole
// value; validator.str prints it back without the anchors.
func anchored(pattern string) *regexp.Regexp {
	return regexp.MustCompile("^(?:" + pattern + ")$")
}

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
