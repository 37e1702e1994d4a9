package distributed

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Task-count records (KIP-618): tasks-fencing-<name> {"task-count":N},
// KafkaConfigBackingStore's TASK_COUNT_RECORD_V0 as JsonConverter writes
// it. A fencing round for a connector fences the transactional ids of the
// previous record's N tasks, then writes the new count; until then the
// connector's newly committed tasks are pending fencing.

// PutTaskCountRecord writes tasks-fencing-<name> with the connector's
// current task count, ending a fencing round.
func (s *ConfigStore) PutTaskCountRecord(ctx context.Context, name string, tasks int) error {
	return s.write(ctx, &kgo.Record{Key: []byte("tasks-fencing-" + name), Value: fmt.Appendf(nil, `{"task-count":%d}`, tasks)})
}

// applyTaskCount folds a task-count record in; s.mu is held.
func (s *ConfigStore) applyTaskCount(name string, value []byte) *ConfigChange {
	var v struct {
		TaskCount *int `json:"task-count"`
	}
	if value == nil || json.Unmarshal(value, &v) != nil || v.TaskCount == nil || *v.TaskCount < 0 {
		return nil
	}
	c := s.connector(name)
	c.TaskCountRecord, c.PendingFencing = *v.TaskCount, false
	return &ConfigChange{Kind: TaskCountRecorded, Connector: name}
}
