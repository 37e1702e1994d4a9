package main

import (
	"maps"
	"strings"
	"testing"

	"github.com/streambridge/bridge/connect"
)

func TestParseProperties(t *testing.T) {
	tests := []struct {
		in   string
		want connect.Config
	}{
		{"# comment\n! also\n\nname=local-file-source\nconnector.class = FileStreamSource\ntasks.max: 1\nfile /tmp/test.txt\n",
			connect.Config{"name": "local-file-source", "connector.class": "FileStreamSource", "tasks.max": "1", "file": "/tmp/test.txt"}},
		{"topics=a,\\\n    b,\\\n    c\nempty=\nbare\n", connect.Config{"topics": "a,b,c", "empty": "", "bare": ""}},
		{`key\=with\:escapes = v\tx\u00e9\\` + "\n", connect.Config{"key=with:escapes": "v\txé\\"}},
		{"trailing=\\", connect.Config{"trailing": ""}},
		{"  indented = yes  ", connect.Config{"indented": "yes  "}},
	}
	for _, tt := range tests {
		got, err := parseProperties(strings.NewReader(tt.in))
		if err != nil || !maps.Equal(got, tt.want) {
			t.Errorf("parseProperties(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := parseProperties(strings.NewReader(`bad=\u12`)); err == nil {
		t.Error("a malformed \\u escape was accepted")
	}
}

func FuzzParseProperties(f *testing.F) {
	f.Add("a=b\nc: d\\\n e\n#x\n")
	f.Add(`k\u0041=\uZZZZ`)
	f.Add("\\")
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = parseProperties(strings.NewReader(in))
	})
}
