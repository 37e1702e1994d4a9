package file

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

func startTail(t *testing.T, tc connect.SourceTaskContext, cfg connect.Config) *tailTask {
	t.Helper()
	full := connect.Config{TopicConfig: "logs", PollIntervalConfig: "1", InitialPositionConfig: StartOfFile}
	for k, v := range cfg {
		full[k] = v
	}
	task := &tailTask{}
	if err := task.Start(context.Background(), tc, full); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

// pollTail polls until n records came; it gives up after many empty polls
// (a count, not a clock) so a bug shows as a failure, not a hang.
func pollTail(t *testing.T, task *tailTask, n int) []connect.Record {
	t.Helper()
	var out []connect.Record
	for empty := 0; len(out) < n; {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(recs) == 0 {
			if empty++; empty > 5000 {
				t.Fatalf("only %d of %d records: %q", len(out), n, values(out))
			}
		}
		out = append(out, recs...)
	}
	if len(out) != n {
		t.Fatalf("got %d records, want %d: %q", len(out), n, values(out))
	}
	return out
}

// pollNothing checks that a few polls (enough to flush and rotate) bring nothing.
func pollNothing(t *testing.T, task *tailTask) {
	t.Helper()
	for range 5 {
		if recs, err := task.Poll(context.Background()); err != nil || len(recs) > 0 {
			t.Fatalf("Poll = %q, %v; want nothing", values(recs), err)
		}
	}
}

func inode(t *testing.T, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return strconv.FormatUint(inodeOf(fi), 10)
}

// touchLater sets a file's modification time after every other file's, as a
// rotation does, whatever the file system's timestamp resolution.
func touchLater(t *testing.T, path string, by time.Duration) {
	t.Helper()
	later := time.Now().Add(by)
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
}

func TestTailRotationByRename(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	appendFile(t, log, "a\nb\n")
	firstInode := inode(t, log)
	task := startTail(t, &connecttest.SourceContext{}, connect.Config{FilePatternConfig: filepath.Join(dir, "app.log*")})
	recs := pollTail(t, task, 2)

	// logrotate's create mode: rename, create a new file; the writer adds a
	// line through its old descriptor before it reopens, and an unterminated
	// one, then writes to the new file.
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "")
	appendFile(t, log+".1", "b2\nlast")
	appendFile(t, log, "c\n")
	touchLater(t, log, time.Second)
	recs = append(recs, pollTail(t, task, 3)...)
	if got := values(recs); !slices.Equal(got, []string{"a", "b", "b2", "last", "c"}) {
		t.Fatalf("values = %q", got)
	}
	pollNothing(t, task)
	host, _ := os.Hostname()
	for i, want := range []struct {
		path, inode string
		pos         int64
	}{{log, firstInode, 2}, {log, firstInode, 4}, {log, firstInode, 7}, {log, firstInode, 11}, {log, inode(t, log), 2}} {
		r := recs[i]
		if r.SourceOffset[pathField] != want.path || r.SourceOffset[inodeField] != want.inode || r.SourceOffset[positionField] != want.pos {
			t.Errorf("record %d offset %v, want %+v", i, r.SourceOffset, want)
		}
		if p, _ := r.Header(HeaderPath); string(p) != want.path {
			t.Errorf("record %d path header %q", i, p)
		}
		if h, _ := r.Header(HeaderHost); string(h) != host {
			t.Errorf("record %d host header %q, want %q", i, h, host)
		}
		if r.SourcePartition[patternField] != filepath.Join(dir, "app.log*") {
			t.Errorf("record %d partition %v", i, r.SourcePartition)
		}
	}
}

func TestTailTruncation(t *testing.T) {
	log := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, log, "first\nsecond\n")
	task := startTail(t, &connecttest.SourceContext{}, connect.Config{FilePatternConfig: log})
	recs := pollTail(t, task, 2)
	// copytruncate: the file starts over, shorter than where we were.
	if err := os.Truncate(log, 0); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "third\n")
	recs = append(recs, pollTail(t, task, 1)...)
	if got := values(recs); !slices.Equal(got, []string{"first", "second", "third"}) {
		t.Fatalf("values = %q", got)
	}
	if pos := recs[2].SourceOffset[positionField]; pos != int64(6) {
		t.Fatalf("position after truncation = %v, want 6", pos)
	}
}

func TestTailMultilineAndRestart(t *testing.T) {
	log := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, log, "2024-01-01 boom\n  at a()\n  at b()\n2024-01-02 ok\n2024-01-03 two\n  more")
	cfg := connect.Config{FilePatternConfig: log, MultilineStartConfig: `^\d{4}-`}
	var tc connecttest.SourceContext
	task := startTail(t, &tc, cfg)
	// The first two records are complete when the next start line is read;
	// the third waits for its last line's terminator.
	recs := pollTail(t, task, 2)
	if got := values(recs); !slices.Equal(got, []string{"2024-01-01 boom\n  at a()\n  at b()", "2024-01-02 ok"}) {
		t.Fatalf("values = %q", got)
	}
	pollNothing(t, task)

	// Restart with only the first record stored: the second comes again (it
	// was not acknowledged), the third is assembled whole.
	task.Stop()
	tc.Store(recs[0])
	appendFile(t, log, " lines\n")
	again := startTail(t, &tc, cfg)
	// The third record is emitted after a whole interval without growth.
	recs = pollTail(t, again, 2)
	if got := values(recs); !slices.Equal(got, []string{"2024-01-02 ok", "2024-01-03 two\n  more lines"}) {
		t.Fatalf("after restart values = %q", got)
	}
	pollNothing(t, again)
}

func TestTailRestartAfterRenameOutOfPattern(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	appendFile(t, log, "a\nb\nc\nd\n")
	var tc connecttest.SourceContext
	cfg := connect.Config{FilePatternConfig: log}
	task := startTail(t, &tc, cfg)
	recs := pollTail(t, task, 4)
	task.Stop()
	tc.Store(recs[:2]...)

	// While the task was down the log rotated to a name the pattern does
	// not match; the checkpoint's inode still finds it.
	if err := os.Rename(log, filepath.Join(dir, "archived-app")); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "e\n")
	touchLater(t, log, time.Second)
	again := startTail(t, &tc, cfg)
	if got := values(pollTail(t, again, 3)); !slices.Equal(got, []string{"c", "d", "e"}) {
		t.Fatalf("after restart values = %q", got)
	}
	pollNothing(t, again)
}

func TestTailInitialPositionAndLongLines(t *testing.T) {
	log := filepath.Join(t.TempDir(), "app.log")
	appendFile(t, log, "old\n")
	task := startTail(t, &connecttest.SourceContext{}, connect.Config{
		FilePatternConfig: log, InitialPositionConfig: EndOfFile, MaxLineBytesConfig: "4"})
	pollNothing(t, task)
	appendFile(t, log, "new\nabcdefgh\nok\n")
	recs := pollTail(t, task, 3)
	if got := values(recs); !slices.Equal(got, []string{"new", "abcd", "ok"}) {
		t.Fatalf("values = %q", got)
	}
	if cut, _ := recs[1].Header(HeaderTruncated); string(cut) != "4" {
		t.Errorf("truncated header = %q, want 4", cut)
	}
	if _, ok := recs[2].Header(HeaderTruncated); ok {
		t.Error("a short line has the truncated header")
	}
	if task.Truncated() != 1 {
		t.Errorf("Truncated() = %d, want 1", task.Truncated())
	}
}

func TestTailNoFileYetAndBadOffset(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "later.log")
	task := startTail(t, &connecttest.SourceContext{}, connect.Config{FilePatternConfig: log})
	pollNothing(t, task)
	appendFile(t, log, "x\n")
	if got := values(pollTail(t, task, 1)); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("values = %q", got)
	}

	var tc connecttest.SourceContext
	tc.Store(connect.Record{SourcePartition: map[string]any{patternField: log}, SourceOffset: map[string]any{positionField: "x"}})
	bad := startTail(t, &tc, connect.Config{FilePatternConfig: log})
	if _, err := bad.Poll(context.Background()); err == nil {
		t.Fatal("Poll with a malformed stored offset succeeded")
	}
}

// TestTailRotationWithEqualTimes: the new file has the old one's
// modification time (a coarse clock, a fast rotation); it is still the next.
func TestTailRotationWithEqualTimes(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	appendFile(t, log, "a\n")
	task := startTail(t, &connecttest.SourceContext{}, connect.Config{FilePatternConfig: log + "*"})
	recs := pollTail(t, task, 1)
	if err := os.Rename(log, log+".1"); err != nil {
		t.Fatal(err)
	}
	appendFile(t, log, "b\n")
	same := time.Now().Add(-time.Hour)
	for _, p := range []string{log, log + ".1"} {
		if err := os.Chtimes(p, same, same); err != nil {
			t.Fatal(err)
		}
	}
	recs = append(recs, pollTail(t, task, 1)...)
	if got := values(recs); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("values = %q", got)
	}
}
