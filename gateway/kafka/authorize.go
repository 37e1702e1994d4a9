package kafka

// Authorization: every handler asks, for each resource it touches, whether
// the request's principal may perform the operation Kafka checks there
// (see security/acl for the decision), and answers a refusal with Kafka's
// error for it. Without Config.Authorizer everything is allowed, as with a
// broker that has no authorizer.class.name.

import (
	"net"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/audit"
)

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
	a := r.Server.cfg.Authorizer
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

// quietlyAuthorized is authorized without the audit record, for checks
// whose refusal only hides a resource (Metadata listing every topic,
// ListGroups): Kafka does not log those as denials either.
func (r *Request) quietlyAuthorized(op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	a := r.Server.cfg.Authorizer
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
	a := r.Server.cfg.Authorizer
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
