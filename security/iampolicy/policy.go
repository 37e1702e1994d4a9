// Package iampolicy parses AWS IAM policy documents and decides requests
// against them as AWS does, for the bridge's Kinesis and SQS APIs: the
// identity policies attached to an access key, and the resource policies
// those APIs store (Kinesis PutResourcePolicy, the SQS queue's Policy
// attribute).
//
// What is evaluated: Effect, Action/NotAction (case-insensitive, * and ?
// wildcards), Resource/NotResource (case-sensitive, * and ?), and in
// resource policies Principal/NotPrincipal ("*", {"AWS": "*" | account id |
// arn:aws:iam::ACCOUNT:root | arn:aws:iam::ACCOUNT:user/NAME}). Condition
// blocks are not evaluated: the bridge has none of the request context
// AWS's condition keys read (source VPC, tags, MFA, time as AWS keeps it),
// and guessing would grant what the author meant to restrict. A statement
// with a Condition therefore fails closed: as an Allow it never matches,
// as a Deny it always matches (when its action, resource and principal
// do). Policy variables (${aws:username}) are not expanded, so a pattern
// holding one matches only itself.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Version is the one policy language version with wildcards and policy
// variables; the only one accepted (AWS still accepts 2008-10-17, whose
// semantics differ only in variables, which are not expanded here).
const Version = "2012-10-17"

// Effect is a statement's Effect.
type Effect bool

// The two effects.
const (
	Deny  Effect = false
	Allow Effect = true
)

func (e Effect) String() string {
	if e == Allow {
		return "Allow"
	}
	return "Deny"
}

// Kind is what a policy is attached to, which decides whether its
// statements name principals.
type Kind int

const (
	// Identity policies are attached to a principal: no Principal.
	Identity Kind = iota
	// Resource policies are attached to a stream, consumer or queue: each
	// statement names a Principal or NotPrincipal.
	Resource
)

// Policy is a parsed policy document.
type Policy struct {
	ID         string
	Statements []Statement
}

// Statement is one statement of a policy.
type Statement struct {
	Sid    string
	Effect Effect
	// Exactly one of Actions and NotActions is set; likewise Resources and
	// NotResources, which are both empty in a resource policy statement
	// that names no resource (it then applies to the resource it is
	// attached to).
	Actions, NotActions     []string
	Resources, NotResources []string
	// Principals and NotPrincipals are the AWS principals named, "*" for
	// everyone; at most one is set, and only in a resource policy. An
	// empty non-nil list named principals of other kinds only (Service,
	// Federated), which match no request here.
	Principals, NotPrincipals []string
	principalSet, notSet      bool
	// HasCondition marks a statement with a Condition block, which is not
	// evaluated (package doc).
	HasCondition bool
}

// Error is a policy document the parser refuses.
type Error struct{ Reason string }

func (e *Error) Error() string { return "policy document: " + e.Reason }

func malformed(format string, args ...any) error {
	return &Error{Reason: fmt.Sprintf(format, args...)}
}

// maxDocument bounds a document: AWS's largest (a managed policy) is 6,144
// characters, resource policies 20 KiB; anything far past that is not a
// policy.
const maxDocument = 64 << 10

// Parse parses a policy document of kind k. It refuses what AWS refuses
// (MalformedPolicyDocument): no Version 2012-10-17, no Statement, an
// Effect other than Allow or Deny, a statement without Action or
// NotAction (or with both), with both Resource and NotResource, an
// identity policy statement naming a Principal, a resource policy
// statement naming none; and unknown top-level or statement keys, which
// AWS refuses too.
func Parse(doc []byte, k Kind) (*Policy, error) {
	if len(doc) > maxDocument {
		return nil, malformed("%d bytes, over %d", len(doc), maxDocument)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil || top == nil {
		return nil, malformed("not a JSON object")
	}
	p := &Policy{}
	var version string
	var statements []json.RawMessage
	for key, raw := range top {
		switch key {
		case "Version":
			if json.Unmarshal(raw, &version) != nil {
				return nil, malformed("Version is not a string")
			}
		case "Id":
			if json.Unmarshal(raw, &p.ID) != nil {
				return nil, malformed("Id is not a string")
			}
		case "Statement":
			raw = bytes.TrimSpace(raw)
			if len(raw) > 0 && raw[0] == '{' {
				statements = []json.RawMessage{raw}
			} else if json.Unmarshal(raw, &statements) != nil {
				return nil, malformed("Statement is neither an object nor an array of objects")
			}
		default:
			return nil, malformed("unknown key %q", key)
		}
	}
	if version != Version {
		return nil, malformed("Version must be %q, not %q", Version, version)
	}
	if len(statements) == 0 {
		return nil, malformed("no Statement")
	}
	for i, raw := range statements {
		s, err := parseStatement(raw, k)
		if err != nil {
			return nil, malformed("Statement %d: %s", i, err.(*Error).Reason)
		}
		p.Statements = append(p.Statements, s)
	}
	return p, nil
}

func parseStatement(raw json.RawMessage, k Kind) (Statement, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return Statement{}, malformed("not a JSON object")
	}
	var s Statement
	var effect string
	for key, v := range fields {
		var err error
		switch key {
		case "Sid":
			if json.Unmarshal(v, &s.Sid) != nil {
				err = malformed("Sid is not a string")
			}
		case "Effect":
			if json.Unmarshal(v, &effect) != nil {
				err = malformed("Effect is not a string")
			}
		case "Action":
			s.Actions, err = stringOrList(key, v)
		case "NotAction":
			s.NotActions, err = stringOrList(key, v)
		case "Resource":
			s.Resources, err = stringOrList(key, v)
		case "NotResource":
			s.NotResources, err = stringOrList(key, v)
		case "Principal":
			s.Principals, err = principals(v)
			s.principalSet = true
		case "NotPrincipal":
			s.NotPrincipals, err = principals(v)
			s.notSet = true
		case "Condition":
			var c map[string]json.RawMessage
			if json.Unmarshal(v, &c) != nil {
				err = malformed("Condition is not an object")
			}
			s.HasCondition = true
		default:
			err = malformed("unknown key %q", key)
		}
		if err != nil {
			return Statement{}, err
		}
	}
	switch effect {
	case "Allow":
		s.Effect = Allow
	case "Deny":
		s.Effect = Deny
	default:
		return Statement{}, malformed("Effect must be Allow or Deny, not %q", effect)
	}
	if (s.Actions == nil) == (s.NotActions == nil) {
		return Statement{}, malformed("exactly one of Action and NotAction is required")
	}
	if s.Resources != nil && s.NotResources != nil {
		return Statement{}, malformed("Resource and NotResource together")
	}
	named := s.principalSet || s.notSet
	switch {
	case k == Identity && named:
		return Statement{}, malformed("an identity policy names no Principal")
	case k == Identity && s.Resources == nil && s.NotResources == nil:
		return Statement{}, malformed("Resource or NotResource is required")
	case k == Resource && !named:
		return Statement{}, malformed("Principal or NotPrincipal is required")
	case s.principalSet && s.notSet:
		return Statement{}, malformed("Principal and NotPrincipal together")
	}
	for _, a := range append(append([]string(nil), s.Actions...), s.NotActions...) {
		if a != "*" && !strings.Contains(a, ":") {
			return Statement{}, malformed("action %q is not service:action", a)
		}
	}
	return s, nil
}

// stringOrList reads a member that is a string or an array of strings, as
// IAM allows for Action, Resource and principal lists. An empty array is
// refused: it would read as "none", and IAM refuses it.
func stringOrList(key string, raw json.RawMessage) ([]string, error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) != nil {
		return nil, malformed("%s is neither a string nor an array of strings", key)
	}
	if len(list) == 0 {
		return nil, malformed("%s is empty", key)
	}
	return list, nil
}

// principals reads a Principal or NotPrincipal: "*", or an object whose
// AWS member lists AWS principals. Other members (Service, Federated,
// CanonicalUser) name principals that never sign a request to the bridge:
// they are accepted and match nothing.
func principals(raw json.RawMessage) ([]string, error) {
	var star string
	if json.Unmarshal(raw, &star) == nil {
		if star != "*" {
			return nil, malformed(`Principal must be "*" or an object, not %q`, star)
		}
		return []string{"*"}, nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || m == nil {
		return nil, malformed("Principal is neither \"*\" nor an object")
	}
	var out []string
	for key, v := range m {
		list, err := stringOrList("Principal."+key, v)
		if err != nil {
			return nil, err
		}
		if key == "AWS" {
			out = append(out, list...)
		}
	}
	if out == nil {
		out = []string{} // named, but no AWS principal: matches nobody
	}
	return out, nil
}

// ParseOrEmpty is Parse for a stored document that may be absent: "" and
// "{}" (Kinesis GetResourcePolicy's answer for none) give nil, nil.
func ParseOrEmpty(doc string, k Kind) (*Policy, error) {
	if d := strings.TrimSpace(doc); d == "" || d == "{}" {
		return nil, nil
	}
	return Parse([]byte(doc), k)
}
