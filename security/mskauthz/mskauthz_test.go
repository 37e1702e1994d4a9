package mskauthz

import (
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/iampolicy"
)

const (
	region  = "eu-west-1"
	account = "123456789012"
	cid     = "Zm9vYmFyYmF6cXV1eDEyMw"
	arn     = "arn:aws:kafka:eu-west-1:123456789012:"
)

// policy is the README's example: connect, produce and consume topic
// mine in group g, and an explicit Deny on deleting any topic.
const policy = `{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "Action": ["kafka-cluster:Connect", "kafka-cluster:WriteDataIdempotently"],
  "Resource": "arn:aws:kafka:eu-west-1:123456789012:cluster/bridge/*"},
 {"Effect": "Allow", "Action": ["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData", "kafka-cluster:ReadData", "kafka-cluster:*TopicDynamicConfiguration"],
  "Resource": "arn:aws:kafka:eu-west-1:123456789012:topic/bridge/*/mine"},
 {"Effect": "Allow", "Action": ["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
  "Resource": "arn:aws:kafka:eu-west-1:123456789012:group/bridge/*/g"},
 {"Effect": "Allow", "Action": "kafka-cluster:*", "Resource": "arn:aws:kafka:eu-west-1:123456789012:transactional-id/bridge/*/tx-*"},
 {"Effect": "Deny", "Action": "kafka-cluster:DeleteTopic", "Resource": "*"}
]}`

// noConnect allows every action but Connect: without it nothing is
// allowed, as every action requires Connect.
const noConnect = `{"Version": "2012-10-17", "Statement": [
 {"Effect": "Allow", "NotAction": "kafka-cluster:Connect", "Resource": "*"}]}`

func newAuthorizer(t *testing.T) *Authorizer {
	t.Helper()
	set := iampolicy.NewSet(account)
	for key, doc := range map[string]string{"AKIDALICE": policy, "AKIDNOCONNECT": noConnect} {
		p, err := iampolicy.Parse([]byte(doc), iampolicy.Identity)
		if err != nil {
			t.Fatal(err)
		}
		set.AddKey(key, strings.ToLower(key[4:]), p)
	}
	set.AddKey("AKIDNONE", "none")
	a, err := New(Config{Policies: set, Region: region, Account: account, ClusterName: "bridge", ClusterUUID: cid})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestActionsAndARNs(t *testing.T) {
	a := newAuthorizer(t)
	for _, tc := range []struct {
		op       kmsg.ACLOperation
		rt       kmsg.ACLResourceType
		name     string
		action   string
		resource string
	}{
		{kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeCluster, "kafka-cluster", "DescribeCluster", "cluster/bridge/" + cid},
		{kmsg.ACLOperationAlter, kmsg.ACLResourceTypeCluster, "kafka-cluster", "AlterCluster", "cluster/bridge/" + cid},
		{kmsg.ACLOperationDescribeConfigs, kmsg.ACLResourceTypeCluster, "kafka-cluster", "DescribeClusterDynamicConfiguration", "cluster/bridge/" + cid},
		{kmsg.ACLOperationAlterConfigs, kmsg.ACLResourceTypeCluster, "kafka-cluster", "AlterClusterDynamicConfiguration", "cluster/bridge/" + cid},
		{kmsg.ACLOperationIdempotentWrite, kmsg.ACLResourceTypeCluster, "kafka-cluster", "WriteDataIdempotently", "cluster/bridge/" + cid},
		{kmsg.ACLOperationCreate, kmsg.ACLResourceTypeCluster, "kafka-cluster", "", "cluster/bridge/" + cid},
		{kmsg.ACLOperationClusterAction, kmsg.ACLResourceTypeCluster, "kafka-cluster", "", "cluster/bridge/" + cid},
		{kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, "t", "DescribeTopic", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationCreate, kmsg.ACLResourceTypeTopic, "t", "CreateTopic", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationDelete, kmsg.ACLResourceTypeTopic, "t", "DeleteTopic", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationAlter, kmsg.ACLResourceTypeTopic, "t", "AlterTopic", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationRead, kmsg.ACLResourceTypeTopic, "t", "ReadData", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTopic, "t", "WriteData", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationDescribeConfigs, kmsg.ACLResourceTypeTopic, "t", "DescribeTopicDynamicConfiguration", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationAlterConfigs, kmsg.ACLResourceTypeTopic, "t", "AlterTopicDynamicConfiguration", "topic/bridge/" + cid + "/t"},
		{kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, "g", "DescribeGroup", "group/bridge/" + cid + "/g"},
		{kmsg.ACLOperationRead, kmsg.ACLResourceTypeGroup, "g", "AlterGroup", "group/bridge/" + cid + "/g"},
		{kmsg.ACLOperationDelete, kmsg.ACLResourceTypeGroup, "g", "DeleteGroup", "group/bridge/" + cid + "/g"},
		{kmsg.ACLOperationWrite, kmsg.ACLResourceTypeGroup, "g", "", "group/bridge/" + cid + "/g"},
		{kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTransactionalId, "x", "DescribeTransactionalId", "transactional-id/bridge/" + cid + "/x"},
		{kmsg.ACLOperationWrite, kmsg.ACLResourceTypeTransactionalId, "x", "AlterTransactionalId", "transactional-id/bridge/" + cid + "/x"},
		{kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeDelegationToken, "d", "", ""},
	} {
		t.Run(tc.op.String()+"/"+tc.rt.String(), func(t *testing.T) {
			want := ""
			if tc.action != "" {
				want = "kafka-cluster:" + tc.action
			}
			if got := Action(tc.op, tc.rt); got != want {
				t.Errorf("Action = %q; want %q", got, want)
			}
			wantARN := ""
			if tc.resource != "" {
				wantARN = arn + tc.resource
			}
			if got := a.ARN(tc.rt, tc.name); got != wantARN {
				t.Errorf("ARN = %q; want %q", got, wantARN)
			}
		})
	}
}

func TestAuthorize(t *testing.T) {
	a := newAuthorizer(t)
	topic, group, cluster, txn := kmsg.ACLResourceTypeTopic, kmsg.ACLResourceTypeGroup, kmsg.ACLResourceTypeCluster, kmsg.ACLResourceTypeTransactionalId
	for _, tc := range []struct {
		why       string
		principal string
		op        kmsg.ACLOperation
		rt        kmsg.ACLResourceType
		name      string
		want      bool
	}{
		{"write mine", "User:AKIDALICE", kmsg.ACLOperationWrite, topic, "mine", true},
		{"read mine", "User:AKIDALICE", kmsg.ACLOperationRead, topic, "mine", true},
		{"describe mine", "User:AKIDALICE", kmsg.ACLOperationDescribe, topic, "mine", true},
		{"topic config by wildcard action", "User:AKIDALICE", kmsg.ACLOperationAlterConfigs, topic, "mine", true},
		{"another topic", "User:AKIDALICE", kmsg.ACLOperationWrite, topic, "theirs", false},
		{"a name that ends in mine", "User:AKIDALICE", kmsg.ACLOperationWrite, topic, "notmine", false},
		{"create is not granted", "User:AKIDALICE", kmsg.ACLOperationCreate, topic, "mine", false},
		{"explicit deny", "User:AKIDALICE", kmsg.ACLOperationDelete, topic, "mine", false},
		{"join group g", "User:AKIDALICE", kmsg.ACLOperationRead, group, "g", true},
		{"describe group g", "User:AKIDALICE", kmsg.ACLOperationDescribe, group, "g", true},
		{"delete group g not granted", "User:AKIDALICE", kmsg.ACLOperationDelete, group, "g", false},
		{"another group", "User:AKIDALICE", kmsg.ACLOperationRead, group, "h", false},
		{"IAM's * crosses /: group x/g matches group/bridge/*/g", "User:AKIDALICE", kmsg.ACLOperationRead, group, "x/g", true},
		{"idempotent write", "User:AKIDALICE", kmsg.ACLOperationIdempotentWrite, cluster, "kafka-cluster", true},
		{"describe cluster not granted", "User:AKIDALICE", kmsg.ACLOperationDescribe, cluster, "kafka-cluster", false},
		{"create on the cluster has no action", "User:AKIDALICE", kmsg.ACLOperationCreate, cluster, "kafka-cluster", false},
		{"transactional id", "User:AKIDALICE", kmsg.ACLOperationWrite, txn, "tx-1", true},
		{"other transactional id", "User:AKIDALICE", kmsg.ACLOperationWrite, txn, "ty-1", false},
		{"all but Connect", "User:AKIDNOCONNECT", kmsg.ACLOperationWrite, topic, "mine", false},
		{"no policies", "User:AKIDNONE", kmsg.ACLOperationDescribe, topic, "mine", false},
		{"unknown key", "User:AKIDWHO", kmsg.ACLOperationDescribe, topic, "mine", false},
		{"not a User principal", "Group:AKIDALICE", kmsg.ACLOperationWrite, topic, "mine", false},
	} {
		t.Run(tc.why, func(t *testing.T) {
			if got := a.Authorize(tc.principal, "127.0.0.1", tc.op, tc.rt, tc.name); got != tc.want {
				t.Fatalf("Authorize(%s, %v %v %s) = %v; want %v", tc.principal, tc.op, tc.rt, tc.name, got, tc.want)
			}
		})
	}
	// KIP-679's fallback is not MSK's: WriteDataIdempotently is needed.
	if a.AuthorizeAny("User:AKIDALICE", "127.0.0.1", kmsg.ACLOperationWrite, topic) {
		t.Error("AuthorizeAny allowed")
	}
}

func TestConnect(t *testing.T) {
	a := newAuthorizer(t)
	for _, tc := range []struct {
		key  string
		want string // in the error; "" for none
	}{
		{"AKIDALICE", ""},
		{"AKIDNOCONNECT", "arn:aws:iam::123456789012:user/noconnect is not authorized to perform: kafka-cluster:Connect on resource: " + arn + "cluster/bridge/" + cid + " because of an implicit deny"},
		{"AKIDNONE", "implicit deny"},
	} {
		t.Run(tc.key, func(t *testing.T) {
			err := a.Connect(tc.key)
			switch {
			case tc.want == "" && err != nil:
				t.Fatal(err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("Connect = %v; want an error with %q", err, tc.want)
			}
		})
	}
}

func TestNewRefuses(t *testing.T) {
	set := iampolicy.NewSet(account)
	for _, tc := range []struct {
		why string
		cfg Config
	}{
		{"no policies", Config{Region: region, Account: account, ClusterName: "bridge", ClusterUUID: cid}},
		{"no region", Config{Policies: set, Account: account, ClusterName: "bridge", ClusterUUID: cid}},
		{"slash in the name", Config{Policies: set, Region: region, Account: account, ClusterName: "a/b", ClusterUUID: cid}},
		{"no cluster id", Config{Policies: set, Region: region, Account: account, ClusterName: "bridge"}},
	} {
		t.Run(tc.why, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("New accepted it")
			}
		})
	}
}
