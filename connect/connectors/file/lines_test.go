package file

import (
	"bytes"
	"regexp"
	"slices"
	"testing"
)

func TestSplitKafkaLine(t *testing.T) {
	tests := []struct {
		in       string
		line     string
		consumed int
		ok       bool
	}{
		{"abc\ndef", "abc", 4, true},
		{"abc\r\ndef", "abc", 5, true},
		{"abc\rdef", "abc", 4, true},
		{"abc\r", "", 0, false}, // the next byte may be '\n'
		{"abc", "", 0, false},
		{"\n", "", 1, true},
		{"", "", 0, false},
	}
	for _, tt := range tests {
		line, n, ok := splitKafkaLine([]byte(tt.in))
		if string(line) != tt.line || n != tt.consumed || ok != tt.ok {
			t.Errorf("splitKafkaLine(%q) = %q, %d, %v; want %q, %d, %v", tt.in, line, n, ok, tt.line, tt.consumed, tt.ok)
		}
	}
}

func TestDecodeUTF8(t *testing.T) {
	for in, want := range map[string]string{
		"héllo":    "héllo",
		"a\xffb":   "a\uFFFDb",
		"\xe2\x82": "\uFFFD\uFFFD",
		"":         "",
		"日本\xc0語":  "日本\uFFFD語",
	} {
		if got := decodeUTF8([]byte(in)); got != want {
			t.Errorf("decodeUTF8(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLineAssembler(t *testing.T) {
	type rec struct {
		Text string
		End  int64
		Cut  int64
	}
	tests := []struct {
		name   string
		start  string
		max    int
		in     string
		feed   []rec // records from Feed
		finish []rec // then from Finish
		resume int64 // Resume() after Feed
	}{
		{name: "lines", in: "a\nbb\r\nccc", feed: []rec{{"a", 2, 0}, {"bb", 6, 0}}, finish: []rec{{"ccc", 9, 0}}, resume: 6},
		{name: "multi-line", start: `^\d`, in: "1 a\n  b\n  c\n2 d\n  e\n",
			feed: []rec{{"1 a\n  b\n  c", 12, 0}}, finish: []rec{{"2 d\n  e", 20, 0}}, resume: 12},
		{name: "continuation first", start: `^\d`, in: "x\n1 a\n",
			feed: []rec{{"x", 2, 0}}, finish: []rec{{"1 a", 6, 0}}, resume: 2},
		{name: "long line cut", max: 3, in: "abcdef\nxy\nlongest", feed: []rec{{"abc", 7, 3}, {"xy", 10, 0}},
			finish: []rec{{"lon", 17, 4}}, resume: 10},
		{name: "long multi-line cut", start: `^S`, max: 5, in: "S1\nab\ncd\nS2\n",
			feed: []rec{{"S1\nab", 9, 3}}, finish: []rec{{"S2", 12, 0}}, resume: 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var re *regexp.Regexp
			if tt.start != "" {
				re = regexp.MustCompile(tt.start)
			}
			conv := func(as []assembled) []rec {
				var out []rec
				for _, a := range as {
					out = append(out, rec{string(a.Text), a.End, a.Cut})
				}
				return out
			}
			// Byte by byte and whole must agree.
			for _, chunk := range []int{1, len(tt.in)} {
				a := newLineAssembler(re, tt.max, 0)
				var got []assembled
				for in := []byte(tt.in); len(in) > 0; {
					n := min(chunk, len(in))
					got = append(got, a.Feed(in[:n])...)
					in = in[n:]
				}
				if !slices.Equal(conv(got), tt.feed) {
					t.Errorf("chunk %d: Feed = %+v, want %+v", chunk, conv(got), tt.feed)
				}
				if r := a.Resume(); r != tt.resume {
					t.Errorf("chunk %d: Resume = %d, want %d", chunk, r, tt.resume)
				}
				if f := conv(a.Finish()); !slices.Equal(f, tt.finish) {
					t.Errorf("chunk %d: Finish = %+v, want %+v", chunk, f, tt.finish)
				}
			}
		})
	}
}

// FuzzLineAssembler checks the assembler's invariants on any input and any
// chunking: the same records whatever the chunks, ends increasing and within
// the input, Resume never ahead of what was read, records within max, and,
// when nothing is cut, the records' lines being exactly the input's lines.
func FuzzLineAssembler(f *testing.F) {
	f.Add([]byte("a\nb\r\nc"), uint8(3), "", uint16(0))
	f.Add([]byte("1 x\n  y\n2 z\n"), uint8(1), `^\d`, uint16(0))
	f.Add([]byte("aaaaaaaaaaaa\nbb\n"), uint8(5), "", uint16(4))
	f.Add([]byte("S\nxxxxxxxx\nyy\nS\n"), uint8(2), "^S", uint16(6))
	f.Add([]byte("\n\n\r\n\xff\xfe\n"), uint8(1), "", uint16(1))
	f.Fuzz(func(t *testing.T, in []byte, chunk uint8, pattern string, max uint16) {
		re, err := regexp.Compile(pattern)
		if err != nil || pattern == "" {
			re = nil
		}
		run := func(size int) ([]assembled, int64) {
			a := newLineAssembler(re, int(max), 0)
			var out []assembled
			read := int64(0)
			for rest := in; len(rest) > 0; {
				n := min(size, len(rest))
				out = append(out, a.Feed(rest[:n])...)
				rest = rest[n:]
				read += int64(n)
				if r := a.Resume(); r < 0 || r > read {
					t.Fatalf("Resume %d outside [0, %d]", r, read)
				}
			}
			resume := a.Resume()
			return append(out, a.Finish()...), resume
		}
		whole, resumeWhole := run(len(in) + 1)
		chunked, resumeChunked := run(int(chunk) + 1)
		if len(whole) != len(chunked) || resumeWhole != resumeChunked {
			t.Fatalf("whole %d records (resume %d), chunked %d (resume %d)", len(whole), resumeWhole, len(chunked), resumeChunked)
		}
		last := int64(0)
		cut := int64(0)
		var texts [][]byte
		for i := range whole {
			w, c := whole[i], chunked[i]
			if !bytes.Equal(w.Text, c.Text) || w.End != c.End || w.Cut != c.Cut {
				t.Fatalf("record %d differs: %+v vs %+v", i, w, c)
			}
			if w.End <= last && !(i == 0 && w.End == 0) || w.End > int64(len(in)) {
				t.Fatalf("record %d ends at %d after %d (input %d bytes)", i, w.End, last, len(in))
			}
			if max > 0 && len(w.Text) > int(max) {
				t.Fatalf("record %d has %d bytes, max %d", i, len(w.Text), max)
			}
			last = w.End
			cut += w.Cut
			texts = append(texts, w.Text)
		}
		if len(in) > 0 && last != int64(len(in)) {
			t.Fatalf("records end at %d, input has %d bytes", last, len(in))
		}
		if cut == 0 {
			var want [][]byte
			for rest := in; len(rest) > 0; {
				line, n, ok := splitLogLine(rest)
				if !ok {
					line, n = rest, len(rest)
				}
				want = append(want, line)
				rest = rest[n:]
			}
			if got := bytes.Join(texts, []byte{'\n'}); !bytes.Equal(got, bytes.Join(want, []byte{'\n'})) {
				t.Fatalf("records %q, want the lines %q", got, want)
			}
		}
	})
}
