// CreatePartitions (key 37), versions 0-3: grows a topic to Count partitions
// under the slot rule (ARCHITECTURE.md): the store splits the widest open shards,
// each split's lower child continuing its parent's partition (offsets go on)
// and the upper child carrying a new partition at the end. Existing
// partitions keep every record and offset. Kafka partition counts only
// grow: a Count at or below the current count is INVALID_PARTITIONS, as in
// Kafka. A manual assignment must give each new partition the single
// replica 0 (INVALID_REPLICA_ASSIGNMENT otherwise). One request adds at
// most maxPartitionsAdded partitions (INVALID_PARTITIONS beyond, asking to
// grow in steps). ValidateOnly runs the checks and changes nothing. Versions
// differ only in encoding (v2+ is flexible); all carry ErrorMessage.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.CreatePartitions, MinVersion: 0, MaxVersion: 3, Handle: handleCreatePartitions})
}

// maxPartitionsAdded bounds the partitions one request adds. The store
// grows a topic one split at a time, each costing time in proportion to the
// topic's open shards, with every partition of the topic locked (produce to
// it waits): 1000 at once takes well under a second on a topic of a few
// hundred partitions and about four seconds on one of 10000. Bigger jumps
// go in steps, so no single request stalls a topic for minutes.
const maxPartitionsAdded = 1000

func handleCreatePartitions(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.CreatePartitionsRequest)
	resp := req.ResponseKind().(*kmsg.CreatePartitionsResponse)
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Topic]++
	}
	for i := range req.Topics {
		t := &req.Topics[i]
		var aerr *kafkaError
		switch {
		case count[t.Topic] > 1:
			aerr = refuse(kerr.InvalidRequest, "Duplicate topic in request: %s", t.Topic)
		case !r.topicAllowed(kmsg.ACLOperationAlter, t.Topic):
			aerr = refuse(kerr.TopicAuthorizationFailed, "Authorization failed.")
		default:
			aerr = growTopic(ctx, r.Server, t, req.ValidateOnly)
			if !req.ValidateOnly {
				r.auditCall(resourceString(kmsg.ACLResourceTypeTopic, t.Topic), aerr.code(), derefString(aerr.message()))
			}
		}
		rt := kmsg.NewCreatePartitionsResponseTopic()
		rt.Topic = t.Topic
		rt.ErrorCode, rt.ErrorMessage = aerr.code(), aerr.message()
		resp.Topics = append(resp.Topics, rt)
	}
	return Respond(resp), nil
}

// growTopic checks one topic of the request and, unless validateOnly, grows it.
func growTopic(ctx context.Context, s *Server, t *kmsg.CreatePartitionsRequestTopic, validateOnly bool) *kafkaError {
	st, err := s.store.DescribeStream(ctx, t.Topic)
	if err != nil {
		aerr := storeError(err)
		if aerr.err == kerr.UnknownTopicOrPartition {
			aerr.msg = "The topic '" + t.Topic + "' does not exist."
		}
		return aerr
	}
	have, want := len(st.Partitions), int(t.Count)
	switch {
	case want < have:
		return refuse(kerr.InvalidPartitions, "Topic currently has %d partitions, which is higher than the requested %d.", have, want)
	case want == have:
		return refuse(kerr.InvalidPartitions, "Topic already has %d partitions.", have)
	case want-have > maxPartitionsAdded:
		return refuse(kerr.InvalidPartitions, "Adding %d partitions at once is over this bridge's limit of %d per request; grow in steps.", want-have, maxPartitionsAdded)
	case len(st.Shards)+2*(want-have) > store.MaxShards:
		// Each new partition is one split: two new shards.
		return refuse(kerr.InvalidPartitions, "Growing to %d partitions would exceed this bridge's limit of %d shards per topic (it has %d).",
			want, store.MaxShards, len(st.Shards))
	}
	if t.Assignment != nil {
		if len(t.Assignment) != want-have {
			return refuse(kerr.InvalidReplicaAssignment, "Increasing the number of partitions by %d but %d assignments provided.", want-have, len(t.Assignment))
		}
		for i, a := range t.Assignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != 0 {
				return refuse(kerr.InvalidReplicaAssignment, "The manual partition assignment for new partition %d must be [0]: this bridge is a single broker (node 0), got %v.", have+i, a.Replicas)
			}
		}
	}
	if validateOnly {
		return nil
	}
	if _, err := s.store.GrowPartitions(ctx, t.Topic, want); err != nil {
		aerr := storeError(err)
		if aerr.err == kerr.InvalidRequest {
			aerr.err = kerr.InvalidPartitions
		}
		return aerr
	}
	s.log.Info("topic partitions added", "topic", t.Topic, "from", have, "to", want)
	return nil
}
