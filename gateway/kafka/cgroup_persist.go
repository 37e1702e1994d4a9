package kafka

// What a consumer-protocol group leaves in the store: its metadata record
// (group_persist.go's groupRecord, key "m"+name) carries a "consumer"
// object with the group epoch, the target assignment epoch, the assignor,
// and every member with its epochs, reconciliation state, subscription and
// current and target assignments (Kafka's ConsumerGroupMetadata,
// ConsumerGroupMemberMetadata, target assignment and current member
// assignment records, in one value). It is written, fsynced, whenever a
// heartbeat, leave or timer changed any of that, before the answer.
// Offsets are stored as for classic groups.

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"time"

	"github.com/streambridge/bridge/store"
)

type cgRecord struct {
	Epoch           int32            `json:"epoch"`
	AssignmentEpoch int32            `json:"assignment_epoch"`
	Assignor        string           `json:"assignor,omitempty"`
	Members         []cgMemberRecord `json:"members,omitempty"`
}

type cgMemberRecord struct {
	ID            string          `json:"id"`
	InstanceID    *string         `json:"instance_id,omitempty"`
	RackID        *string         `json:"rack_id,omitempty"`
	ClientID      string          `json:"client_id"`
	ClientHost    string          `json:"client_host"`
	Epoch         int32           `json:"epoch"`
	PrevEpoch     int32           `json:"prev_epoch"`
	State         cgMemberState   `json:"state"`
	RebalanceMs   int64           `json:"rebalance_timeout_ms"`
	Names         []string        `json:"names,omitempty"`
	Regex         string          `json:"regex,omitempty"`
	Assignor      string          `json:"assignor,omitempty"`
	Assigned      []cgTopicRecord `json:"assigned,omitempty"`
	PendingRevoke []cgTopicRecord `json:"pending_revoke,omitempty"`
	Target        []cgTopicRecord `json:"target,omitempty"`
	// Classic is set for a classic member (cgroup_classic.go).
	Classic *cgClassicRecord `json:"classic,omitempty"`
}

type cgClassicRecord struct {
	SessionMs int64            `json:"session_timeout_ms"`
	Protocols []protocolRecord `json:"protocols"`
}

type cgTopicRecord struct {
	ID         [16]byte `json:"id"`
	Partitions []int32  `json:"partitions"`
}

func encodeAssignment(a cgAssignment) []cgTopicRecord {
	var out []cgTopicRecord
	for _, id := range sortedTopicIDs(a) {
		out = append(out, cgTopicRecord{ID: id, Partitions: a[id]})
	}
	return out
}

func decodeAssignment(rs []cgTopicRecord) cgAssignment {
	a := cgAssignment{}
	for _, r := range rs {
		for _, p := range r.Partitions {
			a.add(r.ID, p)
		}
	}
	return a
}

// storeCG writes the consumer group's record if it changed since the last
// write; the caller holds g.mu.
func (g *group) storeCG() error {
	cg := g.cg
	if cg == nil { // downgraded to a classic group meanwhile
		return g.storeMetadata(nil)
	}
	rec := cgRecord{Epoch: cg.epoch, AssignmentEpoch: cg.assignmentEpoch, Assignor: cg.assignor}
	for _, m := range cg.sortedMembers() {
		var classic *cgClassicRecord
		if m.classic != nil {
			classic = &cgClassicRecord{SessionMs: m.classic.session.Milliseconds()}
			for _, p := range m.classic.protocols {
				classic.Protocols = append(classic.Protocols, protocolRecord{Name: p.Name, Metadata: p.Metadata})
			}
		}
		rec.Members = append(rec.Members, cgMemberRecord{
			ID: m.id, InstanceID: m.instanceID, RackID: m.rackID, ClientID: m.clientID, ClientHost: m.clientHost,
			Epoch: m.epoch, PrevEpoch: m.prevEpoch, State: m.state, RebalanceMs: m.rebalance.Milliseconds(),
			Names: m.names, Regex: m.regex, Assignor: m.assignor,
			Assigned: encodeAssignment(m.assigned), PendingRevoke: encodeAssignment(m.pendingRevoke),
			Target: encodeAssignment(cg.target[m.id]), Classic: classic,
		})
	}
	v, err := json.Marshal(groupRecord{ProtocolType: "consumer", Generation: cg.epoch, Consumer: &rec})
	if err != nil {
		return err
	}
	if g.persisted && bytes.Equal(v, cg.stored) {
		return nil
	}
	if err := g.c.s.store.Update(context.Background(), store.KV{Namespace: groupNamespace, Key: groupMetaKey(g.name), Value: v}); err != nil {
		return err
	}
	cg.stored = v
	g.persisted = true
	return nil
}

// restoreCG makes a consumer group from its stored record: members come
// back with their epochs and assignments and a fresh session timer, so
// live members carry on and dead ones expire.
func (c *coordinator) restoreCG(name string, rec *cgRecord) *group {
	g := newGroup(c, name)
	g.protocolType = "consumer"
	g.persisted = true
	g.state = groupEmpty
	cg := newConsumerGroup()
	g.cg = cg
	cg.epoch, cg.assignmentEpoch, cg.assignor = rec.Epoch, rec.AssignmentEpoch, rec.Assignor
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, mr := range rec.Members {
		m := &cgMember{
			id: mr.ID, instanceID: mr.InstanceID, rackID: mr.RackID, clientID: mr.ClientID, clientHost: mr.ClientHost,
			epoch: mr.Epoch, prevEpoch: mr.PrevEpoch, state: mr.State,
			rebalance: time.Duration(mr.RebalanceMs) * time.Millisecond,
			names:     mr.Names, regex: mr.Regex, assignor: mr.Assignor,
			assigned: decodeAssignment(mr.Assigned), pendingRevoke: decodeAssignment(mr.PendingRevoke),
		}
		if mr.Classic != nil {
			m.classic = &cgClassic{session: time.Duration(mr.Classic.SessionMs) * time.Millisecond}
			for _, p := range mr.Classic.Protocols {
				m.classic.protocols = append(m.classic.protocols, kmsgProtocol(p.Name, p.Metadata))
			}
		}
		if m.regex != "" {
			re, err := regexp.Compile(m.regex)
			if err != nil {
				c.s.log.Warn("kafka: skipping stored consumer group member with a bad regex", "group", name, "member", m.id, "err", err)
				continue
			}
			m.re = re
		}
		cg.members[m.id] = m
		cg.target[m.id] = decodeAssignment(mr.Target)
		if m.instanceID != nil {
			cg.static[*m.instanceID] = m.id
		}
		g.scheduleCGSession(m)
		g.watchRevocation(m)
	}
	// The topics are resolved again at the first heartbeat; if they
	// changed while the bridge was down the group epoch goes up then.
	if ts, err := cg.resolveTopics(context.Background(), c.s.store); err == nil {
		cg.topics = ts
	}
	return g
}
