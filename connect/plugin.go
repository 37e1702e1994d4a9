package connect

import (
	"context"
	"errors"
	"fmt"
)

// Config is a connector's, task's or plugin's configuration: string keys and
// string values, as the REST API carries them. ConfigDef parses them.
type Config map[string]string

// Connector is the part of a connector that runs once per connector in the
// cluster: it checks its configuration and splits the work into task
// configurations. Kafka Connect's Connector.
type Connector interface {
	// Start begins the connector with a configuration that passed validation.
	// ctx carries the connector's lifetime; cc lets it ask for new task
	// configurations (new Kinesis shards, new topics matching a pattern).
	Start(ctx context.Context, cc ConnectorContext, cfg Config) error
	// TaskConfigs returns at most maxTasks task configurations.
	TaskConfigs(maxTasks int) ([]Config, error)
	// Stop ends the connector; it must return promptly.
	Stop() error
}

// ConnectorValidator is implemented by connectors with rules across fields that
// a ConfigDef cannot express. The errors are per field name and are merged
// with ConfigDef's in the validate answer; a configuration with any error is
// refused by POST/PUT as well.
type ConnectorValidator interface {
	Validate(cfg Config) map[string][]string
}

// ConnectorContext is how a running connector talks to the runtime.
type ConnectorContext interface {
	// RequestTaskReconfiguration asks the runtime to call TaskConfigs again
	// and restart the tasks when their configurations changed.
	RequestTaskReconfiguration()
	// RaiseError fails the connector with err (status FAILED, trace = err).
	RaiseError(err error)
}

// SourceConnector is a connector that reads from an outside system into Kafka.
type SourceConnector interface {
	Connector
	NewTask() SourceTask
}

// SinkConnector is a connector that writes Kafka topics to an outside system.
type SinkConnector interface {
	Connector
	NewTask() SinkTask
}

// SourceTask copies from an outside system into Kafka.
type SourceTask interface {
	// Start begins the task; stored positions are read through tc.
	Start(ctx context.Context, tc SourceTaskContext, cfg Config) error
	// Poll returns the next records. It blocks until it has some, until a
	// short wait passes (a nil slice then), or until ctx is done or Stop is
	// called. An error matching ErrRetriable makes the runtime poll again
	// after a backoff; any other fails the task.
	Poll(ctx context.Context) ([]Record, error)
	// CommitRecord is called once per record after Kafka acknowledged it (or,
	// with errors.tolerance=all, after it was dropped). rec is the record as
	// Poll returned it, with Partition and Offset set to where Kafka wrote it
	// (left as polled for a dropped record): Java's commitRecord(record,
	// metadata).
	CommitRecord(ctx context.Context, rec Record) error
	// Commit is called after the runtime stored the offsets of every record
	// acknowledged so far: a task that must delete or acknowledge upstream
	// (SQS DeleteMessage) does it here, never earlier.
	Commit(ctx context.Context) error
	// Stop ends the task and makes a blocked Poll return.
	Stop() error
}

// SourceTaskContext gives a source task its stored positions.
type SourceTaskContext interface {
	// Offset returns the last stored SourceOffset for a SourcePartition, or nil.
	Offset(partition map[string]any) (map[string]any, error)
}

// SinkTask copies Kafka records to an outside system.
type SinkTask interface {
	Start(ctx context.Context, tc SinkTaskContext, cfg Config) error
	// Open is called when the task is assigned partitions (before records of
	// them reach Put); Close when they are revoked (after the last Put of them
	// and a final PreCommit).
	Open(ctx context.Context, tps []TopicPartition) error
	Close(ctx context.Context, tps []TopicPartition) error
	// Put hands the task records in offset order per partition. A task may
	// buffer them; an error matching ErrRetriable makes the runtime hand the
	// same records again after a backoff; any other fails the task.
	Put(ctx context.Context, recs []Record) error
	// PreCommit is called before the runtime commits consumer offsets with
	// the next offset to read per partition after the records Put so far. It
	// returns the offsets that are safe to commit: what the target has
	// acknowledged (a task that writes synchronously in Put returns them
	// unchanged; one that buffers flushes or returns less). Offsets are never
	// committed beyond what it returns.
	PreCommit(ctx context.Context, offsets map[TopicPartition]int64) (map[TopicPartition]int64, error)
	Stop() error
}

// SinkTaskContext is how a sink task talks to the runtime.
type SinkTaskContext interface {
	// Rewind makes the consumer read partition tp from offset next (S3 sink
	// after a restart: from the last object it finished).
	Rewind(tp TopicPartition, next int64)
	// Assignment returns the partitions the task holds.
	Assignment() []TopicPartition
	// RequestCommit asks for a PreCommit and offset commit soon.
	RequestCommit()
	// Report sends a record the task cannot write to the error handling the
	// connector configured (errors.tolerance, the dead letter queue); it
	// returns an error when the tolerance is exceeded, which the task returns.
	Report(ctx context.Context, rec Record, err error) error
}

// Converter turns Connect data into Kafka bytes and back.
type Converter interface {
	// Configure is called once; isKey tells a key converter from a value one.
	Configure(cfg Config, isKey bool) error
	FromConnect(topic string, schema *Schema, value any) ([]byte, error)
	ToConnect(topic string, data []byte) (*Schema, any, error)
}

// Transform is a single message transform.
type Transform interface {
	Configure(cfg Config) error
	// Apply returns the transformed record, or nil to drop it. It may change
	// and return rec itself.
	Apply(rec *Record) (*Record, error)
}

// Predicate decides whether a transform applies to a record.
type Predicate interface {
	Configure(cfg Config) error
	Test(rec *Record) bool
}

// ErrRetriable marks an error after which the same call may succeed later
// (Kafka Connect's RetriableException). Wrap with Retriable.
var ErrRetriable = errors.New("retriable")

// Retriable wraps err so that errors.Is(err, ErrRetriable) holds.
func Retriable(err error) error {
	if err == nil {
		return nil
	}
	return retriableError{err}
}

type retriableError struct{ err error }

func (e retriableError) Error() string   { return e.err.Error() }
func (e retriableError) Unwrap() []error { return []error{e.err, ErrRetriable} }
func (e retriableError) String() string  { return fmt.Sprintf("retriable: %v", e.err) }
