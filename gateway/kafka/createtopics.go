// CreateTopics (key 19), versions 0-7: creates one stream per topic, one
// shard per partition (the slot rule's starting layout), with the topic's
// Kafka configs validated and stored (topicconfig.go) and a fresh topic id
// (newTopicConfig). The bridge is one broker, so:
//
//   - NumPartitions -1 (v4+, KIP-464, but accepted at any version) means
//     Config.DefaultPartitions; 0 or below -1 is INVALID_PARTITIONS.
//   - ReplicationFactor -1 and 1 are fine; 0 or below -1, and anything above
//     1, is INVALID_REPLICATION_FACTOR.
//   - A manual replica assignment is honoured when it is trivially what we
//     would do anyway: partitions 0..n-1, each on replicas [0]. Anything else
//     is INVALID_REPLICA_ASSIGNMENT; an assignment together with
//     NumPartitions or ReplicationFactor is INVALID_REQUEST, as in Kafka.
//   - Illegal names (Kafka's rules: [a-zA-Z0-9._-], 1-249 characters, not "."
//     or "..", and not colliding with an existing topic when '.' and '_' are
//     taken as equal) are INVALID_TOPIC_EXCEPTION; an existing name is
//     TOPIC_ALREADY_EXISTS; a name listed twice is INVALID_REQUEST for both.
//
// ValidateOnly (v1+) runs every check, the existence check included, and
// creates nothing. v1+ carries ErrorMessage; v5+ returns the topic's
// partitions, replication factor and configs (as DescribeConfigs would list
// them); v7 returns the topic id. TimeoutMillis is ignored: creation is
// synchronous and durable before the response.
package kafka

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.CreateTopics, MinVersion: 0, MaxVersion: 7, Handle: handleCreateTopics})
}

// maxTopicNameLen is Kafka's limit: 255 minus room for a partition suffix
// in the broker's directory names.
const maxTopicNameLen = 249

func handleCreateTopics(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.CreateTopicsRequest)
	resp := req.ResponseKind().(*kmsg.CreateTopicsResponse)
	count := map[string]int{}
	for _, t := range req.Topics {
		count[t.Topic]++
	}
	for i := range req.Topics {
		t := &req.Topics[i]
		rt := kmsg.NewCreateTopicsResponseTopic()
		rt.Topic = t.Topic
		rt.NumPartitions, rt.ReplicationFactor = -1, -1
		var (
			st   store.Stream
			aerr *kafkaError
		)
		switch {
		case count[t.Topic] > 1:
			aerr = refuse(kerr.InvalidRequest, "Create topics request contains multiple entries for topic %s", t.Topic)
		case !r.quietlyAuthorized(kmsg.ACLOperationCreate, kmsg.ACLResourceTypeCluster, clusterName) &&
			!r.topicAllowed(kmsg.ACLOperationCreate, t.Topic):
			aerr = refuse(kerr.TopicAuthorizationFailed, "Authorization failed.")
		default:
			st, aerr = createOneTopic(ctx, r.Server, t, req.ValidateOnly)
			if !req.ValidateOnly {
				r.auditCall(resourceString(kmsg.ACLResourceTypeTopic, t.Topic), aerr.code(), derefString(aerr.message()))
			}
		}
		if aerr != nil {
			rt.ErrorCode, rt.ErrorMessage = aerr.code(), aerr.message()
			if aerr.err != kerr.InvalidRequest {
				r.Server.log.Debug("create topic refused", "topic", t.Topic, "err", aerr)
			}
		} else {
			rt.NumPartitions = int32(len(st.Partitions))
			rt.ReplicationFactor = 1
			if !req.ValidateOnly {
				rt.TopicID = topicID(st)
			}
			for _, cv := range topicConfigValues(&st) {
				c := kmsg.NewCreateTopicsResponseTopicConfig()
				c.Name, c.Value, c.ReadOnly, c.Source = cv.name, kmsg.StringPtr(cv.value), cv.readOnly, int8(cv.source)
				rt.Configs = append(rt.Configs, c)
			}
		}
		resp.Topics = append(resp.Topics, rt)
	}
	return Respond(resp), nil
}

// createOneTopic checks one topic of the request and, unless validateOnly,
// creates it. It returns the created stream, or for validateOnly the stream
// that would have been created (no shards, but its partitions and configs).
func createOneTopic(ctx context.Context, s *Server, t *kmsg.CreateTopicsRequestTopic, validateOnly bool) (store.Stream, *kafkaError) {
	if aerr := checkNewTopicName(t.Topic); aerr != nil {
		return store.Stream{}, aerr
	}
	partitions, aerr := newTopicPartitions(s, t)
	if aerr != nil {
		return store.Stream{}, aerr
	}
	entries := make([]topicConfigEntry, len(t.Configs))
	for i, c := range t.Configs {
		entries[i] = topicConfigEntry{name: c.Name, value: c.Value}
	}
	overrides, aerr := normalizeTopicConfigs(entries)
	if aerr == nil {
		aerr = checkTopicConfigSet(overrides)
	}
	if aerr != nil {
		return store.Stream{}, aerr
	}
	proto := store.Stream{Name: t.Topic}
	applyTopicOverrides(&proto, overrides)

	existing, err := s.store.ListStreams(ctx)
	if err != nil {
		return store.Stream{}, storeError(err)
	}
	if aerr := checkTopicCollision(t.Topic, existing); aerr != nil {
		return store.Stream{}, aerr
	}
	if validateOnly {
		if i := sort.SearchStrings(existing, t.Topic); i < len(existing) && existing[i] == t.Topic {
			return store.Stream{}, refuse(kerr.TopicAlreadyExists, "Topic '%s' already exists.", t.Topic)
		}
		proto.Partitions = make([]store.Partition, partitions)
		return proto, nil
	}
	st, err := s.store.CreateStream(ctx, store.StreamConfig{
		Name:           t.Topic,
		ShardCount:     partitions,
		Retention:      proto.Retention,
		RetentionBytes: proto.RetentionBytes,
		Encryption:     proto.Encryption,
		Compaction:     proto.Compaction,
		Config:         newTopicConfig(proto.Config),
	})
	switch {
	case errors.Is(err, store.ErrStreamExists):
		return store.Stream{}, refuse(kerr.TopicAlreadyExists, "Topic '%s' already exists.", t.Topic)
	case store.IsKeyError(err):
		return store.Stream{}, keyConfigError(proto.Encryption.KeyID, err)
	case err != nil:
		return store.Stream{}, storeError(err)
	}
	s.log.Info("topic created", "topic", t.Topic, "partitions", partitions)
	return st, nil
}

// newTopicPartitions checks the partition count, replication factor and
// replica assignment of t and returns how many partitions to create.
func newTopicPartitions(s *Server, t *kmsg.CreateTopicsRequestTopic) (int, *kafkaError) {
	if len(t.ReplicaAssignment) > 0 {
		if t.NumPartitions != -1 || t.ReplicationFactor != -1 {
			return 0, refuse(kerr.InvalidRequest, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.")
		}
		return len(t.ReplicaAssignment), checkTrivialAssignment(t.ReplicaAssignment)
	}
	switch rf := t.ReplicationFactor; {
	case rf == 0 || rf < -1:
		return 0, refuse(kerr.InvalidReplicationFactor, "Replication factor must be larger than 0, or -1 to use the default value.")
	case rf > 1:
		return 0, refuse(kerr.InvalidReplicationFactor, "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be reached because only 1 broker(s) are registered.", rf, rf)
	}
	n := int(t.NumPartitions)
	switch {
	case n == -1:
		n = s.cfg.DefaultPartitions
	case n < 1:
		return 0, refuse(kerr.InvalidPartitions, "Number of partitions was set to an invalid non-positive value.")
	}
	if n > store.MaxShards {
		return 0, refuse(kerr.InvalidPartitions, "Number of partitions %d is above this bridge's limit of %d.", n, store.MaxShards)
	}
	return n, nil
}

// checkTrivialAssignment accepts a manual assignment only if it is the one
// we make anyway: partitions 0..n-1, each with the single replica 0.
func checkTrivialAssignment(as []kmsg.CreateTopicsRequestTopicReplicaAssignment) *kafkaError {
	ids := make([]int, len(as))
	for i, a := range as {
		ids[i] = int(a.Partition)
		switch {
		case len(a.Replicas) == 0:
			return refuse(kerr.InvalidReplicaAssignment, "The manual partition assignment includes an empty replica list.")
		case len(a.Replicas) > 1:
			return refuse(kerr.InvalidReplicationFactor, "The manual partition assignment for partition %d has %d replicas; this bridge is a single broker (node 0).", a.Partition, len(a.Replicas))
		case a.Replicas[0] != 0:
			return refuse(kerr.InvalidReplicaAssignment, "The manual partition assignment includes broker %d, but no such broker is registered.", a.Replicas[0])
		}
	}
	sort.Ints(ids)
	for i, id := range ids {
		if id != i {
			return refuse(kerr.InvalidReplicaAssignment, "Partitions should be a consecutive 0-based integer sequence.")
		}
	}
	if len(ids) > store.MaxShards {
		return refuse(kerr.InvalidPartitions, "Number of partitions %d is above this bridge's limit of %d.", len(ids), store.MaxShards)
	}
	return nil
}

// checkNewTopicName applies Kafka's topic name rules (Topic.validate).
func checkNewTopicName(name string) *kafkaError {
	switch {
	case name == "":
		return refuse(kerr.InvalidTopicException, "Topic name is illegal, it can't be empty")
	case name == "." || name == "..":
		return refuse(kerr.InvalidTopicException, `Topic name cannot be "." or ".."`)
	case len(name) > maxTopicNameLen:
		return refuse(kerr.InvalidTopicException, "Topic name is illegal, it can't be longer than %d characters, topic name: %.300s", maxTopicNameLen, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return refuse(kerr.InvalidTopicException, "Topic name %q is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'", name)
		}
	}
	return nil
}

// checkTopicCollision refuses a name that differs from an existing topic only
// by '.' versus '_': Kafka forbids it because metric names cannot tell them
// apart. An identical name is left to CreateStream (TOPIC_ALREADY_EXISTS).
func checkTopicCollision(name string, existing []string) *kafkaError {
	if !strings.ContainsAny(name, "._") {
		return nil
	}
	unified := strings.ReplaceAll(name, ".", "_")
	for _, e := range existing {
		if e != name && strings.ReplaceAll(e, ".", "_") == unified {
			return refuse(kerr.InvalidTopicException, "Topic '%s' collides with existing topic: %s", name, e)
		}
	}
	return nil
}
