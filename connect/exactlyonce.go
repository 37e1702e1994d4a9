package connect

// Exactly-once source support (KIP-618): what a source connector says about
// itself, and how a task defines its own transactions. Both interfaces are
// optional; a connector that implements neither is treated as Kafka treats a
// Java connector that overrides neither method.

// ExactlyOnce is a source connector's answer to "can you give
// exactly-once delivery with this configuration?" (Kafka's
// ExactlyOnceSupport; the zero value is Java's null: the connector did not
// say).
type ExactlyOnce int

// The answers.
const (
	ExactlyOnceUnknown ExactlyOnce = iota
	ExactlyOnceSupported
	ExactlyOnceUnsupported
)

// ExactlyOnceSupporter is implemented by source connectors that know whether
// they can be exactly-once: their source offsets must identify a position
// from which a restart resumes without skipping or repeating data. Validation
// of exactly.once.support=required asks it (SourceConnector.exactlyOnceSupport).
type ExactlyOnceSupporter interface {
	ExactlyOnceSupport(cfg Config) (ExactlyOnce, error)
}

// TransactionBoundaries is a source connector's answer to "can your tasks
// define their own transaction boundaries?" (Kafka's
// ConnectorTransactionBoundaries; the zero value is Java's null).
type TransactionBoundaries int

// The answers.
const (
	TransactionBoundariesUnknown TransactionBoundaries = iota
	TransactionBoundariesSupported
	TransactionBoundariesUnsupported
)

// TransactionBoundarier is implemented by source connectors whose tasks can
// use a TransactionContext (transaction.boundary=connector). A connector that
// does not implement it cannot (Java's default, UNSUPPORTED).
type TransactionBoundarier interface {
	CanDefineTransactionBoundaries(cfg Config) (TransactionBoundaries, error)
}

// TransactionContext lets a source task decide where its transactions end
// when the connector runs with transaction.boundary=connector (Kafka's
// TransactionContext). Requests are honoured by the runtime's loop after the
// records concerned were handed to the producer; an abort wins over a commit
// asked for the same point.
type TransactionContext interface {
	// CommitTransaction commits after the next batch Poll returns (or the
	// one being returned, when called from Poll).
	CommitTransaction()
	// CommitTransactionAfter commits right after rec was sent: records
	// polled after it go to the next transaction. rec is recognized by its
	// SourceOffset map (the same map value Poll returned).
	CommitTransactionAfter(rec Record)
	// AbortTransaction aborts the open transaction after the next batch:
	// its records are never visible to read_committed consumers and their
	// offsets are not stored.
	AbortTransaction()
	// AbortTransactionAfter aborts right after rec was sent.
	AbortTransactionAfter(rec Record)
}

// TransactionContextProvider is implemented by the SourceTaskContext the
// runtime hands a task. TransactionContext returns nil unless the worker has
// exactly-once source support enabled and the connector uses
// transaction.boundary=connector (Java's SourceTaskContext.transactionContext()).
type TransactionContextProvider interface {
	TransactionContext() TransactionContext
}
