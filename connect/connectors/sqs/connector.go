package sqs

import (
	"context"
	"maps"

	"github.com/streambridge/bridge/connect"
)

// SourceConnector is SqsSourceConnector: it hands every task the same
// configuration, one task on a FIFO queue and up to tasks.max on a standard
// one (they all long-poll the same queue; SQS shares the messages out).
type SourceConnector struct{ cfg connect.Config }

// Start keeps the configuration after checking it.
func (c *SourceConnector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	if _, err := parse(SourceDef, cfg); err != nil {
		return err
	}
	c.cfg = maps.Clone(cfg)
	return nil
}

// TaskConfigs returns one copy of the configuration per task.
func (c *SourceConnector) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	if isFIFO(c.cfg) {
		// Two readers of a FIFO queue would each hold part of a group's
		// turn and interleave its messages in Kafka.
		maxTasks = 1
	}
	return copies(c.cfg, maxTasks), nil
}

// Stop does nothing: the connector holds no resources.
func (c *SourceConnector) Stop() error { return nil }

// Validate implements connect.ConnectorValidator.
func (c *SourceConnector) Validate(cfg connect.Config) map[string][]string { return validateQueue(cfg) }

// NewTask implements connect.SourceConnector.
func (c *SourceConnector) NewTask() connect.SourceTask { return &SourceTask{} }

// SinkConnector is SqsSinkConnector: up to tasks.max tasks with the same
// configuration; the runtime shares the topics' partitions among them.
type SinkConnector struct{ cfg connect.Config }

// Start keeps the configuration after checking it.
func (c *SinkConnector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	if _, err := parse(SinkDef, cfg); err != nil {
		return err
	}
	c.cfg = maps.Clone(cfg)
	return nil
}

// TaskConfigs returns one copy of the configuration per task.
func (c *SinkConnector) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	return copies(c.cfg, maxTasks), nil
}

// Stop does nothing: the connector holds no resources.
func (c *SinkConnector) Stop() error { return nil }

// Validate implements connect.ConnectorValidator.
func (c *SinkConnector) Validate(cfg connect.Config) map[string][]string { return validateQueue(cfg) }

// NewTask implements connect.SinkConnector.
func (c *SinkConnector) NewTask() connect.SinkTask { return &SinkTask{} }

func copies(cfg connect.Config, n int) []connect.Config {
	out := make([]connect.Config, max(n, 1))
	for i := range out {
		out[i] = maps.Clone(cfg)
	}
	return out
}

var (
	_ connect.SourceConnector    = (*SourceConnector)(nil)
	_ connect.SinkConnector      = (*SinkConnector)(nil)
	_ connect.ConnectorValidator = (*SourceConnector)(nil)
	_ connect.ConnectorValidator = (*SinkConnector)(nil)
)
