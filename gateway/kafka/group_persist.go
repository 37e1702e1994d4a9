package kafka

// What a group leaves in the store's state area, namespace "kafka.group"
// (internal/groupoffsets, which the SQS front end reads too):
//
//	"m" + name            -> the group's metadata record (JSON, below)
//	"o" + name + topic + partition -> one committed offset (groupoffsets.Value)
//
// Every write is one store.Update: atomic and durable (fsync) before the
// request that caused it is answered.

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/streambridge/bridge/internal/groupoffsets"
	"github.com/streambridge/bridge/store"
)

const groupNamespace = groupoffsets.Namespace

var (
	appendName = groupoffsets.AppendName
	readName   = groupoffsets.ReadName
	offsetKey  = groupoffsets.Key
)

func groupMetaKey(group string) string { return string(appendName([]byte("m"), group)) }

// parseOffsetKey splits an offset key (without its "o").
func parseOffsetKey(k string) (group, topic string, partition int32, ok bool) {
	b := []byte(k)
	if group, b, ok = readName(b); !ok {
		return
	}
	if topic, b, ok = readName(b); !ok || len(b) != 4 {
		return "", "", 0, false
	}
	return group, topic, int32(binary.BigEndian.Uint32(b)), true
}

// committedOffset is one committed offset and what came with it. topicID is
// the topic's id at commit time: a topic deleted and created again under
// its name has another id, and its old offsets no longer count, as Kafka
// drops a deleted topic's offsets.
type committedOffset struct {
	offset      int64
	leaderEpoch int32
	metadata    string
	commitMs    int64
	topicID     [16]byte
}

func (o committedOffset) encode() []byte {
	return groupoffsets.Value{Offset: o.offset, LeaderEpoch: o.leaderEpoch, CommitMs: o.commitMs, TopicID: o.topicID, Metadata: o.metadata}.Encode()
}

func decodeCommittedOffset(b []byte) (committedOffset, error) {
	v, err := groupoffsets.Decode(b)
	if err != nil {
		return committedOffset{}, err
	}
	return committedOffset{offset: v.Offset, leaderEpoch: v.LeaderEpoch, commitMs: v.CommitMs, topicID: v.TopicID, metadata: v.Metadata}, nil
}

// groupRecord is a group's stored metadata: Kafka's GroupMetadataValue.
type groupRecord struct {
	Version      int            `json:"v"`
	ProtocolType string         `json:"protocol_type"`
	Protocol     string         `json:"protocol,omitempty"`
	Generation   int32          `json:"generation"`
	Leader       string         `json:"leader,omitempty"`
	Members      []memberRecord `json:"members,omitempty"`
	StoredMs     int64          `json:"stored_ms"`
	// Consumer is set for a KIP-848 consumer group (cgroup_persist.go).
	Consumer *cgRecord `json:"consumer,omitempty"`
}

type memberRecord struct {
	ID                 string           `json:"id"`
	InstanceID         *string          `json:"instance_id,omitempty"`
	ClientID           string           `json:"client_id"`
	ClientHost         string           `json:"client_host"`
	SessionTimeoutMs   int64            `json:"session_timeout_ms"`
	RebalanceTimeoutMs int64            `json:"rebalance_timeout_ms"`
	Protocols          []protocolRecord `json:"protocols"`
	Assignment         []byte           `json:"assignment"`
}

type protocolRecord struct {
	Name     string `json:"name"`
	Metadata []byte `json:"metadata"`
}

// storeMetadata writes the group's metadata with assign as the members'
// assignments (nil: their current ones).
func (g *group) storeMetadata(assign map[string][]byte) error {
	rec := groupRecord{
		ProtocolType: g.protocolType,
		Protocol:     g.protocol,
		Generation:   g.generation,
		Leader:       g.leader,
		StoredMs:     time.Now().UnixMilli(),
	}
	for _, m := range g.sortedMembers() {
		mr := memberRecord{
			ID:                 m.id,
			InstanceID:         m.instanceID,
			ClientID:           m.clientID,
			ClientHost:         m.clientHost,
			SessionTimeoutMs:   m.session.Milliseconds(),
			RebalanceTimeoutMs: m.rebalance.Milliseconds(),
			Assignment:         m.assignment,
		}
		if assign != nil {
			mr.Assignment = g.assignmentOrEmpty(assign[m.id])
		}
		for _, p := range m.protocols {
			mr.Protocols = append(mr.Protocols, protocolRecord{Name: p.Name, Metadata: p.Metadata})
		}
		rec.Members = append(rec.Members, mr)
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := g.c.s.store.Update(context.Background(), store.KV{Namespace: groupNamespace, Key: groupMetaKey(g.name), Value: v}); err != nil {
		return err
	}
	g.persisted = true
	return nil
}

// deleteStored removes the group's metadata and offsets from the store.
func (g *group) deleteStored() error {
	writes := []store.KV{{Namespace: groupNamespace, Key: groupMetaKey(g.name)}}
	for topic, ps := range g.offsets {
		for p := range ps {
			writes = append(writes, store.KV{Namespace: groupNamespace, Key: offsetKey(g.name, topic, p)})
		}
	}
	if err := g.c.s.store.Update(context.Background(), writes...); err != nil {
		return err
	}
	g.persisted = false
	return nil
}

// load rebuilds the groups from the store; see the package's group
// documentation (group.go) for the state they come back in.
func (c *coordinator) load(ctx context.Context) error {
	st := c.s.store
	err := st.Scan(ctx, groupNamespace, "m", func(key string, value []byte) error {
		name, rest, ok := readName([]byte(key[1:]))
		if !ok || len(rest) != 0 {
			c.s.log.Warn("kafka: skipping malformed group key", "key", fmt.Sprintf("%q", key))
			return nil
		}
		var rec groupRecord
		if err := json.Unmarshal(value, &rec); err != nil {
			c.s.log.Warn("kafka: skipping malformed group record", "group", name, "err", err)
			return nil
		}
		c.groups[name] = c.restore(name, rec)
		return nil
	})
	if err != nil {
		return err
	}
	ids := map[string][16]byte{} // topic -> current id; absent: no topic
	names, err := st.ListStreams(ctx)
	if err != nil {
		return err
	}
	for _, name := range names {
		if s, err := st.DescribeStream(ctx, name); err == nil {
			ids[name] = topicID(s)
		}
	}
	var stale []store.KV
	err = st.Scan(ctx, groupNamespace, "o", func(key string, value []byte) error {
		group, topic, p, ok := parseOffsetKey(key[1:])
		if !ok {
			c.s.log.Warn("kafka: skipping malformed offset key", "key", fmt.Sprintf("%q", key))
			return nil
		}
		o, err := decodeCommittedOffset(value)
		if err != nil {
			c.s.log.Warn("kafka: skipping malformed committed offset", "group", group, "topic", topic, "partition", p, "err", err)
			return nil
		}
		if id, ok := ids[topic]; !ok || id != o.topicID {
			// The topic was deleted (and maybe created again)
			// while the offset was committed: Kafka drops those.
			stale = append(stale, store.KV{Namespace: groupNamespace, Key: key})
			return nil
		}
		g := c.groups[group]
		if g == nil {
			g = newGroup(c, group) // a simple group: offsets only
			c.groups[group] = g
		}
		if g.offsets[topic] == nil {
			g.offsets[topic] = map[int32]committedOffset{}
		}
		g.offsets[topic][p] = o
		return nil
	})
	if err != nil {
		return err
	}
	if len(stale) > 0 {
		if err := st.Update(context.Background(), stale...); err != nil && !errors.Is(err, store.ErrClosed) {
			c.s.log.Warn("kafka: dropping offsets of deleted topics failed", "offsets", len(stale), "err", err)
		}
	}
	for _, g := range c.groups {
		g.mu.Lock()
		g.maybeRetire()
		g.mu.Unlock()
	}
	if n := len(c.groups); n > 0 {
		c.s.log.Info("kafka: consumer groups loaded", "groups", n)
	}
	return nil
}

// restore makes a group from its stored record: Stable with its members,
// each with a fresh session timer, or Empty without.
func (c *coordinator) restore(name string, rec groupRecord) *group {
	if rec.Consumer != nil {
		return c.restoreCG(name, rec.Consumer)
	}
	g := newGroup(c, name)
	g.protocolType = rec.ProtocolType
	g.protocol = rec.Protocol
	g.generation = rec.Generation
	g.leader = rec.Leader
	g.persisted = true
	g.state = groupEmpty
	if len(rec.Members) == 0 {
		g.protocol, g.leader = "", ""
		if rec.StoredMs > 0 {
			g.emptySince = time.UnixMilli(rec.StoredMs) // when it became empty
		}
		return g
	}
	g.state = groupStable
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, mr := range rec.Members {
		m := &member{
			id:           mr.ID,
			instanceID:   mr.InstanceID,
			clientID:     mr.ClientID,
			clientHost:   mr.ClientHost,
			protocolType: rec.ProtocolType,
			session:      time.Duration(mr.SessionTimeoutMs) * time.Millisecond,
			rebalance:    time.Duration(mr.RebalanceTimeoutMs) * time.Millisecond,
			assignment:   mr.Assignment,
		}
		for _, p := range mr.Protocols {
			m.protocols = append(m.protocols, kmsgProtocol(p.Name, p.Metadata))
		}
		g.members[m.id] = m
		g.order = append(g.order, m.id)
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
		g.scheduleSession(m, m.session)
	}
	if g.members[g.leader] == nil {
		g.leader = g.order[0]
	}
	return g
}
