// DeleteTopics (key 20), versions 0-6: deletes the stream behind each topic,
// records included, for every front end at once (a Kafka topic is the
// Kinesis stream of the same name). v0-v5 name topics; v6 names them or
// gives their ids (exactly one of the two per entry, else INVALID_REQUEST).
// Unknown names are UNKNOWN_TOPIC_OR_PARTITION and unknown ids
// UNKNOWN_TOPIC_ID; a topic listed twice is INVALID_REQUEST. v5+ carries
// ErrorMessage. Deletion is synchronous and durable before the response, so
// TimeoutMillis is ignored.
package kafka

import (
	"context"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.DeleteTopics, MinVersion: 0, MaxVersion: 6, Handle: handleDeleteTopics})
}

func handleDeleteTopics(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.DeleteTopicsRequest)
	resp := req.ResponseKind().(*kmsg.DeleteTopicsResponse)

	// One entry per requested topic: v6 entries, or v0-v5 names as entries.
	entries := req.Topics
	if r.Version < 6 {
		entries = make([]kmsg.DeleteTopicsRequestTopic, len(req.TopicNames))
		for i, name := range req.TopicNames {
			entries[i].Topic = kmsg.StringPtr(name)
		}
	}
	// Ids live in each stream's config (or derive from its name and
	// creation), so a lookup by id is a scan, done once per request.
	var ids map[[16]byte]store.Stream
	type target struct {
		name string
		aerr *kafkaError
	}
	targets := make([]target, len(entries))
	count := map[string]int{}
	for i, e := range entries {
		switch {
		case e.Topic != nil && e.TopicID != [16]byte{}:
			targets[i].aerr = refuse(kerr.InvalidRequest, "You may not specify both topic name and topic id.")
		case e.Topic != nil:
			targets[i].name = *e.Topic
		case e.TopicID != [16]byte{}:
			if ids == nil {
				var err error
				if ids, err = r.Server.topicsByID(ctx); err != nil {
					return Reply{}, err
				}
			}
			st, ok := ids[e.TopicID]
			if !ok {
				targets[i].aerr = refuse(kerr.UnknownTopicID, "Topic id %s does not exist.", formatUUID(e.TopicID))
				continue
			}
			targets[i].name = st.Name
		default:
			targets[i].aerr = refuse(kerr.InvalidRequest, "Neither topic name nor topic id was given.")
		}
		if targets[i].aerr == nil {
			count[targets[i].name]++
		}
	}

	for i, e := range entries {
		t := kmsg.NewDeleteTopicsResponseTopic()
		t.Topic, t.TopicID = e.Topic, e.TopicID
		aerr := targets[i].aerr
		name := targets[i].name
		if aerr == nil {
			t.Topic = kmsg.StringPtr(name)
			switch {
			case count[name] > 1:
				aerr = refuse(kerr.InvalidRequest, "Topic %s is listed more than once.", name)
			case !r.topicAllowed(kmsg.ACLOperationDelete, name):
				aerr = refuse(kerr.TopicAuthorizationFailed, "Authorization failed.")
			default:
				aerr = deleteOneTopic(ctx, r.Server, name)
				r.auditCall(resourceString(kmsg.ACLResourceTypeTopic, name), aerr.code(), derefString(aerr.message()))
			}
		}
		t.ErrorCode, t.ErrorMessage = aerr.code(), aerr.message()
		resp.Topics = append(resp.Topics, t)
	}
	return Respond(resp), nil
}

// deleteOneTopic deletes the stream called name.
func deleteOneTopic(ctx context.Context, s *Server, name string) *kafkaError {
	st, err := s.store.DescribeStream(ctx, name)
	if err == nil {
		err = s.store.DeleteStream(ctx, name)
	}
	if err != nil {
		aerr := storeError(err)
		if aerr.err == kerr.UnknownTopicOrPartition {
			aerr.msg = "Topic " + name + " does not exist."
		}
		return aerr
	}
	// Idempotent-producer state is keyed by topic id: a topic created again
	// under the same name has a new id and starts clean.
	if err := s.producers.forget(ctx, s.store, topicID(st)); err != nil {
		s.log.Warn("kafka: dropping a deleted topic's producer state", "topic", name, "err", err)
	}
	// Committed offsets name the topic: a topic created again under the
	// same name must not inherit them.
	if err := s.forgetTopicOffsets(ctx, name); err != nil {
		s.log.Warn("kafka: dropping a deleted topic's committed offsets", "topic", name, "err", err)
	}
	s.log.Info("topic deleted", "topic", name, "partitions", len(st.Partitions))
	return nil
}
