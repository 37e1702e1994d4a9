package acl

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store/embedded"
)

const (
	topic   = kmsg.ACLResourceTypeTopic
	group   = kmsg.ACLResourceTypeGroup
	literal = kmsg.ACLResourcePatternTypeLiteral
	prefix  = kmsg.ACLResourcePatternTypePrefixed
	allow   = kmsg.ACLPermissionTypeAllow
	deny    = kmsg.ACLPermissionTypeDeny
	read    = kmsg.ACLOperationRead
	write   = kmsg.ACLOperationWrite
	descr   = kmsg.ACLOperationDescribe
	all     = kmsg.ACLOperationAll
)

func bind(rt kmsg.ACLResourceType, name string, pt kmsg.ACLResourcePatternType, principal, host string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) Binding {
	return Binding{ResourceType: rt, ResourceName: name, PatternType: pt, Principal: principal, Host: host, Operation: op, Permission: perm}
}

// TestAuthorize follows Kafka's StandardAuthorizer: deny beats allow,
// implied DESCRIBE, literal, prefixed and wildcard matches, super users,
// and the no-ACL default.
func TestAuthorize(t *testing.T) {
	bindings := []Binding{
		bind(topic, "orders", literal, "User:alice", "*", read, allow),
		bind(topic, "pay-", prefix, "User:alice", "*", write, allow),
		bind(topic, "pay-secret", literal, "User:alice", "*", all, deny),
		bind(topic, "*", literal, "User:*", "*", descr, allow),
		bind(topic, "audit", literal, "User:bob", "10.0.0.1", read, allow),
		bind(group, "g-", prefix, "User:alice", "*", read, allow),
		bind(topic, "denied-for-all", literal, "User:*", "*", read, deny),
		bind(topic, "denied-for-all", literal, "User:alice", "*", read, allow),
	}
	a, err := Open(context.Background(), nil, Config{SuperUsers: []string{"User:admin"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Create(context.Background(), bindings); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		principal, host string
		op              kmsg.ACLOperation
		rt              kmsg.ACLResourceType
		name            string
		want            bool
	}{
		{"User:alice", "1.2.3.4", read, topic, "orders", true},
		{"User:alice", "1.2.3.4", write, topic, "orders", false},
		{"User:alice", "1.2.3.4", descr, topic, "orders", true}, // implied by READ, and the wildcard
		{"User:alice", "1.2.3.4", write, topic, "pay-eu", true},
		{"User:alice", "1.2.3.4", descr, topic, "pay-eu", true},
		{"User:alice", "1.2.3.4", write, topic, "pay-secret", false}, // DENY ALL wins
		{"User:carol", "1.2.3.4", descr, topic, "anything", true},    // wildcard principal and resource
		{"User:carol", "1.2.3.4", read, topic, "anything", false},
		{"User:bob", "10.0.0.1", read, topic, "audit", true},
		{"User:bob", "10.0.0.2", read, topic, "audit", false}, // host
		{"User:alice", "1.2.3.4", read, group, "g-1", true},
		{"User:alice", "1.2.3.4", read, group, "h", false}, // no ACL names it: denied by default
		{"User:alice", "1.2.3.4", read, topic, "denied-for-all", false},
		{"User:admin", "1.2.3.4", all, kmsg.ACLResourceTypeCluster, "kafka-cluster", true},
	} {
		if got := a.Authorize(tc.principal, tc.host, tc.op, tc.rt, tc.name); got != tc.want {
			t.Errorf("%s from %s %s %s:%s = %v, want %v", tc.principal, tc.host, tc.op, tc.rt, tc.name, got, tc.want)
		}
	}

	open, _ := Open(context.Background(), nil, Config{AllowIfNoACL: true})
	if !open.Authorize("User:x", "h", read, group, "any") {
		t.Error("allow.everyone.if.no.acl.found: a resource without ACLs should be allowed")
	}
	_ = open.Create(context.Background(), []Binding{bind(group, "any", literal, "User:y", "*", read, allow)})
	if open.Authorize("User:x", "h", read, group, "any") {
		t.Error("allow.everyone.if.no.acl.found: a resource with ACLs for others should be denied")
	}

	if !a.AuthorizeAny("User:alice", "h", write, topic) || a.AuthorizeAny("User:carol", "h", write, topic) {
		t.Error("AuthorizeAny: alice may write some topic, carol none")
	}
}

func TestFilters(t *testing.T) {
	a, _ := Open(context.Background(), nil, Config{})
	bs := []Binding{
		bind(topic, "orders", literal, "User:alice", "*", read, allow),
		bind(topic, "ord", prefix, "User:bob", "*", read, allow),
		bind(topic, "*", literal, "User:carol", "*", read, allow),
		bind(group, "orders", literal, "User:alice", "*", read, allow),
	}
	_ = a.Create(context.Background(), bs)
	name := "orders"
	alice := "User:alice"
	for _, tc := range []struct {
		what string
		f    Filter
		want int
	}{
		{"everything", Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}, 4},
		{"literal topic orders", Filter{ResourceType: topic, ResourceName: &name, PatternType: literal, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}, 1},
		{"any pattern named orders", Filter{ResourceType: kmsg.ACLResourceTypeAny, ResourceName: &name, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}, 2},
		{"match topic orders", Filter{ResourceType: topic, ResourceName: &name, PatternType: kmsg.ACLResourcePatternTypeMatch, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}, 3},
		{"alice's", Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Principal: &alice, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}, 2},
	} {
		if got := len(a.Describe(tc.f)); got != tc.want {
			t.Errorf("%s: %d bindings, want %d", tc.what, got, tc.want)
		}
	}
}

// TestBindingsSurviveReopen creates and deletes bindings on a store on
// disk and reopens it.
func TestBindingsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	open := func() (*embedded.Store, *Authorizer) {
		st, err := embedded.Open(embedded.Options{Dir: dir})
		if err != nil {
			t.Fatal(err)
		}
		a, err := Open(ctx, st, Config{})
		if err != nil {
			t.Fatal(err)
		}
		return st, a
	}
	st, a := open()
	keep := bind(topic, "a", literal, "User:alice", "*", read, allow)
	gone := bind(topic, "b", literal, "User:alice", "*", read, allow)
	if err := a.Create(ctx, []Binding{keep, gone, keep}); err != nil {
		t.Fatal(err)
	}
	b := "b"
	if m, err := a.Delete(ctx, []Filter{{ResourceType: topic, ResourceName: &b, PatternType: literal, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny}}); err != nil || len(m[0]) != 1 {
		t.Fatalf("Delete matched %v, %v", m, err)
	}
	st.Close()
	st, a = open()
	defer st.Close()
	got := a.Describe(Filter{ResourceType: kmsg.ACLResourceTypeAny, PatternType: kmsg.ACLResourcePatternTypeAny, Operation: kmsg.ACLOperationAny, Permission: kmsg.ACLPermissionTypeAny})
	if len(got) != 1 || got[0] != keep {
		t.Fatalf("after reopening: %v, want only %v", got, keep)
	}
}

func TestValidate(t *testing.T) {
	ok := bind(topic, "t", literal, "User:alice", "*", read, allow)
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, change := range []func(*Binding){
		func(b *Binding) { b.ResourceType = kmsg.ACLResourceTypeAny },
		func(b *Binding) { b.PatternType = kmsg.ACLResourcePatternTypeMatch },
		func(b *Binding) { b.ResourceName = "" },
		func(b *Binding) { b.Principal = "alice" },
		func(b *Binding) { b.Operation = kmsg.ACLOperationAny },
		func(b *Binding) { b.Permission = kmsg.ACLPermissionTypeAny },
		func(b *Binding) { b.Host = "" },
		func(b *Binding) { b.ResourceType, b.ResourceName = kmsg.ACLResourceTypeCluster, "x" },
		func(b *Binding) { b.PatternType, b.ResourceName = prefix, "*" },
	} {
		b := ok
		change(&b)
		if b.Validate() == nil {
			t.Errorf("%v validated", b)
		}
	}
}
