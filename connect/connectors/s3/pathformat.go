package s3

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// pathFormat is a parsed Joda-Time pattern (Confluent's path.format is a
// Joda DateTimeFormat pattern): letters are fields, text in single quotes is
// literal (” is a quote), anything else is literal.
type pathFormat []token

// token is a literal (field 0) or a field letter repeated count times.
type token struct {
	field   byte
	count   int
	literal string
}

// The fields supported: year (y Y x), month (M), day of month (d), day of
// year (D), day of week (E), hour (H 0-23, k 1-24, h 1-12, K 0-11), minute
// (m), second (s), fraction (S), half day (a), zone offset (Z).
const fieldLetters = "yYxMdDEHkhKmsSaZ"

// parsePathFormat parses a Joda pattern; unknown letters and an unclosed
// quote are errors.
func parsePathFormat(p string) (pathFormat, error) {
	var out pathFormat
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out = append(out, token{literal: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				lit.WriteByte('\'')
				i += 2
				continue
			}
			end := i + 1
			for {
				j := strings.IndexByte(p[end:], '\'')
				if j < 0 {
					return nil, fmt.Errorf("unclosed quote at %d", i)
				}
				lit.WriteString(p[end : end+j])
				end += j + 1
				if end < len(p) && p[end] == '\'' { // '' inside quotes
					lit.WriteByte('\'')
					end++
					continue
				}
				break
			}
			i = end
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			if !strings.ContainsRune(fieldLetters, rune(c)) {
				return nil, fmt.Errorf("illegal pattern component: %c", c)
			}
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			flush()
			out = append(out, token{field: c, count: n})
			i += n
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	return out, nil
}

// format writes t as the pattern says (t already in its timezone).
func (f pathFormat) format(t time.Time) string {
	var b strings.Builder
	for _, tk := range f {
		if tk.field == 0 {
			b.WriteString(tk.literal)
			continue
		}
		switch tk.field {
		case 'y', 'Y', 'x':
			if tk.count == 2 {
				pad(&b, t.Year()%100, 2)
			} else {
				pad(&b, t.Year(), tk.count)
			}
		case 'M':
			switch {
			case tk.count >= 4:
				b.WriteString(t.Month().String())
			case tk.count == 3:
				b.WriteString(t.Month().String()[:3])
			default:
				pad(&b, int(t.Month()), tk.count)
			}
		case 'd':
			pad(&b, t.Day(), tk.count)
		case 'D':
			pad(&b, t.YearDay(), tk.count)
		case 'E':
			if tk.count >= 4 {
				b.WriteString(t.Weekday().String())
			} else {
				b.WriteString(t.Weekday().String()[:3])
			}
		case 'H':
			pad(&b, t.Hour(), tk.count)
		case 'k':
			pad(&b, (t.Hour()+23)%24+1, tk.count)
		case 'h':
			pad(&b, (t.Hour()+11)%12+1, tk.count)
		case 'K':
			pad(&b, t.Hour()%12, tk.count)
		case 'm':
			pad(&b, t.Minute(), tk.count)
		case 's':
			pad(&b, t.Second(), tk.count)
		case 'S':
			ms := fmt.Sprintf("%09d", t.Nanosecond())
			for i := range tk.count {
				if i < len(ms) {
					b.WriteByte(ms[i])
				} else {
					b.WriteByte('0')
				}
			}
		case 'a':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'Z':
			if tk.count == 1 {
				b.WriteString(t.Format("-0700"))
			} else {
				b.WriteString(t.Format("-07:00"))
			}
		}
	}
	return b.String()
}

func pad(b *strings.Builder, n, width int) {
	s := strconv.Itoa(n)
	for i := len(s); i < width; i++ {
		b.WriteByte('0')
	}
	b.WriteString(s)
}
