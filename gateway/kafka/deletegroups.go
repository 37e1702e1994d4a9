// DeleteGroups (key 42), versions 0-2: removes empty groups and their
// committed offsets from the store. A group with members is
// NON_EMPTY_GROUP; one that does not exist GROUP_ID_NOT_FOUND. The empty
// group id is a group like any other here, as in Kafka.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.DeleteGroups, MinVersion: 0, MaxVersion: 2, Handle: handleDeleteGroups})
}

func handleDeleteGroups(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DeleteGroupsRequest)
	return RespondLater(func(context.Context) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.DeleteGroupsResponse)
		for _, name := range req.Groups {
			dg := kmsg.NewDeleteGroupsResponseGroup()
			dg.Group = name
			if !r.groupAllowed(kmsg.ACLOperationDelete, name) {
				dg.ErrorCode = kerr.GroupAuthorizationFailed.Code
			} else {
				dg.ErrorCode = deleteGroup(r.Server, name)
				r.auditCall(resourceString(kmsg.ACLResourceTypeGroup, name), dg.ErrorCode, "")
			}
			resp.Groups = append(resp.Groups, dg)
		}
		return resp, nil
	}), nil
}

func deleteGroup(s *Server, name string) int16 {
	c, err := s.groupCoordinator()
	if err != nil {
		return coordinatorErrorCode(s, err)
	}
	g, err := c.group(name, false)
	if err != nil {
		return coordinatorErrorCode(s, err)
	}
	if g == nil {
		return kerr.GroupIDNotFound.Code
	}
	defer g.mu.Unlock()
	if g.state != groupEmpty || g.cgHasMembers() {
		return kerr.NonEmptyGroup.Code
	}
	if err := g.deleteStored(); err != nil {
		return coordinatorErrorCode(s, err)
	}
	for _, t := range g.pending {
		t.stop()
	}
	clear(g.pending)
	g.remove()
	s.log.Info("kafka: consumer group deleted", "group", name)
	return 0
}
