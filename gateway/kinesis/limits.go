package kinesis

// Provisioned throughput, emulated per shard when Config.EnforceLimits is
// set (--kinesis-enforce-limits; off by default, like kinesalite and
// kinesis-mock, which have no limits at all).
//
// Each shard gets four token buckets, refilled continuously from the
// handler's clock (Config.Now, so tests move time instead of sleeping):
//
//	writes: 1 MiB/s of data and partition keys, and 1000 records/s
//	reads:  2 MiB/s of data returned, and 5 GetRecords calls/s
//
// Each bucket holds one second's worth. A write is admitted when both write
// buckets hold enough; a record larger than the byte bucket (a large record
// after UpdateMaxRecordSize) is admitted when the bucket is full and leaves
// it in debt, the way AWS lets large records burst and then refills. A
// GetRecords call is admitted while the call bucket holds a token and the
// byte bucket is not in debt; what it returns is charged afterwards, so a
// 10 MiB answer blocks reads for about five seconds, as AWS documents.
//
// Refusals are AWS's: PutRecords marks each refused record with
// ErrorCode ProvisionedThroughputExceededException (the rest of the
// request goes through), PutRecord and GetRecords answer
// ProvisionedThroughputExceededException.
//
// Differences from AWS: limits are per shard only (no account-wide or
// per-stream control plane quotas, no GetShardIterator limit), and
// ON_DEMAND streams get the same per-shard limits as PROVISIONED ones.

import (
	"sync"
	"time"

	"github.com/streambridge/bridge/internal/seal"
	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/store"
)

// Per-shard provisioned throughput.
const (
	shardWriteBytesPerSecond   = 1 << 20
	shardWriteRecordsPerSecond = 1000
	shardReadBytesPerSecond    = 2 << 20
	shardReadCallsPerSecond    = 5
)

// tokenBucket refills at rate tokens per second up to burst.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

func newTokenBucket(perSecond float64, now time.Time) tokenBucket {
	return tokenBucket{rate: perSecond, burst: perSecond, tokens: perSecond, last: now}
}

func (b *tokenBucket) refill(now time.Time) {
	// A clock that steps back refills nothing until it passes b.last again.
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = min(b.burst, b.tokens+elapsed*b.rate)
		b.last = now
	}
}

func (b *tokenBucket) full() bool { return b.tokens >= b.burst }

// shardThroughput is one shard's buckets.
type shardThroughput struct {
	writeBytes, writeRecords tokenBucket
	readBytes, readCalls     tokenBucket
}

func (t *shardThroughput) refill(now time.Time) {
	t.writeBytes.refill(now)
	t.writeRecords.refill(now)
	t.readBytes.refill(now)
	t.readCalls.refill(now)
}

func (t *shardThroughput) idle() bool {
	return t.writeBytes.full() && t.writeRecords.full() && t.readBytes.full() && t.readCalls.full()
}

// shardRef names a shard across streams.
type shardRef struct {
	stream string
	shard  int
}

// throughputLimiter holds the buckets of every shard that saw traffic.
type throughputLimiter struct {
	mu     sync.Mutex
	shards map[shardRef]*shardThroughput
}

// pruneAbove is the number of tracked shards past which idle ones (all
// buckets full, so indistinguishable from new) are dropped.
const pruneAbove = 4096

func newThroughputLimiter() *throughputLimiter {
	return &throughputLimiter{shards: map[shardRef]*shardThroughput{}}
}

// shardLocked returns ref's buckets, refilled to now. l.mu is held.
func (l *throughputLimiter) shardLocked(ref shardRef, now time.Time) *shardThroughput {
	t := l.shards[ref]
	if t == nil {
		if len(l.shards) >= pruneAbove {
			for k, other := range l.shards {
				if other.refill(now); other.idle() {
					delete(l.shards, k)
				}
			}
		}
		t = &shardThroughput{
			writeBytes:   newTokenBucket(shardWriteBytesPerSecond, now),
			writeRecords: newTokenBucket(shardWriteRecordsPerSecond, now),
			readBytes:    newTokenBucket(shardReadBytesPerSecond, now),
			readCalls:    newTokenBucket(shardReadCallsPerSecond, now),
		}
		l.shards[ref] = t
		return t
	}
	t.refill(now)
	return t
}

// admitWrite takes one record of size bytes from ref's write buckets and
// reports whether it fitted; a refused record takes nothing.
func (l *throughputLimiter) admitWrite(ref shardRef, size int, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.shardLocked(ref, now)
	n := float64(size)
	fits := t.writeBytes.tokens >= n || (n > t.writeBytes.burst && t.writeBytes.full())
	if t.writeRecords.tokens < 1 || !fits {
		return false
	}
	t.writeRecords.tokens--
	t.writeBytes.tokens -= n
	return true
}

// admitRead takes one GetRecords call from ref's read buckets and reports
// whether the shard may be read now.
func (l *throughputLimiter) admitRead(ref shardRef, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.shardLocked(ref, now)
	if t.readCalls.tokens < 1 || t.readBytes.tokens <= 0 {
		return false
	}
	t.readCalls.tokens--
	return true
}

// chargeRead takes the bytes a read returned, into debt if need be.
func (l *throughputLimiter) chargeRead(ref shardRef, size int, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.shardLocked(ref, now).readBytes.tokens -= float64(size)
}

// throughputExceeded is AWS's message for a throttled shard.
func (h *Handler) throughputExceeded(stream string, shard int) *Error {
	return newError(errThroughputExceeded, "%s", h.throughputMessage(stream, shard))
}

func (h *Handler) throughputMessage(stream string, shard int) string {
	return "Rate exceeded for shard " + mapping.ShardID(shard) + " in stream " + stream + " under account " + h.cfg.Account + "."
}

// dataPlane is the state of the data plane that lives as long as its
// Handler: the throughput buckets and the iterator signing key.
type dataPlane struct {
	limiter *throughputLimiter
	iterKey *seal.Key // kept in the store's state area
}

func newDataPlane(s store.State) *dataPlane {
	return &dataPlane{limiter: newThroughputLimiter(), iterKey: seal.New(s, iteratorKeyNamespace, iteratorKeyName)}
}

func (h *Handler) dataPlane() *dataPlane { return h.data }

// limited reports whether throughput limits apply.
func (h *Handler) limited() bool { return h.cfg.EnforceLimits }
