// FindCoordinator (key 10), versions 0-4: every group and every
// transactional id is coordinated by this node, node 0 at the advertised
// address. v1+ names the coordinator type (0 group, 1 transaction; others
// are INVALID_REQUEST); v4 batches keys. Keys are not checked, as Kafka
// does not check them: an empty group id fails later, at the group API.
package kafka

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.FindCoordinator, MinVersion: 0, MaxVersion: 4, Handle: handleFindCoordinator})
}

func handleFindCoordinator(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.FindCoordinatorRequest)
	resp := req.ResponseKind().(*kmsg.FindCoordinatorResponse)

	keys := req.CoordinatorKeys
	if r.Version < 4 {
		keys = []string{req.CoordinatorKey}
	}
	for _, key := range keys {
		c := kmsg.NewFindCoordinatorResponseCoordinator()
		c.Key = key
		switch {
		case req.CoordinatorType != 0 && req.CoordinatorType != 1:
			c.NodeID = -1
			c.ErrorCode = kerr.InvalidRequest.Code
			c.ErrorMessage = kmsg.StringPtr(fmt.Sprintf("Unknown coordinator type %d.", req.CoordinatorType))
		case req.CoordinatorType == 0 && !r.groupAllowed(kmsg.ACLOperationDescribe, key):
			c.NodeID, c.Port, c.ErrorCode = -1, -1, kerr.GroupAuthorizationFailed.Code
		case req.CoordinatorType == 1 && !r.authorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTransactionalId, key):
			c.NodeID, c.Port, c.ErrorCode = -1, -1, kerr.TransactionalIDAuthorizationFailed.Code
		default:
			c.NodeID, c.Host, c.Port = 0, r.Listener.host, r.Listener.port
		}
		resp.Coordinators = append(resp.Coordinators, c)
	}
	if r.Version < 4 {
		c := resp.Coordinators[0]
		resp.ErrorCode, resp.NodeID, resp.Host, resp.Port = c.ErrorCode, c.NodeID, c.Host, c.Port
		if r.Version >= 1 {
			resp.ErrorMessage = c.ErrorMessage
		}
		resp.Coordinators = nil
	}
	return Respond(resp), nil
}
