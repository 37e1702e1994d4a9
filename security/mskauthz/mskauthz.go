// Package mskauthz is Amazon MSK's IAM access control for Kafka clients
// that logged in with MSK IAM (AWS_MSK_IAM or OAUTHBEARER): each Kafka
// authorization question (an ACL operation on a topic, group, cluster or
// transactional id) becomes the kafka-cluster:* action MSK defines for it,
// on the resource ARN MSK gives that resource, and is decided by the IAM
// policies attached to the client's access key (security/iampolicy), the
// same policies that govern the key on the AWS port. Kafka ACLs do not
// apply to these principals, as on MSK.
package mskauthz

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/iampolicy"
)

// ConnectAction is the action every MSK IAM client needs: to log in, and
// (as its "required action") alongside every other action.
const ConnectAction = "kafka-cluster:Connect"

// Config names the cluster in ARNs and holds the policies.
type Config struct {
	// Policies are the identity policies by access key id.
	Policies *iampolicy.Set
	// Region and Account are the bridge's (--region, --account).
	Region, Account string
	// ClusterName and ClusterUUID make the cluster's ARN,
	// arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID; the bridge uses its
	// Kafka cluster id as the UUID.
	ClusterName, ClusterUUID string
	// Logger gets one debug line per denial, with the action and ARN the
	// audit log does not carry (debug, not info: Metadata's quiet checks
	// hide every topic a client may not describe, a line each); nil logs
	// nothing.
	Logger *slog.Logger
}

// Authorizer decides Kafka requests of MSK IAM principals ("User:" and an
// access key id) by IAM policies. It satisfies the Kafka front end's
// Authorizer and is safe for concurrent use (the Set is read-only).
type Authorizer struct {
	cfg Config
	// tail is "NAME/UUID", the part every resource ARN shares.
	prefix, tail string
}

// New checks cfg and returns its Authorizer.
func New(cfg Config) (*Authorizer, error) {
	switch {
	case cfg.Policies == nil:
		return nil, errors.New("mskauthz: no policies")
	case cfg.Region == "" || cfg.Account == "":
		return nil, errors.New("mskauthz: region and account are required")
	case cfg.ClusterName == "" || strings.ContainsAny(cfg.ClusterName, "/*?") || cfg.ClusterUUID == "":
		return nil, fmt.Errorf("mskauthz: cluster name %q: want a non-empty name without /, * or ?, and a cluster id", cfg.ClusterName)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Authorizer{
		cfg:    cfg,
		prefix: "arn:aws:kafka:" + cfg.Region + ":" + cfg.Account + ":",
		tail:   cfg.ClusterName + "/" + cfg.ClusterUUID,
	}, nil
}

// Action is the kafka-cluster action MSK checks for op on a resource of
// type rt, "" when there is none (the operation is refused): MSK's table
// of Kafka ACL operations to IAM actions. Unlike Kafka ACLs, no action
// implies another (ReadData does not grant DescribeTopic): a policy lists
// every action a client's requests need, as MSK's "required actions"
// column says.
func Action(op kmsg.ACLOperation, rt kmsg.ACLResourceType) string {
	a, ok := actions[resourceOp{rt, op}]
	if !ok {
		return ""
	}
	return "kafka-cluster:" + a
}

type resourceOp struct {
	rt kmsg.ACLResourceType
	op kmsg.ACLOperation
}

// actions is MSK's mapping. CREATE on the cluster has no action (MSK's
// CreateTopic names the topic), so the Kafka front end's "CREATE on the
// cluster or on the topic" falls through to CreateTopic on the topic;
// CLUSTER_ACTION (broker-to-broker) has none either, as MSK's IAM does not
// cover internal cluster actions.
var actions = map[resourceOp]string{
	{kmsg.ACLResourceTypeCluster, kmsg.ACLOperationDescribe}:        "DescribeCluster",
	{kmsg.ACLResourceTypeCluster, kmsg.ACLOperationAlter}:           "AlterCluster",
	{kmsg.ACLResourceTypeCluster, kmsg.ACLOperationDescribeConfigs}: "DescribeClusterDynamicConfiguration",
	{kmsg.ACLResourceTypeCluster, kmsg.ACLOperationAlterConfigs}:    "AlterClusterDynamicConfiguration",
	{kmsg.ACLResourceTypeCluster, kmsg.ACLOperationIdempotentWrite}: "WriteDataIdempotently",

	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationDescribe}:        "DescribeTopic",
	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationCreate}:          "CreateTopic",
	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationDelete}:          "DeleteTopic",
	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationAlter}:           "AlterTopic",
	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationRead}:            "ReadData",
	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationWrite}:           "WriteData",
	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationDescribeConfigs}: "DescribeTopicDynamicConfiguration",
	{kmsg.ACLResourceTypeTopic, kmsg.ACLOperationAlterConfigs}:    "AlterTopicDynamicConfiguration",

	{kmsg.ACLResourceTypeGroup, kmsg.ACLOperationDescribe}: "DescribeGroup",
	{kmsg.ACLResourceTypeGroup, kmsg.ACLOperationRead}:     "AlterGroup",
	{kmsg.ACLResourceTypeGroup, kmsg.ACLOperationDelete}:   "DeleteGroup",

	{kmsg.ACLResourceTypeTransactionalId, kmsg.ACLOperationDescribe}: "DescribeTransactionalId",
	{kmsg.ACLResourceTypeTransactionalId, kmsg.ACLOperationWrite}:    "AlterTransactionalId",
}

// ClusterARN is arn:aws:kafka:REGION:ACCOUNT:cluster/NAME/UUID.
func (a *Authorizer) ClusterARN() string { return a.prefix + "cluster/" + a.tail }

// ARN is the resource ARN MSK gives a resource of type rt named name:
// topic/, group/ and transactional-id/ followed by NAME/UUID/ and the
// resource's name; the cluster's for the cluster. "" for other types.
func (a *Authorizer) ARN(rt kmsg.ACLResourceType, name string) string {
	switch rt {
	case kmsg.ACLResourceTypeCluster:
		return a.ClusterARN()
	case kmsg.ACLResourceTypeTopic:
		return a.prefix + "topic/" + a.tail + "/" + name
	case kmsg.ACLResourceTypeGroup:
		return a.prefix + "group/" + a.tail + "/" + name
	case kmsg.ACLResourceTypeTransactionalId:
		return a.prefix + "transactional-id/" + a.tail + "/" + name
	}
	return ""
}

// accessKey is the access key id of an MSK IAM principal, User:KEYID.
func accessKey(principal string) (string, bool) {
	key, ok := strings.CutPrefix(principal, "User:")
	return key, ok && key != ""
}

// Connect says whether an access key may connect: kafka-cluster:Connect
// on the cluster. MSK checks it at login, so the SASL mechanisms call it
// once a signature verified; the error is the reason logged and audited.
func (a *Authorizer) Connect(accessKeyID string) error {
	if p, d := a.cfg.Policies.Decide(accessKeyID, ConnectAction, a.ClusterARN(), nil); d != iampolicy.Allowed {
		return fmt.Errorf("%s is not authorized to perform: %s on resource: %s because of an %s", p.ARN, ConnectAction, a.ClusterARN(), d)
	}
	return nil
}

// Authorize decides op on the resource of type rt named name for an MSK
// IAM principal: the mapped action on the resource's ARN, and Connect on
// the cluster (every action requires it). Operations MSK has no action
// for are refused. The host is not used: IAM conditions on the source
// address are not evaluated (statements with Condition fail closed).
func (a *Authorizer) Authorize(principal, _ string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	key, ok := accessKey(principal)
	if !ok {
		return false
	}
	action := Action(op, rt)
	if action == "" {
		a.cfg.Logger.Debug("kafka: MSK IAM has no action for this operation", "access_key_id", key, "operation", op.String(), "resource_type", rt.String(), "name", name)
		return false
	}
	if err := a.Connect(key); err != nil {
		a.cfg.Logger.Debug("kafka: MSK IAM denied", "access_key_id", key, "reason", err.Error())
		return false
	}
	arn := a.ARN(rt, name)
	if p, d := a.cfg.Policies.Decide(key, action, arn, nil); d != iampolicy.Allowed {
		a.cfg.Logger.Debug("kafka: MSK IAM denied", "access_key_id", key, "user", p.ARN, "action", action, "resource", arn, "decision", d.String())
		return false
	}
	return true
}

// AuthorizeAny is always false: KIP-679's "WRITE on some topic" stands in
// for IDEMPOTENT_WRITE with Kafka ACLs, but MSK's IAM access control asks
// for kafka-cluster:WriteDataIdempotently, so an idempotent producer (the
// default of Kafka 3 clients and franz-go) needs that action.
func (a *Authorizer) AuthorizeAny(string, string, kmsg.ACLOperation, kmsg.ACLResourceType) bool {
	return false
}
