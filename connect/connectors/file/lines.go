package file

import (
	"bytes"
	"unicode/utf8"
)

// splitKafkaLine finds the first line of buf the way Kafka's
// FileStreamSourceTask.extractLine does: a line ends at "\n", "\r\n" or a
// lone "\r". A "\r" at the very end of buf is not yet a terminator: the next
// byte may be its "\n". It returns the line without its terminator and the
// number of bytes consumed, or ok=false when buf holds no complete line.
func splitKafkaLine(buf []byte) (line []byte, consumed int, ok bool) {
	i := bytes.IndexAny(buf, "\r\n")
	if i < 0 {
		return nil, 0, false
	}
	if buf[i] == '\n' {
		return buf[:i], i + 1, true
	}
	if i+1 >= len(buf) {
		return nil, 0, false
	}
	if buf[i+1] == '\n' {
		return buf[:i], i + 2, true
	}
	return buf[:i], i + 1, true
}

// splitLogLine finds the first line of buf as log tailers do: only "\n" ends a
// line, and a "\r" before it is dropped, so CRLF files read like LF ones.
func splitLogLine(buf []byte) (line []byte, consumed int, ok bool) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		return nil, 0, false
	}
	return bytes.TrimSuffix(buf[:i], []byte{'\r'}), i + 1, true
}

// decodeUTF8 returns b as a string, each byte that is not part of valid UTF-8
// replaced by U+FFFD, as Java's UTF-8 decoder does with malformed input: a
// Connect string must be text.
func decodeUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var sb bytes.Buffer
	sb.Grow(len(b) + 8)
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		sb.WriteRune(r) // RuneError for an invalid byte
		b = b[n:]
	}
	return sb.String()
}
