// Package acl is Kafka's access control lists: bindings that allow or deny
// a principal, from a host, an operation on a resource (a topic, a group,
// the cluster, a transactional id) named literally or by prefix, and the
// decision Kafka's StandardAuthorizer makes from them:
//
//   - super users are allowed everything;
//   - a DENY binding that matches wins over any ALLOW;
//   - an ALLOW binding matches the operation asked, ALL, or an operation
//     that implies it (READ, WRITE, DELETE and ALTER imply DESCRIBE;
//     ALTER_CONFIGS implies DESCRIBE_CONFIGS);
//   - a resource no binding names at all is allowed only with
//     allow.everyone.if.no.acl.found; otherwise what is not allowed is
//     denied.
//
// Bindings are kept in the store's state area, so they survive restarts,
// and in memory, indexed by resource, for the per-request checks.
package acl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

// Kafka's names for the wildcards.
const (
	WildcardResource  = "*"
	WildcardPrincipal = "User:*"
	WildcardHost      = "*"
)

// Binding is one ACL.
type Binding struct {
	ResourceType kmsg.ACLResourceType        `json:"resourceType"`
	ResourceName string                      `json:"resourceName"`
	PatternType  kmsg.ACLResourcePatternType `json:"patternType"` // LITERAL or PREFIXED
	Principal    string                      `json:"principal"`   // "User:alice", or WildcardPrincipal
	Host         string                      `json:"host"`        // an IP address, or WildcardHost
	Operation    kmsg.ACLOperation           `json:"operation"`
	Permission   kmsg.ACLPermissionType      `json:"permission"` // ALLOW or DENY
}

func (b Binding) String() string {
	return fmt.Sprintf("(%s %s %s:%s, %s from %s, %s)", b.Permission, b.Operation, b.ResourceType, b.PatternType, b.Principal, b.Host, b.ResourceName)
}

// Validate checks a binding CreateAcls was asked for; the error's text is
// what the client is told.
func (b Binding) Validate() error {
	switch {
	case b.ResourceType < kmsg.ACLResourceTypeTopic || b.ResourceType > kmsg.ACLResourceTypeUser:
		return fmt.Errorf("invalid resource type %s", b.ResourceType)
	case b.PatternType != kmsg.ACLResourcePatternTypeLiteral && b.PatternType != kmsg.ACLResourcePatternTypePrefixed:
		return fmt.Errorf("invalid pattern type %s: want LITERAL or PREFIXED", b.PatternType)
	case b.ResourceName == "":
		return errors.New("resource name must not be empty")
	case b.PatternType == kmsg.ACLResourcePatternTypePrefixed && b.ResourceName == WildcardResource:
		return errors.New("a PREFIXED binding cannot use the wildcard resource name")
	case b.ResourceType == kmsg.ACLResourceTypeCluster && b.ResourceName != "kafka-cluster":
		return fmt.Errorf("the cluster resource is named kafka-cluster, not %q", b.ResourceName)
	case b.Operation <= kmsg.ACLOperationAny || b.Operation > kmsg.ACLOperationDescribeTokens:
		return fmt.Errorf("invalid operation %s", b.Operation)
	case b.Permission != kmsg.ACLPermissionTypeAllow && b.Permission != kmsg.ACLPermissionTypeDeny:
		return fmt.Errorf("invalid permission type %s", b.Permission)
	case b.Host == "":
		return errors.New("host must not be empty; use * for every host")
	}
	typ, name, ok := strings.Cut(b.Principal, ":")
	if !ok || typ == "" || name == "" {
		return fmt.Errorf("principal %q: want Type:Name, e.g. User:alice", b.Principal)
	}
	return nil
}

// key names a binding in the state area: bindings are their own identity.
func (b Binding) key() string {
	j, _ := json.Marshal(b)
	sum := sha256.Sum256(j)
	return statePrefix + hex.EncodeToString(sum[:16])
}

// Filter selects bindings for DescribeAcls and DeleteAcls. A nil string
// matches any value; ANY (and, for the pattern, MATCH) as Kafka defines
// them.
type Filter struct {
	ResourceType kmsg.ACLResourceType
	ResourceName *string
	PatternType  kmsg.ACLResourcePatternType
	Principal    *string
	Host         *string
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// Matches says whether the filter selects b.
func (f Filter) Matches(b Binding) bool {
	switch {
	case f.ResourceType != kmsg.ACLResourceTypeAny && f.ResourceType != b.ResourceType,
		f.Principal != nil && *f.Principal != b.Principal,
		f.Host != nil && *f.Host != b.Host,
		f.Operation != kmsg.ACLOperationAny && f.Operation != b.Operation,
		f.Permission != kmsg.ACLPermissionTypeAny && f.Permission != b.Permission:
		return false
	}
	switch f.PatternType {
	case kmsg.ACLResourcePatternTypeAny:
		return f.ResourceName == nil || *f.ResourceName == b.ResourceName
	case kmsg.ACLResourcePatternTypeMatch:
		// Every binding that would apply to a resource of that name.
		if f.ResourceName == nil {
			return true
		}
		return nameMatches(b, *f.ResourceName)
	default:
		return f.PatternType == b.PatternType && (f.ResourceName == nil || *f.ResourceName == b.ResourceName)
	}
}

// nameMatches says whether b applies to a resource named name.
func nameMatches(b Binding, name string) bool {
	if b.PatternType == kmsg.ACLResourcePatternTypePrefixed {
		return strings.HasPrefix(name, b.ResourceName)
	}
	return b.ResourceName == name || b.ResourceName == WildcardResource
}

// Validate checks a filter DescribeAcls or DeleteAcls was given.
func (f Filter) Validate() error {
	switch {
	case f.ResourceType == kmsg.ACLResourceTypeUnknown:
		return errors.New("invalid resource type UNKNOWN")
	case f.PatternType == kmsg.ACLResourcePatternTypeUnknown:
		return errors.New("invalid pattern type UNKNOWN")
	case f.Operation == kmsg.ACLOperationUnknown:
		return errors.New("invalid operation UNKNOWN")
	case f.Permission == kmsg.ACLPermissionTypeUnknown:
		return errors.New("invalid permission type UNKNOWN")
	}
	return nil
}

const (
	stateNamespace = "security"
	statePrefix    = "acl/"
)

// Config configures an Authorizer.
type Config struct {
	// SuperUsers are allowed everything ("User:admin"); Kafka's
	// super.users.
	SuperUsers []string
	// AllowIfNoACL allows an operation on a resource no binding names;
	// Kafka's allow.everyone.if.no.acl.found.
	AllowIfNoACL bool
}

// Authorizer holds the bindings and decides. It is safe for concurrent
// use; decisions take a read lock only.
type Authorizer struct {
	cfg   Config
	state store.State

	mu sync.RWMutex
	// byType holds every binding, by resource type; decisions scan the
	// bindings of one type, which is cheap for the hundreds of ACLs
	// clusters have, and simple.
	byType map[kmsg.ACLResourceType][]Binding
}

// Open loads the bindings kept in st (nil keeps them in memory only).
func Open(ctx context.Context, st store.State, cfg Config) (*Authorizer, error) {
	a := &Authorizer{cfg: cfg, state: st, byType: map[kmsg.ACLResourceType][]Binding{}}
	if st == nil {
		return a, nil
	}
	err := st.Scan(ctx, stateNamespace, statePrefix, func(key string, value []byte) error {
		var b Binding
		if err := json.Unmarshal(value, &b); err != nil {
			return fmt.Errorf("acl %s: %w", key, err)
		}
		a.byType[b.ResourceType] = append(a.byType[b.ResourceType], b)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// Create adds bindings (ones already present are kept once), durably.
func (a *Authorizer) Create(ctx context.Context, bs []Binding) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var writes []store.KV
	var added []Binding
	for _, b := range bs {
		if slices.Contains(a.byType[b.ResourceType], b) || slices.Contains(added, b) {
			continue
		}
		v, _ := json.Marshal(b)
		writes = append(writes, store.KV{Namespace: stateNamespace, Key: b.key(), Value: v})
		added = append(added, b)
	}
	if a.state != nil && len(writes) > 0 {
		if err := a.state.Update(ctx, writes...); err != nil {
			return err
		}
	}
	for _, b := range added {
		a.byType[b.ResourceType] = append(a.byType[b.ResourceType], b)
	}
	return nil
}

// Describe returns the bindings f matches.
func (a *Authorizer) Describe(f Filter) []Binding {
	a.mu.RLock()
	defer a.mu.RUnlock()
	var out []Binding
	for _, bs := range a.byType {
		for _, b := range bs {
			if f.Matches(b) {
				out = append(out, b)
			}
		}
	}
	return out
}

// Delete removes, durably, the bindings each filter matches and returns
// them, per filter.
func (a *Authorizer) Delete(ctx context.Context, fs []Filter) ([][]Binding, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	matched := make([][]Binding, len(fs))
	gone := map[Binding]bool{}
	var writes []store.KV
	for i, f := range fs {
		for _, bs := range a.byType {
			for _, b := range bs {
				if f.Matches(b) {
					matched[i] = append(matched[i], b)
					if !gone[b] {
						gone[b] = true
						writes = append(writes, store.KV{Namespace: stateNamespace, Key: b.key()})
					}
				}
			}
		}
	}
	if a.state != nil && len(writes) > 0 {
		if err := a.state.Update(ctx, writes...); err != nil {
			return nil, err
		}
	}
	for t, bs := range a.byType {
		a.byType[t] = slices.DeleteFunc(bs, func(b Binding) bool { return gone[b] })
	}
	return matched, nil
}

// implies lists, for an operation asked, the ALLOW operations that grant
// it besides itself and ALL.
var implies = map[kmsg.ACLOperation][]kmsg.ACLOperation{
	kmsg.ACLOperationDescribe:        {kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationDelete, kmsg.ACLOperationAlter},
	kmsg.ACLOperationDescribeConfigs: {kmsg.ACLOperationAlterConfigs},
}

// Authorize decides whether principal, connected from host, may perform op
// on the resource of type rt named name.
func (a *Authorizer) Authorize(principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	if slices.Contains(a.cfg.SuperUsers, principal) {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	any, allowed := false, false
	for _, b := range a.byType[rt] {
		if !nameMatches(b, name) {
			continue
		}
		any = true
		if (b.Principal != principal && b.Principal != WildcardPrincipal) || (b.Host != host && b.Host != WildcardHost) {
			continue
		}
		switch b.Permission {
		case kmsg.ACLPermissionTypeDeny:
			if b.Operation == op || b.Operation == kmsg.ACLOperationAll {
				return false
			}
		case kmsg.ACLPermissionTypeAllow:
			if b.Operation == op || b.Operation == kmsg.ACLOperationAll || slices.Contains(implies[op], b.Operation) {
				allowed = true
			}
		}
	}
	if !any {
		return a.cfg.AllowIfNoACL
	}
	return allowed
}

// AuthorizeAny says whether principal may perform op on some resource of
// type rt: an ALLOW binding grants it and no DENY binding on every resource
// of the type (the literal wildcard) takes it back. It is Kafka's
// authorizeByResourceType in its common case, simplified: prefixed denials
// that would cover every allowed name are not worked out.
func (a *Authorizer) AuthorizeAny(principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType) bool {
	if slices.Contains(a.cfg.SuperUsers, principal) {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	allowed := false
	for _, b := range a.byType[rt] {
		if (b.Principal != principal && b.Principal != WildcardPrincipal) || (b.Host != host && b.Host != WildcardHost) ||
			(b.Operation != op && b.Operation != kmsg.ACLOperationAll) {
			continue
		}
		if b.Permission == kmsg.ACLPermissionTypeDeny && b.PatternType == kmsg.ACLResourcePatternTypeLiteral && b.ResourceName == WildcardResource {
			return false
		}
		allowed = allowed || b.Permission == kmsg.ACLPermissionTypeAllow
	}
	return allowed || (len(a.byType[rt]) == 0 && a.cfg.AllowIfNoACL)
}
