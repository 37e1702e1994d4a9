package kafkaclient

import (
	"errors"
	"fmt"
	"strings"
)

// JAASEntry is one login module of a JAAS configuration: what
// sasl.jaas.config holds, e.g.
//
//	org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="secret";
type JAASEntry struct {
	Module  string
	Flag    string // required, requisite, sufficient or optional, lower case
	Options map[string]string
}

// ParseJAAS reads a JAAS configuration the way Kafka's JaasConfig does: a
// java.io.StreamTokenizer where bytes up to the space are white space, / starts
// a comment (// and /* */ too), ' and " quote values (with Java's escapes), and
// ; and = stand alone; any other byte is part of a word. So a value with / or
// white space in it (an ARN, a path) must be quoted, as with Java's clients.
// Errors are Kafka's wording.
func ParseJAAS(s string) ([]JAASEntry, error) {
	return parseJAASEntries(&jaasTokenizer{s: s}, false)
}

// parseJAASEntries reads login modules up to the end, or up to } in a
// file's section.
func parseJAASEntries(t *jaasTokenizer, inSection bool) ([]JAASEntry, error) {
	var out []JAASEntry
	for {
		tok, err := t.next()
		if err != nil {
			return nil, err
		}
		if tok.kind == tokEOF && inSection {
			return nil, errors.New("JAAS file: a section is not closed by }")
		}
		if tok.kind == tokEOF || inSection && tok.kind == tokClose {
			break
		}
		e, err := parseJAASEntry(t, tok)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("Login module not specified in JAAS config")
	}
	return out, nil
}

func parseJAASEntry(t *jaasTokenizer, first jaasToken) (JAASEntry, error) {
	if first.kind != tokWord && first.kind != tokQuoted {
		return JAASEntry{}, errors.New("Login module not specified in JAAS config")
	}
	e := JAASEntry{Module: first.text, Options: map[string]string{}}
	flag, err := t.next()
	if err != nil {
		return e, err
	}
	if flag.kind == tokEOF {
		return e, errors.New("Login module control flag not specified in JAAS config")
	}
	if flag.kind != tokWord && flag.kind != tokQuoted {
		return e, errors.New("Login module control flag is not available in the JAAS config")
	}
	switch f := strings.ToLower(flag.text); f {
	case "required", "requisite", "sufficient", "optional":
		e.Flag = f
	default:
		return e, fmt.Errorf("Invalid login module control flag '%s' in JAAS config", flag.text)
	}
	for {
		key, err := t.next()
		if err != nil {
			return e, err
		}
		if key.kind == tokEOF || key.kind == tokSemi {
			if key.kind != tokSemi {
				return e, errors.New("JAAS config entry not terminated by semi-colon")
			}
			return e, nil
		}
		eq, err := t.next()
		if err != nil {
			return e, err
		}
		var val jaasToken
		if eq.kind == tokEquals {
			if val, err = t.next(); err != nil {
				return e, err
			}
		}
		if eq.kind != tokEquals || (val.kind != tokWord && val.kind != tokQuoted) {
			return e, fmt.Errorf("Value not specified for key '%s' in JAAS config", key.text)
		}
		e.Options[key.text] = val.text
	}
}

type tokenKind int

const (
	tokEOF tokenKind = iota
	tokWord
	tokQuoted
	tokSemi
	tokEquals
	tokOpen  // { in a JAAS file
	tokClose // } in a JAAS file
)

type jaasToken struct {
	kind tokenKind
	text string
}

// jaasTokenizer is the subset of java.io.StreamTokenizer Kafka's JaasConfig
// sets up.
type jaasTokenizer struct {
	s   string
	pos int
	// braces makes { and } tokens of their own: a JAAS file's sections.
	braces bool
}

func (t *jaasTokenizer) next() (jaasToken, error) {
	for t.pos < len(t.s) {
		c := t.s[t.pos]
		switch {
		case c <= ' ':
			t.pos++
		case c == '/':
			if strings.HasPrefix(t.s[t.pos:], "/*") {
				end := strings.Index(t.s[t.pos+2:], "*/")
				if end < 0 {
					t.pos = len(t.s)
				} else {
					t.pos += 2 + end + 2
				}
				continue
			}
			// A lone / is a comment character too, as is //: the rest
			// of the line is skipped.
			if nl := strings.IndexAny(t.s[t.pos:], "\n\r"); nl < 0 {
				t.pos = len(t.s)
			} else {
				t.pos += nl
			}
		case c == ';':
			t.pos++
			return jaasToken{kind: tokSemi, text: ";"}, nil
		case c == '=':
			t.pos++
			return jaasToken{kind: tokEquals, text: "="}, nil
		case c == '"' || c == '\'':
			return t.quoted(c), nil
		case t.braces && (c == '{' || c == '}'):
			t.pos++
			if c == '{' {
				return jaasToken{kind: tokOpen, text: "{"}, nil
			}
			return jaasToken{kind: tokClose, text: "}"}, nil
		default:
			start := t.pos
			for t.pos < len(t.s) && isJAASWordByte(t.s[t.pos]) && !(t.braces && (t.s[t.pos] == '{' || t.s[t.pos] == '}')) {
				t.pos++
			}
			return jaasToken{kind: tokWord, text: t.s[start:t.pos]}, nil
		}
	}
	return jaasToken{kind: tokEOF}, nil
}

func isJAASWordByte(c byte) bool {
	return c > ' ' && c != ';' && c != '=' && c != '/' && c != '"' && c != '\''
}

// quoted reads a quoted string as StreamTokenizer does: it ends at the
// matching quote or at the end of the line, and backslash escapes are
// Java's (\n, \t, octal, and \ before anything else is that character).
func (t *jaasTokenizer) quoted(q byte) jaasToken {
	t.pos++
	var b strings.Builder
	for t.pos < len(t.s) {
		c := t.s[t.pos]
		if c == q {
			t.pos++
			break
		}
		if c == '\n' || c == '\r' {
			break
		}
		t.pos++
		if c != '\\' || t.pos == len(t.s) {
			b.WriteByte(c)
			continue
		}
		c = t.s[t.pos]
		t.pos++
		switch c {
		case 'a':
			b.WriteByte(7)
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'v':
			b.WriteByte('\v')
		default:
			if c >= '0' && c <= '7' {
				// Up to three octal digits, the first at most 3 for three.
				n, max3 := int(c-'0'), c <= '3'
				for i := 0; i < 2 && t.pos < len(t.s) && t.s[t.pos] >= '0' && t.s[t.pos] <= '7' && (i == 0 || max3); i++ {
					n = n*8 + int(t.s[t.pos]-'0')
					t.pos++
				}
				b.WriteByte(byte(n))
				continue
			}
			b.WriteByte(c)
		}
	}
	return jaasToken{kind: tokQuoted, text: b.String()}
}

// ParseJAASFile reads a JAAS login configuration file, the file Java's
// -Djava.security.auth.login.config names: sections NAME { entries };
// with the entries as ParseJAAS reads them. It returns the entries by
// section name.
func ParseJAASFile(s string) (map[string][]JAASEntry, error) {
	t := &jaasTokenizer{s: s, braces: true}
	out := map[string][]JAASEntry{}
	for {
		name, err := t.next()
		if err != nil {
			return nil, err
		}
		if name.kind == tokEOF {
			break
		}
		open, err := t.next()
		if err != nil {
			return nil, err
		}
		if (name.kind != tokWord && name.kind != tokQuoted) || open.kind != tokOpen {
			return nil, fmt.Errorf("JAAS file: want NAME { ... }; near %q", name.text)
		}
		entries, err := parseJAASEntries(t, true)
		if err != nil {
			return nil, fmt.Errorf("JAAS file: section %s: %w", name.text, err)
		}
		semi, err := t.next()
		if err != nil {
			return nil, err
		}
		if semi.kind != tokSemi {
			return nil, fmt.Errorf("JAAS file: section %s: want ; after }", name.text)
		}
		out[name.text] = append(out[name.text], entries...)
	}
	return out, nil
}
