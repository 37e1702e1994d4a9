// DescribeGroups (key 15), versions 0-5: a group's state (Kafka's names:
// Empty, PreparingRebalance, CompletingRebalance, Stable, Dead), protocol
// type, and members with their client id, host ("/127.0.0.1") and, v4+,
// instance id. As in Kafka, the selected protocol and each member's
// metadata and assignment are given only while the group is Stable. A
// group that does not exist is described as Dead with no error (v0-v5 have
// no GROUP_ID_NOT_FOUND here). Authorized operations (v3+) are every group
// operation when asked for, since there is no authorizer. The empty group id
// is described like any other (Kafka does, for old clients).
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.DescribeGroups, MinVersion: 0, MaxVersion: 5, Handle: handleDescribeGroups})
}

func handleDescribeGroups(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DescribeGroupsRequest)
	return RespondLater(func(context.Context) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.DescribeGroupsResponse)
		for _, name := range req.Groups {
			if !r.groupAllowed(kmsg.ACLOperationDescribe, name) {
				dg := kmsg.NewDescribeGroupsResponseGroup()
				dg.Group, dg.ErrorCode = name, kerr.GroupAuthorizationFailed.Code
				resp.Groups = append(resp.Groups, dg)
				continue
			}
			dg := describeGroup(r.Server, name)
			if req.IncludeAuthorizedOperations {
				dg.AuthorizedOperations = r.authorizedOperations(kmsg.ACLResourceTypeGroup, name, groupOperations)
			}
			resp.Groups = append(resp.Groups, dg)
		}
		return resp, nil
	}), nil
}

func describeGroup(s *Server, name string) kmsg.DescribeGroupsResponseGroup {
	dg := kmsg.NewDescribeGroupsResponseGroup()
	dg.Group = name
	dg.State = groupDead.String()
	c, err := s.groupCoordinator()
	if err != nil {
		dg.ErrorCode = coordinatorErrorCode(s, err)
		return dg
	}
	g, err := c.group(name, false)
	if err != nil {
		dg.ErrorCode = coordinatorErrorCode(s, err)
		return dg
	}
	if g == nil {
		return dg
	}
	defer g.mu.Unlock()
	if g.cg != nil {
		return dg // not a classic group: Dead, as Kafka answers v0-v5
	}
	dg.State = g.state.String()
	dg.ProtocolType = g.protocolType
	stable := g.state == groupStable
	if stable {
		dg.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.ClientID, dm.ClientHost = m.id, m.instanceID, m.clientID, m.clientHost
		dm.ProtocolMetadata, dm.MemberAssignment = []byte{}, []byte{}
		if stable {
			dm.ProtocolMetadata = m.metadataFor(g.protocol)
			dm.MemberAssignment = g.assignmentOrEmpty(m.assignment)
		}
		dg.Members = append(dg.Members, dm)
	}
	return dg
}
