// Metadata (key 3), versions 0-12: the cluster is one broker, node 0 at
// Config.AdvertisedAddr, leading every partition (epoch 0, ISR and replicas
// [0]), retired partitions included because consumers read them to their end.
// Unknown topics are created when Config.AutoCreateTopics allows it and, from
// v4, the request does too (AllowAutoTopicCreation); before v4 a request
// always allowed it. v10+ carries topic ids (see topicID); v12 may name topics
// by id only. v8-v10 authorized-operations fields are left at "not
// requested" values (-2147483648).
package kafka

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/internal/uuid"
	"github.com/streambridge/bridge/store"
)

func init() {
	register(API{Key: kmsg.Metadata, MinVersion: 0, MaxVersion: 12, Handle: handleMetadata})
}

func handleMetadata(ctx context.Context, r *Request) (Reply, error) {
	req := r.Body.(*kmsg.MetadataRequest)
	resp := req.ResponseKind().(*kmsg.MetadataResponse)
	s := r.Server

	b := kmsg.NewMetadataResponseBroker()
	b.NodeID = 0
	b.Host = r.Listener.host
	b.Port = r.Listener.port
	resp.Brokers = append(resp.Brokers, b)
	resp.ClusterID = &s.clusterID
	resp.ControllerID = 0

	// v0 asks for every topic with an empty list, v1+ with a null one.
	all := req.Topics == nil || (r.Version == 0 && len(req.Topics) == 0)
	if all {
		names, err := s.store.ListStreams(ctx)
		if err != nil {
			return Reply{}, err
		}
		for _, name := range names {
			if !r.quietlyAuthorized(kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeTopic, name) {
				continue // Kafka lists only the topics one may describe
			}
			st, err := s.store.DescribeStream(ctx, name)
			if err != nil {
				continue // deleted meanwhile
			}
			resp.Topics = append(resp.Topics, metadataTopic(st))
		}
		return Respond(r.withAuthorizedOperations(req, resp)), nil
	}

	var byID map[[16]byte]store.Stream
	for _, rt := range req.Topics {
		if rt.Topic == nil || *rt.Topic == "" {
			// v10+: by topic id only.
			if byID == nil {
				var err error
				if byID, err = s.topicsByID(ctx); err != nil {
					return Reply{}, err
				}
			}
			st, ok := byID[rt.TopicID]
			if ok && !r.topicAllowed(kmsg.ACLOperationDescribe, st.Name) {
				t := kmsg.NewMetadataResponseTopic()
				t.TopicID = rt.TopicID
				t.ErrorCode = kerr.TopicAuthorizationFailed.Code
				resp.Topics = append(resp.Topics, t)
				continue
			}
			if !ok {
				t := kmsg.NewMetadataResponseTopic()
				t.TopicID = rt.TopicID
				t.ErrorCode = kerr.UnknownTopicID.Code
				resp.Topics = append(resp.Topics, t)
				continue
			}
			resp.Topics = append(resp.Topics, metadataTopic(st))
			continue
		}
		name := *rt.Topic
		if !r.topicAllowed(kmsg.ACLOperationDescribe, name) {
			t := kmsg.NewMetadataResponseTopic()
			t.Topic = kmsg.StringPtr(name)
			t.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, t)
			continue
		}
		st, err := s.autoCreate(ctx, r, name, r.Version < 4 || req.AllowAutoTopicCreation)
		if err != nil {
			t := kmsg.NewMetadataResponseTopic()
			t.Topic = kmsg.StringPtr(name)
			t.ErrorCode = errorCode(err)
			resp.Topics = append(resp.Topics, t)
			continue
		}
		resp.Topics = append(resp.Topics, metadataTopic(st))
	}
	return Respond(r.withAuthorizedOperations(req, resp)), nil
}

// withAuthorizedOperations fills in the bit fields Metadata v8+ asks for:
// per topic (IncludeTopicAuthorizedOperations) and, in v8-10, for the
// cluster (IncludeClusterAuthorizedOperations).
func (r *Request) withAuthorizedOperations(req *kmsg.MetadataRequest, resp *kmsg.MetadataResponse) *kmsg.MetadataResponse {
	if r.Version < 8 {
		return resp
	}
	if req.IncludeTopicAuthorizedOperations {
		for i := range resp.Topics {
			if t := &resp.Topics[i]; t.ErrorCode == 0 && t.Topic != nil {
				t.AuthorizedOperations = r.authorizedOperations(kmsg.ACLResourceTypeTopic, *t.Topic, topicOperations)
			}
		}
	}
	if req.IncludeClusterAuthorizedOperations && r.Version <= 10 {
		resp.AuthorizedOperations = r.authorizedOperations(kmsg.ACLResourceTypeCluster, clusterName, clusterOperations)
	}
	return resp
}

// metadataTopic describes a topic: every partition led by node 0.
func metadataTopic(st store.Stream) kmsg.MetadataResponseTopic {
	t := kmsg.NewMetadataResponseTopic()
	t.Topic = kmsg.StringPtr(st.Name)
	t.TopicID = topicID(st)
	t.IsInternal = isInternalTopic(st.Name) // internaltopic.go
	t.Partitions = make([]kmsg.MetadataResponseTopicPartition, len(st.Partitions))
	for i, p := range st.Partitions {
		mp := kmsg.NewMetadataResponseTopicPartition()
		mp.Partition = p.ID
		mp.Leader = 0
		mp.LeaderEpoch = 0
		mp.Replicas = []int32{0}
		mp.ISR = []int32{0}
		mp.OfflineReplicas = []int32{}
		t.Partitions[i] = mp
	}
	return t
}

// topicsByID maps every topic's id to the topic, for requests naming topics
// by id. Ids are not indexed: lookups by id are rare (Metadata v12 only).
func (s *Server) topicsByID(ctx context.Context) (map[[16]byte]store.Stream, error) {
	names, err := s.store.ListStreams(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[[16]byte]store.Stream, len(names))
	for _, name := range names {
		if st, err := s.store.DescribeStream(ctx, name); err == nil {
			m[topicID(st)] = st
		}
	}
	return m, nil
}

// validTopicName applies Kafka's rule for topic names: 1-249 characters of
// [a-zA-Z0-9._-], and not "." or "..".
func validTopicName(name string) error {
	switch {
	case name == "":
		return errors.New("topic name is empty")
	case name == "." || name == "..":
		return errors.New(`topic name cannot be "." or ".."`)
	case len(name) > 249:
		return errors.New("topic name is longer than 249 characters")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("topic name %q has an illegal character %q; legal are [a-zA-Z0-9._-]", name, c)
		}
	}
	return nil
}

// topicIDKey is where a topic's id lives in store.Stream.Config.
const topicIDKey = "kafka.topic.id"

// topicID returns the topic's 16-byte id (Kafka's UUID), stable for the
// topic's life. Topics created through this front end carry a random id in
// Config[topicIDKey] (see newTopicConfig). A stream created another way (the
// Kinesis API) has none; its id is then derived from its name and creation
// time, which is as stable as a stored id and differs for a topic deleted
// and created again, the property clients rely on to notice recreation.
// The result is never the zero UUID, which Kafka reserves for "no id".
func topicID(st store.Stream) [16]byte {
	if id, ok := parseUUID(st.Config[topicIDKey]); ok {
		return id
	}
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(st.Created.UnixNano()))
	h := sha256.New()
	h.Write([]byte(st.Name))
	h.Write([]byte{0})
	h.Write(b[:])
	var id [16]byte
	copy(id[:], h.Sum(nil))
	id[6] = id[6]&0x0f | 0x80 // RFC 9562 version 8: custom
	id[8] = id[8]&0x3f | 0x80 // RFC 9562 variant
	return id
}

// newTopicConfig returns cfg (copied, never modified) plus a fresh random
// topic id under topicIDKey, unless cfg already has one. Every code path
// that creates a topic passes its store.StreamConfig.Config through it.
func newTopicConfig(cfg map[string]string) map[string]string {
	out := make(map[string]string, len(cfg)+1)
	for k, v := range cfg {
		out[k] = v
	}
	if _, ok := parseUUID(out[topicIDKey]); !ok {
		out[topicIDKey] = uuid.NewString()
	}
	return out
}

// createTopic creates a topic the way auto-creation does: partitions
// partitions (one shard each, per the slot rule) and the default topic
// configs (DefaultTopicStreamConfig). An existing topic is not an error:
// concurrent auto-creations race, and the loser wants the winner's topic.
func (s *Server) createTopic(ctx context.Context, name string, partitions int) (store.Stream, error) {
	cfg := DefaultTopicStreamConfig(name, partitions)
	cfg.Config = newTopicConfig(cfg.Config)
	st, err := s.store.CreateStream(ctx, cfg)
	if errors.Is(err, store.ErrStreamExists) {
		return s.store.DescribeStream(ctx, name)
	}
	if err == nil {
		s.log.Info("kafka: topic auto-created", "topic", name, "partitions", partitions)
	}
	return st, err
}

// autoCreate looks a topic up and, when it does not exist and auto-creation
// is on, creates it with Config.DefaultPartitions (Metadata and Produce).
// Invalid names get INVALID_TOPIC_EXCEPTION via errInvalidTopic.
func (s *Server) autoCreate(ctx context.Context, r *Request, name string, allowed bool) (store.Stream, error) {
	st, err := s.store.DescribeStream(ctx, name)
	if !errors.Is(err, store.ErrStreamNotFound) || !allowed || !s.cfg.AutoCreateTopics {
		return st, err
	}
	// Creating takes CREATE on the cluster or on the topic, as for
	// CreateTopics; without it the topic stays unknown, as in Kafka.
	if !r.quietlyAuthorized(kmsg.ACLOperationCreate, kmsg.ACLResourceTypeCluster, clusterName) &&
		!r.topicAllowed(kmsg.ACLOperationCreate, name) {
		return st, err
	}
	if verr := validTopicName(name); verr != nil {
		return st, fmt.Errorf("%w: %v", errInvalidTopic, verr)
	}
	return s.createTopic(ctx, name, s.cfg.DefaultPartitions)
}

func formatUUID(id [16]byte) string { return uuid.UUID(id).String() }

func parseUUID(s string) ([16]byte, bool) {
	var id [16]byte
	h := strings.ReplaceAll(s, "-", "")
	if len(h) != 32 {
		return id, false
	}
	if _, err := hex.Decode(id[:], []byte(h)); err != nil || id == ([16]byte{}) {
		return id, false
	}
	return id, true
}
