package mapping

import (
	"strings"
	"testing"
)

func TestQuoteInput(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"abc", `"abc"`},
		{"a\xffb", `"a\xffb"`},
		{strings.Repeat("a", 78), `"` + strings.Repeat("a", 78) + `"`},
		{strings.Repeat("a", 79), `"` + strings.Repeat("a", 75) + `"...`},
		{strings.Repeat("\xff", 100), `"` + strings.Repeat(`\xff`, 18) + `"...`},
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", 37) + `"...`},
	}
	for _, tt := range tests {
		got := quoteInput(tt.in)
		if got != tt.want {
			t.Errorf("quoteInput(%q) = %s, want %s", tt.in, got, tt.want)
		}
		if len(got) > maxQuotedLength {
			t.Errorf("quoteInput(%q) is %d bytes", tt.in, len(got))
		}
	}
}
