package file

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

func startStreamSource(t *testing.T, tc connect.SourceTaskContext, cfg connect.Config) *streamSourceTask {
	t.Helper()
	task := &streamSourceTask{wait: time.Millisecond}
	if err := task.Start(context.Background(), tc, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

// pollValues polls until n records came, returning them.
func pollRecords(t *testing.T, task connect.SourceTask, n int) []connect.Record {
	t.Helper()
	var out []connect.Record
	for len(out) < n {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatalf("Poll: %v (after %d records)", err, len(out))
		}
		out = append(out, recs...)
	}
	if len(out) != n {
		t.Fatalf("got %d records, want %d: %v", len(out), n, values(out))
	}
	return out
}

func values(recs []connect.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Value.(string))
	}
	return out
}

func appendFile(t *testing.T, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestFileStreamSourceReadsLinesAndResumes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	cfg := connect.Config{FileConfig: path, TopicConfig: "lines", BatchSizeConfig: "2"}
	var tc connecttest.SourceContext
	task := startStreamSource(t, &tc, cfg)

	// The file does not exist yet: Poll waits and returns nothing.
	if recs, err := task.Poll(context.Background()); err != nil || recs != nil {
		t.Fatalf("Poll before the file exists = %v, %v", recs, err)
	}
	appendFile(t, path, "one\r\ntwo\rthree\nné\nhalf")
	recs := pollRecords(t, task, 4)
	if got, want := values(recs), []string{"one", "two", "three", "né"}; !slices.Equal(got, want) {
		t.Fatalf("values = %q, want %q", got, want)
	}
	// Kafka's shape: topic, string schema, {"filename"} → {"position"} after the line.
	wantPos := []int64{5, 9, 15, 19}
	for i, r := range recs {
		if r.Topic != "lines" || r.ValueSchema.Type != connect.TypeString || r.Partition != connect.NoPartition {
			t.Errorf("record %d = %+v", i, r)
		}
		if r.SourcePartition[filenameField] != path || r.SourceOffset[positionField] != wantPos[i] {
			t.Errorf("record %d at %v %v, want position %d", i, r.SourcePartition, r.SourceOffset, wantPos[i])
		}
	}
	// batch.size caps a poll.
	appendFile(t, path, "\na\nb\nc\n")
	first, err := task.Poll(context.Background())
	if err != nil || len(first) != 2 {
		t.Fatalf("Poll with batch.size 2 = %d records, %v", len(first), err)
	}
	rest := pollRecords(t, task, 2)
	if got := values(append(first, rest...)); !slices.Equal(got, []string{"half", "a", "b", "c"}) {
		t.Fatalf("values = %q", got)
	}

	// Restart after the runtime stored the offsets up to "three": the next
	// task reads from "né" on, nothing lost, nothing repeated.
	task.Stop()
	tc.Store(recs[:3]...)
	again := startStreamSource(t, &tc, cfg)
	if got := values(pollRecords(t, again, 5)); !slices.Equal(got, []string{"né", "half", "a", "b", "c"}) {
		t.Fatalf("after restart values = %q", got)
	}
}

func TestFileStreamSourceBadOffset(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "x\n")
	var tc connecttest.SourceContext
	tc.Store(connect.Record{SourcePartition: map[string]any{filenameField: path}, SourceOffset: map[string]any{positionField: "12"}})
	task := startStreamSource(t, &tc, connect.Config{FileConfig: path, TopicConfig: "t"})
	if _, err := task.Poll(context.Background()); err == nil || err.Error() != "Offset position is the incorrect type" {
		t.Fatalf("Poll with a string position = %v", err)
	}
}

func TestFileStreamSourceStopEndsPoll(t *testing.T) {
	path := filepath.Join(t.TempDir(), "in.txt")
	appendFile(t, path, "")
	task := &streamSourceTask{wait: time.Hour}
	if err := task.Start(context.Background(), &connecttest.SourceContext{}, connect.Config{FileConfig: path, TopicConfig: "t"}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := task.Poll(context.Background())
		done <- err
	}()
	if err := task.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Poll after Stop = %v", err)
	}
}

func TestConfigValidation(t *testing.T) {
	tests := []struct {
		def  connect.ConfigDef
		cfg  connect.Config
		want map[string][]string
	}{
		{sourceDef, connect.Config{FileConfig: "/x"}, map[string][]string{TopicConfig: {`Missing required configuration "topic" which has no default value.`}}},
		{sourceDef, connect.Config{TopicConfig: "", BatchSizeConfig: "x"}, map[string][]string{
			TopicConfig:     {"Invalid value  for configuration topic: String must be non-empty"},
			BatchSizeConfig: {"Invalid value x for configuration batch.size: Not a number of type INT"}}},
		{sinkDef, connect.Config{}, nil},
		{tailDef, connect.Config{FilePatternConfig: "/tmp/[x", TopicConfig: "t", MultilineStartConfig: "(", InitialPositionConfig: "MIDDLE"}, map[string][]string{
			FilePatternConfig:     {"Invalid value /tmp/[x for configuration file.pattern: not a valid glob: syntax error in pattern"},
			MultilineStartConfig:  {"Invalid value ( for configuration multiline.start.pattern: not a valid regular expression: error parsing regexp: missing closing ): `(`"},
			InitialPositionConfig: {"Invalid value MIDDLE for configuration initial.position: String must be one of: START_OF_FILE, END_OF_FILE"}}},
	}
	for i, tt := range tests {
		got := tt.def.Validate(tt.cfg)
		if len(got) != len(tt.want) {
			t.Errorf("%d: Validate = %q, want %q", i, got, tt.want)
			continue
		}
		for k, v := range tt.want {
			if !slices.Equal(got[k], v) {
				t.Errorf("%d: %s = %q, want %q", i, k, got[k], v)
			}
		}
	}
}

func TestPluginsAndTaskConfigs(t *testing.T) {
	var reg connect.Registry
	reg.Register(Plugins()...)
	for _, alias := range []string{"FileStreamSource", "FileStreamSinkConnector", "TailSource"} {
		if _, ok := reg.Lookup(alias); !ok {
			t.Errorf("no plugin for %s", alias)
		}
	}
	p, _ := reg.Lookup(FileStreamSinkClass)
	conn := p.NewSink()
	if err := conn.Start(context.Background(), nil, connect.Config{FileConfig: "/tmp/x"}); err != nil {
		t.Fatal(err)
	}
	if cfgs, _ := conn.TaskConfigs(3); len(cfgs) != 3 {
		t.Errorf("sink TaskConfigs(3) = %d configs, want 3 (Kafka's copies)", len(cfgs))
	}
	p, _ = reg.Lookup(FileStreamSourceClass)
	src := p.NewSource()
	if err := src.Start(context.Background(), nil, connect.Config{TopicConfig: "t"}); err != nil {
		t.Fatal(err)
	}
	if cfgs, _ := src.TaskConfigs(3); len(cfgs) != 1 {
		t.Errorf("source TaskConfigs(3) = %d configs, want 1", len(cfgs))
	}
	if err := src.Start(context.Background(), nil, connect.Config{}); err == nil || !strings.Contains(err.Error(), "topic") {
		t.Errorf("Start without topic = %v", err)
	}
}

func TestFileStreamSourceStdin(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	task := startStreamSource(t, &connecttest.SourceContext{}, connect.Config{TopicConfig: "t"})
	task.stdin = newStdinPump(r) // standard input, as Start sets it up for an empty file setting
	if _, err := w.WriteString("x\ny\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	recs := pollRecords(t, task, 2)
	if got := values(recs); !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("values = %q", got)
	}
	if recs[0].SourcePartition != nil || recs[0].SourceOffset != nil {
		t.Errorf("stdin record has a position: %v %v", recs[0].SourcePartition, recs[0].SourceOffset)
	}
}
