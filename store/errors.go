package store

import (
	"errors"
	"fmt"
)

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
	// read to its end but takes no more records; control batches (Kafka
	// transaction markers) it still takes, so that a transaction open in it
	// when it was merged ends there too.
	ErrPartitionRetired = errors.New("partition was merged away and accepts no writes")

	// ErrOffsetOutOfRange: below the log start or above the high watermark.
	ErrOffsetOutOfRange = errors.New("offset out of range")

	ErrInvalidArgument = errors.New("invalid argument")
	ErrNotFound        = errors.New("key not found")
	ErrClosed          = errors.New("store is closed")
)

// ErrUnsupported is what a backend answers for an operation it cannot
// perform (a Kafka cluster cannot split a shard; Amazon Kinesis cannot trim
// a stream before its retention). Front ends answer it with their
// protocol's own "unsupported" error. Backends return an *UnsupportedError,
// which matches it with errors.Is, as it matches the standard library's
// errors.ErrUnsupported (what gateway/awsapi's ErrorMap looks for).
var ErrUnsupported = fmt.Errorf("not supported by this backend: %w", errors.ErrUnsupported)

// UnsupportedError says which operation a backend does not support.
type UnsupportedError struct {
	Backend string // "kinesis", "kafka", ...
	Op      string // the Store method, or a finer description
}

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%s is not supported by the %s backend", e.Op, e.Backend)
}

// Unwrap makes errors.Is(err, ErrUnsupported) true.
func (e *UnsupportedError) Unwrap() error { return ErrUnsupported }
