package kafka

// DescribeAcls (key 29), CreateAcls (key 30) and DeleteAcls (key 31):
// Kafka's access control lists, kept and decided by security/acl. All
// three exist in v0-3; v1 added the resource pattern type (KIP-290: v0
// speaks of LITERAL bindings only), v2 is flexible, v3 adds the USER
// resource type. Without an authorizer they answer SECURITY_DISABLED, as a
// broker without authorizer.class.name does. Creating and deleting needs
// ALTER on the cluster, describing DESCRIBE.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/security/acl"
)

func init() {
	register(API{Key: kmsg.DescribeACLs, MinVersion: 0, MaxVersion: 3, Handle: handleDescribeACLs})
	register(API{Key: kmsg.CreateACLs, MinVersion: 0, MaxVersion: 3, Handle: handleCreateACLs})
	register(API{Key: kmsg.DeleteACLs, MinVersion: 0, MaxVersion: 3, Handle: handleDeleteACLs})
}

const securityDisabled = "No Authorizer is configured on the broker"

// patternOf is a request's pattern type: v0 knows only LITERAL.
func patternOf(version int16, p kmsg.ACLResourcePatternType) kmsg.ACLResourcePatternType {
	if version == 0 {
		return kmsg.ACLResourcePatternTypeLiteral
	}
	return p
}

func handleDescribeACLs(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DescribeACLsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeACLsResponse)
	a := r.Server.aclStore()
	f := acl.Filter{
		ResourceType: req.ResourceType, ResourceName: req.ResourceName,
		PatternType: patternOf(r.Version, req.ResourcePatternType),
		Principal:   req.Principal, Host: req.Host,
		Operation: req.Operation, Permission: req.PermissionType,
	}
	switch {
	case a == nil:
		resp.ErrorCode, resp.ErrorMessage = kerr.SecurityDisabled.Code, kmsg.StringPtr(securityDisabled)
	case !r.clusterAllowed(kmsg.ACLOperationDescribe):
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
	default:
		if err := f.Validate(); err != nil {
			resp.ErrorCode, resp.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(err.Error())
			break
		}
		type res struct {
			t    kmsg.ACLResourceType
			name string
			p    kmsg.ACLResourcePatternType
		}
		index := map[res]int{}
		for _, b := range a.Describe(f) {
			k := res{b.ResourceType, b.ResourceName, b.PatternType}
			i, ok := index[k]
			if !ok {
				i = len(resp.Resources)
				index[k] = i
				rr := kmsg.NewDescribeACLsResponseResource()
				rr.ResourceType, rr.ResourceName, rr.ResourcePatternType = k.t, k.name, k.p
				resp.Resources = append(resp.Resources, rr)
			}
			ra := kmsg.NewDescribeACLsResponseResourceACL()
			ra.Principal, ra.Host, ra.Operation, ra.PermissionType = b.Principal, b.Host, b.Operation, b.Permission
			resp.Resources[i].ACLs = append(resp.Resources[i].ACLs, ra)
		}
	}
	return Respond(resp), nil
}

func handleCreateACLs(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.CreateACLsRequest)
	resp := req.ResponseKind().(*kmsg.CreateACLsResponse)
	a := r.Server.aclStore()
	refuse := func(code int16, msg *string) Reply {
		for range req.Creations {
			res := kmsg.NewCreateACLsResponseResult()
			res.ErrorCode, res.ErrorMessage = code, msg
			resp.Results = append(resp.Results, res)
		}
		return Respond(resp)
	}
	if a == nil {
		return refuse(kerr.SecurityDisabled.Code, kmsg.StringPtr(securityDisabled)), nil
	}
	if !r.clusterAllowed(kmsg.ACLOperationAlter) {
		return refuse(kerr.ClusterAuthorizationFailed.Code, nil), nil
	}
	var valid []acl.Binding
	for _, c := range req.Creations {
		b := acl.Binding{
			ResourceType: c.ResourceType, ResourceName: c.ResourceName,
			PatternType: patternOf(r.Version, c.ResourcePatternType),
			Principal:   c.Principal, Host: c.Host, Operation: c.Operation, Permission: c.PermissionType,
		}
		res := kmsg.NewCreateACLsResponseResult()
		if err := b.Validate(); err != nil {
			res.ErrorCode, res.ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(err.Error())
		} else {
			valid = append(valid, b)
		}
		resp.Results = append(resp.Results, res)
	}
	if err := a.Create(ctx, valid); err != nil {
		r.Server.log.Error("kafka: storing ACLs failed", "err", err)
		for i := range resp.Results {
			if resp.Results[i].ErrorCode == 0 {
				resp.Results[i].ErrorCode, resp.Results[i].ErrorMessage = kerr.UnknownServerError.Code, kmsg.StringPtr(err.Error())
			}
		}
	}
	for i, b := range req.Creations {
		r.auditCall(resourceString(b.ResourceType, b.ResourceName)+" "+b.PermissionType.String()+" "+b.Operation.String()+" "+b.Principal,
			resp.Results[i].ErrorCode, derefString(resp.Results[i].ErrorMessage))
	}
	return Respond(resp), nil
}

func handleDeleteACLs(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DeleteACLsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteACLsResponse)
	a := r.Server.aclStore()
	var code int16
	var msg *string
	switch {
	case a == nil:
		code, msg = kerr.SecurityDisabled.Code, kmsg.StringPtr(securityDisabled)
	case !r.clusterAllowed(kmsg.ACLOperationAlter):
		code = kerr.ClusterAuthorizationFailed.Code
	}
	filters := make([]acl.Filter, len(req.Filters))
	results := make([]kmsg.DeleteACLsResponseResult, len(req.Filters))
	var valid []int
	for i, f := range req.Filters {
		results[i] = kmsg.NewDeleteACLsResponseResult()
		filters[i] = acl.Filter{
			ResourceType: f.ResourceType, ResourceName: f.ResourceName,
			PatternType: patternOf(r.Version, f.ResourcePatternType),
			Principal:   f.Principal, Host: f.Host, Operation: f.Operation, Permission: f.PermissionType,
		}
		switch err := filters[i].Validate(); {
		case code != 0:
			results[i].ErrorCode, results[i].ErrorMessage = code, msg
		case err != nil:
			results[i].ErrorCode, results[i].ErrorMessage = kerr.InvalidRequest.Code, kmsg.StringPtr(err.Error())
		default:
			valid = append(valid, i)
		}
	}
	if len(valid) > 0 {
		fs := make([]acl.Filter, len(valid))
		for j, i := range valid {
			fs[j] = filters[i]
		}
		matched, err := a.Delete(ctx, fs)
		for j, i := range valid {
			if err != nil {
				results[i].ErrorCode, results[i].ErrorMessage = kerr.UnknownServerError.Code, kmsg.StringPtr(err.Error())
				continue
			}
			for _, b := range matched[j] {
				m := kmsg.NewDeleteACLsResponseResultMatchingACL()
				m.ResourceType, m.ResourceName, m.ResourcePatternType = b.ResourceType, b.ResourceName, b.PatternType
				m.Principal, m.Host, m.Operation, m.PermissionType = b.Principal, b.Host, b.Operation, b.Permission
				results[i].MatchingACLs = append(results[i].MatchingACLs, m)
				r.auditCall(resourceString(b.ResourceType, b.ResourceName)+" "+b.Permission.String()+" "+b.Operation.String()+" "+b.Principal, 0, "")
			}
		}
	}
	resp.Results = results
	return Respond(resp), nil
}

func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
