// ListOffsets (key 2), versions 0-7 (v0, with MaxNumOffsets and
// OldStyleOffsets, in listoffsets_legacy.go): per partition, the offset for a
// timestamp: -1 (latest) is the high watermark, -2 (earliest) the log start
// offset, -3 (v7, KIP-734) the offset and timestamp of the record with the
// largest timestamp; any other timestamp the first record at or after it
// (store.OffsetForTimestamp). When there is no such record the answer is
// offset -1 and timestamp -1, as Kafka's. The special timestamps of later
// versions (-4, -5) do not exist at v7 and get INVALID_REQUEST, like any
// other negative one. Latest and earliest report
// timestamp -1. v2+ IsolationLevel 1 (read_committed) makes the last stable
// offset the end, as Kafka: latest is the LSO, and a timestamp's (or -3's)
// record at or past it is not found (-1, -1); v4+
// CurrentLeaderEpoch above 0 gets UNKNOWN_LEADER_EPOCH and LeaderEpoch is
// always 0.
package kafka

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.ListOffsets, MinVersion: 0, MaxVersion: 7, Handle: handleListOffsets})
}

func handleListOffsets(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.ListOffsetsRequest)
	resp := req.ResponseKind().(*kmsg.ListOffsetsResponse)
	s := r.Server
	resp.Topics = make([]kmsg.ListOffsetsResponseTopic, len(req.Topics))
	for i, rt := range req.Topics {
		t := &resp.Topics[i]
		*t = kmsg.NewListOffsetsResponseTopic()
		t.Topic = rt.Topic
		t.Partitions = make([]kmsg.ListOffsetsResponseTopicPartition, len(rt.Partitions))
		allowed := r.topicAllowed(kmsg.ACLOperationDescribe, rt.Topic)
		for j, p := range rt.Partitions {
			rp := &t.Partitions[j]
			*rp = kmsg.NewListOffsetsResponseTopicPartition()
			rp.Partition = p.Partition
			rp.Timestamp, rp.Offset, rp.LeaderEpoch = -1, -1, -1
			if !allowed {
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				continue
			}
			if r.Version >= 4 && p.CurrentLeaderEpoch > 0 {
				rp.ErrorCode = kerr.UnknownLeaderEpoch.Code
				continue
			}
			if r.Version == 0 {
				var err error
				if rp.OldStyleOffsets, err = s.legacyOffsets(ctx, rt.Topic, p.Partition, p.Timestamp, p.MaxNumOffsets); err != nil {
					rp.ErrorCode = errorCode(err)
				}
				continue
			}
			off, ts, err := s.listOffset(ctx, rt.Topic, p.Partition, p.Timestamp, r.Version >= 2 && req.IsolationLevel == 1)
			if err != nil {
				rp.ErrorCode = errorCode(err)
				continue
			}
			rp.Offset, rp.Timestamp, rp.LeaderEpoch = off, ts, 0
		}
	}
	return Respond(resp), nil
}

// listOffset resolves one partition's timestamp query to (offset, ts); a
// committed one ends at the last stable offset.
func (s *Server) listOffset(ctx context.Context, topic string, partition int32, ts int64, committed bool) (int64, int64, error) {
	logStart, hw, err := s.store.Offsets(ctx, topic, partition)
	if err != nil {
		return 0, 0, err
	}
	if committed {
		if hw, err = s.store.LastStableOffset(ctx, topic, partition); err != nil {
			return 0, 0, err
		}
	}
	switch {
	case ts == -1:
		return hw, -1, nil
	case ts == -2:
		return logStart, -1, nil
	case ts == -3:
		off, rts, found, err := s.store.MaxTimestamp(ctx, topic, partition)
		if err != nil || !found || off >= hw {
			return -1, -1, err
		}
		return off, rts, nil
	case ts < 0:
		return 0, 0, fmt.Errorf("%w: timestamp %d", store.ErrInvalidArgument, ts)
	}
	off, rts, found, err := s.store.OffsetForTimestamp(ctx, topic, partition, ts)
	if err != nil || !found || off >= hw {
		return -1, -1, err
	}
	return off, rts, nil
}
