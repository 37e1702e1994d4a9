package kafka

// Offset expiry: offsets.retention.minutes (7 days by default) with
// Kafka 2.1+'s rule (KIP-211), checked every
// offsets.retention.check.interval.ms (10 minutes):
//
//   - a group with members keeps the offsets of topics it consumes; a
//     consumer-protocol member subscribing to a topic, or a classic
//     "consumer" group whose members' metadata names it, keeps it. Offsets
//     of topics none of them consumes expire by their commit time.
//     Classic groups of other protocol types keep everything while they
//     have members.
//   - a classic group that used group management expires all its offsets
//     retention after it became Empty (as Kafka's currentStateTimestamp;
//     a bridge restart takes the time its empty-group record was stored).
//   - a simple group (offsets only, no protocol) and a consumer-protocol
//     group expire each offset retention after its commit.
//
// A group left with no members and no offsets is then deleted, as Kafka
// deletes it. Each group's expired offsets go in one fsynced store update.

import (
	"context"
	"time"

	"github.com/streambridge/bridge/store"
)

// startOffsetExpiry runs the periodic check until stopOffsetExpiry.
func (c *coordinator) startOffsetExpiry() {
	c.expiry = make(chan struct{})
	if c.cfg.offsetsRetention > 0 {
		everyUntil(c.expiry, c.cfg.offsetsRetentionCheck, c.expireOffsets)
	}
}

func (c *coordinator) stopOffsetExpiry() {
	if c.expiry != nil {
		close(c.expiry)
	}
}

// expireOffsets applies the retention rule to every group at now.
func (c *coordinator) expireOffsets(now time.Time) {
	for _, g := range c.all() {
		g.mu.Lock()
		if !g.gone {
			g.expireOffsets(now)
		}
		g.mu.Unlock()
	}
}

// offsetBase returns when an offset's retention started, or false when it
// does not expire now.
func (g *group) offsetBase(topic string, o committedOffset) (time.Time, bool) {
	commit := time.UnixMilli(o.commitMs)
	switch {
	case g.cg != nil:
		for _, m := range g.cg.members {
			if m.subscribes(topic) {
				return time.Time{}, false
			}
		}
		return commit, true
	case len(g.members) > 0 || g.state != groupEmpty:
		if g.protocolType == "consumer" && !g.isSubscribedTo(topic) {
			return commit, true
		}
		return time.Time{}, false
	case g.protocolType == "":
		return commit, true
	default:
		return g.emptySince, true
	}
}

// expireOffsets drops g's offsets past retention; the caller holds g.mu.
func (g *group) expireOffsets(now time.Time) {
	type tp struct {
		topic string
		p     int32
	}
	var gone []tp
	var writes []store.KV
	for topic, ps := range g.offsets {
		for p, o := range ps {
			base, ok := g.offsetBase(topic, o)
			if ok && now.Sub(base) >= g.c.cfg.offsetsRetention {
				gone = append(gone, tp{topic, p})
				writes = append(writes, store.KV{Namespace: groupNamespace, Key: offsetKey(g.name, topic, p)})
			}
		}
	}
	if len(writes) == 0 {
		return
	}
	if err := g.c.s.store.Update(context.Background(), writes...); err != nil {
		g.c.s.log.Warn("kafka: expiring committed offsets failed", "group", g.name, "err", err)
		return
	}
	for _, x := range gone {
		delete(g.offsets[x.topic], x.p)
		if len(g.offsets[x.topic]) == 0 {
			delete(g.offsets, x.topic)
		}
	}
	g.c.s.log.Info("kafka: committed offsets expired", "group", g.name, "offsets", len(gone), "retention", g.c.cfg.offsetsRetention)
	if g.state == groupEmpty && len(g.members) == 0 && len(g.pending) == 0 && !g.cgHasMembers() && !g.hasOffsets() {
		if err := g.deleteStored(); err != nil {
			g.c.s.log.Warn("kafka: removing expired group failed", "group", g.name, "err", err)
			return
		}
		g.remove()
		g.c.s.log.Info("kafka: group removed: empty and its offsets expired", "group", g.name)
	}
}
