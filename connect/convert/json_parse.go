package convert

import (
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack (Jackson
// refuses documents nested deeper than 1000 levels as well).
const maxDepth = 1000

// number is a JSON number's literal, kept as text when a schema will decide
// its type (int8 … float64, Decimal) rather than guessing here.
type number string

// jsonObject is a parsed JSON object in document order. Order matters for
// schema "fields" and for faithful error messages; lookups are linear, which
// is faster than a map for the handful of members a record has.
type jsonObject []member

type member struct {
	key string
	val any
}

// get returns the last member called key (Jackson keeps the last duplicate).
func (o jsonObject) get(key string) (any, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].key == key {
			return o[i].val, true
		}
	}
	return nil, false
}

// parser is a hand-written JSON reader: no reflection, one pass, and it keeps
// the distinction between integral and other numbers that Connect needs.
//
// With raw set, numbers become number and objects jsonObject (the form a
// schema is applied to); without it, schemaless Connect data is produced
// directly: integral numbers int64, others float64, objects map[string]any.
type parser struct {
	b     []byte
	i     int
	raw   bool
	depth int
}

type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string { return fmt.Sprintf("%s at offset %d", e.msg, e.offset) }

func (p *parser) fail(format string, args ...any) error {
	return &syntaxError{fmt.Sprintf(format, args...), p.i}
}

func (p *parser) skipSpace() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// document parses one JSON value filling the whole input (blanks aside).
func (p *parser) document() (any, error) {
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.i != len(p.b) {
		return nil, p.fail("unexpected %q after the JSON value", p.b[p.i])
	}
	return v, nil
}

func (p *parser) value() (any, error) {
	p.skipSpace()
	if p.i >= len(p.b) {
		return nil, p.fail("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		return p.string()
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	case c == 't':
		return true, p.literal("true")
	case c == 'f':
		return false, p.literal("false")
	case c == 'n':
		return nil, p.literal("null")
	default:
		return nil, p.fail("unexpected character %q", c)
	}
}

func (p *parser) literal(word string) error {
	if len(p.b)-p.i < len(word) || string(p.b[p.i:p.i+len(word)]) != word {
		return p.fail("invalid literal, expected %s", word)
	}
	p.i += len(word)
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxDepth {
		return p.fail("document nesting depth exceeds the maximum allowed (%d)", maxDepth)
	}
	return nil
}

func (p *parser) object() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // '{'
	var obj jsonObject
	var m map[string]any
	if !p.raw {
		m = make(map[string]any)
	}
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		if p.raw {
			return jsonObject{}, nil
		}
		return m, nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != '"' {
			return nil, p.fail("expected a field name")
		}
		key, err := p.string()
		if err != nil {
			return nil, err
		}
		p.skipSpace()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return nil, p.fail("expected ':' after a field name")
		}
		p.i++
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		if p.raw {
			obj = append(obj, member{key, v})
		} else {
			m[key] = v
		}
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil, p.fail("unexpected end of input in an object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			if p.raw {
				return obj, nil
			}
			return m, nil
		default:
			return nil, p.fail("expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array() (any, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	p.i++ // '['
	out := []any{}
	p.skipSpace()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return out, nil
	}
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		p.skipSpace()
		if p.i >= len(p.b) {
			return nil, p.fail("unexpected end of input in an array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, nil
		default:
			return nil, p.fail("expected ',' or ']' in an array")
		}
	}
}

// number reads a number per RFC 8259's grammar.
func (p *parser) number() (any, error) {
	start := p.i
	integral, err := p.lexNumber()
	if err != nil {
		return nil, err
	}
	lit := string(p.b[start:p.i])
	if p.raw {
		return number(lit), nil
	}
	return schemalessNumber(lit, integral), nil
}

func (p *parser) lexNumber() (integral bool, err error) {
	integral = true
	if p.b[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.b) && p.b[p.i] == '0':
		p.i++
	case p.i < len(p.b) && p.b[p.i] >= '1' && p.b[p.i] <= '9':
		p.digits()
	default:
		return false, p.fail("invalid number")
	}
	if p.i < len(p.b) && p.b[p.i] == '.' {
		integral = false
		p.i++
		if p.digits() == 0 {
			return false, p.fail("invalid number: no digit after the decimal point")
		}
	}
	if p.i < len(p.b) && (p.b[p.i] == 'e' || p.b[p.i] == 'E') {
		integral = false
		p.i++
		if p.i < len(p.b) && (p.b[p.i] == '+' || p.b[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return false, p.fail("invalid number: no digit in the exponent")
		}
	}
	return integral, nil
}

// skip checks and passes over one value without building it: the envelope's
// schema is only parsed when the schema cache does not know its bytes.
func (p *parser) skip() error {
	p.skipSpace()
	if p.i >= len(p.b) {
		return p.fail("unexpected end of input")
	}
	switch c := p.b[p.i]; {
	case c == '{' || c == '[':
		if err := p.enter(); err != nil {
			return err
		}
		defer func() { p.depth-- }()
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.i++
		p.skipSpace()
		if p.i < len(p.b) && p.b[p.i] == closer {
			p.i++
			return nil
		}
		for {
			if closer == '}' {
				p.skipSpace()
				if p.i >= len(p.b) || p.b[p.i] != '"' {
					return p.fail("expected a field name")
				}
				if err := p.skipString(); err != nil {
					return err
				}
				p.skipSpace()
				if p.i >= len(p.b) || p.b[p.i] != ':' {
					return p.fail("expected ':' after a field name")
				}
				p.i++
			}
			if err := p.skip(); err != nil {
				return err
			}
			p.skipSpace()
			if p.i >= len(p.b) {
				return p.fail("unexpected end of input")
			}
			switch p.b[p.i] {
			case ',':
				p.i++
			case closer:
				p.i++
				return nil
			default:
				return p.fail("expected ',' or %q", closer)
			}
		}
	case c == '"':
		return p.skipString()
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := p.lexNumber()
		return err
	case c == 't':
		return p.literal("true")
	case c == 'f':
		return p.literal("false")
	case c == 'n':
		return p.literal("null")
	default:
		return p.fail("unexpected character %q", c)
	}
}

func (p *parser) skipString() error {
	p.i++ // '"'
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return nil
		case c == '\\':
			p.i += 2
		case c < 0x20:
			return p.fail("illegal unquoted character (CTRL-CHAR, code %d) in a string", c)
		default:
			p.i++
		}
	}
	return p.fail("unexpected end of input in a string")
}

// schemalessNumber is what Kafka's JsonConverter makes of a number without a
// schema: int64 for integral literals, float64 for the rest. Integers beyond
// int64 become float64 rather than wrapping as Jackson's longValue would.
func schemalessNumber(lit string, integral bool) any {
	if integral {
		if n, err := strconv.ParseInt(lit, 10, 64); err == nil {
			return n
		}
	}
	f, _ := strconv.ParseFloat(lit, 64) // ±Inf on overflow, as Java's doubleValue
	return f
}

func (p *parser) digits() int {
	start := p.i
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		p.i++
	}
	return p.i - start
}

// string reads a string; the common case without escapes is one allocation.
func (p *parser) string() (string, error) {
	p.i++ // '"'
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			s := string(p.b[start:p.i])
			p.i++
			return s, nil
		case c == '\\':
			return p.escapedString(start)
		case c < 0x20:
			return "", p.fail("illegal unquoted character (CTRL-CHAR, code %d) in a string", c)
		}
		p.i++
	}
	return "", p.fail("unexpected end of input in a string")
}

// rawKey reads a member name without allocating when it has no escapes
// (the envelope's "schema" and "payload").
func (p *parser) rawKey() ([]byte, error) {
	start := p.i + 1
	for i := start; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '"':
			p.i = i + 1
			return p.b[start:i], nil
		case c == '\\' || c < 0x20:
			s, err := p.string()
			return []byte(s), err
		}
	}
	_, err := p.string()
	return nil, err
}

func (p *parser) escapedString(start int) (string, error) {
	buf := append([]byte(nil), p.b[start:p.i]...)
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return string(buf), nil
		case c < 0x20:
			return "", p.fail("illegal unquoted character (CTRL-CHAR, code %d) in a string", c)
		case c != '\\':
			buf = append(buf, c)
			p.i++
			continue
		}
		p.i++
		if p.i >= len(p.b) {
			break
		}
		e := p.b[p.i]
		p.i++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, err := p.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(r) {
				// A high surrogate pairs with a following \uDC00-\uDFFF; a lone
				// one becomes U+FFFD rather than an error.
				r2 := utf8.RuneError
				if p.i+1 < len(p.b) && p.b[p.i] == '\\' && p.b[p.i+1] == 'u' {
					save := p.i
					p.i += 2
					low, err := p.hex4()
					if err != nil {
						return "", err
					}
					if dec := utf16.DecodeRune(r, low); dec != utf8.RuneError {
						r2 = dec
					} else {
						p.i = save
					}
				}
				r = r2
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", p.fail("unrecognized character escape %q", e)
		}
	}
	return "", p.fail("unexpected end of input in a string")
}

func (p *parser) hex4() (rune, error) {
	if len(p.b)-p.i < 4 {
		return 0, p.fail("unexpected end of input in a \\u escape")
	}
	var r rune
	for _, c := range p.b[p.i : p.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.fail("invalid hex digit %q in a \\u escape", c)
		}
	}
	p.i += 4
	return r, nil
}

// nodeType names a parsed value's kind as Jackson's JsonNodeType does, for
// error messages that match Kafka's.
func nodeType(v any) string {
	switch v.(type) {
	case nil:
		return "NULL"
	case bool:
		return "BOOLEAN"
	case number, int64, float64:
		return "NUMBER"
	case string:
		return "STRING"
	case []any:
		return "ARRAY"
	case jsonObject, map[string]any:
		return "OBJECT"
	}
	return "POJO"
}
