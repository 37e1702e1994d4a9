package file

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/streambridge/bridge/connect"
)

// Kafka's FileStreamSourceTask offset fields.
const (
	filenameField = "filename"
	positionField = "position"
)

// kafkaPollWait is how long FileStreamSourceTask waits when it has nothing to
// read, as Kafka's does (wait(1000)).
const kafkaPollWait = time.Second

var stringSchema = &connect.Schema{Type: connect.TypeString}

// streamSourceTask is FileStreamSourceTask: it reads lines from one file (or
// standard input) and sends each as a string value, its source partition
// {"filename": F} and offset {"position": byte after the line}.
type streamSourceTask struct {
	tc        connect.SourceTaskContext
	filename  string // "" = standard input
	topic     string
	batchSize int
	wait      time.Duration

	mu     sync.Mutex
	in     io.ReadCloser // nil until the file exists
	stdin  *stdinPump
	stop   chan struct{}
	closed bool

	buf      []byte
	position int64 // byte position of buf[0]
	chunk    []byte
}

func (t *streamSourceTask) Start(_ context.Context, tc connect.SourceTaskContext, cfg connect.Config) error {
	v, errs := sourceDef.Parse(cfg)
	if errs != nil {
		return configError(errs)
	}
	t.tc = tc
	t.filename = v.String(FileConfig)
	t.topic = v.String(TopicConfig)
	t.batchSize = v.Int(BatchSizeConfig)
	if t.wait == 0 {
		t.wait = kafkaPollWait
	}
	t.stop = make(chan struct{})
	t.chunk = make([]byte, 64<<10)
	if t.filename == "" {
		t.stdin = newStdinPump(os.Stdin)
	}
	return nil
}

// open opens the file and skips to the stored position. It returns false
// while the file does not exist yet.
func (t *streamSourceTask) open() (bool, error) {
	f, err := os.Open(t.filename)
	if errors.Is(err, fs.ErrNotExist) {
		slog.Warn("Couldn't find file for FileStreamSourceTask, sleeping to wait for it to be created", "file", t.filename)
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var pos int64
	off, err := t.tc.Offset(map[string]any{filenameField: t.filename})
	if err != nil {
		f.Close()
		return false, err
	}
	if off != nil {
		if raw, ok := off[positionField]; ok && raw != nil {
			p, ok := offsetNumber(raw)
			if !ok {
				f.Close()
				return false, errors.New("Offset position is the incorrect type")
			}
			pos = p
		}
	}
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		f.Close()
		return false, fmt.Errorf("seek %s to %d: %w", t.filename, pos, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		f.Close()
		return false, nil
	}
	t.in, t.position = f, pos
	return true, nil
}

// offsetNumber reads a stored number: int64 when the task produced it,
// float64 or json.Number once it went through JSON.
func offsetNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case float64:
		if x < 0 || x != float64(int64(x)) {
			return 0, false
		}
		return int64(x), true
	case json.Number:
		n, err := x.Int64()
		return n, err == nil
	}
	return 0, false
}

func (t *streamSourceTask) Poll(ctx context.Context) ([]connect.Record, error) {
	if t.stdin == nil && t.in == nil {
		ok, err := t.open()
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, t.pause(ctx)
		}
	}
	var recs []connect.Record
	for {
		// Lines left in the buffer by a poll that filled its batch come
		// first (Kafka's task leaves them until more data arrives).
		for {
			line, used, ok := splitKafkaLine(t.buf)
			if !ok {
				break
			}
			t.position += int64(used)
			recs = append(recs, t.record(line))
			t.buf = t.buf[used:]
			if len(recs) >= t.batchSize {
				return recs, nil
			}
		}
		n, err := t.read()
		if n > 0 {
			t.buf = append(t.buf, t.chunk[:n]...)
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			if t.isClosed() {
				return recs, nil // Stop closed the file under us
			}
			return recs, fmt.Errorf("read %s: %w", t.name(), err)
		}
		if len(recs) > 0 {
			return recs, nil
		}
		return nil, t.pause(ctx)
	}
}

func (t *streamSourceTask) read() (int, error) {
	if t.stdin != nil {
		return t.stdin.read(t.chunk)
	}
	t.mu.Lock()
	in := t.in
	t.mu.Unlock()
	return in.Read(t.chunk)
}

func (t *streamSourceTask) record(line []byte) connect.Record {
	rec := connect.Record{
		Topic: t.topic, Partition: connect.NoPartition, Offset: -1,
		ValueSchema: stringSchema, Value: decodeUTF8(line),
	}
	if t.filename != "" {
		// Standard input has no position worth keeping: Kafka sends null
		// partition and offset for it.
		rec.SourcePartition = map[string]any{filenameField: t.filename}
		rec.SourceOffset = map[string]any{positionField: t.position}
	}
	return rec
}

// pause waits as Kafka's task does when it has nothing, returning early
// when the task is stopped or ctx ends.
func (t *streamSourceTask) pause(ctx context.Context) error {
	timer := time.NewTimer(t.wait)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.stop:
	case <-ctx.Done():
	}
	return nil
}

func (t *streamSourceTask) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

func (t *streamSourceTask) name() string {
	if t.filename == "" {
		return "stdin"
	}
	return t.filename
}

func (t *streamSourceTask) CommitRecord(context.Context, connect.Record) error { return nil }
func (t *streamSourceTask) Commit(context.Context) error                       { return nil }

func (t *streamSourceTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.stop != nil {
		close(t.stop)
	}
	if t.in != nil {
		return t.in.Close()
	}
	return nil
}

// stdinPump reads standard input on a goroutine of its own, because a read
// of a pipe or terminal blocks and cannot be interrupted; Poll takes what it
// has gathered without blocking. The goroutine ends with the input.
type stdinPump struct {
	mu   sync.Mutex
	data []byte
	err  error
}

func newStdinPump(r io.Reader) *stdinPump {
	p := &stdinPump{}
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := r.Read(buf)
			p.mu.Lock()
			p.data = append(p.data, buf[:n]...)
			if err != nil {
				p.err = err
			}
			p.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return p
}

// read copies what has arrived into b: (0, nil) when nothing has, like a file
// at its end; io.EOF once the input ended and everything was read.
func (p *stdinPump) read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := copy(b, p.data)
	p.data = p.data[n:]
	if n == 0 {
		// Nothing yet, or the input ended: either way there is nothing to
		// read now, as at a file's end.
		return 0, io.EOF
	}
	return n, nil
}
