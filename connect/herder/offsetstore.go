package herder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"sync"

	"github.com/streambridge/bridge/connect/runtime"
)

// FileOffsetStore is a runtime.OffsetStore in one JSON file (Kafka
// standalone's offset.storage.file.filename): every Put rewrites the file
// (temporary file, fsync, rename) before it returns, so stored positions
// survive a crash. Offsets come back as JSON decodes them (numbers as
// float64), in memory as after a restart.
type FileOffsetStore struct {
	path string // "" keeps offsets in memory

	mu   sync.Mutex
	data map[string]map[string]runtime.SourceOffset // connector → partition key → offset
}

// offsetsFileContent is the file's layout.
type offsetsFileContent struct {
	Version    int                               `json:"version"`
	Connectors map[string][]runtime.SourceOffset `json:"connectors"`
}

// OpenFileOffsetStore opens (or, on first Put, creates) the file at path;
// an empty path keeps offsets in memory.
func OpenFileOffsetStore(path string) (*FileOffsetStore, error) {
	s := &FileOffsetStore{path: path, data: map[string]map[string]runtime.SourceOffset{}}
	if path == "" {
		return s, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, fmt.Errorf("offsets: %w", err)
	}
	if s.data, err = parseOffsetsFile(b); err != nil {
		return nil, fmt.Errorf("offsets: %s: %w", path, err)
	}
	return s, nil
}

func parseOffsetsFile(b []byte) (map[string]map[string]runtime.SourceOffset, error) {
	var f offsetsFileContent
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, err
	}
	if f.Version != stateVersion {
		return nil, fmt.Errorf("version %d, this worker reads %d", f.Version, stateVersion)
	}
	data := map[string]map[string]runtime.SourceOffset{}
	for name, list := range f.Connectors {
		m := map[string]runtime.SourceOffset{}
		for _, o := range list {
			if o.Partition == nil || o.Offset == nil {
				return nil, fmt.Errorf("connector %s has an offset without partition or position", name)
			}
			m[partitionKey(o.Partition)] = o
		}
		data[name] = m
	}
	return data, nil
}

// partitionKey is a partition's identity: its JSON, map keys sorted.
func partitionKey(p map[string]any) string {
	b, _ := json.Marshal(p)
	return string(b)
}

// roundTrip returns m as JSON decodes it, so what Get returns before and
// after a restart is the same.
func roundTrip(m map[string]any) (map[string]any, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	err = json.Unmarshal(b, &out)
	return out, err
}

// Get implements runtime.OffsetStore.
func (s *FileOffsetStore) Get(_ context.Context, connector string, partition map[string]any) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.data[connector][partitionKey(partition)]
	if !ok {
		return nil, nil
	}
	return maps.Clone(o.Offset), nil
}

// List implements runtime.OffsetStore, in the partitions' JSON order.
func (s *FileOffsetStore) List(_ context.Context, connector string) ([]runtime.SourceOffset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.data[connector]
	out := make([]runtime.SourceOffset, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, runtime.SourceOffset{Partition: maps.Clone(m[k].Partition), Offset: maps.Clone(m[k].Offset)})
	}
	return out, nil
}

// Put implements runtime.OffsetStore: durable on return; a nil Offset
// deletes the partition's position.
func (s *FileOffsetStore) Put(_ context.Context, connector string, offsets []runtime.SourceOffset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := maps.Clone(s.data[connector])
	if next == nil {
		next = map[string]runtime.SourceOffset{}
	}
	for _, o := range offsets {
		p, err := roundTrip(o.Partition)
		if err != nil {
			return fmt.Errorf("offsets: partition %v: %w", o.Partition, err)
		}
		key := partitionKey(p)
		if o.Offset == nil {
			delete(next, key)
			continue
		}
		off, err := roundTrip(o.Offset)
		if err != nil {
			return fmt.Errorf("offsets: offset %v: %w", o.Offset, err)
		}
		next[key] = runtime.SourceOffset{Partition: p, Offset: off}
	}
	prev, had := s.data[connector]
	if len(next) == 0 {
		delete(s.data, connector)
	} else {
		s.data[connector] = next
	}
	if err := s.flushLocked(); err != nil {
		if had {
			s.data[connector] = prev
		} else {
			delete(s.data, connector)
		}
		return err
	}
	return nil
}

func (s *FileOffsetStore) flushLocked() error {
	if s.path == "" {
		return nil
	}
	f := offsetsFileContent{Version: stateVersion, Connectors: map[string][]runtime.SourceOffset{}}
	for name, m := range s.data {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			f.Connectors[name] = append(f.Connectors[name], m[k])
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path, b); err != nil {
		return fmt.Errorf("offsets: %w", err)
	}
	return nil
}
