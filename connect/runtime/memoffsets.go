package runtime

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
)

// MemoryOffsetStore is an OffsetStore in memory, for tests and for workers
// whose sources keep their positions elsewhere. Offsets go through JSON as in
// the durable stores, so a task reads back what it would after a restart
// (numbers as float64). The zero value is empty and ready.
type MemoryOffsetStore struct {
	mu sync.Mutex
	m  map[string]map[string]any
}

func memoryKey(connector string, partition map[string]any) string {
	b, _ := json.Marshal(partition)
	return connector + "\x00" + string(b)
}

// Get implements OffsetStore.
func (s *MemoryOffsetStore) Get(_ context.Context, connector string, partition map[string]any) (map[string]any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[memoryKey(connector, partition)], nil
}

// Put implements OffsetStore.
func (s *MemoryOffsetStore) Put(_ context.Context, connector string, offsets []SourceOffset) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[string]map[string]any)
	}
	for _, o := range offsets {
		k := memoryKey(connector, o.Partition)
		if o.Offset == nil {
			delete(s.m, k)
			continue
		}
		b, err := json.Marshal(o.Offset)
		if err != nil {
			return err
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		s.m[k] = v
	}
	return nil
}

// List implements OffsetStore.
func (s *MemoryOffsetStore) List(_ context.Context, connector string) ([]SourceOffset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SourceOffset
	for k, v := range s.m {
		rest, ok := strings.CutPrefix(k, connector+"\x00")
		if !ok {
			continue
		}
		var p map[string]any
		if err := json.Unmarshal([]byte(rest), &p); err != nil {
			return nil, err
		}
		out = append(out, SourceOffset{Partition: p, Offset: v})
	}
	return out, nil
}
