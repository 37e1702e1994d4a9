package kafka

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/acl"
	"github.com/streambridge/bridge/security/audit"
	bsasl "github.com/streambridge/bridge/security/sasl"
	"github.com/streambridge/bridge/security/users"
)

// lockedBuffer is an audit log destination tests can read while the
// server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// aclServer is saslServer with ACLs enforced, User:admin a super user, and
// the audit log in a buffer.
func aclServer(t *testing.T) (*testServer, *lockedBuffer) {
	t.Helper()
	log := &lockedBuffer{}
	ts := startServer(t, func(c *Config) {
		u, err := users.Open(context.Background(), nil, []users.FileUser{
			{Name: "alice", Password: "alice-secret", Mechanisms: users.SCRAMMechanisms, Iterations: 4096},
			{Name: "admin", Password: "admin-secret", Mechanisms: users.SCRAMMechanisms, Iterations: 4096},
		})
		if err != nil {
			t.Fatal(err)
		}
		c.Users = u
		if c.SASL, err = bsasl.NewAuthenticator(bsasl.PlainMechanism(u)); err != nil {
			t.Fatal(err)
		}
		c.Listeners = []Listener{{Name: "SASL_PLAINTEXT", Protocol: SASLPlaintext}}
		if c.Authorizer, err = acl.Open(context.Background(), nil, acl.Config{SuperUsers: []string{"User:admin"}}); err != nil {
			t.Fatal(err)
		}
		c.Audit = audit.New(log, nil)
	})
	return ts, log
}

// TestACLsEnforced has the super user grant alice what a consumer and a
// producer of one topic need, through kadm, then checks that alice gets
// exactly that: the other topic is hidden and refused, the other group
// refused, the cluster's ACLs out of reach; every refusal is audited.
func TestACLsEnforced(t *testing.T) {
	ts, auditLog := aclServer(t)
	ctx := testContext(t)
	admin := kadm.NewClient(ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "admin", "admin-secret"))))
	if _, err := admin.CreateTopics(ctx, 1, 1, nil, "mine", "theirs"); err != nil {
		t.Fatal(err)
	}
	grant := kadm.NewACLs().Allow("User:alice").AllowHosts().
		Topics("mine").Groups("g").Operations(kadm.OpRead, kadm.OpWrite, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	res, err := admin.CreateACLs(ctx, grant)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("CreateACLs: %v", r.Err)
		}
	}

	alice := ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret")), kgo.RequestRetries(0))
	if err := alice.ProduceSync(ctx, &kgo.Record{Topic: "mine", Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatalf("produce to a topic alice may write: %v", err)
	}
	if err := alice.ProduceSync(ctx, &kgo.Record{Topic: "theirs", Value: []byte("no")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce to a topic alice may not write: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
	mdReq := kmsg.NewPtrMetadataRequest()
	mdReq.IncludeTopicAuthorizedOperations = true
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr("mine")
	mdReq.Topics = append(mdReq.Topics, mt)
	mdResp, err := mdReq.RequestWith(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if want := int32(1<<kmsg.ACLOperationRead | 1<<kmsg.ACLOperationWrite | 1<<kmsg.ACLOperationDescribe); mdResp.Topics[0].AuthorizedOperations != want {
		t.Fatalf("alice's authorized operations on mine: %b, want %b", mdResp.Topics[0].AuthorizedOperations, want)
	}
	aliceAdm := kadm.NewClient(alice)
	md, err := aliceAdm.Metadata(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if names := md.Topics.Names(); len(names) != 1 || names[0] != "mine" {
		t.Fatalf("alice's Metadata lists %v, want only the topic she may describe", names)
	}
	if _, err := aliceAdm.FetchOffsets(ctx, "other-group"); !errors.Is(err, kerr.GroupAuthorizationFailed) {
		t.Fatalf("offsets of a group alice may not describe: %v, want GROUP_AUTHORIZATION_FAILED", err)
	}
	self, err := aliceAdm.CreateACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().Topics("theirs").Operations(kadm.OpAll).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(self) != 1 || !errors.Is(self[0].Err, kerr.ClusterAuthorizationFailed) {
		t.Fatalf("alice granting herself more: %+v, %v; want CLUSTER_AUTHORIZATION_FAILED", self, err)
	}
	if _, err := aliceAdm.DeleteTopics(ctx, "theirs"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.ListEndOffsets(ctx, "theirs"); err != nil {
		t.Fatalf("theirs after alice's DeleteTopics: %v (it must still exist)", err)
	}

	// A consumer group: alice may use g.
	cons := ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret")),
		kgo.ConsumerGroup("g"), kgo.ConsumeTopics("mine"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	fs := cons.PollFetches(ctx)
	if err := fs.Err0(); err != nil || fs.NumRecords() != 1 {
		t.Fatalf("alice consuming mine in group g: %d records, %v", fs.NumRecords(), err)
	}
	if err := cons.CommitUncommittedOffsets(ctx); err != nil {
		t.Fatalf("commit in g: %v", err)
	}

	described, err := admin.DescribeACLs(ctx, kadm.NewACLs().AnyResource().Allow().AllowHosts().Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny))
	if err != nil || len(described) != 1 || len(described[0].Described) != 6 {
		t.Fatalf("DescribeACLs: %+v, %v; want the 6 bindings created", described, err)
	}
	deleted, err := admin.DeleteACLs(ctx, kadm.NewACLs().Allow("User:alice").AllowHosts().Topics("mine").Operations(kadm.OpWrite).ResourcePatternType(kadm.ACLPatternLiteral))
	if err != nil || len(deleted) != 1 || len(deleted[0].Deleted) != 1 {
		t.Fatalf("DeleteACLs: %+v, %v", deleted, err)
	}
	if err := alice.ProduceSync(ctx, &kgo.Record{Topic: "mine", Value: []byte("late")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce after WRITE was revoked: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}

	log := auditLog.String()
	for _, want := range []string{
		`"eventName":"Produce","principal":"User:alice"`,
		`"eventName":"Metadata","principal":"User:alice","sourceIPAddress":"127.0.0.1","listener":"SASL_PLAINTEXT","resource":"topic:theirs","operation":"DESCRIBE","outcome":"denied"`,
		`"eventName":"CreateACLs","principal":"User:alice"`,
		`"eventName":"DeleteTopics","principal":"User:alice","sourceIPAddress":"127.0.0.1","listener":"SASL_PLAINTEXT","resource":"topic:theirs","operation":"DELETE","outcome":"denied"`,
		`"eventName":"CreateTopics","principal":"User:admin","sourceIPAddress":"127.0.0.1","listener":"SASL_PLAINTEXT","resource":"topic:mine","outcome":"allowed"`,
	} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %s\n%s", want, log)
		}
	}
}

// TestACLAPIsWithoutAuthorizer: a broker without an authorizer answers
// SECURITY_DISABLED, as Kafka does.
func TestACLAPIsWithoutAuthorizer(t *testing.T) {
	ts := startServer(t)
	adm := kadm.NewClient(ts.client(t))
	res, err := adm.DescribeACLs(testContext(t), kadm.NewACLs().AnyResource().Allow().AllowHosts().Operations(kadm.OpAny).ResourcePatternType(kadm.ACLPatternAny))
	if err != nil || len(res) != 1 || !errors.Is(res[0].Err, kerr.SecurityDisabled) {
		t.Fatalf("DescribeACLs without an authorizer: %+v, %v; want SECURITY_DISABLED", res, err)
	}
}

// KIP-848 heartbeats need READ on the group and DESCRIBE on each topic
// subscribed by name; ConsumerGroupDescribe DESCRIBE on the group.
func TestACLsConsumerGroupHeartbeat(t *testing.T) {
	ts, _ := aclServer(t)
	ctx := testContext(t)
	admin := kadm.NewClient(ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "admin", "admin-secret"))))
	if _, err := admin.CreateTopics(ctx, 1, 1, nil, "mine", "theirs"); err != nil {
		t.Fatal(err)
	}
	grant := kadm.NewACLs().Allow("User:alice").AllowHosts().
		Topics("mine").Groups("g").Operations(kadm.OpRead, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
	if _, err := admin.CreateACLs(ctx, grant); err != nil {
		t.Fatal(err)
	}
	alice := ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret")), kgo.RequestRetries(0))
	for _, tc := range []struct {
		topic string
		code  int16
	}{{"theirs", kerr.TopicAuthorizationFailed.Code}, {"mine", 0}} {
		resp, err := cgJoin("g", "m-"+tc.topic, tc.topic).RequestWith(ctx, alice)
		if err != nil || resp.ErrorCode != tc.code {
			t.Errorf("heartbeat subscribing %s: %v %v, want %s", tc.topic, err, resp, codeName(tc.code))
		}
	}
	cd := kmsg.NewPtrConsumerGroupDescribeRequest()
	cd.Groups = []string{"g"}
	resp, err := cd.RequestWith(ctx, alice)
	if err != nil || resp.Groups[0].ErrorCode != 0 || len(resp.Groups[0].Members) != 1 {
		t.Errorf("describe g: %v %+v", err, resp)
	}
}

// A KIP-848 regex subscription takes only the topics the member may
// describe, as Kafka 4 narrows a resolved regex; the check is the
// authorizer's at each resolution, so a later grant adds the topic at the
// member's next heartbeat.
func TestACLsConsumerGroupRegex(t *testing.T) {
	ts, _ := aclServer(t)
	ctx := testContext(t)
	admin := kadm.NewClient(ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "admin", "admin-secret"))))
	if _, err := admin.CreateTopics(ctx, 2, 1, nil, "rx-mine", "rx-theirs"); err != nil {
		t.Fatal(err)
	}
	grant := func(topic string) {
		t.Helper()
		acl := kadm.NewACLs().Allow("User:alice").AllowHosts().
			Topics(topic).Groups("rg").Operations(kadm.OpRead, kadm.OpDescribe).ResourcePatternType(kadm.ACLPatternLiteral)
		if _, err := admin.CreateACLs(ctx, acl); err != nil {
			t.Fatal(err)
		}
	}
	grant("rx-mine")
	alice := ts.client(t, kgo.SASL(mechanism(bsasl.Plain, "alice", "alice-secret")), kgo.RequestRetries(0))
	mine, theirs := ts.topicID(t, "rx-mine"), ts.topicID(t, "rx-theirs")

	join := cgJoin("rg", "m-rx")
	join.SubscribedTopicNames, join.SubscribedTopicRegex = nil, kmsg.StringPtr("^rx-.*")
	resp, err := join.RequestWith(ctx, alice)
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("join: %v %+v", err, resp)
	}
	if got := assigned(resp, mine); !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("rx-mine: %v, want [0 1]", got)
	}
	if got := assigned(resp, theirs); len(got) != 0 {
		t.Errorf("rx-theirs, which alice may not describe: %v, want none", got)
	}

	grant("rx-theirs")
	resp, err = cgBeat("rg", "m-rx", resp.MemberEpoch, mine, []int32{0, 1}).RequestWith(ctx, alice)
	if err != nil || resp.ErrorCode != 0 {
		t.Fatalf("heartbeat: %v %+v", err, resp)
	}
	if got := assigned(resp, theirs); !slices.Equal(got, []int32{0, 1}) {
		t.Errorf("rx-theirs after the grant: %v (assignment %+v), want [0 1]", got, resp.Assignment)
	}
}
