package awsapi

// JSONScanner reads the common shape of a busy operation's JSON body in
// one pass, for the decoders APIs write for those operations (Kinesis
// PutRecords, SQS SendMessageBatch): encoding/json scans a body twice and
// copies every string, which costs more than the rest of such a request.
// Every method returns false on anything outside the shape it accepts;
// the API then gives the body to encoding/json, so a fast decoder need only
// agree with encoding/json on what it accepts (a differential fuzz test in
// each API holds it to that).

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// JSONScanner walks B from I.
type JSONScanner struct {
	B []byte
	I int
}

// Space skips white space.
func (d *JSONScanner) Space() {
	for d.I < len(d.B) {
		switch d.B[d.I] {
		case ' ', '\t', '\n', '\r':
			d.I++
		default:
			return
		}
	}
}

// Next reads c after white space.
func (d *JSONScanner) Next(c byte) bool {
	d.Space()
	if d.I < len(d.B) && d.B[d.I] == c {
		d.I++
		return true
	}
	return false
}

// End reports whether only white space is left.
func (d *JSONScanner) End() bool {
	d.Space()
	return d.I == len(d.B)
}

// Object reads {"key": value, ...}, calling member for each key with the
// scanner before the value. A key seen twice is refused (encoding/json
// would keep the last; a fast decoder need not know how to merge).
func (d *JSONScanner) Object(member func(key []byte) bool) bool {
	if !d.Next('{') {
		return false
	}
	if d.Next('}') {
		return true
	}
	var seenKeys [8][]byte
	seen := seenKeys[:0]
	for {
		key, ok := d.RawString()
		if !ok || !d.Next(':') {
			return false
		}
		for _, k := range seen {
			if bytes.Equal(k, key) {
				return false
			}
		}
		seen = append(seen, key)
		if !member(key) {
			return false
		}
		if d.Next(',') {
			continue
		}
		return d.Next('}')
	}
}

// Array reads [value, ...], calling elem for each value.
func (d *JSONScanner) Array(elem func() bool) bool {
	if !d.Next('[') {
		return false
	}
	if d.Next(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if d.Next(',') {
			continue
		}
		return d.Next(']')
	}
}

// RawString reads a string of printable ASCII without escapes and returns
// its bytes (aliasing B).
func (d *JSONScanner) RawString() ([]byte, bool) {
	if !d.Next('"') {
		return nil, false
	}
	start := d.I
	for d.I < len(d.B) {
		c := d.B[d.I]
		switch {
		case c == '"':
			d.I++
			return d.B[start : d.I-1], true
		case c == '\\' || c < 0x20 || c >= 0x80:
			return nil, false
		}
		d.I++
	}
	return nil, false
}

// StringPtr reads a RawString into a new string.
func (d *JSONScanner) StringPtr(dst **string) bool {
	s, ok := d.RawString()
	if !ok {
		return false
	}
	v := string(s)
	*dst = &v
	return true
}

// Text reads any string of valid UTF-8 whose escapes are the short ones
// (\" \\ \/ \b \f \n \r \t); it refuses \u escapes, which encoding/json
// resolves with surrogate rules not worth repeating here.
func (d *JSONScanner) Text() (string, bool) {
	if !d.Next('"') {
		return "", false
	}
	start := d.I
	ascii, escaped := true, false
	for d.I < len(d.B) {
		c := d.B[d.I]
		switch {
		case c == '"':
			raw := d.B[start:d.I]
			d.I++
			if !ascii && !utf8.Valid(raw) {
				return "", false // encoding/json would substitute U+FFFD
			}
			if !escaped {
				return string(raw), true
			}
			return unescape(raw)
		case c == '\\':
			escaped = true
			d.I += 2 // the escape's letter is checked by unescape
			continue
		case c < 0x20:
			return "", false
		case c >= 0x80:
			ascii = false
		}
		d.I++
	}
	return "", false
}

func unescape(raw []byte) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(raw) {
			return "", false
		}
		switch raw[i] {
		case '"', '\\', '/':
			out = append(out, raw[i])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		default:
			return "", false
		}
	}
	return string(out), true
}

// TextPtr reads a Text into a new string.
func (d *JSONScanner) TextPtr(dst **string) bool {
	s, ok := d.Text()
	if !ok {
		return false
	}
	*dst = &s
	return true
}

// BoolPtr reads true or false.
func (d *JSONScanner) BoolPtr(dst **bool) bool {
	d.Space()
	for _, lit := range []string{"true", "false"} {
		if len(d.B)-d.I >= len(lit) && string(d.B[d.I:d.I+len(lit)]) == lit {
			d.I += len(lit)
			v := lit == "true"
			*dst = &v
			return true
		}
	}
	return false
}

// Int32Ptr reads an integer that fits an int32, written as encoding/json
// takes one: an optional minus, then digits without a leading zero.
func (d *JSONScanner) Int32Ptr(dst **int32) bool {
	d.Space()
	start := d.I
	if d.I < len(d.B) && d.B[d.I] == '-' {
		d.I++
	}
	digits := d.I
	for d.I < len(d.B) && d.B[d.I] >= '0' && d.B[d.I] <= '9' {
		d.I++
	}
	if d.I == digits || d.B[digits] == '0' && d.I-digits > 1 {
		return false
	}
	if d.I < len(d.B) && (d.B[d.I] == '.' || d.B[d.I] == 'e' || d.B[d.I] == 'E') {
		return false
	}
	n, err := strconv.ParseInt(string(d.B[start:d.I]), 10, 32)
	if err != nil {
		return false
	}
	v := int32(n)
	*dst = &v
	return true
}
