// DescribeCluster (key 60), versions 0-1: the cluster is one broker, node 0
// at Config.AdvertisedAddr, which is also the controller. The cluster id is
// the one Metadata reports: made once and kept in the store's state area,
// so it survives restarts (clients and tools cache it to notice that they
// were pointed at another cluster). v1 adds EndpointType: brokers (1) are
// answered; controllers (2) get UNSUPPORTED_ENDPOINT_TYPE, as from a Kafka
// broker, since clients must ask controllers over a controller listener,
// which the bridge does not have. IncludeClusterAuthorizedOperations gets
// the cluster operations the principal may perform (all of them without an
// authorizer).
// v2 (fenced brokers) is not served; there is nothing fenced to report.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.DescribeCluster, MinVersion: 0, MaxVersion: 1, Handle: handleDescribeCluster})
}

// Endpoint types of DescribeCluster v1 (KIP-919).
const (
	endpointTypeBrokers     int8 = 1
	endpointTypeControllers int8 = 2
)

// authorizedOpsOmitted is what Kafka sends when operations were not asked for.
const authorizedOpsOmitted int32 = -2147483648

func handleDescribeCluster(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DescribeClusterRequest)
	resp := req.ResponseKind().(*kmsg.DescribeClusterResponse)
	s := r.Server
	resp.EndpointType = req.EndpointType
	resp.ClusterID = s.clusterID
	resp.ControllerID = 0
	resp.ClusterAuthorizedOperations = authorizedOpsOmitted
	if r.Version >= 1 && req.EndpointType != endpointTypeBrokers {
		resp.ErrorCode = kerr.UnsupportedEndpointType.Code
		msg := "The bridge only answers DescribeCluster for brokers (endpoint type 1)."
		if req.EndpointType == endpointTypeControllers {
			msg = "The bridge has no controller listener; ask for brokers (endpoint type 1)."
		}
		resp.ErrorMessage = &msg
		resp.ControllerID = -1
		return Respond(resp), nil
	}
	if !r.clusterAllowed(kmsg.ACLOperationDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return Respond(resp), nil
	}
	if req.IncludeClusterAuthorizedOperations {
		resp.ClusterAuthorizedOperations = r.authorizedOperations(kmsg.ACLResourceTypeCluster, clusterName, clusterOperations)
	}
	b := kmsg.NewDescribeClusterResponseBroker()
	b.NodeID, b.Host, b.Port = 0, r.Listener.host, r.Listener.port
	resp.Brokers = append(resp.Brokers, b)
	return Respond(resp), nil
}
