package principal

// Kafka's ssl.principal.mapping.rules (KIP-371), ported from Kafka's
// SslPrincipalMapper so that an operator's rules string means the same
// here: the same splitting into rules (commas, with \ escaping inside a
// rule), the same syntax errors, the first matching rule wins, and the same
// replacement quirks (a $n beyond the pattern's groups is literal text).
//
// Patterns are compiled by Go's regexp (RE2), not java.util.regex: a rule
// using what RE2 lacks (backreferences, lookaround, possessive quantifiers)
// is refused by ParseRules, where Kafka would accept it. One more
// difference is out of reach without Java's engine: where a pattern can
// match the empty string right after a match (an unanchored .* at the end
// of the name), Java's replaceAll adds the replacement once more and Go's
// does not. Rules anchored with ^ and $, as Kafka's documentation writes
// them, are unaffected.

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Java's . and \s, spelled out: Go's . also matches \r and U+0085 and its \s
// lacks \x0B, and the rules string may contain them.
const (
	javaDot   = `[^\n\r\x{85}\x{2028}\x{2029}]`
	javaSpace = `[ \t\n\x0B\f\r]`
)

// rulePattern is SslPrincipalMapper.RULE_PATTERN. Groups: 1 DEFAULT,
// 2 pattern, 4 replacement, 6 L or U, 7 anything else (an empty rule, or
// text that makes the rule invalid).
var rulePattern = `(DEFAULT)|RULE:((\\` + javaDot + `|[^\\/])*)/((\\` + javaDot + `|[^\\/])*)/([LU]?)` + javaDot + `*?|(` + javaDot + `*?)`

var (
	// ruleSplitter is RULE_SPLITTER: one rule and the comma after it.
	ruleSplitter = regexp.MustCompile(javaSpace + `*(` + rulePattern + `)` + javaSpace + `*(,` + javaSpace + `*|$)`)
	// ruleParser is RULE_PARSER as Matcher.lookingAt uses it.
	ruleParser = regexp.MustCompile(`\A(?:` + rulePattern + `)`)
	backRef    = regexp.MustCompile(`\$(\d+)`)
)

// Rules are parsed mapping rules. The zero value has no rules and maps
// nothing.
type Rules struct{ rules []rule }

type rule struct {
	isDefault   bool
	pattern     string
	re          *regexp.Regexp // pattern as given, for the replacing
	whole       *regexp.Regexp // pattern anchored at both ends, for Java's matches()
	replacement string
	lower       bool
	upper       bool
}

// ParseRules parses an ssl.principal.mapping.rules value: comma-separated
// rules, each DEFAULT (the name unchanged) or RULE:pattern/replacement/
// with an optional L or U after the last slash to lower- or upper-case the
// result. Empty rules are ignored, as Kafka ignores them, so "" parses to
// no rules at all.
func ParseRules(s string) (Rules, error) {
	s = strings.TrimFunc(s, func(r rune) bool { return r <= ' ' }) // Java's String.trim
	var rs Rules
	for _, m := range ruleSplitter.FindAllStringSubmatch(s, -1) {
		text := m[1]
		g := ruleParser.FindStringSubmatchIndex(text)
		if g == nil {
			return Rules{}, fmt.Errorf("invalid rule: %s", text)
		}
		if g[1] != len(text) {
			return Rules{}, fmt.Errorf("invalid rule: `%s`, unmatched substring: `%s`", text, text[g[1]:])
		}
		group := func(i int) (string, bool) {
			if g[2*i] < 0 {
				return "", false
			}
			return text[g[2*i]:g[2*i+1]], true
		}
		if _, ok := group(1); ok {
			rs.rules = append(rs.rules, rule{isDefault: true})
			continue
		}
		pattern, ok := group(2)
		if !ok {
			continue // an empty rule
		}
		replacement, _ := group(4)
		flag, _ := group(6)
		r := rule{pattern: pattern, replacement: replacement, lower: flag == "L", upper: flag == "U"}
		var err error
		if r.re, err = regexp.Compile(pattern); err != nil {
			return Rules{}, fmt.Errorf("invalid rule: %s: pattern %q is not one Go's regexp (RE2) accepts: %w", text, pattern, err)
		}
		if r.whole, err = regexp.Compile(`\A(?:` + pattern + `)\z`); err != nil {
			return Rules{}, fmt.Errorf("invalid rule: %s: %w", text, err)
		}
		rs.rules = append(rs.rules, r)
	}
	return rs, nil
}

// Len is the number of rules.
func (rs Rules) Len() int { return len(rs.rules) }

// String prints the rules as Kafka's SslPrincipalMapper lists them, e.g.
// [RULE:^CN=(.*?),OU=.*$/$1/L, DEFAULT].
func (rs Rules) String() string {
	parts := make([]string, len(rs.rules))
	for i, r := range rs.rules {
		parts[i] = r.String()
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (r rule) String() string {
	if r.isDefault {
		return "DEFAULT"
	}
	s := "RULE:" + r.pattern + "/" + r.replacement
	switch {
	case r.lower:
		s += "/L"
	case r.upper:
		s += "/U"
	}
	return s
}

// NoMatchingRuleError is Map's error when no rule applies: Kafka's
// SslPrincipalMapper.NoMatchingRule, with its message.
type NoMatchingRuleError struct {
	DN    string
	Rules Rules
}

func (e *NoMatchingRuleError) Error() string {
	return "No rules apply to " + e.DN + ", rules " + e.Rules.String()
}

// Map returns the principal name for a distinguished name (as
// SubjectRFC2253 gives it): the result of the first rule whose pattern
// matches the whole name. No rule matching is a *NoMatchingRuleError; a
// matching rule whose replacement Java would reject (a trailing \ or $, a
// missing group) is another error.
func (rs Rules) Map(dn string) (string, error) {
	for _, r := range rs.rules {
		name, ok, err := r.apply(dn)
		if err != nil {
			return "", fmt.Errorf("rule %s: %w", r, err)
		}
		if ok {
			return name, nil
		}
	}
	return "", &NoMatchingRuleError{DN: dn, Rules: rs}
}

// apply is SslPrincipalMapper.Rule.apply: when the pattern matches the
// whole name, the name with every match of the pattern replaced (Java's
// String.replaceAll), then cased.
func (r rule) apply(dn string) (string, bool, error) {
	if r.isDefault {
		return dn, true, nil
	}
	if !r.whole.MatchString(dn) {
		return "", false, nil
	}
	repl, err := escapeLiteralBackReferences(r.replacement, r.re.NumSubexp())
	if err != nil {
		return "", false, err
	}
	var b strings.Builder
	last := 0
	for _, m := range r.re.FindAllStringSubmatchIndex(dn, -1) {
		b.WriteString(dn[last:m[0]])
		if err := expandJava(&b, repl, dn, m, r.re); err != nil {
			return "", false, err
		}
		last = m[1]
	}
	b.WriteString(dn[last:])
	out := b.String()
	switch {
	case r.lower:
		out = strings.ToLower(out)
	case r.upper:
		out = strings.ToUpper(out)
	}
	return out, true, nil
}

// escapeLiteralBackReferences is Kafka's (taken there from Apache NiFi): a
// $n naming a group the pattern lacks becomes the literal text $n, after
// shortening $123 to $12 or $1 while that names no group. Like Kafka's, it
// finds the references in the replacement as given and inserts each
// backslash at that position in the text as already changed.
func escapeLiteralBackReferences(unescaped string, groups int) (string, error) {
	if groups == 0 {
		return unescaped, nil
	}
	value := unescaped
	for _, m := range backRef.FindAllStringSubmatchIndex(unescaped, -1) {
		num := unescaped[m[2]:m[3]]
		if strings.HasPrefix(num, "0") {
			continue
		}
		idx, err := strconv.ParseInt(num, 10, 32) // Integer.parseInt
		if err != nil {
			return "", fmt.Errorf("replacement group reference $%s: %w", num, err)
		}
		for idx > int64(groups) && idx >= 10 {
			idx /= 10
		}
		if idx > int64(groups) {
			at := m[2] - 1
			if at > len(value) {
				at = len(value)
			}
			value = value[:at] + `\` + value[at:]
		}
	}
	return value, nil
}

// expandJava appends repl for match m as java.util.regex.Matcher's
// appendReplacement does: \x is x, $n the longest group number that exists
// (at least one digit), ${name} a named group.
func expandJava(b *strings.Builder, repl, s string, m []int, re *regexp.Regexp) error {
	groups := re.NumSubexp()
	for i := 0; i < len(repl); {
		c := repl[i]
		switch c {
		case '\\':
			i++
			if i == len(repl) {
				return errors.New("character to be escaped is missing")
			}
			b.WriteByte(repl[i])
			i++
		case '$':
			i++
			if i == len(repl) {
				return errors.New("illegal group reference: group index is missing")
			}
			var ref int
			if repl[i] == '{' {
				i++
				start := i
				for i < len(repl) && isASCIIAlnum(repl[i]) {
					i++
				}
				name := repl[start:i]
				if name == "" {
					return errors.New("named capturing group has 0 length name")
				}
				if i == len(repl) || repl[i] != '}' {
					return errors.New("named capturing group is missing trailing '}'")
				}
				i++
				ref = re.SubexpIndex(name)
				if ref < 0 {
					return fmt.Errorf("no group with name {%s}", name)
				}
			} else {
				if repl[i] < '0' || repl[i] > '9' {
					return errors.New("illegal group reference")
				}
				ref = int(repl[i] - '0')
				i++
				for i < len(repl) && repl[i] >= '0' && repl[i] <= '9' {
					next := ref*10 + int(repl[i]-'0')
					if next > groups {
						break
					}
					ref = next
					i++
				}
				if ref > groups {
					return fmt.Errorf("no group %d", ref)
				}
			}
			if m[2*ref] >= 0 {
				b.WriteString(s[m[2*ref]:m[2*ref+1]])
			}
		default:
			b.WriteByte(c)
			i++
		}
	}
	return nil
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
