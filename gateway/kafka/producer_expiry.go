package kafka

// Idempotent producer state expiry, Kafka's producer.id.expiration.ms (1
// day) checked every producer.id.expiration.check.interval.ms (10
// minutes), with ProducerStateManager's rule: a producer's state on a
// partition goes once it has appended nothing there for that long, unless
// it has a transaction open. The producer can go on afterwards (a producer
// new to a partition may start at any sequence, KIP-360), but a retry of a
// batch from before the expiry is no longer recognised as one.
//
// Kafka times a producer by its last batch's max timestamp; the bridge by
// when the batch was appended (producerEntry.lastMs), so a producer with a
// skewed clock is not expired early. State stored before lastMs was kept
// has none and expires at the first check.

import (
	"context"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/streambridge/bridge/store"
)

// Kafka's defaults for the producer id settings of TxnSettings.
const (
	defaultProducerIDExpiration      = 24 * time.Hour
	defaultProducerIDExpirationCheck = 10 * time.Minute
)

// producerExpiration returns the expiry and check interval in force; an
// expiry of 0 means never.
func (ts TxnSettings) producerExpiration() (expiry, every time.Duration) {
	return durationSetting(ts.ProducerIDExpiration, defaultProducerIDExpiration),
		durationSetting(ts.ProducerIDExpirationCheck, defaultProducerIDExpirationCheck)
}

// startProducerExpiry runs the periodic check until stop is closed.
func (s *Server) startProducerExpiry(stop <-chan struct{}) {
	expiry, every := s.cfg.Transactions.producerExpiration()
	if expiry > 0 {
		everyUntil(stop, every, func(now time.Time) { s.expireProducers(now, expiry) })
	}
}

// parseProducerKey splits a producer state key "<topic id hex>/<partition>/<producer id>".
func parseProducerKey(key string) (topic [16]byte, partition int32, pid int64, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 {
		return topic, 0, 0, false
	}
	id, err := hex.DecodeString(parts[0])
	if err != nil || len(id) != 16 {
		return topic, 0, 0, false
	}
	copy(topic[:], id)
	p, err1 := strconv.ParseInt(parts[1], 10, 32)
	pid, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return topic, 0, 0, false
	}
	return topic, int32(p), pid, true
}

// transactingPIDs returns the producer ids with a transaction open or
// completing: their state stays whatever its age.
func (s *Server) transactingPIDs() map[int64]bool {
	pids := map[int64]bool{}
	c, err := s.txnCoord()
	if err != nil {
		return pids
	}
	for _, m := range c.all() {
		switch m.State {
		case txnEmpty, txnCompleteCommit, txnCompleteAbort, txnDead:
		default:
			pids[m.PID] = true
		}
	}
	return pids
}

// expireProducers removes the producer state on every partition idle for
// expiry at now. Each removal is made under the partition's producer
// lock, so no batch of that producer is being checked meanwhile, and is
// one synced store delete.
func (s *Server) expireProducers(now time.Time, expiry time.Duration) {
	cutoff := now.Add(-expiry).UnixMilli()
	type candidate struct {
		key       string
		topic     [16]byte
		partition int32
		pid       int64
	}
	var cands []candidate
	ctx := context.Background()
	err := s.store.Scan(ctx, producerNamespace, "", func(key string, v []byte) error {
		e, ok := decodeProducerEntry(v)
		topic, partition, pid, kok := parseProducerKey(key)
		if ok && kok && e.lastMs <= cutoff {
			cands = append(cands, candidate{key, topic, partition, pid})
		}
		return nil
	})
	if err != nil {
		s.log.Warn("kafka: scanning producer state for expiry failed", "err", err)
		return
	}
	if len(cands) == 0 {
		return
	}
	busy := s.transactingPIDs()
	removed := 0
	for _, c := range cands {
		if busy[c.pid] {
			continue
		}
		pp := s.producers.partition(c.topic, c.partition)
		pp.mu.Lock()
		// A batch appended since the scan updated the entry in memory
		// (every append goes through it); without one in memory, the
		// stored state is the latest.
		if e, ok := pp.entries[c.pid]; ok && e != nil && e.lastMs > cutoff {
			pp.mu.Unlock()
			continue
		}
		if err := s.store.Update(ctx, store.KV{Namespace: producerNamespace, Key: c.key}); err != nil {
			pp.mu.Unlock()
			s.log.Warn("kafka: removing expired producer state failed", "key", c.key, "err", err)
			return
		}
		delete(pp.entries, c.pid)
		pp.mu.Unlock()
		removed++
	}
	if removed > 0 {
		s.log.Info("kafka: expired producer state removed", "partitions_producers", removed, "expiration", expiry)
	}
}
