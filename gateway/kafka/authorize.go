package kafka

// Authorization: every handler asks, for each resource it touches, whether
// the request's principal may perform the operation Kafka checks there
// (security/acl decides by Kafka ACLs, security/mskauthz by MSK IAM
// policies), and answers a refusal with Kafka's error for it. Without an
// authorizer everything is allowed, as with a broker that has no
// authorizer.class.name.

import (
	"context"
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/acl"
	"github.com/streambridge/bridge/security/audit"
)

// Authorizer decides whether a principal, connected from host, may
// perform op on the resource of type rt named name: Kafka's Authorizer
// contract, with the ACL operation and resource type Kafka checks, so any
// decider (Kafka ACLs, MSK IAM policies) sees the same question.
// *acl.Authorizer is one. Implementations must be safe for concurrent
// use.
type Authorizer interface {
	Authorize(principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool
	// AuthorizeAny says whether op is allowed on some resource of type
	// rt (KIP-679's "may write to some topic").
	AuthorizeAny(principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType) bool
}

// ACLStore is an Authorizer whose decisions are Kafka ACL bindings the
// ACL APIs manage.
type ACLStore interface {
	Authorizer
	Create(ctx context.Context, bs []acl.Binding) error
	Describe(f acl.Filter) []acl.Binding
	Delete(ctx context.Context, fs []acl.Filter) ([][]acl.Binding, error)
}

var _ ACLStore = (*acl.Authorizer)(nil)

// aclStore is the Config.Authorizer's bindings, nil when it has none (no
// authorizer, or one that is not ACLs): the ACL APIs then answer
// SECURITY_DISABLED.
func (s *Server) aclStore() ACLStore {
	a, _ := s.cfg.Authorizer.(ACLStore)
	return a
}

// authorizer is what decides r: the authorizer of the SASL mechanism the
// connection logged in with, if Config.SASLAuthorizers has one, else
// Config.Authorizer; nil allows everything.
func (r *Request) authorizer() Authorizer {
	if a, ok := r.Server.cfg.SASLAuthorizers[r.Mechanism]; ok && r.Mechanism != "" {
		return a
	}
	return r.Server.cfg.Authorizer
}

// clusterName is the one cluster resource's name, as in Kafka.
const clusterName = "kafka-cluster"

// hostOf is the address ACL host fields are compared with: the client's IP.
func hostOf(a net.Addr) string {
	if tcp, ok := a.(*net.TCPAddr); ok {
		return tcp.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// authorized says whether r's principal may perform op on the resource of
// type rt named name; a refusal is audited.
func (r *Request) authorized(op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	a := r.authorizer()
	if a == nil {
		return true
	}
	if a.Authorize(r.Principal, hostOf(r.Remote), op, rt, name) {
		return true
	}
	r.Server.m.denied.WithLabelValues(kmsg.NameForKey(r.Key)).Inc()
	r.Server.cfg.Audit.Record(audit.Event{
		Source:    "kafka",
		Name:      kmsg.NameForKey(r.Key),
		Principal: r.Principal,
		SourceIP:  hostOf(r.Remote),
		Listener:  r.Listener.Name,
		Resource:  resourceString(rt, name),
		Operation: op.String(),
		Outcome:   audit.Denied,
	})
	return false
}

// topicDescriber returns whether the request's principal, from its host,
// may DESCRIBE a topic, asked of the authorizer at each call (so later ACL
// changes count) and never audited: it only narrows what a KIP-848 regex
// subscription matches. Nil when no authorizer is configured.
func (r *Request) topicDescriber() func(topic string) bool {
	a := r.authorizer()
	if a == nil {
		return nil
	}
	principal, host := r.Principal, hostOf(r.Remote)
	return func(topic string) bool {
		return a.Authorize(principal, host, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, topic)
	}
}

// quietlyAuthorized is authorized without the audit record, for checks
// whose refusal only hides a resource (Metadata listing every topic,
// ListGroups): Kafka does not log those as denials either.
func (r *Request) quietlyAuthorized(op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	a := r.authorizer()
	return a == nil || a.Authorize(r.Principal, hostOf(r.Remote), op, rt, name)
}

func (r *Request) topicAllowed(op kmsg.ACLOperation, topic string) bool {
	return r.authorized(op, kmsg.ACLResourceTypeTopic, topic)
}

func (r *Request) groupAllowed(op kmsg.ACLOperation, group string) bool {
	return r.authorized(op, kmsg.ACLResourceTypeGroup, group)
}

func (r *Request) clusterAllowed(op kmsg.ACLOperation) bool {
	return r.authorized(op, kmsg.ACLResourceTypeCluster, clusterName)
}

func resourceString(rt kmsg.ACLResourceType, name string) string {
	switch rt {
	case kmsg.ACLResourceTypeTopic:
		return "topic:" + name
	case kmsg.ACLResourceTypeGroup:
		return "group:" + name
	case kmsg.ACLResourceTypeCluster:
		return "cluster:" + name
	case kmsg.ACLResourceTypeTransactionalId:
		return "transactional-id:" + name
	}
	return rt.String() + ":" + name
}

// auditCall records a control-plane call (topic, config, group, ACL and
// credential changes) with its outcome for the client: errCode zero when
// it succeeded.
func (r *Request) auditCall(resource string, errCode int16, errMsg string) {
	e := audit.Event{
		Source:    "kafka",
		Name:      kmsg.NameForKey(r.Key),
		Principal: r.Principal,
		SourceIP:  hostOf(r.Remote),
		Listener:  r.Listener.Name,
		Resource:  resource,
		Outcome:   audit.Allowed,
	}
	if errCode != 0 {
		e.ErrorCode = errorName(errCode)
		e.ErrorMessage = errMsg
	}
	r.Server.cfg.Audit.Record(e)
}

// mayWriteSomeTopic is KIP-679's alternative to IDEMPOTENT_WRITE: an
// idempotent producer may start if it may write to some topic.
func (r *Request) mayWriteSomeTopic() bool {
	a := r.authorizer()
	return a == nil || a.AuthorizeAny(r.Principal, hostOf(r.Remote), kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTopic)
}

// The operations Kafka reports in authorized-operations bit fields, by
// resource type.
var (
	topicOperations = []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationCreate,
		kmsg.ACLOperationDelete, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe, kmsg.ACLOperationDescribeConfigs,
		kmsg.ACLOperationAlterConfigs}
	groupOperations   = []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationDelete, kmsg.ACLOperationDescribe}
	clusterOperations = []kmsg.ACLOperation{kmsg.ACLOperationCreate, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe,
		kmsg.ACLOperationClusterAction, kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs,
		kmsg.ACLOperationIdempotentWrite}
)

// authorizedOperations is Kafka's bit field (bit n for operation n) of the
// operations of ops the principal may perform on a resource: what
// Metadata, DescribeGroups and DescribeCluster answer when asked.
func (r *Request) authorizedOperations(rt kmsg.ACLResourceType, name string, ops []kmsg.ACLOperation) int32 {
	var bits int32
	for _, op := range ops {
		if r.quietlyAuthorized(op, rt, name) {
			bits |= 1 << op
		}
	}
	return bits
}
