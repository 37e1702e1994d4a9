package kafka

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	kaws "github.com/twmb/franz-go/pkg/sasl/aws"

	bsasl "github.com/streambridge/bridge/security/sasl"
)

// fakeAuthorizer allows every resource but the denied topic and counts
// who it was asked about. It is not an ACLStore.
type fakeAuthorizer struct {
	deny string
	mu   sync.Mutex
	seen map[string]int // principal -> questions
}

func (f *fakeAuthorizer) Authorize(principal, _ string, _ kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seen == nil {
		f.seen = map[string]int{}
	}
	f.seen[principal]++
	return f.deny == "*" || !(rt == kmsg.ACLResourceTypeTopic && name == f.deny)
}

func (f *fakeAuthorizer) AuthorizeAny(string, string, kmsg.ACLOperation, kmsg.ACLResourceType) bool {
	return f.deny != "*"
}

func (f *fakeAuthorizer) asked(principal string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seen[principal]
}

// TestSASLAuthorizers checks that a connection that logged in with a
// mechanism of Config.SASLAuthorizers is decided by that authorizer alone
// (an MSK IAM client by its policies), that Config.Authorizer is never
// asked about it, and that the ACL APIs answer SECURITY_DISABLED when
// Config.Authorizer keeps no ACLs.
func TestSASLAuthorizers(t *testing.T) {
	others := &fakeAuthorizer{deny: "*"} // would refuse everything
	msk := &fakeAuthorizer{deny: "theirs"}
	ts := iamServer(t, func(c *Config) {
		c.Authorizer = others
		c.SASLAuthorizers = map[string]Authorizer{bsasl.MSKIAM: msk}
	})
	ts.createTopic(t, "mine", 1)
	ts.createTopic(t, "theirs", 1)
	t.Setenv("AWS_REGION", "us-east-1")
	cl := ts.client(t, kgo.SASL(kaws.Auth{AccessKey: iamKey, SecretKey: iamSecret}.AsManagedStreamingIAMMechanism()), kgo.RequestRetries(0))
	ctx, cancel := context.WithTimeout(testContext(t), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "mine", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatalf("produce to mine: %v", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "theirs", Value: []byte("v")}).FirstErr(); !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Fatalf("produce to theirs: %v; want TOPIC_AUTHORIZATION_FAILED", err)
	}
	resp, err := (&kmsg.DescribeACLsRequest{ResourceType: kmsg.ACLResourceTypeAny, ResourcePatternType: kmsg.ACLResourcePatternTypeAny,
		Operation: kmsg.ACLOperationAny, PermissionType: kmsg.ACLPermissionTypeAny}).RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.SecurityDisabled.Code {
		t.Fatalf("DescribeAcls: %v; want SECURITY_DISABLED", kerr.ErrorForCode(resp.ErrorCode))
	}
	if n := msk.asked("User:" + iamKey); n == 0 {
		t.Fatal("the MSK IAM authorizer was never asked")
	}
	if n := others.asked("User:" + iamKey); n != 0 {
		t.Fatalf("Config.Authorizer was asked %d times about an MSK IAM principal", n)
	}
}
