package sqs

import (
	"strings"
	"testing"
)

func TestValidateBody(t *testing.T) {
	refused := func(c string) *Error {
		return newError(ErrInvalidMessageContents, "Invalid binary character '%s' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].", c)
	}
	tests := []struct {
		name, body string
		want       *Error
	}{
		{"ascii", "hello", nil},
		{"tab newline return", "\t\n\r", nil},
		{"range edges", " \ud7ff\ue000\ufffd\U00010000\U0010ffff", nil},
		{"NUL", "a\x00", refused("#x0")},
		{"backspace", "Invalid-\x00-\b", refused("#x0")},
		{"unit separator", "\x1f", refused("#x1F")},
		{"U+FFFE", "\ufffe", refused("#xFFFE")},
		{"U+FFFF as in the captured refusal", "ok\uffff", refused("#xFFFF")},
		{"not UTF-8", "\xc3", refused("#xC3")},
		{"encoded surrogate", "\xed\xa0\x80", refused("#xED")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, ValidateBody(tt.body), tt.want)
		})
	}
}

func TestMessageSize(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		attrs MessageAttributes
		want  int
	}{
		{"body only", "héllo", nil, 6},
		{"string attribute", "x", MessageAttributes{"k": strAttr("String", "v")}, 1 + 1 + 6 + 1},
		{"binary counts raw bytes", "", MessageAttributes{"bin": binAttr("Binary.gif", []byte{0, 1, 2})}, 3 + 10 + 3},
		{"two", "ab", MessageAttributes{"n": strAttr("Number", "12"), "s": strAttr("String", "é")}, 2 + (1 + 6 + 2) + (1 + 6 + 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MessageSize(tt.body, tt.attrs); got != tt.want {
				t.Fatalf("MessageSize = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestValidateMessage(t *testing.T) {
	tooLong := func(n int) *Error {
		return invalid("One or more parameters are invalid. Reason: Message must be shorter than %d bytes.", n)
	}
	k := MessageAttributes{"k": strAttr("String", "v")}
	trace := MessageSystemAttributes{AWSTraceHeader: strAttr("String", strings.Repeat("t", 100))}
	tests := []struct {
		name  string
		body  string
		attrs MessageAttributes
		sys   MessageSystemAttributes
		max   int
		want  *Error
	}{
		{"plain", "hello", nil, nil, DefaultMaximumMessageSize, nil},
		{"empty body", "", nil, nil, DefaultMaximumMessageSize, newError(ErrMissingParameter, "The request must contain the parameter MessageBody.")},
		{"exactly the maximum", strings.Repeat("x", MaxMaximumMessageSize), nil, nil, MaxMaximumMessageSize, nil},
		{"one byte over", strings.Repeat("x", MaxMaximumMessageSize+1), nil, nil, MaxMaximumMessageSize, tooLong(MaxMaximumMessageSize)},
		// The case a user measured on the real SQS under the old 256 KiB
		// limit: attribute k String v costs 1+6+1 = 8 bytes.
		{"attribute fills the rest", strings.Repeat("x", 262136), k, nil, 262144, nil},
		{"attribute one byte over", strings.Repeat("x", 262137), k, nil, 262144, tooLong(262144)},
		{"small queue", strings.Repeat("é", 513), nil, nil, MinMaximumMessageSize, tooLong(1024)},
		{"system attributes do not count", strings.Repeat("x", 1024), nil, trace, 1024, nil},
		{"attributes before size", strings.Repeat("x", 2000), MessageAttributes{"AWS.x": strAttr("String", "v")}, nil, 1024, invalid("You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use.")},
		{"system attributes checked", "x", nil, MessageSystemAttributes{"X": strAttr("String", "v")}, 1024, invalid("Message system attribute name 'X' is invalid.")},
		{"size before characters", strings.Repeat("\x00", 2000), nil, nil, 1024, tooLong(1024)},
		{"characters", "a\x00", nil, nil, 1024, newError(ErrInvalidMessageContents, "Invalid binary character '#x0' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkError(t, ValidateMessage(tt.body, tt.attrs, tt.sys, tt.max), tt.want)
		})
	}
}
