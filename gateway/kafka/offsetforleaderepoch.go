// OffsetForLeaderEpoch (key 23), versions 2-4: consumers ask it, after a
// leader change or on restart, for the end offset of the leader epoch of
// their last fetched record, to detect log truncation. Here every partition
// has had exactly one leader epoch, 0, and no log is ever truncated, so
// epoch 0 ends at the high watermark. An epoch above 0 is unknown to us:
// (-1, -1), Kafka's UNDEFINED_EPOCH answer; a negative epoch likewise.
// v2+ CurrentLeaderEpoch above 0 gets UNKNOWN_LEADER_EPOCH, as it means the
// client saw a newer leader than we are. v3 adds ReplicaID (consumers send
// -1); v4 is the flexible version.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.OffsetForLeaderEpoch, MinVersion: 2, MaxVersion: 4, Handle: handleOffsetForLeaderEpoch})
}

func handleOffsetForLeaderEpoch(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.OffsetForLeaderEpochRequest)
	resp := req.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	resp.Topics = make([]kmsg.OffsetForLeaderEpochResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		t := &resp.Topics[i]
		*t = kmsg.NewOffsetForLeaderEpochResponseTopic()
		t.Topic = rt.Topic
		t.Partitions = make([]kmsg.OffsetForLeaderEpochResponseTopicPartition, len(rt.Partitions))
		allowed := r.topicAllowed(kmsg.ACLOperationDescribe, rt.Topic)
		for j, p := range rt.Partitions {
			rp := &t.Partitions[j]
			*rp = kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			rp.Partition = p.Partition
			rp.LeaderEpoch, rp.EndOffset = -1, -1
			if !allowed {
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				continue
			}
			_, hw, err := r.Server.store.Offsets(ctx, rt.Topic, p.Partition)
			switch {
			case err != nil:
				rp.ErrorCode = errorCode(err)
			case p.CurrentLeaderEpoch > 0:
				rp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case p.LeaderEpoch == 0:
				rp.LeaderEpoch, rp.EndOffset = 0, hw
			}
		}
	}
	return Respond(resp), nil
}
