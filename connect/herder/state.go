package herder

// The connectors file: every connector's configuration, target state and
// task configurations, rewritten whole on each change (a standalone worker
// has a handful of connectors), so it is never half written.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// stateFile is the connectors file's content. Version lets a later layout
// be told apart.
type stateFile struct {
	Version    int               `json:"version"`
	Connectors map[string]stored `json:"connectors"`
}

const stateVersion = 1

func loadState(path string) (map[string]stored, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]stored{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("herder: %w", err)
	}
	m, err := parseState(b)
	if err != nil {
		return nil, fmt.Errorf("herder: %s: %w", path, err)
	}
	return m, nil
}

// parseState decodes and checks a connectors file.
func parseState(b []byte) (map[string]stored, error) {
	var f stateFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("version %d, this worker reads %d", f.Version, stateVersion)
	}
	for name, s := range f.Connectors {
		switch s.Target {
		case TargetRunning, TargetPaused, TargetStopped:
		default:
			return nil, fmt.Errorf("connector %s has target state %q", name, s.Target)
		}
		if s.Config == nil {
			return nil, fmt.Errorf("connector %s has no configuration", name)
		}
	}
	if f.Connectors == nil {
		f.Connectors = map[string]stored{}
	}
	return f.Connectors, nil
}

// persistLocked writes every connector's stored state; h.mu is held.
func (h *Herder) persistLocked() error {
	if h.file == "" {
		return nil
	}
	f := stateFile{Version: stateVersion, Connectors: make(map[string]stored, len(h.connectors))}
	for name, c := range h.connectors {
		f.Connectors[name] = c.stored
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(h.file, b); err != nil {
		return &Error{500, fmt.Sprintf("Failed to store the connector configurations: %v", err)}
	}
	return nil
}

// writeFileAtomic replaces path with b: written to a temporary file in the
// same directory, fsynced, renamed over path, and the directory fsynced, so
// a crash leaves the old content or the new one.
func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
