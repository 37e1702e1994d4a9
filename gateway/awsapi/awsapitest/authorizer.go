// Package awsapitest holds test doubles for the AWS-style APIs' tests.
package awsapitest

import (
	"sync"

	"github.com/streambridge/bridge/security/iampolicy"
)

// RecordingAuthorizer is an awsapi.Authorizer that decides by Allow (nil
// allows nothing) and remembers what it was asked, for tests of the APIs'
// action and resource mapping.
type RecordingAuthorizer struct {
	Allow func(action, resource string, policy *iampolicy.Policy) bool

	mu    sync.Mutex
	asked []string // "action resource"
}

// Decide implements awsapi.Authorizer.
func (a *RecordingAuthorizer) Decide(key, action, resource string, p *iampolicy.Policy) (iampolicy.Principal, iampolicy.Decision) {
	a.mu.Lock()
	a.asked = append(a.asked, action+" "+resource)
	a.mu.Unlock()
	who := iampolicy.UserPrincipal("000000000000", key)
	if a.Allow != nil && a.Allow(action, resource, p) {
		return who, iampolicy.Allowed
	}
	return who, iampolicy.ImplicitDeny
}

// Last is the last question asked, "action resource"; empty before any.
func (a *RecordingAuthorizer) Last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.asked) == 0 {
		return ""
	}
	return a.asked[len(a.asked)-1]
}
