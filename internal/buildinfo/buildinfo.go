// Package buildinfo says which build of bridge is running. The same answer
// feeds `bridge version` and the bridge_build_info metric, so an operator who
// reads one can trust the other.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version overrides the version read from the module build info. Release
// builds set it at link time:
//
//	go build -ldflags "-X github.com/streambridge/bridge/internal/buildinfo.Version=v1.2.3" ./cmd/bridge
//
// Left empty, the module version is used: "(devel)" for a build from a
// checkout, the tagged version for `go install ...@vX.Y.Z`.
var Version string

// Info describes the running binary.
type Info struct {
	Version    string // release version, or "(devel)"
	GoVersion  string // toolchain that built the binary, e.g. go1.26.8
	Platform   string // GOOS/GOARCH
	Commit     string // VCS revision, or "unknown" when built without VCS stamping
	CommitTime string // VCS commit time (RFC 3339), or "" when unknown
	Modified   bool   // the work tree had uncommitted changes at build time
}

// Read returns the Info of the running binary. It never fails: fields that the
// build did not record (go run, -buildvcs=false, a stripped binary) read as
// "unknown" or "(devel)" rather than being left empty.
func Read() Info {
	info := Info{
		Version:   Version,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
		Commit:    "unknown",
	}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		if bi.GoVersion != "" {
			info.GoVersion = bi.GoVersion
		}
		info.apply(bi.Settings)
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	return info
}

func (i *Info) apply(settings []debug.BuildSetting) {
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			if s.Value != "" {
				i.Commit = s.Value
			}
		case "vcs.time":
			i.CommitTime = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		}
	}
}

// String renders Info the way `bridge version` prints it: one fact a line.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "bridge %s\n", i.Version)
	commit := i.Commit
	if i.Modified {
		commit += " (modified)"
	}
	if i.Commit == "unknown" {
		commit += " (built without VCS information)"
	}
	fmt.Fprintf(&b, "commit:  %s\n", commit)
	if i.CommitTime != "" {
		fmt.Fprintf(&b, "date:    %s\n", i.CommitTime)
	}
	fmt.Fprintf(&b, "go:      %s %s\n", i.GoVersion, i.Platform)
	return b.String()
}
