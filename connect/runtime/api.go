// Package runtime runs connectors and tasks: a Worker starts a connector's
// Connector, asks it for task configurations, and runs source tasks (poll,
// convert, transform, produce, store offsets, commit) and sink tasks (consume
// in the connector's consumer group, convert, transform, put, pre-commit,
// commit offsets) against one Kafka cluster, with Kafka Connect's error
// handling (errors.tolerance, retries, the dead letter queue).
//
// A herder (connect/herder) decides what runs where and calls the Worker; the
// Worker tells it what happened through a StatusListener. The Worker keeps no
// configuration of its own beyond what runs now.
package runtime

import (
	"context"

	"github.com/streambridge/bridge/connect"
)

// TaskID names a task: its connector and its number from 0.
type TaskID struct {
	Connector string `json:"connector"`
	Task      int    `json:"task"`
}

// State is a connector's or task's state as the status endpoint reports it.
type State string

// The states (Kafka Connect's AbstractStatus.State).
const (
	Unassigned State = "UNASSIGNED"
	Running    State = "RUNNING"
	Paused     State = "PAUSED"
	Failed     State = "FAILED"
	Restarting State = "RESTARTING"
	Stopped    State = "STOPPED"
)

// StatusListener hears every state change of what a Worker runs. trace is
// the failure's text for Failed, empty otherwise. Calls may come from any
// goroutine.
type StatusListener interface {
	ConnectorState(name string, s State, trace string)
	TaskState(id TaskID, s State, trace string)
}

// SourceOffset is one stored position of a source connector.
type SourceOffset struct {
	Partition map[string]any `json:"partition"`
	Offset    map[string]any `json:"offset"`
}

// OffsetStore keeps source connectors' positions: a file in standalone mode,
// the connect-offsets topic in distributed mode. A nil Offset in Put deletes
// the partition's position (KIP-875's DELETE and tombstones).
type OffsetStore interface {
	// Get returns the stored offset of partition, or nil.
	Get(ctx context.Context, connector string, partition map[string]any) (map[string]any, error)
	// Put stores offsets; they are durable when it returns.
	Put(ctx context.Context, connector string, offsets []SourceOffset) error
	// List returns every stored position of the connector.
	List(ctx context.Context, connector string) ([]SourceOffset, error)
}

// ConnectorHandle is a running connector, as the Worker started it.
type ConnectorHandle interface {
	// TaskConfigs asks the connector for at most maxTasks task configurations.
	TaskConfigs(maxTasks int) ([]connect.Config, error)
}

// Hooks are what the herder hears from a running connector besides states.
type Hooks struct {
	// Reconfigure is called when the connector asks for new task
	// configurations (ConnectorContext.RequestTaskReconfiguration).
	Reconfigure func(connector string)
}

// The Worker's methods, which connect/herder calls (implemented in worker.go):
//
//	NewWorker(WorkerConfig) (*Worker, error)
//	(*Worker).StartConnector(ctx, name string, cfg connect.Config, hooks Hooks) (ConnectorHandle, error)
//	(*Worker).StopConnector(name string)                     // blocks until stopped
//	(*Worker).StartTask(id TaskID, connCfg, taskCfg connect.Config) error
//	(*Worker).StopTask(id TaskID)                            // final commit, then stop; blocks
//	(*Worker).PauseTask(id TaskID) / ResumeTask(id TaskID)
//	(*Worker).Close()
//
// connCfg is the connector's whole configuration (converters, transforms,
// errors.*, topics of a sink); taskCfg what TaskConfigs returned for this task.

// TopicListener is implemented by a StatusListener that tracks the topics a
// connector uses (GET /connectors/{name}/topics): the Worker calls
// ActiveTopic the first time a task of the connector produces to or consumes
// from a topic since the task started.
type TopicListener interface {
	ActiveTopic(connector, topic string)
}
