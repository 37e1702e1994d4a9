// OffsetFetch (key 9), versions 0-9: a group's committed offsets (v0,
// which read ZooKeeper in Kafka, is v1 here: there is one offset store). v8+
// batches groups. Null Topics asks for every committed offset of the
// group; a partition without one is offset -1, leader epoch -1, metadata
// "" and no error, and so is every partition of a group that does not exist
// (Kafka's answer, which lets consumers fall back to their reset policy).
// Offsets of a deleted topic do not count (see committedOffset). The v9
// member id and epoch are for KIP-848 groups and ignored for classic ones,
// as Kafka does; RequireStable (v7+) is ignored: there are no transactional
// offset commits here. The empty group id is a group like any other, as
// in Kafka.
package kafka

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func init() {
	register(API{Key: kmsg.OffsetFetch, MinVersion: 0, MaxVersion: 9, Handle: handleOffsetFetch})
}

func handleOffsetFetch(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.OffsetFetchRequest)
	return RespondLater(func(ctx context.Context) (kmsg.Response, error) {
		return fetchOffsets(ctx, r, req), nil
	}), nil
}

// fetchOffsets needs DESCRIBE on each group and on each topic named; a
// request for all of a group's topics leaves out those the principal may
// not describe. It runs on the writer goroutine, where r's fields are
// still only read.
func fetchOffsets(ctx context.Context, r *Request, req *kmsg.OffsetFetchRequest) *kmsg.OffsetFetchResponse {
	resp := req.ResponseKind().(*kmsg.OffsetFetchResponse)
	if req.Version >= 8 {
		for _, rg := range req.Groups {
			resp.Groups = append(resp.Groups, fetchGroupOffsets(ctx, r, rg.Group, rg.Topics))
		}
		return resp
	}

	// v1-v7: one group, in the pre-batching shape.
	var topics []kmsg.OffsetFetchRequestGroupTopic
	if req.Topics != nil {
		topics = make([]kmsg.OffsetFetchRequestGroupTopic, 0, len(req.Topics))
		for _, t := range req.Topics {
			gt := kmsg.NewOffsetFetchRequestGroupTopic()
			gt.Topic, gt.Partitions = t.Topic, t.Partitions
			topics = append(topics, gt)
		}
	}
	g := fetchGroupOffsets(ctx, r, req.Group, topics)
	resp.ErrorCode = g.ErrorCode
	for _, t := range g.Topics {
		rt := kmsg.NewOffsetFetchResponseTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetFetchResponseTopicPartition()
			rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode = p.Partition, p.Offset, p.LeaderEpoch, p.Metadata, p.ErrorCode
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if req.Version < 2 && resp.ErrorCode != 0 {
		// v1 has no group-level error: it goes on every partition.
		for i := range resp.Topics {
			for j := range resp.Topics[i].Partitions {
				resp.Topics[i].Partitions[j].ErrorCode = resp.ErrorCode
			}
		}
	}
	return resp
}

// fetchGroupOffsets answers one group; topics nil means all.
func fetchGroupOffsets(ctx context.Context, r *Request, name string, topics []kmsg.OffsetFetchRequestGroupTopic) kmsg.OffsetFetchResponseGroup {
	s := r.Server
	out := kmsg.NewOffsetFetchResponseGroup()
	out.Group = name
	none := func(p int32) kmsg.OffsetFetchResponseGroupTopicPartition {
		rp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
		rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata = p, -1, -1, kmsg.StringPtr("")
		return rp
	}
	// The requested partitions, each -1 until found.
	for _, t := range topics {
		rt := kmsg.NewOffsetFetchResponseGroupTopic()
		rt.Topic = t.Topic
		for _, p := range t.Partitions {
			rt.Partitions = append(rt.Partitions, none(p))
		}
		out.Topics = append(out.Topics, rt)
	}
	fail := func(code int16) kmsg.OffsetFetchResponseGroup {
		out.ErrorCode = code
		for i := range out.Topics {
			for j := range out.Topics[i].Partitions {
				out.Topics[i].Partitions[j].ErrorCode = code
			}
		}
		return out
	}
	if !r.groupAllowed(kmsg.ACLOperationDescribe, name) {
		return fail(kerr.GroupAuthorizationFailed.Code)
	}
	denied := map[string]bool{}
	for i := range out.Topics {
		t := &out.Topics[i]
		if !r.topicAllowed(kmsg.ACLOperationDescribe, t.Topic) {
			denied[t.Topic] = true
			for j := range t.Partitions {
				t.Partitions[j].ErrorCode = kerr.TopicAuthorizationFailed.Code
			}
		}
	}
	c, err := s.groupCoordinator()
	if err != nil {
		return fail(coordinatorErrorCode(s, err))
	}
	g, err := c.group(name, false)
	if err != nil {
		return fail(coordinatorErrorCode(s, err))
	}
	if g == nil {
		return out
	}
	// Copy what is needed and let go of the group before asking the
	// store about topics.
	var offsets map[string]map[int32]committedOffset
	if topics == nil {
		offsets = make(map[string]map[int32]committedOffset, len(g.offsets))
		for t, ps := range g.offsets {
			if !r.quietlyAuthorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, t) {
				continue
			}
			offsets[t] = make(map[int32]committedOffset, len(ps))
			for p, o := range ps {
				offsets[t][p] = o
			}
		}
	} else {
		offsets = map[string]map[int32]committedOffset{}
		for _, t := range topics {
			ps := g.offsets[t.Topic]
			if ps == nil || denied[t.Topic] {
				continue
			}
			offsets[t.Topic] = map[int32]committedOffset{}
			for _, p := range t.Partitions {
				if o, ok := ps[p]; ok {
					offsets[t.Topic][p] = o
				}
			}
		}
	}
	g.mu.Unlock()

	valid := map[string][16]byte{} // topics that exist, by id
	for t := range offsets {
		if st, err := s.store.DescribeStream(ctx, t); err == nil {
			valid[t] = topicID(st)
		}
	}
	live := func(t string, o committedOffset) bool {
		id, ok := valid[t]
		return ok && id == o.topicID
	}
	set := func(rp *kmsg.OffsetFetchResponseGroupTopicPartition, o committedOffset) {
		rp.Offset, rp.LeaderEpoch, rp.Metadata = o.offset, o.leaderEpoch, kmsg.StringPtr(o.metadata)
	}

	if topics != nil {
		for i := range out.Topics {
			t := &out.Topics[i]
			for j := range t.Partitions {
				if o, ok := offsets[t.Topic][t.Partitions[j].Partition]; ok && live(t.Topic, o) {
					set(&t.Partitions[j], o)
				}
			}
		}
		return out
	}
	names := make([]string, 0, len(offsets))
	for t := range offsets {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		rt := kmsg.NewOffsetFetchResponseGroupTopic()
		rt.Topic = t
		ps := make([]int32, 0, len(offsets[t]))
		for p, o := range offsets[t] {
			if live(t, o) {
				ps = append(ps, p)
			}
		}
		if len(ps) == 0 {
			continue
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		for _, p := range ps {
			rp := none(p)
			set(&rp, offsets[t][p])
			rt.Partitions = append(rt.Partitions, rp)
		}
		out.Topics = append(out.Topics, rt)
	}
	return out
}
