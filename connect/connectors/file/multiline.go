package file

import "regexp"

// lineAssembler turns a file's bytes into records: it splits lines, caps their
// length, and joins the lines of multi-line records. It is pure (no I/O), so
// the tail task and the fuzz target drive the same code.
//
// Positions are byte offsets in the file. A record's End is the position just
// after its last line, which is where a restarted reader must resume; while a
// multi-line record is pending, Resume() is its first line's start.
type lineAssembler struct {
	start    *regexp.Regexp // nil: every line is a record
	maxBytes int            // longest record kept; longer ones are cut

	buf       []byte // bytes after the last complete line
	bufStart  int64  // file position of buf[0]
	skipping  bool   // inside an over-long line: bytes are dropped until '\n'
	skipped   int64  // bytes dropped from the current line so far
	skipStart int64  // position of the over-long line's first byte
	skippedCR bool   // the last byte dropped was '\r': part of a CRLF, not of the line

	pending      []byte // multi-line record being assembled
	pendingStart int64
	pendingEnd   int64
	pendingCut   int64
	hasPending   bool
}

// assembled is one record: its text, the position after it, and how many
// bytes max.line.bytes cut from it.
type assembled struct {
	Text []byte
	End  int64
	Cut  int64
}

func newLineAssembler(start *regexp.Regexp, maxBytes int, pos int64) *lineAssembler {
	return &lineAssembler{start: start, maxBytes: maxBytes, bufStart: pos}
}

// Resume is the position a reader restarted now must read from to lose and
// repeat nothing: the first byte of the pending record or unfinished line.
func (a *lineAssembler) Resume() int64 {
	if a.hasPending {
		return a.pendingStart
	}
	if a.skipping {
		return a.skipStart
	}
	return a.bufStart
}

// Feed adds data read from the file and returns the records it completed.
func (a *lineAssembler) Feed(data []byte) []assembled {
	var out []assembled
	for len(data) > 0 {
		if a.skipping {
			i := indexNewline(data)
			if i < 0 {
				a.skipped += int64(len(data))
				a.bufStart += int64(len(data))
				a.skippedCR = data[len(data)-1] == '\r'
				return out
			}
			if i > 0 {
				a.skippedCR = data[i-1] == '\r'
			}
			a.skipped += int64(i)
			if a.skippedCR {
				a.skipped-- // the CR of a CRLF is the terminator's, as splitLogLine has it
			}
			a.bufStart += int64(i + 1)
			data = data[i+1:]
			line := a.buf
			a.buf = nil
			a.skipping = false
			out = a.line(out, line, a.skipStart, a.bufStart, a.skipped)
			a.skipped = 0
			continue
		}
		a.buf = append(a.buf, data...)
		data = nil
		for {
			line, n, ok := splitLogLine(a.buf)
			if !ok {
				break
			}
			start := a.bufStart
			a.bufStart += int64(n)
			out = a.line(out, line, start, a.bufStart, 0)
			a.buf = a.buf[n:]
		}
		if a.maxBytes > 0 && len(a.buf) > a.maxBytes {
			// An unterminated line already too long: keep its head, drop the
			// rest as it comes, so memory stays bounded by max.line.bytes.
			a.skipping = true
			a.skipStart = a.bufStart
			a.skipped = int64(len(a.buf) - a.maxBytes)
			a.skippedCR = a.buf[len(a.buf)-1] == '\r'
			a.bufStart += int64(len(a.buf))
			a.buf = append([]byte(nil), a.buf[:a.maxBytes]...)
		} else {
			a.buf = append([]byte(nil), a.buf...)
		}
	}
	return out
}

// line handles one complete line from start to end (end after its
// terminator), cut already having been dropped from it.
func (a *lineAssembler) line(out []assembled, text []byte, start, end, cut int64) []assembled {
	if a.maxBytes > 0 && len(text) > a.maxBytes {
		cut += int64(len(text) - a.maxBytes)
		text = text[:a.maxBytes]
	}
	if a.start == nil {
		return append(out, assembled{Text: append([]byte(nil), text...), End: end, Cut: cut})
	}
	if a.hasPending && !a.start.Match(text) {
		room := a.maxBytes - len(a.pending) - 1
		switch {
		case a.maxBytes <= 0 || room >= len(text):
			a.pending = append(append(a.pending, '\n'), text...)
		case room >= 0:
			a.pending = append(append(a.pending, '\n'), text[:room]...)
			cut += int64(len(text) - room)
		default:
			cut += int64(len(text)) + 1
		}
		a.pendingEnd = end
		a.pendingCut += cut
		return out
	}
	out = a.flushPending(out)
	a.pending = append([]byte(nil), text...)
	a.pendingStart, a.pendingEnd, a.pendingCut, a.hasPending = start, end, cut, true
	return out
}

func (a *lineAssembler) flushPending(out []assembled) []assembled {
	if !a.hasPending {
		return out
	}
	out = append(out, assembled{Text: a.pending, End: a.pendingEnd, Cut: a.pendingCut})
	a.pending, a.hasPending = nil, false
	return out
}

// Flush ends the pending multi-line record: the file has not grown for a
// whole poll interval, so no continuation line is on its way. A line being
// written (bytes without their terminator) may still be one: then the
// record stays pending.
func (a *lineAssembler) Flush() []assembled {
	if len(a.buf) > 0 || a.skipping {
		return nil
	}
	return a.flushPending(nil)
}

// Finish ends the file: the pending record and an unterminated last line
// become records, since a file rotated away will not grow any more.
func (a *lineAssembler) Finish() []assembled {
	var out []assembled
	if len(a.buf) > 0 || a.skipping {
		start := a.bufStart
		if a.skipping {
			start = a.skipStart
		}
		end := a.bufStart + int64(len(a.buf))
		if a.skipping {
			end = a.bufStart
		}
		line, cut := a.buf, a.skipped
		a.buf, a.skipping, a.skipped, a.bufStart = nil, false, 0, end
		out = a.line(out, line, start, end, cut)
	}
	return append(out, a.flushPending(nil)...)
}

func indexNewline(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}
