package kafka

// Transactional id expiry, Kafka's transactional.id.expiration.ms (7 days)
// checked every transaction.remove.expired.transaction.cleanup.interval.ms
// (1 hour), with TransactionStateManager's rule: an id whose state is
// Empty, CompleteCommit or CompleteAbort and whose state has not changed
// for that long is removed, from the store (one synced delete) and from
// the coordinator. Its producer's next InitProducerId then gets a new
// producer id at epoch 0, and ListTransactions and DescribeTransactions
// no longer know it (TRANSACTIONAL_ID_NOT_FOUND), as on Kafka. An id with
// a transaction open or completing never expires: its timeout ends it
// first.

import (
	"context"
	"fmt"
	"time"

	"github.com/streambridge/bridge/store"
)

// TxnSettings are the transaction coordinator's broker settings
// (Config.Transactions); a zero field takes Kafka's default.
type TxnSettings struct {
	// IDExpiration is transactional.id.expiration.ms (7 days): an idle
	// transactional id (Empty, CompleteCommit, CompleteAbort) whose state
	// has not changed for this long is removed. Negative keeps ids for
	// ever.
	IDExpiration time.Duration
	// IDExpirationCheck is
	// transaction.remove.expired.transaction.cleanup.interval.ms (1 hour):
	// how often expiry runs.
	IDExpirationCheck time.Duration
	// ProducerIDExpiration is producer.id.expiration.ms (1 day): an
	// idempotent producer's state on a partition where it appended nothing
	// for this long is removed, unless it has a transaction open
	// (producer_expiry.go). Negative keeps it for ever.
	ProducerIDExpiration time.Duration
	// ProducerIDExpirationCheck is producer.id.expiration.check.interval.ms
	// (10 minutes): how often producer state expiry runs.
	ProducerIDExpirationCheck time.Duration
}

// Kafka's defaults for TxnSettings.
const (
	defaultTxnIDExpiration      = 7 * 24 * time.Hour
	defaultTxnIDExpirationCheck = time.Hour
)

// Validate reports settings Kafka would refuse.
func (ts TxnSettings) Validate() error {
	if ts.IDExpirationCheck < 0 {
		return fmt.Errorf("transactional id expiration check interval %s is negative", ts.IDExpirationCheck)
	}
	if ts.ProducerIDExpirationCheck < 0 {
		return fmt.Errorf("producer id expiration check interval %s is negative", ts.ProducerIDExpirationCheck)
	}
	return nil
}

// expiration returns the expiry and check interval in force; an expiry of
// 0 means never.
func (ts TxnSettings) expiration() (expiry, every time.Duration) {
	return durationSetting(ts.IDExpiration, defaultTxnIDExpiration),
		durationSetting(ts.IDExpirationCheck, defaultTxnIDExpirationCheck)
}

// startExpiry runs the periodic checks (transactional ids, and idempotent
// producer state: producer_expiry.go) until the coordinator closes.
func (c *txnCoordinator) startExpiry() {
	expiry, every := c.s.cfg.Transactions.expiration()
	c.stopExpiry = make(chan struct{})
	c.s.startProducerExpiry(c.stopExpiry)
	if expiry > 0 {
		everyUntil(c.stopExpiry, every, func(now time.Time) { c.expireIDs(now, expiry) })
	}
}

// durationSetting is a duration setting in force: zero means def, a
// negative value 0 (never, or not periodically).
func durationSetting(v, def time.Duration) time.Duration {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// everyUntil calls fn with the time of each tick, every apart, in a
// goroutine of its own until stop is closed; every <= 0 starts nothing.
func everyUntil(stop <-chan struct{}, every time.Duration, fn func(now time.Time)) {
	if every <= 0 {
		return
	}
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case now := <-t.C:
				fn(now)
			}
		}
	}()
}

// expirable reports whether m may expire: idle, with no completion under
// way, and unchanged since before cutoff (Unix ms).
func (e *txnEntry) expirable(cutoffMs int64) bool {
	m := e.meta
	if m == nil || e.done != nil {
		return false
	}
	switch m.State {
	case txnEmpty, txnCompleteCommit, txnCompleteAbort:
		return m.UpdateMs <= cutoffMs
	}
	return false
}

// expireIDs removes every transactional id idle for expiry at now.
func (c *txnCoordinator) expireIDs(now time.Time, expiry time.Duration) {
	cutoff := now.Add(-expiry).UnixMilli()
	c.mu.Lock()
	es := make([]*txnEntry, 0, len(c.txns))
	for _, e := range c.txns {
		es = append(es, e)
	}
	c.mu.Unlock()
	removed := 0
	for _, e := range es {
		e.mu.Lock()
		if e.gone || !e.expirable(cutoff) {
			e.mu.Unlock()
			continue
		}
		m := e.meta
		if err := c.s.store.Update(context.Background(), store.KV{Namespace: txnNamespace, Key: m.ID}); err != nil {
			e.mu.Unlock()
			c.s.log.Warn("kafka: removing an expired transactional id failed", "transactional_id", m.ID, "err", err)
			return
		}
		// Requests that found e before it left the map see gone and
		// look the id up again (lock).
		e.gone, e.meta = true, nil
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
		c.mu.Lock()
		if c.txns[m.ID] == e {
			delete(c.txns, m.ID)
		}
		c.mu.Unlock()
		e.mu.Unlock()
		removed++
		c.s.log.Info("kafka: transactional id expired", "transactional_id", m.ID, "producer_id", m.PID, "state", m.State.String(), "idle", now.Sub(time.UnixMilli(m.UpdateMs)).Round(time.Second))
	}
	if removed > 0 {
		c.s.log.Info("kafka: expired transactional ids removed", "count", removed, "expiration", expiry)
	}
}
