package mapping

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
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

// maxQuotedLength bounds the quoted echo of a rejected input in an error
// message. Inputs come from clients; an error must not grow with them, and
// since quoting expands an invalid byte to four characters (\xff), the bound
// is on the quoted form, not on the input.
const maxQuotedLength = 80

// quoteInput returns s quoted for an error message: whole if its quoted form
// fits in maxQuotedLength bytes, otherwise its longest prefix that fits,
// cut at a character boundary and followed by "...".
func quoteInput(s string) string {
	if len(s) <= maxQuotedLength {
		if q := strconv.Quote(s); len(q) <= maxQuotedLength {
			return q
		}
	}
	const ellipsis = `"...`
	b := make([]byte, 1, maxQuotedLength)
	b[0] = '"'
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		// Quoting one character at a time yields the same text as quoting
		// the whole string, since strconv.Quote escapes character by character.
		q := strconv.Quote(s[i : i+size])
		q = q[1 : len(q)-1]
		if len(b)+len(q)+len(ellipsis) > maxQuotedLength {
			break
		}
		b = append(b, q...)
		i += size
	}
	return string(append(b, ellipsis...))
}

// parseError builds the error for a rejected input: kind is the sentinel,
// s the input, and reason says what is wrong with it.
func parseError(kind error, s, reason string) error {
	return fmt.Errorf("%w %s: %s", kind, quoteInput(s), reason)
}
