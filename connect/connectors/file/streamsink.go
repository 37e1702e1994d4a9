package file

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/streambridge/bridge/connect"
)

// streamSinkTask is FileStreamSinkTask: it appends each record's value, in
// its string form, and a newline to a file (or standard output). Unlike
// Kafka's, its PreCommit fsyncs the file before the offsets are committed,
// so a committed record is on disk.
type streamSinkTask struct {
	mu       sync.Mutex
	filename string
	file     *os.File // nil for standard output
	out      *bufio.Writer
	sync     func() error
}

func (t *streamSinkTask) Start(_ context.Context, _ connect.SinkTaskContext, cfg connect.Config) error {
	v, errs := sinkDef.Parse(cfg)
	if errs != nil {
		return configError(errs)
	}
	t.filename = v.String(FileConfig)
	if t.filename == "" {
		t.out = bufio.NewWriter(os.Stdout)
		t.sync = func() error { return nil } // a terminal or pipe has nothing to sync
		return nil
	}
	f, err := os.OpenFile(t.filename, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("Couldn't find or create file '%s' for FileStreamSinkTask: %w", t.filename, err)
	}
	t.file, t.out, t.sync = f, bufio.NewWriter(f), f.Sync
	return nil
}

func (t *streamSinkTask) Open(context.Context, []connect.TopicPartition) error  { return nil }
func (t *streamSinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

func (t *streamSinkTask) Put(_ context.Context, recs []connect.Record) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.out == nil {
		return errors.New("FileStreamSinkTask is stopped")
	}
	for i := range recs {
		if err := writeJavaString(t.out, recs[i].ValueSchema, recs[i].Value); err != nil {
			return err
		}
		if err := t.out.WriteByte('\n'); err != nil {
			return fmt.Errorf("write %s: %w", t.name(), err)
		}
	}
	// Kafka's PrintStream has no buffer of its own: each line is in the
	// file when put returns, for a reader tailing it; only the fsync waits
	// for PreCommit.
	if err := t.out.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", t.name(), err)
	}
	return nil
}

// PreCommit flushes and fsyncs, then lets every offset Put so far be committed.
func (t *streamSinkTask) PreCommit(_ context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.flush(); err != nil {
		return nil, err
	}
	return offsets, nil
}

func (t *streamSinkTask) flush() error {
	if t.out == nil {
		return nil
	}
	if err := t.out.Flush(); err != nil {
		return fmt.Errorf("flush %s: %w", t.name(), err)
	}
	if err := t.sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", t.name(), err)
	}
	return nil
}

func (t *streamSinkTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	err := t.flush()
	t.out = nil
	if t.file != nil {
		err = errors.Join(err, t.file.Close())
		t.file = nil
	}
	return err
}

func (t *streamSinkTask) name() string {
	if t.filename == "" {
		return "stdout"
	}
	return t.filename
}
