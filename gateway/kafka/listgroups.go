// ListGroups (key 16), versions 0-5: every group this node coordinates,
// with its protocol type ("consumer", or "" for a group that only holds
// offsets) and, from v4, its state, filtered by StatesFilter when given
// (matched without regard to case, as Kafka does). From v5 each group has
// its type, "classic" or "consumer" (KIP-848 groups, whose states are
// Empty, Assigning, Reconciling and Stable), filtered by TypesFilter (also
// without regard to case).
package kafka

import (
	"context"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.ListGroups, MinVersion: 0, MaxVersion: 5, Handle: handleListGroups})
}

func handleListGroups(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.ListGroupsRequest)
	return RespondLater(func(context.Context) (kmsg.Response, error) {
		resp := req.ResponseKind().(*kmsg.ListGroupsResponse)
		c, err := r.Server.groupCoordinator()
		if err != nil {
			resp.ErrorCode = coordinatorErrorCode(r.Server, err)
			return resp, nil
		}
		// DESCRIBE on the cluster lists every group; otherwise only the
		// groups one may describe are listed, as in Kafka.
		everyGroup := r.quietlyAuthorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeCluster, clusterName)
		want := map[string]bool{}
		for _, s := range req.StatesFilter {
			want[strings.ToLower(s)] = true
		}
		types := map[string]bool{}
		for _, t := range req.TypesFilter {
			types[strings.ToLower(t)] = true
		}
		for _, g := range c.all() {
			g.mu.Lock()
			gone, state, ptype, gtype := g.gone, g.state.String(), g.protocolType, "classic"
			if g.cg != nil {
				state, gtype = g.cg.stateName(), "consumer"
			}
			g.mu.Unlock()
			if gone || len(want) > 0 && !want[strings.ToLower(state)] || len(types) > 0 && !types[gtype] ||
				!everyGroup && !r.quietlyAuthorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeGroup, g.name) {
				continue
			}
			lg := kmsg.NewListGroupsResponseGroup()
			lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.name, ptype, state, gtype
			resp.Groups = append(resp.Groups, lg)
		}
		return resp, nil
	}), nil
}
