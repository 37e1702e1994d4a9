package kafka

// KIP-447: OffsetFetch with require_stable answers UNSTABLE_OFFSET_COMMIT
// for a partition whose offset a transaction not yet complete is
// committing (pending in its TxnOffsetCommit), so that a consumer taking
// over a partition from a transactional one waits for that transaction
// instead of reading an offset about to change, which would make it
// process records again. Kafka checks the partitions named in the request
// only; so does this.

import (
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// pendingTxnOffsets returns the partitions of group with an offset pending
// in a transaction that has not completed.
func (s *Server) pendingTxnOffsets(group string) map[txnPart]bool {
	c, err := s.txnCoord()
	if err != nil {
		return nil
	}
	c.mu.Lock()
	es := make([]*txnEntry, 0, len(c.txns))
	for _, e := range c.txns {
		es = append(es, e)
	}
	c.mu.Unlock()
	var out map[txnPart]bool
	for _, e := range es {
		e.mu.Lock()
		if m := e.meta; m != nil && (m.State == txnOngoing || m.State.preparing()) {
			for _, o := range m.Offsets[group] {
				if out == nil {
					out = map[txnPart]bool{}
				}
				out[txnPart{o.Topic, o.Partition}] = true
			}
		}
		e.mu.Unlock()
	}
	return out
}

// markUnstable sets UNSTABLE_OFFSET_COMMIT (offset -1) on the named
// partitions of g that a transaction is committing. Call it only for a
// request with RequireStable that names its topics.
func (s *Server) markUnstable(g *kmsg.OffsetFetchResponseGroup) {
	pending := s.pendingTxnOffsets(g.Group)
	if len(pending) == 0 {
		return
	}
	for i := range g.Topics {
		t := &g.Topics[i]
		for j := range t.Partitions {
			p := &t.Partitions[j]
			if p.ErrorCode == 0 && pending[txnPart{t.Topic, p.Partition}] {
				p.ErrorCode = kerr.UnstableOffsetCommit.Code
				p.Offset, p.LeaderEpoch, p.Metadata = -1, -1, kmsg.StringPtr("")
			}
		}
	}
}
