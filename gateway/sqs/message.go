package sqs

import (
	"fmt"
	"unicode/utf8"
)

// Limits on a message's size. A queue's MaximumMessageSize is between the
// two bounds; AWS raised the default and the bound from 256 KiB to 1 MiB in
// August 2025.
const (
	// MinMaximumMessageSize is the smallest MaximumMessageSize a queue takes.
	MinMaximumMessageSize = 1024
	// MaxMaximumMessageSize is the largest MaximumMessageSize a queue takes.
	MaxMaximumMessageSize = 1048576
	// DefaultMaximumMessageSize is a new queue's MaximumMessageSize.
	DefaultMaximumMessageSize = MaxMaximumMessageSize
)

// allowedCharacters is SQS's set of characters for a body and a String
// attribute value, as AWS words it in its refusal.
const allowedCharacters = "#x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]"

// ValidateMessage checks a message as SendMessage does before accepting it:
// the body is present, the attributes and system attributes are valid, the
// message fits in maxSize (the queue's MaximumMessageSize) and the body has
// only allowed characters. It returns the first refusal as an *Error.
//
// Size comes before the characters so that a large body is refused without
// being scanned.
func ValidateMessage(body string, attrs MessageAttributes, sys MessageSystemAttributes, maxSize int) error {
	if body == "" {
		// Real SQS, recorded by LocalStack's snapshot tests.
		return newError(ErrMissingParameter, "The request must contain the parameter MessageBody.")
	}
	if err := attrs.Validate(); err != nil {
		return err
	}
	if err := sys.Validate(); err != nil {
		return err
	}
	if err := CheckSize(body, attrs, maxSize); err != nil {
		return err
	}
	return ValidateBody(body)
}

// ValidateBody checks that a body has only the characters SQS allows. It
// refuses with InvalidMessageContents and the first offending character,
// as SQS does.
func ValidateBody(body string) error {
	if c, bad := firstDisallowed(body); bad {
		// The wording of a refusal captured from the real service
		// ("Invalid binary character '#xFFFF' was found in the message
		// body, ...").
		return newError(ErrInvalidMessageContents,
			"Invalid binary character '%s' was found in the message body, the set of allowed characters is %s.",
			c, allowedCharacters)
	}
	return nil
}

// firstDisallowed returns the first character of s outside SQS's set,
// written as AWS writes it (#xFFFF), and whether there is one. A byte that
// is not UTF-8 (a Query request's raw bytes can hold one) is written as
// that byte: it cannot be a character of the set.
func firstDisallowed(s string) (string, bool) {
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < utf8.RuneSelf {
			i++ // printable ASCII, most bodies' every byte
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Sprintf("#x%X", s[i]), true
		}
		if !allowedRune(r) {
			return fmt.Sprintf("#x%X", r), true
		}
		i += n
	}
	return "", false
}

// allowedRune is XML 1.0's Char production, which SQS adopted for bodies
// because it once answered only in XML.
func allowedRune(r rune) bool {
	switch {
	case r == 0x9, r == 0xA, r == 0xD:
		return true
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	default:
		return r >= 0x10000 && r <= 0x10FFFF
	}
}

// MessageSize is the size of a message as SQS counts it against the
// queue's MaximumMessageSize: the body's UTF-8 bytes and, for each message
// attribute, the bytes of its name, its data type and its value (a String
// or Number value's UTF-8 bytes, a Binary value's raw bytes, not their
// base64). AWS documents that attributes count toward the limit but not
// how; name + type + value is what a user measured on the real service (a
// 262144-byte body with attribute k String v refused under the old
// 262144-byte limit, a 262136-byte one accepted: 8 = "k" + "String" + "v")
// and what LocalStack counts. System attributes do not count: the
// SendMessage reference says so.
func MessageSize(body string, attrs MessageAttributes) int {
	n := len(body)
	for name, v := range attrs {
		n += len(name) + len(v.DataType) + v.valueLen()
	}
	return n
}

// CheckSize refuses a message whose MessageSize is over maxSize, with the
// InvalidParameterValue SQS answers; a message of exactly maxSize fits.
func CheckSize(body string, attrs MessageAttributes, maxSize int) error {
	if MessageSize(body, attrs) <= maxSize {
		return nil
	}
	// Real SQS, recorded by LocalStack's snapshot tests for 1048576 and for
	// a queue of 1024.
	return newError(ErrInvalidParameterValue,
		"One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", maxSize)
}
