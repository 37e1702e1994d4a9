package iampolicy

import (
	"strings"
)

// Principal is who a request is decided for: an IAM user of an account.
// The bridge names each access key of its credentials file as a user of
// its one account (--account), the user's name being the file's section
// name.
type Principal struct {
	Account string
	// ARN is arn:aws:iam::ACCOUNT:user/NAME.
	ARN string
}

// UserPrincipal returns the principal of IAM user name in account.
func UserPrincipal(account, name string) Principal {
	return Principal{Account: account, ARN: "arn:aws:iam::" + account + ":user/" + name}
}

// Request is one decision to make.
type Request struct {
	Principal Principal
	// Action is service:Operation, kinesis:PutRecord.
	Action string
	// Resource is the ARN acted on, or "*" for operations on no resource
	// (ListStreams, ListQueues).
	Resource string
}

// Decision is the outcome of evaluating a request.
type Decision int

const (
	// ImplicitDeny: no applicable statement allows (the default).
	ImplicitDeny Decision = iota
	// Allowed: some statement allows and none denies.
	Allowed
	// DeniedByIdentity: a Deny statement of an identity policy applies.
	DeniedByIdentity
	// DeniedByResource: a Deny statement of the resource policy applies.
	DeniedByResource
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "allowed"
	case DeniedByIdentity:
		return "explicit deny in an identity-based policy"
	case DeniedByResource:
		return "explicit deny in a resource-based policy"
	}
	return "implicit deny"
}

// Evaluate decides r against the principal's identity policies and the
// resource's policy (nil for none), with AWS's logic for a principal and
// a resource of the same account: an explicit Deny in any of them wins;
// otherwise an Allow in an identity policy, or in the resource policy for
// a principal it names (a user ARN, or "*"), allows; otherwise the
// request is implicitly denied. A resource policy statement that names
// the principal's account only (its id or arn:aws:iam::ACCOUNT:root)
// delegates to the account's identity policies, as in AWS: its Allow
// grants nothing by itself, its Deny applies to every user of the
// account.
func Evaluate(identity []*Policy, resource *Policy, r Request) Decision {
	allowed := false
	for _, p := range identity {
		if p == nil {
			continue
		}
		for i := range p.Statements {
			s := &p.Statements[i]
			if !s.applies(r, true) {
				continue
			}
			if s.Effect == Deny {
				return DeniedByIdentity
			}
			allowed = true
		}
	}
	if resource != nil {
		for i := range resource.Statements {
			s := &resource.Statements[i]
			if !s.applies(r, false) {
				continue
			}
			m := s.principalMatch(r.Principal)
			if s.Effect == Deny && m != matchNone {
				return DeniedByResource
			}
			if s.Effect == Allow && m == matchFull {
				allowed = true
			}
		}
	}
	if allowed {
		return Allowed
	}
	return ImplicitDeny
}

// applies reports whether s covers r's action and resource, with a
// Condition failing closed: an Allow with one never applies, a Deny with
// one always does. needResource is false for a resource policy, whose
// statements may leave Resource out to mean the resource they are
// attached to.
func (s *Statement) applies(r Request, needResource bool) bool {
	if s.HasCondition && s.Effect == Allow {
		return false
	}
	if s.Actions != nil && !anyMatch(s.Actions, r.Action, true) ||
		s.NotActions != nil && anyMatch(s.NotActions, r.Action, true) {
		return false
	}
	switch {
	case s.Resources != nil:
		return anyMatch(s.Resources, r.Resource, false)
	case s.NotResources != nil:
		return !anyMatch(s.NotResources, r.Resource, false)
	}
	return !needResource
}

// principalMatch is how a resource policy statement names a principal.
type principalMatch int

const (
	matchNone    principalMatch = iota
	matchAccount                // by its account only: delegates to identity policies
	matchFull                   // by its ARN, or "*"
)

func (s *Statement) principalMatch(p Principal) principalMatch {
	if s.notSet {
		if principalIn(s.NotPrincipals, p) != matchNone {
			return matchNone
		}
		return matchFull
	}
	return principalIn(s.Principals, p)
}

func principalIn(list []string, p Principal) principalMatch {
	best := matchNone
	for _, e := range list {
		switch {
		case e == "*" || e == p.ARN:
			return matchFull
		case e == p.Account || e == "arn:aws:iam::"+p.Account+":root":
			best = matchAccount
		}
	}
	return best
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if Match(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if Match(p, s) {
			return true
		}
	}
	return false
}

// Match reports whether s matches pattern, where * matches any run of
// characters (including none, and including : and /) and ? any one
// character, as IAM matches actions and resource ARNs. It is
// case-sensitive; callers fold actions first.
func Match(pattern, s string) bool {
	// The classic greedy algorithm with one backtrack point: linear in
	// practice, never exponential, whatever a policy author writes.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
