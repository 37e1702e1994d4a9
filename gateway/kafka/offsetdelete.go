// OffsetDelete (key 47), version 0: deletes a group's committed offsets for
// some partitions. A group with members may lose offsets only of topics no
// member subscribes to (GROUP_SUBSCRIBED_TO_TOPIC otherwise, read from the
// members' consumer protocol metadata) and only if it uses the consumer
// protocol (NON_EMPTY_GROUP otherwise). GROUP_ID_NOT_FOUND for a group that
// does not exist. Partitions without an offset succeed.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.OffsetDelete, MinVersion: 0, MaxVersion: 0, Handle: handleOffsetDelete})
}

func handleOffsetDelete(_ context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.OffsetDeleteRequest)
	return RespondLater(func(context.Context) (kmsg.Response, error) {
		return deleteOffsets(r, req), nil
	}), nil
}

// deleteOffsets needs DELETE on the group and READ on each topic. It runs
// on the writer goroutine, where r's fields are still only read.
func deleteOffsets(r *Request, req *kmsg.OffsetDeleteRequest) *kmsg.OffsetDeleteResponse {
	s := r.Server
	resp := req.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if req.Group == "" {
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return resp
	}
	if !r.groupAllowed(kmsg.ACLOperationDelete, req.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return resp
	}
	r.auditCall(resourceString(kmsg.ACLResourceTypeGroup, req.Group), 0, "")
	c, err := s.groupCoordinator()
	if err != nil {
		resp.ErrorCode = coordinatorErrorCode(s, err)
		return resp
	}
	g, err := c.group(req.Group, false)
	if err != nil {
		resp.ErrorCode = coordinatorErrorCode(s, err)
		return resp
	}
	if g == nil {
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return resp
	}
	defer g.mu.Unlock()
	if g.state != groupEmpty && g.protocolType != "consumer" {
		resp.ErrorCode = kerr.NonEmptyGroup.Code
		return resp
	}

	type del struct {
		topic string
		p     int32
	}
	var dels []del
	var writes []store.KV
	for _, t := range req.Topics {
		rt := kmsg.NewOffsetDeleteResponseTopic()
		rt.Topic = t.Topic
		subscribed := (g.state != groupEmpty || g.cgHasMembers()) && g.isSubscribedTo(t.Topic)
		readable := r.topicAllowed(kmsg.ACLOperationRead, t.Topic)
		for _, p := range t.Partitions {
			rp := kmsg.NewOffsetDeleteResponseTopicPartition()
			rp.Partition = p.Partition
			if !readable {
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				rt.Partitions = append(rt.Partitions, rp)
				continue
			}
			if subscribed {
				rp.ErrorCode = kerr.GroupSubscribedToTopic.Code
			} else if _, ok := g.offsets[t.Topic][p.Partition]; ok {
				dels = append(dels, del{t.Topic, p.Partition})
				writes = append(writes, store.KV{Namespace: groupNamespace, Key: offsetKey(g.name, t.Topic, p.Partition)})
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	if len(writes) > 0 {
		if err := s.store.Update(context.Background(), writes...); err != nil {
			resp.ErrorCode = coordinatorErrorCode(s, err)
			resp.Topics = nil
			return resp
		}
	}
	for _, d := range dels {
		delete(g.offsets[d.topic], d.p)
		if len(g.offsets[d.topic]) == 0 {
			delete(g.offsets, d.topic)
		}
	}
	g.maybeRetire()
	return resp
}

// forgetTopicOffsets drops every group's committed offsets of topic, as
// Kafka does when a topic is deleted. DeleteTopics does not call it yet
// (deletetopics.go belongs to the front end core): meanwhile a deleted
// topic's offsets stop counting at once anyway, because each stored offset
// carries its topic's id (see committedOffset), and they leave the store at
// the next restart. Calling this from deleteOneTopic would also remove them
// from the store right away and let a group left with nothing go.
func (s *Server) forgetTopicOffsets(ctx context.Context, topic string) error {
	c, err := s.groupCoordinator()
	if err != nil {
		return err
	}
	for _, g := range c.all() {
		g.mu.Lock()
		if g.gone || len(g.offsets[topic]) == 0 {
			g.mu.Unlock()
			continue
		}
		var writes []store.KV
		for p := range g.offsets[topic] {
			writes = append(writes, store.KV{Namespace: groupNamespace, Key: offsetKey(g.name, topic, p)})
		}
		if err := s.store.Update(ctx, writes...); err != nil {
			g.mu.Unlock()
			return err
		}
		delete(g.offsets, topic)
		g.maybeRetire()
		g.mu.Unlock()
	}
	return nil
}
