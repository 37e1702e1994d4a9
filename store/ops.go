package store

import "time"

// StreamConfig is what CreateStream needs.
type StreamConfig struct {
	Name       string
	ShardCount int
	Retention  time.Duration // zero keeps records forever
	// RetentionBytes caps each partition's size; zero means no cap.
	RetentionBytes int64
	// Encryption, when enabled, encrypts the stream's records from the
	// first one.
	Encryption Encryption
	// Compaction, when enabled, keeps only each key's latest record.
	Compaction Compaction
	Config     map[string]string
}

// AppendOptions carries what an append commits besides its records.
type AppendOptions struct {
	// State is gateway state (a producer's last sequence, say) written in
	// the same atomic, durable commit as the records.
	State []KV

	// Objects names the objects the appended records point to: payloads a
	// front end offloaded (OffloadPrefix) before appending their pointers.
	// The store records them in the append's commit and deletes each object
	// when its record leaves the log (retention, TrimBefore, DeleteStream),
	// so an object outlives its record only until the next sweep.
	Objects []ObjectRef

	// ClientPointers marks the appended batch as holding pointer records
	// whose objects a client wrote (recordbatch.Info.ClientPointers), so
	// readers restore them (gateway/payloads). The store deletes none of
	// those objects: they are the client's.
	ClientPointers bool
}

// OffloadPrefix starts the keys of the objects front ends write for
// payloads they offload. Under it, an object that no record names
// (AppendOptions.Objects) is an orphan, left by a crash or a failed append
// between the object's write and its record's, and the store deletes it:
// at open, and after a grace period while running. Users must not put
// objects of their own under it in an offload bucket.
const OffloadPrefix = "streambridge-offload/"

// ObjectRef names the object that holds one appended record's payload.
type ObjectRef struct {
	OffsetDelta int32 // the record's offset delta in its batch (its index for AppendToShard)
	Bucket, Key string
}

// AppendResult is the position of an acknowledged append, as the backend
// assigned it.
type AppendResult struct {
	Shard      Shard // the shard that took the records
	BaseOffset int64 // offset of the first record
	LastOffset int64 // offset of the last record

	// SequenceNumbers holds each record's Kinesis sequence number when the
	// backend assigns them itself (Amazon Kinesis does); nil when they
	// follow from the shard and offset, as in the embedded store.
	SequenceNumbers []string
}

// SequenceNumber returns the Kinesis sequence number of the i-th record of
// the append.
func (r AppendResult) SequenceNumber(i int) string {
	if r.SequenceNumbers != nil {
		return r.SequenceNumbers[i]
	}
	return r.Shard.SequenceNumber(r.BaseOffset + int64(i))
}

// KV is one write to the gateway state area; a nil Value deletes the key.
type KV struct {
	Namespace string
	Key       string
	Value     []byte
}

// ReadLimits bounds a read. A read returns at least one batch when one is
// available, even over MaxBytes, so a consumer can always make progress (as
// Kafka does since KIP-74).
type ReadLimits struct {
	MaxBytes   int   // stop once this many bytes are returned; 0 means 1 MiB
	MaxRecords int   // stop once this many records are returned; 0 means no limit
	EndOffset  int64 // stop before this offset (a closed shard's end); 0 means no limit
	// Committed reads only below the last stable offset (Kafka's
	// read_committed): no record of an open transaction, and the aborted
	// transactions of the returned range in ReadResult.Aborted.
	Committed bool
}

// Batch is one stored Kafka v2 record batch. Raw may be shared with other
// readers: read it, never write it.
type Batch struct {
	BaseOffset int64
	LastOffset int64
	Raw        []byte // the whole batch, base offset rewritten to BaseOffset
	// Encrypted says the batch is stored encrypted at rest (Raw is in the
	// clear all the same); Kinesis reports it per record.
	Encrypted bool
}

// ReadResult is what a read returns, with the partition's bounds at the time.
type ReadResult struct {
	Batches []Batch
	// Bytes, when not nil, is every batch back to back: Batches[i].Raw are
	// consecutive pieces of it, and a Kafka fetch sends it as the
	// partition's records. Nil when the batches are not contiguous in memory.
	Bytes          []byte
	LogStartOffset int64 // first readable offset
	HighWatermark  int64 // one past the last acknowledged offset
	// LastStableOffset is the first offset of the partition's oldest open
	// transaction, else the high watermark (never above it, never below the
	// log start): a Committed read stops before it.
	LastStableOffset int64
	// Release, when not nil, hands the memory of Bytes and the batches'
	// Raw back to the store for its next reads. A caller may call it once
	// it holds no slice of them any more (calling it again does nothing);
	// one that never calls it leaves the memory to the garbage collector.
	// Nil where the memory is shared (a tail cache's batches).
	Release func()
	// Aborted, for a Committed read, lists the aborted transactions whose
	// records may be among the returned batches (their abort marker is at or
	// after the read offset and their first offset before the end of the
	// returned range), ordered by marker offset: what a Kafka read_committed
	// Fetch returns as AbortedTransactions.
	Aborted []AbortedTxn
}

// AbortedTxn is an aborted transaction of one producer in a partition: its
// records lie between FirstOffset and the abort marker.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// OpenTxn is a transaction in progress in a partition, as the log shows it:
// the producer wrote transactional records from FirstOffset on and no
// marker yet.
type OpenTxn struct {
	ProducerID    int64
	ProducerEpoch int16
	FirstOffset   int64
}
