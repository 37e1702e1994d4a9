package store

import (
	"context"

	"github.com/streambridge/bridge/mapping"
	"github.com/streambridge/bridge/mapping/recordbatch"
)

// Store is what the front ends (gateway/kafka, gateway/kinesis, and the
// ones to come) need from a backend: streams and their layout, records, a
// small state area, and S3-style buckets and objects (objects.go).
// store/embedded implements it over a local pebble database and files;
// backends over Amazon Kinesis or a Kafka cluster implement it over those
// services. Front ends depend on this interface only, never on
// an implementation (see forbidden_imports_test.go at the module root).
//
// Every method takes a context: a remote backend's calls take time and can
// fail, and a request that is abandoned must stop them. A backend that
// cannot perform an operation (a Kafka cluster has no SplitShard) returns an
// error wrapping ErrUnsupported, which front ends answer with their
// protocol's "unsupported" error.
//
// Implementations are safe for concurrent use. Values they return are the
// caller's: snapshots that changing changes nothing in the store, except
// ReadResult bytes, which may be shared and must not be modified.
type Store interface {
	Streams
	Records
	State
	Objects
}

// Streams creates, describes and reshapes streams (Kafka topics, Kinesis
// streams). A stream's layout (its shards and Kafka partitions) changes only
// through SplitShard, MergeShards, UpdateShardCount and GrowPartitions,
// which follow the slot rule (ARCHITECTURE.md, "Partitions over shards").
type Streams interface {
	// CreateStream creates a stream of cfg.ShardCount shards splitting the
	// hash space evenly, partition i carried by shard i. ErrStreamExists
	// when the name is taken.
	CreateStream(ctx context.Context, cfg StreamConfig) (Stream, error)
	// DeleteStream deletes a stream and its records; readers waiting on it
	// return ErrStreamNotFound.
	DeleteStream(ctx context.Context, name string) error
	// DescribeStream returns a snapshot of a stream's layout and config.
	DescribeStream(ctx context.Context, name string) (Stream, error)
	// ListStreams returns every stream's name, sorted.
	ListStreams(ctx context.Context) ([]string, error)
	// UpdateStream applies change to a copy of a stream's retention and
	// Config and persists the result; change must not touch the layout.
	UpdateStream(ctx context.Context, name string, change func(*Stream) error) (Stream, error)

	// ShardForHashKey returns the open shard whose hash range holds h:
	// where Kinesis puts a record. It may be stale by the time the caller
	// appends; AppendToShard then fails with ErrShardClosed.
	ShardForHashKey(ctx context.Context, name string, h mapping.HashKey) (Shard, error)
	// SplitShard splits an open shard at hash key at (Kinesis SplitShard).
	SplitShard(ctx context.Context, name string, shard int, at mapping.HashKey) (Stream, error)
	// MergeShards merges two adjacent open shards (Kinesis MergeShards).
	MergeShards(ctx context.Context, name string, shard, adjacent int) (Stream, error)
	// UpdateShardCount reshards to target shards splitting the hash space
	// evenly (Kinesis UpdateShardCount, UNIFORM_SCALING).
	UpdateShardCount(ctx context.Context, name string, target int) (Stream, error)
	// GrowPartitions splits shards until the stream has total partitions
	// (Kafka CreatePartitions).
	GrowPartitions(ctx context.Context, name string, total int) (Stream, error)
}

// Records appends and reads records. Positions are Kafka ones (partition,
// offset); a shard's Kinesis sequence numbers follow from them (see
// AppendResult.SequenceNumber).
type Records interface {
	// AppendBatch appends one Kafka v2 record batch to a partition and
	// returns once it is durable and readable. The batch's CRC is the
	// caller's to check; the store rewrites only its base offset.
	AppendBatch(ctx context.Context, name string, partition int32, batch []byte, opts AppendOptions) (AppendResult, error)
	// StartAppendBatch is AppendBatch in two steps; see Pending for the
	// contract. Appends started in order get offsets in that order.
	StartAppendBatch(ctx context.Context, name string, partition int32, batch []byte, opts AppendOptions) (Pending, error)
	// AppendToShard appends records to an open shard, the Kinesis way: the
	// store sets each record's Timestamp to the arrival time and its Offset
	// to the one it got. ErrShardClosed when the shard was split or merged
	// meanwhile: the caller routes again by hash key.
	AppendToShard(ctx context.Context, name string, shard int, records []recordbatch.Record, opts AppendOptions) (AppendResult, error)

	// Read returns the stored batches of a partition from the one holding
	// offset onwards, up to the high watermark and within lim. Outside
	// [log start, high watermark] it fails with ErrOffsetOutOfRange.
	Read(ctx context.Context, name string, partition int32, offset int64, lim ReadLimits) (ReadResult, error)
	// Wait blocks until the partition has a record at or after offset, the
	// stream's layout changes (it returns nil: look again), ctx ends, the
	// stream is deleted or the store closes. It never polls.
	Wait(ctx context.Context, name string, partition int32, offset int64) error
	// Offsets returns a partition's log start offset and high watermark.
	Offsets(ctx context.Context, name string, partition int32) (logStart, highWatermark int64, err error)
	// Size returns the bytes a partition holds.
	Size(ctx context.Context, name string, partition int32) (int64, error)
	// OffsetForTimestamp returns the first record at or after the log
	// start whose timestamp (Unix milliseconds) is at least ts; found is
	// false when there is none.
	OffsetForTimestamp(ctx context.Context, name string, partition int32, ts int64) (offset, recordTs int64, found bool, err error)
	// MaxTimestamp returns the first record with the partition's largest
	// timestamp (Kafka ListOffsets -3); found is false when it is empty.
	MaxTimestamp(ctx context.Context, name string, partition int32) (offset, recordTs int64, found bool, err error)
	// LastStableOffset returns a partition's last stable offset (see
	// ReadResult.LastStableOffset): Kafka's latest offset for a
	// read_committed ListOffsets.
	LastStableOffset(ctx context.Context, name string, partition int32) (int64, error)
	// WaitStable is Wait for committed readers: it blocks until the
	// partition's last stable offset is above offset (or the layout
	// changes, ctx ends, the stream is deleted or the store closes), so a
	// read_committed long poll does not spin while a transaction is open.
	WaitStable(ctx context.Context, name string, partition int32, offset int64) error
	// OpenTransactions returns the partition's transactions in progress
	// (transactional records without a marker yet), by producer id.
	OpenTransactions(ctx context.Context, name string, partition int32) ([]OpenTxn, error)
	// TrimBefore makes offset (-1: the high watermark) the partition's log
	// start and deletes the records below it; it returns the new log start.
	TrimBefore(ctx context.Context, name string, partition int32, offset int64) (int64, error)
}

// State is a small key-value area for gateway state (committed offsets,
// producer ids, group metadata) kept with the records, so an append can
// commit state in the same atomic write (AppendOptions.State). Keys live in
// namespaces; a namespace must not contain a zero byte.
type State interface {
	// Get returns a copy of the value under namespace and key, or
	// ErrNotFound.
	Get(ctx context.Context, namespace, key string) ([]byte, error)
	// Update applies writes atomically and durably; a nil Value deletes.
	Update(ctx context.Context, writes ...KV) error
	// StartUpdate is Update in two steps, as StartAppendBatch is
	// AppendBatch: the writes are ordered, when it returns, after those of
	// every Update and append that returned before it was called (and
	// before those of every one called after it returns), and the
	// returned PendingUpdate's Wait returns once they are durable. A write
	// is durable only with every write ordered before it: once a later
	// append's or update's Wait has returned, these writes survive a crash
	// too (Kafka's AddPartitionsToTxn relies on it). So a caller can order
	// its writes under its own lock and wait for the disk outside it,
	// sharing syncs with other writers. Get may not see the writes before
	// Wait returns. The PendingUpdate contract is Pending's.
	StartUpdate(ctx context.Context, writes ...KV) (PendingUpdate, error)
	// Scan calls fn for each key of namespace starting with prefix, in key
	// order, until fn returns an error, which Scan returns. value is valid
	// only during the call.
	Scan(ctx context.Context, namespace, prefix string, fn func(key string, value []byte) error) error
	// DeletePrefix deletes, durably, every key of namespace starting with
	// prefix.
	DeletePrefix(ctx context.Context, namespace, prefix string) error
}

// Pending is an append whose offsets are assigned and which is on its way to
// durable storage.
//
// The contract: every Pending a Start method returns is waited on exactly
// once, by the caller that started it, even when the caller gives up on the
// request (the append may already be durable; only Wait can say). Until then
// it may hold the store open (Close waits for it), but it holds no lock
// another append needs: a caller may start several appends (a produce
// request's partitions) before waiting on any, even while the store is
// closing, when later starts fail with ErrClosed instead of blocking.
type Pending interface {
	// Wait returns once the append is durable and readable, with its
	// position, or with the error that lost it.
	Wait() (AppendResult, error)
}

// PendingUpdate is a StartUpdate on its way to durable storage, under
// Pending's contract.
type PendingUpdate interface {
	// Wait returns once the writes are durable, or with the error that
	// lost them.
	Wait() error
}
