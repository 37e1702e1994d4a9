package kafka

// The server-side assignors of KIP-848 groups (group.consumer.assignors;
// a member picks one with ConsumerGroupHeartbeat's ServerAssignor):
//
//   - uniform (the default): spreads the partitions of the subscribed
//     topics evenly over the members subscribed to them, keeping each
//     partition where the previous target put it as long as that member's
//     share allows (sticky), so a rebalance moves as few partitions as it
//     can. With identical subscriptions counts differ by at most one.
//     With differing subscriptions each member keeps up to its fair share
//     of the topics it subscribes to and the rest go, partition by
//     partition, to the least loaded subscriber: balanced, but not the
//     optimal balance Kafka's heterogeneous uniform assignor searches for.
//   - range: per topic, the subscribed members in member id order get
//     consecutive ranges of partitions, the first ones one more when the
//     partitions do not divide evenly (co-partitioned topics land
//     together).

import "sort"

// cgAssignors are the assignors this coordinator offers, default first.
var cgAssignors = []string{"uniform", "range"}

// validAssignor reports whether name is one of cgAssignors.
func validAssignor(name string) bool {
	for _, a := range cgAssignors {
		if a == name {
			return true
		}
	}
	return false
}

// assign computes every member's target assignment.
func assign(assignor string, members []*cgMember, topics map[string]cgTopic, prev map[string]cgAssignment) map[string]cgAssignment {
	out := make(map[string]cgAssignment, len(members))
	for _, m := range members {
		out[m.id] = cgAssignment{}
	}
	if len(members) == 0 {
		return out
	}
	names := make([]string, 0, len(topics))
	for n := range topics {
		names = append(names, n)
	}
	sort.Strings(names)
	subscribers := map[string][]*cgMember{} // topic -> members, by id
	for _, n := range names {
		for _, m := range members {
			if m.subscribes(n) {
				subscribers[n] = append(subscribers[n], m)
			}
		}
	}
	if assignor == "range" {
		for _, n := range names {
			ms, t := subscribers[n], topics[n]
			if len(ms) == 0 {
				continue
			}
			per, extra := int(t.partitions)/len(ms), int(t.partitions)%len(ms)
			p := int32(0)
			for i, m := range ms {
				k := per
				if i < extra {
					k++
				}
				for j := 0; j < k; j++ {
					out[m.id].add(t.id, p)
					p++
				}
			}
		}
		return out
	}
	return uniform(members, names, topics, subscribers, prev, out)
}

// uniform is the sticky, balanced assignor; see the file comment.
func uniform(members []*cgMember, names []string, topics map[string]cgTopic, subscribers map[string][]*cgMember, prev, out map[string]cgAssignment) map[string]cgAssignment {
	// Each member's share: the partitions of its topics over the members
	// subscribed to any of them, rounded up; with identical
	// subscriptions only total%members members may take the extra one.
	share := map[string]int{}
	homogeneous := true
	for _, m := range members {
		parts := 0
		peers := map[string]bool{}
		for _, n := range names {
			if !m.subscribes(n) {
				continue
			}
			parts += int(topics[n].partitions)
			for _, o := range subscribers[n] {
				peers[o.id] = true
			}
			if len(subscribers[n]) != len(members) {
				homogeneous = false
			}
		}
		if len(peers) > 0 {
			share[m.id] = (parts + len(peers) - 1) / len(peers)
		}
	}
	total := 0
	for _, n := range names {
		if len(subscribers[n]) > 0 {
			total += int(topics[n].partitions)
		}
	}
	minShare, extras := total/len(members), total%len(members)

	counts := map[string]int{}
	taken := func(m *cgMember) bool {
		if !homogeneous {
			return counts[m.id] < share[m.id]
		}
		if counts[m.id] < minShare {
			return true
		}
		if counts[m.id] == minShare && extras > 0 {
			extras--
			return true
		}
		return false
	}
	type tp struct {
		topic string
		p     int32
	}
	var rest []tp
	byID := map[string]*cgMember{}
	for _, m := range members {
		byID[m.id] = m
	}
	prevOwner := map[[16]byte]map[int32]string{}
	for id, a := range prev {
		for tid, ps := range a {
			if prevOwner[tid] == nil {
				prevOwner[tid] = map[int32]string{}
			}
			for _, p := range ps {
				prevOwner[tid][p] = id
			}
		}
	}
	for _, n := range names {
		t := topics[n]
		if len(subscribers[n]) == 0 {
			continue
		}
		for p := int32(0); p < t.partitions; p++ {
			if m := byID[prevOwner[t.id][p]]; m != nil && m.subscribes(n) && taken(m) {
				out[m.id].add(t.id, p)
				counts[m.id]++
				continue
			}
			rest = append(rest, tp{n, p})
		}
	}
	for _, x := range rest {
		var best *cgMember
		for _, m := range subscribers[x.topic] {
			if best == nil || counts[m.id] < counts[best.id] {
				best = m
			}
		}
		out[best.id].add(topics[x.topic].id, x.p)
		counts[best.id]++
	}
	return out
}
