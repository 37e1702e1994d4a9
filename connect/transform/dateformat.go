package transform

import (
	"fmt"
	"strconv"
	"time"
)

// dateFormat is a compiled java.text.SimpleDateFormat pattern, formatting in
// UTC as Kafka's transforms configure it. Supported letters: G y Y M L w D d
// F E u a H k K h m s S z Z X; quoted text ('…', ” for a quote) is literal.
type dateFormat []func(b []byte, t time.Time) []byte

func compileDateFormat(p string) (dateFormat, error) {
	var out dateFormat
	literal := func(s string) {
		out = append(out, func(b []byte, _ time.Time) []byte { return append(b, s...) })
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\'':
			if i+1 < len(p) && p[i+1] == '\'' {
				literal("'")
				i += 2
				continue
			}
			j := i + 1
			var lit []byte
			for ; j < len(p); j++ {
				if p[j] == '\'' {
					if j+1 < len(p) && p[j+1] == '\'' {
						lit = append(lit, '\'')
						j++
						continue
					}
					break
				}
				lit = append(lit, p[j])
			}
			if j >= len(p) {
				return nil, fmt.Errorf("Unterminated quote")
			}
			literal(string(lit))
			i = j + 1
		case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'):
			n := 1
			for i+n < len(p) && p[i+n] == c {
				n++
			}
			f, err := dateField(c, n)
			if err != nil {
				return nil, err
			}
			out = append(out, f)
			i += n
		default:
			literal(string(c))
			i++
		}
	}
	return out, nil
}

func (f dateFormat) format(t time.Time) string {
	t = t.UTC()
	b := make([]byte, 0, 32)
	for _, part := range f {
		b = part(b, t)
	}
	return string(b)
}

// pad writes v with at least n digits, as SimpleDateFormat's numbers are.
func pad(b []byte, v, n int) []byte {
	s := strconv.Itoa(v)
	for i := len(s); i < n; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

func num(n int, get func(time.Time) int) func([]byte, time.Time) []byte {
	return func(b []byte, t time.Time) []byte { return pad(b, get(t), n) }
}

func text(s func(time.Time) string) func([]byte, time.Time) []byte {
	return func(b []byte, t time.Time) []byte { return append(b, s(t)...) }
}

func dateField(c byte, n int) (func([]byte, time.Time) []byte, error) {
	switch c {
	case 'G':
		return text(func(time.Time) string { return "AD" }), nil
	case 'y', 'Y':
		if n == 2 {
			return num(2, func(t time.Time) int { return t.Year() % 100 }), nil
		}
		return num(n, time.Time.Year), nil
	case 'M', 'L':
		switch {
		case n >= 4:
			return text(func(t time.Time) string { return t.Month().String() }), nil
		case n == 3:
			return text(func(t time.Time) string { return t.Month().String()[:3] }), nil
		}
		return num(n, func(t time.Time) int { return int(t.Month()) }), nil
	case 'w':
		return num(n, func(t time.Time) int { _, w := t.ISOWeek(); return w }), nil
	case 'D':
		return num(n, time.Time.YearDay), nil
	case 'd':
		return num(n, time.Time.Day), nil
	case 'F':
		return num(n, func(t time.Time) int { return (t.Day()-1)/7 + 1 }), nil
	case 'E':
		if n >= 4 {
			return text(func(t time.Time) string { return t.Weekday().String() }), nil
		}
		return text(func(t time.Time) string { return t.Weekday().String()[:3] }), nil
	case 'u':
		return num(n, func(t time.Time) int {
			if d := int(t.Weekday()); d != 0 {
				return d
			}
			return 7
		}), nil
	case 'a':
		return text(func(t time.Time) string {
			if t.Hour() < 12 {
				return "AM"
			}
			return "PM"
		}), nil
	case 'H':
		return num(n, time.Time.Hour), nil
	case 'k':
		return num(n, func(t time.Time) int {
			if h := t.Hour(); h != 0 {
				return h
			}
			return 24
		}), nil
	case 'K':
		return num(n, func(t time.Time) int { return t.Hour() % 12 }), nil
	case 'h':
		return num(n, func(t time.Time) int {
			if h := t.Hour() % 12; h != 0 {
				return h
			}
			return 12
		}), nil
	case 'm':
		return num(n, time.Time.Minute), nil
	case 's':
		return num(n, time.Time.Second), nil
	case 'S':
		return num(n, func(t time.Time) int { return t.Nanosecond() / int(time.Millisecond) }), nil
	case 'z':
		if n >= 4 {
			return text(func(time.Time) string { return "Coordinated Universal Time" }), nil
		}
		return text(func(time.Time) string { return "UTC" }), nil
	case 'Z':
		return text(func(time.Time) string { return "+0000" }), nil
	case 'X':
		return text(func(time.Time) string { return "Z" }), nil
	}
	return nil, fmt.Errorf("Illegal pattern character '%c'", c)
}
