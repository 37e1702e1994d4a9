// Package store defines the core model every backend shares: streams (Kafka
// topics, Kinesis streams), their shards and Kafka partitions, and the errors
// front ends translate into their protocols' own. The embedded implementation
// lives in store/embedded.
//
// A stream has shards. A shard covers an inclusive range of the 128-bit hash
// key space; the open shards of a stream cover the space exactly once. A Kafka
// partition is a chain of shards over time: offsets are dense per partition,
// and each shard of the chain owns a contiguous range of them, so a record has
// exactly one Kafka position (partition, offset) and exactly one Kinesis
// position (shard, sequence number), both fixed for its lifetime.
package store

import (
	"sort"
	"time"

	"github.com/streambridge/bridge/mapping"
)

// NoShard marks an absent parent or adjacent parent.
const NoShard = -1

// Stream describes a stream: a Kafka topic and a Kinesis stream at once.
// Values returned by a store are snapshots; changing them changes nothing.
type Stream struct {
	Name    string
	Created time.Time

	// Retention is how long records are kept, by their timestamps.
	// Zero keeps records forever.
	Retention time.Duration

	// RetentionBytes caps each partition's size: the oldest whole batches
	// go while a partition holds more. Zero means no cap.
	RetentionBytes int64

	// Shards holds every shard the stream ever had, open or closed;
	// Shards[i].Index == i.
	Shards []Shard

	// Partitions holds every Kafka partition the stream ever had;
	// Partitions[i].ID == i. Partition counts only grow.
	Partitions []Partition

	// Encryption says how new records are encrypted at rest.
	Encryption Encryption

	// Compaction, when enabled, keeps only the latest record per key
	// (Kafka's cleanup.policy=compact); the store's cleaner enforces it.
	Compaction Compaction

	// Config holds settings the front ends own (Kafka topic configs, the
	// Kinesis stream mode, tags, ...). The store persists it with the stream
	// and does not interpret it.
	Config map[string]string
}

// Compaction is a stream's log compaction policy: Kafka's
// cleanup.policy=compact and its topic configs, typed, because the store
// enforces them (it does not interpret Config). The zero value is off.
type Compaction struct {
	// Enabled turns the cleaner on: below the cleanable end, only the
	// latest record of each key stays (offsets do not change).
	Enabled bool
	// Delete keeps retention (time and bytes) in force too
	// (cleanup.policy=compact,delete); without it a compacted stream's
	// records leave only by compaction and TrimBefore.
	Delete bool
	// DeleteRetention is how long a tombstone (null value), or the marker of
	// a transaction with no record left, stays after the cleaner first saw
	// it so in the clean section (delete.retention.ms).
	DeleteRetention time.Duration
	// MinLag keeps records younger than this out of compaction
	// (min.compaction.lag.ms).
	MinLag time.Duration
	// MaxLag makes a partition eligible however clean it is once its
	// oldest uncleaned record is older than this (max.compaction.lag.ms);
	// zero means never.
	MaxLag time.Duration
	// MinDirtyRatio is the share of a partition's bytes not yet cleaned
	// above which the cleaner runs (min.cleanable.dirty.ratio).
	MinDirtyRatio float64
}

// Shard is one shard of a stream.
type Shard struct {
	Index          int
	HashRange      mapping.HashRange
	Parent         int // NoShard when none
	AdjacentParent int // NoShard when none; set on the child of a merge
	Partition      int32

	// StartOffset is the first offset of Partition that belongs to this
	// shard. EndOffset is one past its last offset once the shard is closed,
	// and -1 while it is open.
	StartOffset int64
	EndOffset   int64
}

// Partition is one Kafka partition: a chain of shards over time.
type Partition struct {
	ID int32

	// Shards lists the indexes of the shards that carried this partition,
	// oldest first. The last one receives its writes unless Retired.
	Shards []int

	// Retired is set on a partition whose shard was merged away: it stays
	// readable to its end and refuses writes but for control batches
	// (transaction markers; see ErrPartitionRetired).
	Retired bool
}

// ID returns the shard's Kinesis id, e.g. shardId-000000000007.
func (s Shard) ID() string { return mapping.ShardID(s.Index) }

// IsOpen reports whether the shard still accepts records.
func (s Shard) IsOpen() bool { return s.EndOffset < 0 }

// HasOffset reports whether offset falls in the part of the partition that
// belongs to this shard.
func (s Shard) HasOffset(offset int64) bool {
	return offset >= s.StartOffset && (s.EndOffset < 0 || offset < s.EndOffset)
}

// StartingSequenceNumber is the sequence number of the shard's first
// possible record.
func (s Shard) StartingSequenceNumber() string {
	return mapping.SequenceNumber(s.Index, s.StartOffset)
}

// EndingSequenceNumber is the sequence number of a closed shard's last
// record, or of its start when it closed empty; "" while the shard is open.
func (s Shard) EndingSequenceNumber() string {
	switch {
	case s.IsOpen():
		return ""
	case s.EndOffset > s.StartOffset:
		return mapping.SequenceNumber(s.Index, s.EndOffset-1)
	default:
		return mapping.SequenceNumber(s.Index, s.StartOffset)
	}
}

// SequenceNumber returns the Kinesis sequence number of the record at offset
// of this shard's partition.
func (s Shard) SequenceNumber(offset int64) string {
	return mapping.SequenceNumber(s.Index, offset)
}

// OpenShards returns the open shards ordered by hash range; they tile the
// hash key space.
func (st *Stream) OpenShards() []Shard {
	var open []Shard
	for _, sh := range st.Shards {
		if sh.IsOpen() {
			open = append(open, sh)
		}
	}
	sort.Slice(open, func(i, j int) bool {
		return open[i].HashRange.Start.Cmp(open[j].HashRange.Start) < 0
	})
	return open
}

// ShardForHashKey returns the open shard whose range holds h. It sorts the
// open shards on every call; hot paths use the store's own routing.
func (st *Stream) ShardForHashKey(h mapping.HashKey) Shard {
	open := st.OpenShards()
	ranges := make([]mapping.HashRange, len(open))
	for i, sh := range open {
		ranges[i] = sh.HashRange
	}
	return open[mapping.ShardForHashKey(ranges, h)]
}

// Shard returns the shard with the given index.
func (st *Stream) Shard(index int) (Shard, bool) {
	if index < 0 || index >= len(st.Shards) {
		return Shard{}, false
	}
	return st.Shards[index], true
}

// ShardForOffset returns the shard of partition that holds offset: the last
// shard of the chain starting at or before it.
func (st *Stream) ShardForOffset(partition int32, offset int64) (Shard, bool) {
	if partition < 0 || int(partition) >= len(st.Partitions) {
		return Shard{}, false
	}
	chain := st.Partitions[partition].Shards
	for i := len(chain) - 1; i >= 0; i-- {
		if sh := st.Shards[chain[i]]; sh.StartOffset <= offset || i == 0 {
			return sh, true
		}
	}
	return Shard{}, false
}

// CurrentShard returns the last shard of a partition's chain: the one taking
// its writes, or its final one when retired.
func (st *Stream) CurrentShard(partition int32) (Shard, bool) {
	if partition < 0 || int(partition) >= len(st.Partitions) {
		return Shard{}, false
	}
	chain := st.Partitions[partition].Shards
	return st.Shards[chain[len(chain)-1]], true
}

// Clone returns a deep copy.
func (st *Stream) Clone() Stream {
	c := *st
	c.Shards = append([]Shard(nil), st.Shards...)
	c.Partitions = make([]Partition, len(st.Partitions))
	for i, p := range st.Partitions {
		p.Shards = append([]int(nil), p.Shards...)
		c.Partitions[i] = p
	}
	if st.Config != nil {
		c.Config = make(map[string]string, len(st.Config))
		for k, v := range st.Config {
			c.Config[k] = v
		}
	}
	return c
}
