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
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/streambridge/bridge/store"
)

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
		var id [16]byte
		_, _ = rand.Read(id[:])   // never fails (crypto/rand documents it)
		id[6] = id[6]&0x0f | 0x40 // version 4: random
		id[8] = id[8]&0x3f | 0x80
		out[topicIDKey] = formatUUID(id)
	}
	return out
}

// createTopic creates a topic with partitions partitions (one shard each,
// per the slot rule) and Kafka configs cfg, as auto-creation does. An
// existing topic is not an error: concurrent auto-creations race, and the
// loser wants the winner's topic.
func (s *Server) createTopic(ctx context.Context, name string, partitions int, cfg map[string]string) (store.Stream, error) {
	st, err := s.store.CreateStream(ctx, store.StreamConfig{
		Name:       name,
		ShardCount: partitions,
		Config:     newTopicConfig(cfg),
	})
	if errors.Is(err, store.ErrStreamExists) {
		return s.store.DescribeStream(name)
	}
	return st, err
}

func formatUUID(id [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], id[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], id[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], id[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], id[8:10])
	b[23] = '-'
	hex.Encode(b[24:], id[10:])
	return string(b[:])
}

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
