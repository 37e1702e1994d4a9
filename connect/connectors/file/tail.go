package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streambridge/bridge/connect"
)

// The tail task's offset fields and the headers of its records.
const (
	patternField = "pattern"
	pathField    = "path"
	inodeField   = "inode"

	HeaderPath      = "file.path"
	HeaderHost      = "file.host"
	HeaderTruncated = "file.truncated.bytes"
)

// tailTask follows the newest file file.pattern matches, as the Kinesis Agent
// does. Its one source partition is {"pattern": P}; each record's offset is
// {"path", "inode" (decimal string), "position" (byte after the record)}.
//
// Rotation by rename: when a file newer than the open one appears, the open
// file (its descriptor, whatever its name now) is read to its end and given
// up only after a whole poll interval without growth, so the lines a writer
// adds before reopening its log are not lost; then the next newer file is
// read from its start. Rotation by truncation (copytruncate): a size below
// the read position means the file starts over, from 0.
type tailTask struct {
	tc        connect.SourceTaskContext
	topic     string
	pattern   string
	start     *regexp.Regexp
	maxBytes  int
	batchSize int
	interval  time.Duration
	initial   string
	host      []byte
	partition map[string]any

	mu     sync.Mutex
	stop   chan struct{}
	closed bool
	cur    *tailFile // nil until a file matches

	asm       *lineAssembler
	idle      int // polls in a row that found nothing new
	queue     []connect.Record
	chunk     []byte
	truncated atomic.Int64 // records cut by max.line.bytes
}

// tailFile is the open file: read through its descriptor, so a rename does
// not lose it.
type tailFile struct {
	f       *os.File
	path    string
	inode   uint64
	readPos int64
}

func (t *tailTask) Start(_ context.Context, tc connect.SourceTaskContext, cfg connect.Config) error {
	v, errs := tailDef.Parse(cfg)
	if errs != nil {
		return configError(errs)
	}
	t.tc = tc
	t.topic = v.String(TopicConfig)
	t.pattern = v.String(FilePatternConfig)
	if p := v.String(MultilineStartConfig); p != "" {
		t.start = regexp.MustCompile(p) // Parse checked it
	}
	t.maxBytes = v.Int(MaxLineBytesConfig)
	t.batchSize = v.Int(BatchSizeConfig)
	t.interval = v.Millis(PollIntervalConfig)
	t.initial = v.String(InitialPositionConfig)
	host, _ := os.Hostname()
	t.host = []byte(host)
	t.partition = map[string]any{patternField: t.pattern}
	t.stop = make(chan struct{})
	t.chunk = make([]byte, 64<<10)
	return nil
}

// Truncated returns how many records max.line.bytes has cut so far.
func (t *tailTask) Truncated() int64 { return t.truncated.Load() }

func (t *tailTask) Poll(ctx context.Context) ([]connect.Record, error) {
	if len(t.queue) == 0 {
		if err := t.step(); err != nil {
			if t.isClosed() {
				return nil, nil
			}
			return nil, err
		}
	}
	if len(t.queue) > 0 {
		n := min(len(t.queue), t.batchSize)
		out := t.queue[:n:n]
		t.queue = t.queue[n:]
		return out, nil
	}
	t.pause(ctx)
	return nil, nil
}

// step reads what is new and turns it into queued records, or handles the
// end of a file: truncation, the pending multi-line record, rotation.
func (t *tailTask) step() error {
	if t.cur == nil {
		if err := t.openFirst(); err != nil || t.cur == nil {
			return err
		}
	}
	read, err := t.readAvailable()
	if err != nil {
		return err
	}
	if read > 0 {
		t.idle = 0
		return nil
	}
	t.idle++
	fi, err := t.cur.f.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", t.cur.path, err)
	}
	if fi.Size() < t.cur.readPos {
		slog.Info("tail: file truncated, reading it from the start", "file", t.cur.path, "size", fi.Size(), "position", t.cur.readPos)
		t.emit(t.asm.Finish())
		if _, err := t.cur.f.Seek(0, io.SeekStart); err != nil {
			return fmt.Errorf("seek %s: %w", t.cur.path, err)
		}
		t.cur.readPos = 0
		t.asm = newLineAssembler(t.start, t.maxBytes, 0)
		t.idle = 0
		return nil
	}
	// A whole interval passed with no growth (the first idle poll may
	// come right after a read): nothing more is on its way for now.
	if t.idle < 2 {
		return nil
	}
	t.emit(t.asm.Flush())
	me := candidate{path: t.cur.path, inode: t.cur.inode, size: fi.Size(), mtime: fi.ModTime()}
	cs := matches(t.pattern)
	next, ok := nextAfter(cs, me)
	if !ok {
		// A new file under the name we opened is the next one even when
		// the file system's coarse clock gave it our file's time.
		next, ok = replacedBy(cs, t.cur.path, t.cur.inode)
	}
	if !ok {
		return nil
	}
	slog.Info("tail: file rotated, moving on", "from", t.cur.path, "to", next.path)
	t.emit(t.asm.Finish())
	return t.open(next, 0)
}

// readAvailable reads the open file to its current end, or until a batch is
// queued, feeding the assembler.
func (t *tailTask) readAvailable() (int, error) {
	total := 0
	for len(t.queue) < t.batchSize {
		n, err := t.cur.f.Read(t.chunk)
		if n > 0 {
			total += n
			t.cur.readPos += int64(n)
			t.emit(t.asm.Feed(t.chunk[:n]))
		}
		if errors.Is(err, io.EOF) || (n == 0 && err == nil) {
			break
		}
		if err != nil {
			return total, fmt.Errorf("read %s: %w", t.cur.path, err)
		}
	}
	return total, nil
}

// openFirst picks the file to start with: the checkpointed one (found by
// inode, under whatever name it has now) at its position, else the newest
// match at initial.position.
func (t *tailTask) openFirst() error {
	cs := matches(t.pattern)
	off, err := t.tc.Offset(t.partition)
	if err != nil {
		return err
	}
	if off != nil {
		pos, okPos := offsetNumber(off[positionField])
		inode, okInode := parseInode(off[inodeField])
		path, _ := off[pathField].(string)
		if !okPos || !okInode || pos < 0 {
			return fmt.Errorf("tail: stored offset %v is not a path, inode and position", off)
		}
		if c, found := findInode(cs, filepath.Dir(path), inode); found {
			if c.size < pos {
				pos = 0 // truncated while we were away
			}
			return t.open(c, pos)
		}
		// The checkpointed file is gone: what matches now came after it.
		if c, found := newest(cs); found {
			return t.open(c, 0)
		}
		return nil
	}
	c, found := newest(cs)
	if !found {
		return nil
	}
	pos := int64(0)
	if t.initial == EndOfFile {
		pos = c.size
	}
	return t.open(c, pos)
}

func (t *tailTask) open(c candidate, pos int64) error {
	f, err := os.Open(c.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil // renamed or deleted since we listed it: look again next poll
	}
	if err != nil {
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return err
	}
	if _, err := f.Seek(pos, io.SeekStart); err != nil {
		f.Close()
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		f.Close()
		return errors.New("tail: stopped")
	}
	if t.cur != nil {
		t.cur.f.Close()
	}
	t.cur = &tailFile{f: f, path: c.path, inode: inodeOf(fi), readPos: pos}
	t.asm = newLineAssembler(t.start, t.maxBytes, pos)
	t.idle = 0
	return nil
}

func (t *tailTask) emit(as []assembled) {
	for _, a := range as {
		rec := connect.Record{
			Topic: t.topic, Partition: connect.NoPartition, Offset: -1,
			ValueSchema: stringSchema, Value: decodeUTF8(a.Text),
			Headers:         []connect.Header{{Key: HeaderPath, Value: []byte(t.cur.path)}, {Key: HeaderHost, Value: t.host}},
			SourcePartition: t.partition,
			SourceOffset: map[string]any{
				pathField:     t.cur.path,
				inodeField:    strconv.FormatUint(t.cur.inode, 10),
				positionField: a.End,
			},
		}
		if a.Cut > 0 {
			t.truncated.Add(1)
			slog.Warn("tail: record longer than max.line.bytes truncated", "file", t.cur.path, "position", a.End, "cut", a.Cut)
			rec.Headers = append(rec.Headers, connect.Header{Key: HeaderTruncated, Value: []byte(strconv.FormatInt(a.Cut, 10))})
		}
		t.queue = append(t.queue, rec)
	}
}

func (t *tailTask) pause(ctx context.Context) {
	timer := time.NewTimer(t.interval)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.stop:
	case <-ctx.Done():
	}
}

func (t *tailTask) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

func (t *tailTask) CommitRecord(context.Context, connect.Record) error { return nil }
func (t *tailTask) Commit(context.Context) error                       { return nil }

func (t *tailTask) Stop() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	if t.stop != nil {
		close(t.stop)
	}
	if t.cur != nil {
		return t.cur.f.Close()
	}
	return nil
}
