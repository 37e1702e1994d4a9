package kafka

// ListOffsets v0 asks for up to MaxNumOffsets offsets "before" a timestamp
// and gets OldStyleOffsets, newest first: Kafka's legacyFetchOffsetsBefore,
// which lists the base offsets of the log segments last modified at or
// before the timestamp, plus the log end offset for the latest. The store
// has no segments, so the log is taken as one segment starting at the log
// start offset and last modified when its newest record was stamped:
// latest (-1) gives [high watermark, log start] (the log start alone for
// an empty partition), earliest (-2) [log start], and a timestamp
// [high watermark, log start] when it is now or later, [log start] when it
// is at or after the newest record's timestamp, and nothing before that.

import (
	"context"
	"time"
)

// legacyOffsets answers one partition of a ListOffsets v0.
func (s *Server) legacyOffsets(ctx context.Context, topic string, partition int32, ts int64, maxNum int32) ([]int64, error) {
	logStart, hw, err := s.store.Offsets(ctx, topic, partition)
	if err != nil {
		return nil, err
	}
	all := []int64{hw, logStart} // newest first
	if hw == logStart {
		all = all[1:]
	}
	switch {
	case ts == -1 || ts >= time.Now().UnixMilli():
	case ts == -2:
		all = all[len(all)-1:]
	default:
		_, newest, found, err := s.store.MaxTimestamp(ctx, topic, partition)
		switch {
		case err != nil:
			return nil, err
		case !found || newest <= ts:
			all = all[len(all)-1:]
		default:
			all = nil
		}
	}
	return all[:min(len(all), max(int(maxNum), 0))], nil
}
