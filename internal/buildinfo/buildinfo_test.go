package buildinfo

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadNeverEmpty(t *testing.T) {
	i := Read()
	if i.Version == "" || i.GoVersion == "" || i.Commit == "" || i.Platform == "" {
		t.Fatalf("Read left a field empty: %+v", i)
	}
	if !strings.HasPrefix(i.GoVersion, "go") {
		t.Errorf("GoVersion = %q, want a go toolchain version", i.GoVersion)
	}
}

func TestVersionOverride(t *testing.T) {
	old := Version
	Version = "v9.9.9"
	t.Cleanup(func() { Version = old })
	if got := Read().Version; got != "v9.9.9" {
		t.Fatalf("Version = %q, want the link-time override v9.9.9", got)
	}
}

func TestVCSSettings(t *testing.T) {
	i := Info{Commit: "unknown"}
	i.apply([]debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"},
		{Key: "vcs.time", Value: "2026-01-02T03:04:05Z"},
		{Key: "vcs.modified", Value: "true"},
	})
	if i.Commit != "0123456789abcdef" || i.CommitTime != "2026-01-02T03:04:05Z" || !i.Modified {
		t.Fatalf("apply = %+v", i)
	}
	s := i.String()
	for _, want := range []string{"commit:  0123456789abcdef (modified)", "date:    2026-01-02T03:04:05Z"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
}

func TestStringWithoutVCS(t *testing.T) {
	i := Info{Version: "(devel)", GoVersion: runtime.Version(), Platform: "linux/amd64", Commit: "unknown"}
	s := i.String()
	for _, want := range []string{"bridge (devel)\n", "commit:  unknown (built without VCS information)\n", "go:      " + runtime.Version() + " linux/amd64\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
	if strings.Contains(s, "date:") {
		t.Errorf("String() = %q prints a date it does not know", s)
	}
}
