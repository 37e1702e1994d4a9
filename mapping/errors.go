package mapping

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors, one per kind of input this package parses. Every error
// returned by a Parse function wraps exactly one of them, so callers can map
// it to the protocol's own error with errors.Is and still log the detailed
// message.
var (
	ErrInvalidHashKey        = errors.New("invalid hash key")
	ErrInvalidShardID        = errors.New("invalid shard id")
	ErrInvalidSequenceNumber = errors.New("invalid sequence number")
	ErrInvalidPartitionKey   = errors.New("invalid partition key")
)

// maxQuotedInput bounds how much of a rejected input is echoed in an error
// message. Inputs come from clients; an error must not grow with them.
const maxQuotedInput = 64

// quoteInput returns s quoted for an error message, truncated to
// maxQuotedInput bytes so that hostile input cannot inflate logs or replies.
func quoteInput(s string) string {
	if len(s) <= maxQuotedInput {
		return strconv.Quote(s)
	}
	return strconv.Quote(s[:maxQuotedInput]) + "..."
}

// parseError builds the error for a rejected input: kind is the sentinel,
// s the input, and reason says what is wrong with it.
func parseError(kind error, s, reason string) error {
	return fmt.Errorf("%w %s: %s", kind, quoteInput(s), reason)
}
