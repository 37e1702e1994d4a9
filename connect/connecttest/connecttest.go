// Package connecttest holds the task contexts plugin tests hand a task when
// they drive it without a runtime: a connector's own tests call Start, Poll,
// Put and PreCommit directly against a real endpoint, and the runtime's tests
// cover the loop around them.
package connecttest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/streambridge/bridge/connect"
)

// SourceContext is a connect.SourceTaskContext over a map of offsets. Its zero
// value has none stored.
type SourceContext struct {
	mu      sync.Mutex
	offsets map[string]map[string]any
}

// Offset implements connect.SourceTaskContext.
func (c *SourceContext) Offset(partition map[string]any) (map[string]any, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.offsets[key(partition)], nil
}

// Store records recs' positions as the runtime would once Kafka acknowledged
// them: the last offset per source partition wins; a record without one
// (connect.OffsetOf) leaves its partition's as it was.
func (c *SourceContext) Store(recs ...connect.Record) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.offsets == nil {
		c.offsets = make(map[string]map[string]any)
	}
	for _, r := range recs {
		offset := connect.OffsetOf(r)
		if offset == nil {
			continue
		}
		c.offsets[key(r.SourcePartition)] = roundTrip(offset)
	}
}

// key is a partition's identity: its JSON (map keys sorted by encoding/json).
func key(partition map[string]any) string {
	b, _ := json.Marshal(partition)
	return string(b)
}

// roundTrip stores an offset as JSON and reads it back, as the runtime's
// stores do, so numbers come back as float64 exactly as after a restart.
func roundTrip(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// SinkContext is a connect.SinkTaskContext that remembers what the task asked.
type SinkContext struct {
	mu       sync.Mutex
	Assigned []connect.TopicPartition
	Rewinds  map[connect.TopicPartition]int64
	Reported []Reported
	Commits  int
	// Tolerate makes Report accept errors (errors.tolerance=all); otherwise
	// Report returns the error it was given.
	Tolerate bool
}

// Reported is one record a task handed to Report.
type Reported struct {
	Record connect.Record
	Err    error
}

// Rewind implements connect.SinkTaskContext.
func (c *SinkContext) Rewind(tp connect.TopicPartition, next int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Rewinds == nil {
		c.Rewinds = make(map[connect.TopicPartition]int64)
	}
	c.Rewinds[tp] = next
}

// Assignment implements connect.SinkTaskContext.
func (c *SinkContext) Assignment() []connect.TopicPartition {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]connect.TopicPartition(nil), c.Assigned...)
}

// RequestCommit implements connect.SinkTaskContext.
func (c *SinkContext) RequestCommit() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Commits++
}

// Report implements connect.SinkTaskContext.
func (c *SinkContext) Report(_ context.Context, rec connect.Record, err error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.Reported = append(c.Reported, Reported{rec, err})
	if c.Tolerate {
		return nil
	}
	return err
}
