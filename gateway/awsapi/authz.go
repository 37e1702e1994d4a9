package awsapi

// Authorization on the AWS port. The router authenticates (auth.go); what
// a principal may then do is decided by each API, inside its dispatch,
// where the decoded input names the resource: the router sees only bytes,
// and re-parsing bodies there would duplicate every API's decoding. Each
// API maps an operation to its IAM action and resource ARN and calls
// Authorize, then words a Denial in its own error.

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/streambridge/bridge/security/audit"
	"github.com/streambridge/bridge/security/iampolicy"
)

// Authorizer decides whether the access key of a request may do an IAM
// action on a resource; *iampolicy.Set is one. resourcePolicy is the
// resource's own policy, nil when it has none.
type Authorizer interface {
	Decide(accessKeyID, action, resource string, resourcePolicy *iampolicy.Policy) (iampolicy.Principal, iampolicy.Decision)
}

// Check is one authorization to make.
type Check struct {
	// Source is the API as the audit log names it: kinesis, sqs.
	Source string
	// Op is the operation (PutRecords); Action its IAM action
	// (kinesis:PutRecords); Resource the ARN, or "*".
	Op, Action, Resource string
	// Policy returns the resource's policy document, "" for none; nil
	// when the resource cannot have one.
	Policy func(context.Context) (string, error)
	// ManagesPolicy marks an action that reads or replaces the resource
	// policy itself (Kinesis Put/Get/DeleteResourcePolicy, SQS
	// Get/SetQueueAttributes and Add/RemovePermission). When the stored
	// policy does not parse, such an action is decided by the identity
	// policies alone, so a broken policy can be repaired; every other
	// action on the resource is denied (fail closed).
	ManagesPolicy bool
	// DeniedCode is the error code the API answers a denial with, for the
	// audit log (AccessDeniedException, AccessDenied).
	DeniedCode string
}

// Denial is a refused request, for the API to word.
type Denial struct {
	Principal iampolicy.Principal
	Decision  iampolicy.Decision
	Action    string
	Resource  string
}

// Message is AWS's wording of the refusal: "User: ARN is not authorized to
// perform: ACTION on resource: ARN because no identity-based policy allows
// the ACTION action" (or "with an explicit deny in an identity-based
// policy"). lower writes the action in lower case, as SQS does.
func (d *Denial) Message(lower bool) string {
	action := d.Action
	if lower {
		action = strings.ToLower(action)
	}
	msg := "User: " + d.Principal.ARN + " is not authorized to perform: " + action + " on resource: " + d.Resource
	switch d.Decision {
	case iampolicy.DeniedByIdentity, iampolicy.DeniedByResource:
		return msg + " with an " + d.Decision.String()
	}
	return msg + " because no identity-based policy allows the " + action + " action"
}

// Authorize decides c for the principal of ctx with a. It returns nil when
// the request may go on; a nil a allows everything. A refusal is recorded
// in al (nil: not recorded) and logged. A request without an
// authenticated principal is refused: an authorizer without SigV4 would
// be deciding for nobody (cmd/bridge refuses that configuration at start).
func Authorize(ctx context.Context, a Authorizer, al *audit.Log, log *slog.Logger, r *http.Request, c Check) *Denial {
	if a == nil {
		return nil
	}
	p, ok := PrincipalFrom(ctx)
	var rp *iampolicy.Policy
	var decision iampolicy.Decision
	var who iampolicy.Principal
	switch {
	case !ok:
		who = iampolicy.Principal{ARN: "anonymous"}
	default:
		broken := false
		if c.Policy != nil {
			doc, err := c.Policy(ctx)
			if err == nil {
				rp, err = resourcePolicies.parse(doc)
			}
			if err != nil {
				log.Warn("aws: resource policy not evaluated", "resource", c.Resource, "err", err)
				broken = !c.ManagesPolicy
			}
		}
		who, decision = a.Decide(p.AccessKeyID, c.Action, c.Resource, rp)
		if broken && decision != iampolicy.DeniedByIdentity {
			decision = iampolicy.DeniedByResource
		}
	}
	if decision == iampolicy.Allowed {
		return nil
	}
	d := &Denial{Principal: who, Decision: decision, Action: c.Action, Resource: c.Resource}
	al.Record(audit.Event{
		Source:       c.Source,
		Name:         c.Op,
		Principal:    principalName(p),
		SourceIP:     hostOfRemote(r.RemoteAddr),
		Resource:     c.Resource,
		Operation:    c.Action,
		Outcome:      audit.Denied,
		ErrorCode:    c.DeniedCode,
		ErrorMessage: d.Message(false),
	})
	log.Info("aws: request denied", "api", c.Source, "op", c.Op, "access_key_id", p.AccessKeyID, "user", who.ARN,
		"action", c.Action, "resource", c.Resource, "reason", decision.String(), "remote", r.RemoteAddr)
	return d
}

// RecordExchange records, as RecordCall does, the call of x the API let
// through (a denied one is recorded already), under its IAM action, or
// source:Op when it was refused before its input named one.
func RecordExchange(al *audit.Log, x *Exchange, source, errCode, errMsg string) {
	if al == nil || x.Denied {
		return
	}
	action := x.Action
	if action == "" {
		action = source + ":" + x.Op // refused before decoding
	}
	RecordCall(x.R.Context(), al, x.R, source, x.Op, action, x.Resource, errCode, errMsg)
}

// RecordCall records a control-plane call that was let through, with the
// error code the client got ("" for success), whatever authorization
// decided; al nil records nothing.
func RecordCall(ctx context.Context, al *audit.Log, r *http.Request, source, op, action, resource, errCode, errMsg string) {
	if al == nil {
		return
	}
	p, _ := PrincipalFrom(ctx)
	al.Record(audit.Event{
		Source:       source,
		Name:         op,
		Principal:    principalName(p),
		SourceIP:     hostOfRemote(r.RemoteAddr),
		Resource:     resource,
		Operation:    action,
		Outcome:      audit.Allowed,
		ErrorCode:    errCode,
		ErrorMessage: errMsg,
	})
}

// principalName is the audit log's principal: the access key id, or
// "anonymous" when SigV4 is off and nobody was authenticated.
func principalName(p Principal) string {
	if p.AccessKeyID == "" {
		return "anonymous"
	}
	return p.AccessKeyID
}

// policyCache keeps parsed resource policies by document: a stream's
// policy is read on every PutRecords, and parsing it each time would cost
// more than the decision. Parsed policies are read-only, so sharing them
// is safe. The cache is dropped whole when it reaches maxCachedPolicies,
// which bounds it whatever documents clients store.
type policyCache struct {
	mu   sync.Mutex
	docs map[string]cachedPolicy
}

type cachedPolicy struct {
	p   *iampolicy.Policy
	err error
}

const maxCachedPolicies = 1024

var resourcePolicies policyCache

func (c *policyCache) parse(doc string) (*iampolicy.Policy, error) {
	c.mu.Lock()
	hit, ok := c.docs[doc]
	c.mu.Unlock()
	if ok {
		return hit.p, hit.err
	}
	p, err := iampolicy.ParseOrEmpty(doc, iampolicy.Resource)
	c.mu.Lock()
	if c.docs == nil || len(c.docs) >= maxCachedPolicies {
		c.docs = make(map[string]cachedPolicy)
	}
	c.docs[doc] = cachedPolicy{p, err}
	c.mu.Unlock()
	return p, err
}
