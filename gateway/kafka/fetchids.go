package kafka

// Fetch v13+ (KIP-516) names topics by id only, in requests and responses.
// A fetch's ids are resolved to the stored topics' names before it is read;
// an id naming no topic gets UNKNOWN_TOPIC_ID in each of its partitions, as
// from Kafka. Ids are the ones Metadata reports (topicID).
//
// Resolving by listing every topic costs a store read per topic, so the
// names found are cached by id; a cached name is checked against the
// topic's current id on each fetch (a topic deleted and created again has
// a new id) and the cache is rebuilt at most once per fetch, on a miss.

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kerr"
)

// topicNames caches topic names by id for v13+ fetches.
type topicNames struct {
	mu    sync.Mutex
	names map[[16]byte]string
}

// resolve names the topics of a v13+ fetch in place, recording the ids
// naming no topic for finish. It runs on the reader goroutine, after open.
func (fc *fetchContext) resolve(ctx context.Context, s *Server) {
	req := fc.req
	if req.Version < 13 {
		return
	}
	c := &fc.c.ids
	c.mu.Lock()
	defer c.mu.Unlock()
	rebuilt := false
	for i := range req.Topics {
		rt := &req.Topics[i]
		rt.Topic = ""
		name, ok := c.names[rt.TopicID]
		if ok {
			st, err := s.store.DescribeStream(ctx, name)
			ok = err == nil && topicID(st) == rt.TopicID
		}
		if !ok && !rebuilt && rt.TopicID != [16]byte{} {
			rebuilt = true
			byID, err := s.topicsByID(ctx)
			if err == nil {
				c.names = make(map[[16]byte]string, len(byID))
				for id, st := range byID {
					c.names[id] = st.Name
				}
				name, ok = c.names[rt.TopicID]
			}
		}
		if !ok {
			if fc.unknownIDs == nil {
				fc.unknownIDs = map[[16]byte]bool{}
			}
			fc.unknownIDs[rt.TopicID] = true
			continue
		}
		rt.Topic = name
	}
}

// markUnknownIDs answers UNKNOWN_TOPIC_ID for the partitions of topics
// whose id named none.
func (fc *fetchContext) markUnknownIDs(resp *fetchResponse) {
	if len(fc.unknownIDs) == 0 {
		return
	}
	for i := range resp.Topics {
		t := &resp.Topics[i]
		if !fc.unknownIDs[t.TopicID] {
			continue
		}
		for j := range t.Partitions {
			p := &t.Partitions[j]
			p.ErrorCode = kerr.UnknownTopicID.Code
			p.HighWatermark, p.LastStableOffset, p.LogStartOffset = -1, -1, -1
			resp.records[i][j] = nil
		}
	}
}
