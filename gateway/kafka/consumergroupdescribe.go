// ConsumerGroupDescribe (key 69), versions 0-1: KIP-848 consumer groups as
// the coordinator sees them: state (Empty, Assigning, Reconciling, Stable),
// group epoch, target assignment epoch, the assignor in use, and each
// member with its epoch, client, subscription (names or regex), current
// assignment and target assignment (topic ids and names); v1 adds the
// member type (1: consumer protocol, 0: a classic member of the group,
// cgroup_classic.go). A group that does not exist, or is a classic group,
// answers GROUP_ID_NOT_FOUND, as Kafka does. DESCRIBE on the group is
// needed (GROUP_AUTHORIZATION_FAILED); authorized operations are given
// when asked for.
package kafka

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.ConsumerGroupDescribe, MinVersion: 0, MaxVersion: 1, Handle: handleConsumerGroupDescribe})
}

func handleConsumerGroupDescribe(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.ConsumerGroupDescribeRequest)
	return RespondLater(func(context.Context) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
		for _, name := range req.Groups {
			dg := kmsg.NewConsumerGroupDescribeResponseGroup()
			dg.Group = name
			if !r.groupAllowed(kmsg.ACLOperationDescribe, name) {
				dg.ErrorCode = kerr.GroupAuthorizationFailed.Code
				resp.Groups = append(resp.Groups, dg)
				continue
			}
			describeConsumerGroup(r.Server, &dg)
			if req.IncludeAuthorizedOperations && dg.ErrorCode == 0 {
				dg.AuthorizedOperations = r.authorizedOperations(kmsg.ACLResourceTypeGroup, name, groupOperations)
			}
			resp.Groups = append(resp.Groups, dg)
		}
		return resp, nil
	}), nil
}

func describeConsumerGroup(s *Server, dg *kmsg.ConsumerGroupDescribeResponseGroup) {
	c, err := s.groupCoordinator()
	if err != nil {
		dg.ErrorCode = coordinatorErrorCode(s, err)
		return
	}
	g, err := c.group(dg.Group, false)
	if err != nil {
		dg.ErrorCode = coordinatorErrorCode(s, err)
		return
	}
	if g == nil {
		dg.ErrorCode, dg.ErrorMessage = kerr.GroupIDNotFound.Code, kmsg.StringPtr("Group "+dg.Group+" not found.")
		return
	}
	defer g.mu.Unlock()
	cg := g.cg
	if cg == nil {
		dg.ErrorCode, dg.ErrorMessage = kerr.GroupIDNotFound.Code, kmsg.StringPtr("Group "+dg.Group+" is not a consumer group.")
		return
	}
	dg.State = cg.stateName()
	dg.Epoch, dg.AssignmentEpoch = cg.epoch, cg.assignmentEpoch
	dg.AssignorName = cg.assignor
	if dg.AssignorName == "" {
		dg.AssignorName = cgAssignors[0]
	}
	for _, m := range cg.sortedMembers() {
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.RackID = m.id, m.instanceID, m.rackID
		dm.MemberEpoch, dm.ClientID, dm.ClientHost = m.epoch, m.clientID, m.clientHost
		dm.SubscribedTopics = append([]string{}, m.names...)
		sort.Strings(dm.SubscribedTopics)
		if m.regex != "" {
			dm.SubscribedTopicRegex = kmsg.StringPtr(m.regex)
		}
		dm.Assignment = cg.describeAssignment(m.assigned)
		dm.TargetAssignment = cg.describeAssignment(cg.target[m.id])
		dm.MemberType = 1 // consumer protocol
		if m.classic != nil {
			dm.MemberType = 0 // classic protocol (cgroup_classic.go)
		}
		dg.Members = append(dg.Members, dm)
	}
}

func (cg *consumerGroup) describeAssignment(a cgAssignment) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, id := range sortedTopicIDs(a) {
		tp := kmsg.NewAssignmentTopicPartition()
		tp.TopicID, tp.Topic, tp.Partitions = id, cg.topicName(id), append([]int32{}, a[id]...)
		out.TopicPartitions = append(out.TopicPartitions, tp)
	}
	return out
}
