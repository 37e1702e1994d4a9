package store

import "errors"

// Errors every backend returns, wrapped with detail where useful; front ends
// match them with errors.Is and answer with their protocol's own code.
var (
	ErrStreamNotFound    = errors.New("stream not found")
	ErrStreamExists      = errors.New("stream already exists")
	ErrPartitionNotFound = errors.New("partition not found")
	ErrShardNotFound     = errors.New("shard not found")

	// ErrShardClosed: the shard was split or merged; re-route by hash key.
	ErrShardClosed = errors.New("shard is closed")

	// ErrPartitionRetired: the partition's shard was merged away. It can be
	// read to its end but takes no more writes.
	ErrPartitionRetired = errors.New("partition was merged away and accepts no writes")

	// ErrOffsetOutOfRange: below the log start or above the high watermark.
	ErrOffsetOutOfRange = errors.New("offset out of range")

	ErrInvalidArgument = errors.New("invalid argument")
	ErrNotFound        = errors.New("key not found")
	ErrClosed          = errors.New("store is closed")
)
