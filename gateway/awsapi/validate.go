package awsapi

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Violations collects field constraint violations and reports them the way
// AWS's services do: one ValidationException listing every violation,
//
//	2 validation errors detected: Value null at 'streamName' failed to
//	satisfy constraint: Member must not be null; Value '0' at 'shardCount'
//	failed to satisfy constraint: Member must have value greater than or
//	equal to 1
//
// Field names are the members' names with a lower-case first letter, as in
// AWS's messages. Checks run in the order of the operation's members. It is
// a plain slice, so an API may append a violation worded its own way.
type Violations []string

// Fail records a violation of constraint by value at field. value is
// printed as AWS does: null for nil, quoted otherwise.
func (v *Violations) Fail(field string, value any, constraint string) {
	*v = append(*v, fmt.Sprintf("Value %s at '%s' failed to satisfy constraint: Member must %s", quoteValue(value), field, constraint))
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

// Message is AWS's message for what was recorded: "N validation error(s)
// detected: ...", or "" when nothing was.
func (v Violations) Message() string {
	switch n := len(v); n {
	case 0:
		return ""
	case 1:
		return "1 validation error detected: " + v[0]
	default:
		return fmt.Sprintf("%d validation errors detected: %s", n, strings.Join(v, "; "))
	}
}

// Err returns the ValidationException for what was recorded, or nil.
func (v Violations) Err() *Error {
	if len(v) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Type: TypeValidation, Message: v.Message()}
}

// Required checks that a member is present.
func (v *Violations) Required(field string, present bool) bool {
	if !present {
		v.Fail(field, nil, "not be null")
	}
	return present
}

// Str checks an optional string's form, when pattern is not nil, and its
// length in characters (no upper bound when maxLen is 0). A nil s passes.
// pattern should come from Anchored, so that the message shows it as the
// API model writes it.
func (v *Violations) Str(field string, s *string, minLen, maxLen int, pattern *regexp.Regexp) {
	if s == nil {
		return
	}
	// AWS lists a pattern violation before length violations (an empty
	// name breaks both).
	if pattern != nil && !pattern.MatchString(*s) {
		v.Fail(field, s, "satisfy regular expression pattern: "+strings.TrimSuffix(strings.TrimPrefix(pattern.String(), "^(?:"), ")$"))
	}
	n := utf8.RuneCountInString(*s)
	if n < minLen {
		v.Fail(field, s, fmt.Sprintf("have length greater than or equal to %d", minLen))
	}
	if maxLen > 0 && n > maxLen {
		v.Fail(field, s, fmt.Sprintf("have length less than or equal to %d", maxLen))
	}
}

// IntRange checks an optional number against [lo, hi].
func (v *Violations) IntRange(field string, n *int, lo, hi int) {
	if n == nil {
		return
	}
	if *n < lo {
		v.Fail(field, n, fmt.Sprintf("have value greater than or equal to %d", lo))
	}
	if *n > hi {
		v.Fail(field, n, fmt.Sprintf("have value less than or equal to %d", hi))
	}
}

// OneOf checks an optional enum member.
func (v *Violations) OneOf(field string, s *string, allowed ...string) {
	if s == nil {
		return
	}
	for _, a := range allowed {
		if *s == a {
			return
		}
	}
	v.Fail(field, s, "satisfy enum value set: ["+strings.Join(allowed, ", ")+"]")
}

// Anchored compiles an API model's member pattern so that it must match the
// whole value; Str prints it back without the anchors.
func Anchored(pattern string) *regexp.Regexp {
	return regexp.MustCompile("^(?:" + pattern + ")$")
}
