package connect

import (
	"fmt"
	"time"
)

// Record is one record between a connector and Kafka: Kafka Connect's
// ConnectRecord with SourceRecord's and SinkRecord's fields.
//
// A source task returns records with Topic, Key/Value (and their schemas),
// optionally Partition, Timestamp, Headers and Handle, and always
// SourcePartition and SourceOffset: the position the runtime stores once the
// record is written, and hands back through SourceTaskContext.Offset after a
// restart. A sink task receives records with every field but the Source* ones
// and Handle filled.
type Record struct {
	Topic string
	// Partition is the Kafka partition; -1 (NoPartition) lets the producer's
	// partitioner choose from the serialized key.
	Partition int32
	// Offset is the record's Kafka offset in sink records, -1 in source records.
	Offset int64
	// Timestamp is the Kafka timestamp; the zero time means none (the
	// producer's clock is used).
	Timestamp time.Time

	KeySchema   *Schema
	Key         any
	ValueSchema *Schema
	Value       any
	Headers     []Header

	// SourcePartition and SourceOffset are a source record's position in its
	// system (a shard and a sequence number, a file and a byte offset): maps of
	// strings, numbers and booleans, stored as JSON like Kafka Connect does.
	// A task must not change them once Poll returned them: the runtime keeps
	// them until the record is committed, and may recognize a partition by
	// its map (a task that shares one map per partition saves encoding it
	// per record).
	//
	// SourceOffset may be nil on a record whose position a later record of
	// the same SourcePartition carries (the last of a Poll's records from
	// one upstream partition, say): the runtime then stores that later
	// offset once every record up to it is written. A task that polls
	// thousands of records a second spares a map per record that way; after
	// a crash a restart copies again from the last stored offset, as it
	// always does. (A record without an offset cannot be named in
	// TransactionContext.CommitTransactionAfter.) A task that wants every
	// record's position stored without a map per record gives each a
	// LazyOffset as Handle instead.
	SourcePartition map[string]any
	SourceOffset    map[string]any

	// Handle is the source task's own reference to the record (its
	// upstream record, say), handed back in CommitRecord; transforms never
	// read it, and the runtime only asks a LazyOffset for the offset. A
	// pointer in it costs no allocation.
	Handle any
}

// LazyOffset is a source record's Handle that knows the record's offset. A
// record whose SourceOffset is nil and whose Handle is a LazyOffset has the
// offset SourceOffset returns. The runtime asks for it only when it stores
// it (for the last written record of each source partition, at a commit),
// so a task that polls thousands of records a second spares a map per
// record and still has every record's exact position stored. SourceOffset
// must return the same offset every time, from any goroutine.
type LazyOffset interface {
	SourceOffset() map[string]any
}

// OffsetOf is a source record's offset: SourceOffset, else what its Handle
// gives when it is a LazyOffset; nil when a later record of its partition
// carries its position.
func OffsetOf(rec Record) map[string]any {
	if rec.SourceOffset != nil {
		return rec.SourceOffset
	}
	if l, ok := rec.Handle.(LazyOffset); ok {
		return l.SourceOffset()
	}
	return nil
}

// NoPartition lets the producer choose a source record's partition.
const NoPartition int32 = -1

// Header is a record header. Values are the header's bytes, as Kafka carries
// them (Kafka Connect's ByteArray header converter).
type Header struct {
	Key   string
	Value []byte
}

// Header returns the last header called key, and whether there is one.
func (r *Record) Header(key string) ([]byte, bool) {
	for i := len(r.Headers) - 1; i >= 0; i-- {
		if r.Headers[i].Key == key {
			return r.Headers[i].Value, true
		}
	}
	return nil, false
}

// TopicPartition names a Kafka partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return fmt.Sprintf("%s-%d", tp.Topic, tp.Partition) }
