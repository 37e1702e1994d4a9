// Package audit writes the audit log: one JSON object per line, with
// CloudTrail's field names where CloudTrail has one, for every
// control-plane call, every failed authentication and every request an
// authorizer denied, whatever the protocol. Operators feed it to the tools
// they already point at CloudTrail or Kafka's authorizer log.
//
// A nil *Log records nothing, so callers need no checks when auditing is
// off.
package audit

import (
	"bufio"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"
)

// Outcomes of an event.
const (
	Allowed = "allowed" // a control-plane call that was allowed (it may still fail; see ErrorCode)
	Denied  = "denied"  // an authenticated principal refused by an authorizer
	Failed  = "failed"  // an authentication that failed
)

// Event is one audit record.
type Event struct {
	Time time.Time `json:"eventTime"`
	// Source is the protocol: "kafka", "kinesis", "sqs".
	Source string `json:"eventSource"`
	// Name is the API or action: "CreateTopics", "SaslAuthenticate",
	// "kinesis:PutRecord".
	Name string `json:"eventName"`
	// Principal is who made the request ("User:alice", an access key id);
	// "User:ANONYMOUS" before authentication.
	Principal string `json:"principal"`
	// SourceIP is the client's address.
	SourceIP string `json:"sourceIPAddress"`
	// Listener names the port the request came in on.
	Listener string `json:"listener,omitempty"`
	// Resource is what the request acted on: "topic:orders",
	// "group:billing", "cluster:kafka-cluster", an ARN.
	Resource string `json:"resource,omitempty"`
	// Operation is the operation checked (Kafka ACL operation or IAM
	// action), for denials.
	Operation string `json:"operation,omitempty"`
	Outcome   string `json:"outcome"`
	// ErrorCode and ErrorMessage are what the client was told, when it
	// was an error.
	ErrorCode    string `json:"errorCode,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// Log is an audit log. It is safe for concurrent use.
type Log struct {
	log *slog.Logger

	mu     sync.Mutex
	w      *bufio.Writer
	closer io.Closer
	failed bool
}

// Open appends to the file at path, creating it (mode 0600: the log names
// principals and addresses).
func Open(path string, log *slog.Logger) (*Log, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	return New(f, log), nil
}

// New writes to w; Close closes it if it is an io.Closer.
func New(w io.Writer, log *slog.Logger) *Log {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l := &Log{log: log, w: bufio.NewWriter(w)}
	if c, ok := w.(io.Closer); ok {
		l.closer = c
	}
	return l
}

// Record writes e, stamped with the time now if it has none. Each event is
// flushed as it is written: an audit log that loses its last lines in a
// crash loses the ones that mattered. A write error is logged once.
func (l *Log) Record(e Event) {
	if l == nil {
		return
	}
	if e.Time.IsZero() {
		e.Time = time.Now().UTC()
	}
	line, _ := json.Marshal(e)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(line)
	l.w.WriteByte('\n')
	if err := l.w.Flush(); err != nil && !l.failed {
		l.failed = true
		l.log.Error("audit: writing the audit log failed; events are being lost", "err", err)
	}
}

// Close flushes and closes the log.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.w.Flush()
	if l.closer != nil {
		if cerr := l.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
