// DeleteRecords (key 21), versions 0-2: moves a partition's log start offset
// (its low watermark) up to the requested offset and deletes the records
// below it, through store TrimBefore. Offset -1 means the high watermark
// (delete everything there is now). An offset above the high watermark, or
// below -1, is OFFSET_OUT_OF_RANGE; one at or below the current low
// watermark changes nothing and reports it, as in Kafka. Fetches below the
// new low watermark then get OFFSET_OUT_OF_RANGE, for Kafka and Kinesis
// readers alike. Each partition answers on its own: its new low watermark,
// or -1 with an error. v2 is the flexible encoding; nothing else differs.
// Trims are durable before the response, so TimeoutMillis is ignored. A topic
// with cleanup.policy=compact alone is POLICY_VIOLATION, as in Kafka.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.DeleteRecords, MinVersion: 0, MaxVersion: 2, Handle: handleDeleteRecords})
}

func handleDeleteRecords(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DeleteRecordsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, t := range req.Topics {
		rt := kmsg.NewDeleteRecordsResponseTopic()
		rt.Topic = t.Topic
		allowed := r.topicAllowed(kmsg.ACLOperationDelete, t.Topic)
		if allowed {
			r.auditCall(resourceString(kmsg.ACLResourceTypeTopic, t.Topic), 0, "")
		}
		compactOnly := false
		if st, err := r.Server.store.DescribeStream(ctx, t.Topic); err == nil {
			// An internal topic is refused by TrimBefore first, as by Kafka (internaltopic.go).
			compactOnly = st.Compaction.Enabled && !st.Compaction.Delete && !isInternalTopic(t.Topic)
		}
		for _, p := range t.Partitions {
			rp := kmsg.NewDeleteRecordsResponseTopicPartition()
			rp.Partition = p.Partition
			rp.LowWatermark = -1
			if !allowed {
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			} else if compactOnly {
				// As Kafka: only a topic whose policy has delete drops records from its start.
				rp.ErrorCode = kerr.PolicyViolation.Code
				r.Server.log.Debug("delete records refused: cleanup.policy=compact", "topic", t.Topic, "partition", p.Partition)
			} else if p.Offset < -1 {
				rp.ErrorCode = kerr.OffsetOutOfRange.Code
			} else if low, err := r.Server.store.TrimBefore(ctx, t.Topic, p.Partition, p.Offset); err != nil {
				rp.ErrorCode = errorCode(err)
				r.Server.log.Debug("delete records refused", "topic", t.Topic, "partition", p.Partition, "offset", p.Offset, "err", err)
			} else {
				rp.LowWatermark = low
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return Respond(resp), nil
}
