package herder_test

import (
	"context"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/herder"
	"github.com/streambridge/bridge/connect/herder/herdertest"
	"github.com/streambridge/bridge/connect/runtime"
)

// started returns a started herder over a fake worker, closed at the end.
func started(t *testing.T, dir string) (*herder.Herder, *herdertest.Worker) {
	t.Helper()
	h, err := herder.New(herder.Config{StateDir: dir, Registry: herdertest.Registry(), WorkerID: "127.0.0.1:8083"})
	if err != nil {
		t.Fatal(err)
	}
	w := herdertest.NewWorker(h)
	if err := h.Start(w); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h, w
}

func sourceConfig(name string, extra ...string) connect.Config {
	cfg := connect.Config{"name": name, "connector.class": herdertest.SourceClass, "topic": "t", "tasks.max": "2"}
	for i := 0; i+1 < len(extra); i += 2 {
		cfg[extra[i]] = extra[i+1]
	}
	return cfg
}

func mustPut(t *testing.T, h *herder.Herder, name string, cfg connect.Config, initial herder.TargetState) herder.ConnectorInfo {
	t.Helper()
	info, created, err := h.Put(context.Background(), name, cfg, false, initial)
	if err != nil || !created {
		t.Fatalf("Put %s = %v, created %v", name, err, created)
	}
	return info
}

// states returns the connector's state and its tasks' as "RUNNING 0:RUNNING 1:PAUSED".
func states(t *testing.T, h *herder.Herder, name string) string {
	t.Helper()
	st, err := h.Status(name)
	if err != nil {
		t.Fatal(err)
	}
	parts := []string{st.Connector.State}
	for _, ts := range st.Tasks {
		parts = append(parts, strings.Join([]string{itoa(ts.ID), ts.State}, ":"))
	}
	return strings.Join(parts, " ")
}

func itoa(i int) string { return string(rune('0' + i)) }

func code(err error) int {
	var he *herder.Error
	if errors.As(err, &he) {
		return he.Code
	}
	return 0
}

func TestCreateStartsConnectorAndTasks(t *testing.T) {
	h, w := started(t, t.TempDir())
	info := mustPut(t, h, "src", sourceConfig("src"), "")
	want := herder.ConnectorInfo{Name: "src", Config: sourceConfig("src"), Type: "source",
		Tasks: []runtime.TaskID{{Connector: "src", Task: 0}, {Connector: "src", Task: 1}}}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("info = %+v, want %+v", info, want)
	}
	if got := w.Calls(); !slices.Equal(got, []string{"StartConnector src", "StartTask src-0", "StartTask src-1"}) {
		t.Errorf("worker calls = %q", got)
	}
	if got := states(t, h, "src"); got != "RUNNING 0:RUNNING 1:RUNNING" {
		t.Errorf("status = %s", got)
	}
	if st, _ := h.Status("src"); st.Tasks[1].Progress == nil || st.Tasks[1].Progress.RecordsIn != 7 {
		t.Errorf("task progress = %+v", st.Tasks[1].Progress)
	}
	tasks, _ := h.TaskConfigs("src")
	if len(tasks) != 2 || tasks[1].Config["task.index"] != "1" {
		t.Errorf("task configs = %+v", tasks)
	}
	if _, _, err := h.Put(context.Background(), "src", sourceConfig("src"), false, ""); code(err) != 409 || err.Error() != "Connector src already exists" {
		t.Errorf("second create = %v", err)
	}
	if _, err := h.Info("nope"); code(err) != 404 || err.Error() != "Connector nope not found" {
		t.Errorf("Info(nope) = %v", err)
	}
}

func TestTargetStates(t *testing.T) {
	h, w := started(t, t.TempDir())
	mustPut(t, h, "src", sourceConfig("src"), "")
	w.Calls()
	steps := []struct {
		do     func(string) error
		calls  []string
		status string
		tasks  map[string]string
	}{
		{h.Pause, []string{"PauseTask src-0", "PauseTask src-1"}, "PAUSED 0:PAUSED 1:PAUSED", map[string]string{"src-0": "paused", "src-1": "paused"}},
		{h.Pause, nil, "PAUSED 0:PAUSED 1:PAUSED", map[string]string{"src-0": "paused", "src-1": "paused"}},
		{h.Resume, []string{"ResumeTask src-0", "ResumeTask src-1"}, "RUNNING 0:RUNNING 1:RUNNING", map[string]string{"src-0": "running", "src-1": "running"}},
		{h.Stop, []string{"StopTask src-0", "StopTask src-1", "StopConnector src"}, "STOPPED", map[string]string{}},
		{h.Pause, []string{"StartConnector src", "StartTask src-0", "PauseTask src-0", "StartTask src-1", "PauseTask src-1"}, "PAUSED 0:PAUSED 1:PAUSED", map[string]string{"src-0": "paused", "src-1": "paused"}},
		{h.Stop, []string{"StopTask src-0", "StopTask src-1", "StopConnector src"}, "STOPPED", map[string]string{}},
		{h.Resume, []string{"StartConnector src", "StartTask src-0", "StartTask src-1"}, "RUNNING 0:RUNNING 1:RUNNING", map[string]string{"src-0": "running", "src-1": "running"}},
	}
	for i, s := range steps {
		if err := s.do("src"); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if got := w.Calls(); !slices.Equal(got, s.calls) {
			t.Errorf("step %d: worker calls %q, want %q", i, got, s.calls)
		}
		if got := states(t, h, "src"); got != s.status {
			t.Errorf("step %d: status %s, want %s", i, got, s.status)
		}
		if got := w.Tasks(); !maps.Equal(got, s.tasks) {
			t.Errorf("step %d: worker tasks %v, want %v", i, got, s.tasks)
		}
	}
	for _, f := range []func(string) error{h.Pause, h.Resume, h.Stop} {
		if err := f("nope"); code(err) != 404 {
			t.Errorf("on unknown connector: %v", err)
		}
	}
}

func TestStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	h, _ := started(t, dir)
	mustPut(t, h, "run", sourceConfig("run"), "")
	mustPut(t, h, "paused", sourceConfig("paused"), herder.TargetPaused)
	mustPut(t, h, "stopped", sourceConfig("stopped"), herder.TargetStopped)
	if _, err := h.Patch(context.Background(), "run", map[string]*string{"tasks.max": ptr("3")}); err != nil {
		t.Fatal(err)
	}
	h.Close()

	h2, w2 := started(t, dir)
	if got := h2.Connectors(); !slices.Equal(got, []string{"paused", "run", "stopped"}) {
		t.Fatalf("connectors after restart = %q", got)
	}
	if got := w2.Running(); !slices.Equal(got, []string{"paused", "run"}) {
		t.Errorf("running after restart = %q", got)
	}
	for name, want := range map[string]string{
		"run":     "RUNNING 0:RUNNING 1:RUNNING 2:RUNNING",
		"paused":  "PAUSED 0:PAUSED 1:PAUSED",
		"stopped": "STOPPED",
	} {
		if got := states(t, h2, name); got != want {
			t.Errorf("%s after restart: %s, want %s", name, got, want)
		}
	}
	cfg, _ := h2.ConnectorConfig("run")
	if cfg["tasks.max"] != "3" {
		t.Errorf("patched config not kept: %v", cfg)
	}
}

func ptr(s string) *string { return &s }

func TestPutReplacesAndRestarts(t *testing.T) {
	h, w := started(t, t.TempDir())
	mustPut(t, h, "src", sourceConfig("src"), "")
	w.Calls()
	ctx := context.Background()
	if _, created, err := h.Put(ctx, "src", sourceConfig("src"), true, ""); err != nil || created {
		t.Fatalf("same config: %v %v", created, err)
	}
	if got := w.Calls(); len(got) != 0 {
		t.Errorf("an unchanged config restarted: %q", got)
	}
	info, created, err := h.Put(ctx, "src", sourceConfig("src", "tasks.max", "1"), true, "")
	if err != nil || created || len(info.Tasks) != 1 {
		t.Fatalf("changed config: %+v %v %v", info, created, err)
	}
	want := []string{"StopTask src-0", "StopTask src-1", "StopConnector src", "StartConnector src", "StartTask src-0"}
	if got := w.Calls(); !slices.Equal(got, want) {
		t.Errorf("calls %q, want %q", got, want)
	}
	if got := states(t, h, "src"); got != "RUNNING 0:RUNNING" {
		t.Errorf("status %s", got)
	}
	if _, err := h.Patch(ctx, "src", map[string]*string{"name": ptr("other")}); code(err) != 400 {
		t.Errorf("patch renaming: %v", err)
	}
	if _, err := h.Patch(ctx, "src", map[string]*string{"topic": nil}); code(err) != 400 || !strings.Contains(err.Error(), `Missing required configuration "topic"`) {
		t.Errorf("patch removing a required setting: %v", err)
	}
}

func TestRestart(t *testing.T) {
	tests := []struct {
		name                     string
		includeTasks, onlyFailed bool
		failTask                 bool
		wantBody                 string // "" = nil (204)
		wantCalls                []string
	}{
		{"connector only", false, false, false, "", []string{"StopConnector src", "StartConnector src"}},
		{"with tasks", true, false, false, "RESTARTING 0:RESTARTING 1:RESTARTING",
			[]string{"StopTask src-0", "StopTask src-1", "StopConnector src", "StartConnector src", "StartTask src-0", "StartTask src-1"}},
		{"only failed, none failed", false, true, false, "RUNNING 0:RUNNING 1:RUNNING", nil},
		{"only failed tasks", true, true, true, "RUNNING 0:RUNNING 1:RESTARTING", []string{"StopTask src-1", "StartTask src-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, w := started(t, t.TempDir())
			mustPut(t, h, "src", sourceConfig("src"), "")
			if tt.failTask {
				w.FailTask(runtime.TaskID{Connector: "src", Task: 1}, "boom")
			}
			w.Calls()
			st, err := h.Restart("src", tt.includeTasks, tt.onlyFailed)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantBody == "" && st != nil || tt.wantBody != "" && st == nil {
				t.Fatalf("status = %+v, want %q", st, tt.wantBody)
			}
			if st != nil {
				parts := []string{st.Connector.State}
				for _, ts := range st.Tasks {
					parts = append(parts, itoa(ts.ID)+":"+ts.State)
				}
				if got := strings.Join(parts, " "); got != tt.wantBody {
					t.Errorf("answer %s, want %s", got, tt.wantBody)
				}
			}
			if got := w.Calls(); !slices.Equal(got, tt.wantCalls) {
				t.Errorf("calls %q, want %q", got, tt.wantCalls)
			}
			if got := states(t, h, "src"); got != "RUNNING 0:RUNNING 1:RUNNING" {
				t.Errorf("status after restart %s", got)
			}
		})
	}
	h, _ := started(t, t.TempDir())
	mustPut(t, h, "src", sourceConfig("src"), "")
	if err := h.RestartTask(runtime.TaskID{Connector: "src", Task: 5}); code(err) != 404 || err.Error() != "Task src-5 not found" {
		t.Errorf("RestartTask(src-5) = %v", err)
	}
	if _, err := h.TaskStatus(runtime.TaskID{Connector: "src", Task: 5}); code(err) != 404 || err.Error() != "No status found for task src-5" {
		t.Errorf("TaskStatus(src-5) = %v", err)
	}
	if err := h.RestartTask(runtime.TaskID{Connector: "src", Task: 1}); err != nil {
		t.Errorf("RestartTask(src-1) = %v", err)
	}
}

func TestFailuresAreStatuses(t *testing.T) {
	h, _ := started(t, t.TempDir())
	mustPut(t, h, "bad", sourceConfig("bad", "test.fail", "start"), "")
	st, _ := h.Status("bad")
	if st.Connector.State != "FAILED" || st.Connector.Trace == "" || len(st.Tasks) != 0 {
		t.Errorf("connector that fails to start: %+v", st)
	}
	mustPut(t, h, "badtask", sourceConfig("badtask", "test.fail", "task"), "")
	if got := states(t, h, "badtask"); got != "RUNNING 0:FAILED 1:FAILED" {
		t.Errorf("tasks that fail: %s", got)
	}
}

// A connector that asks for new task configurations gets its tasks
// restarted with them.
func TestReconfiguration(t *testing.T) {
	h, w := started(t, t.TempDir())
	mustPut(t, h, "src", sourceConfig("src", "tasks.max", "4", "test.tasks", "1"), "")
	w.RequestReconfiguration("src", 3)
	deadline := time.Now().Add(time.Minute)
	for {
		if got := states(t, h, "src"); got == "RUNNING 0:RUNNING 1:RUNNING 2:RUNNING" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("status after reconfiguration: %s", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(w.Tasks()); n != 3 {
		t.Errorf("worker runs %d tasks", n)
	}
}

func TestDeleteForgetsConnectorAndSourceOffsets(t *testing.T) {
	dir := t.TempDir()
	h, w := started(t, dir)
	mustPut(t, h, "src", sourceConfig("src"), "")
	ctx := context.Background()
	part := map[string]any{"file": "a"}
	if err := h.Offsets().Put(ctx, "src", []runtime.SourceOffset{{Partition: part, Offset: map[string]any{"pos": 1}}}); err != nil {
		t.Fatal(err)
	}
	h.ActiveTopic("src", "t")
	if err := h.Delete(ctx, "src"); err != nil {
		t.Fatal(err)
	}
	if got := w.Running(); len(got) != 0 || len(w.Tasks()) != 0 {
		t.Errorf("still running after delete: %q %v", got, w.Tasks())
	}
	if off, _ := h.Offsets().Get(ctx, "src", part); off != nil {
		t.Errorf("offsets kept after delete: %v", off)
	}
	if got := h.ActiveTopics("src"); len(got) != 0 {
		t.Errorf("topics kept: %q", got)
	}
	if err := h.Delete(ctx, "src"); code(err) != 404 {
		t.Errorf("second delete: %v", err)
	}
	h.Close()
	h2, _ := started(t, dir)
	if got := h2.Connectors(); len(got) != 0 {
		t.Errorf("deleted connector came back: %q", got)
	}
}

func TestSourceOffsets(t *testing.T) {
	h, _ := started(t, t.TempDir())
	ctx := context.Background()
	mustPut(t, h, "src", sourceConfig("src"), "")
	body := herder.Offsets{Offsets: []runtime.SourceOffset{
		{Partition: map[string]any{"file": "a"}, Offset: map[string]any{"pos": float64(10)}},
		{Partition: map[string]any{"file": "b"}, Offset: map[string]any{"pos": float64(20)}},
	}}
	if _, err := h.AlterOffsets(ctx, "src", body); code(err) != 400 || !strings.HasPrefix(err.Error(), "Connectors must be in the STOPPED state") {
		t.Errorf("alter while running: %v", err)
	}
	if _, err := h.ResetOffsets(ctx, "src"); code(err) != 400 {
		t.Errorf("reset while running: %v", err)
	}
	if err := h.Stop("src"); err != nil {
		t.Fatal(err)
	}
	msg, err := h.AlterOffsets(ctx, "src", body)
	if err != nil || msg != "The offsets for this connector have been altered successfully" {
		t.Fatalf("alter: %q %v", msg, err)
	}
	got, err := h.GetOffsets(ctx, "src")
	if err != nil || !reflect.DeepEqual(got, body) {
		t.Errorf("offsets = %+v %v, want %+v", got, err, body)
	}
	if _, err := h.AlterOffsets(ctx, "src", herder.Offsets{Offsets: []runtime.SourceOffset{{Partition: map[string]any{"file": "a"}}}}); err != nil {
		t.Fatal(err)
	}
	got, _ = h.GetOffsets(ctx, "src")
	if !reflect.DeepEqual(got.Offsets, body.Offsets[1:]) {
		t.Errorf("after a null offset: %+v", got)
	}
	if _, err := h.AlterOffsets(ctx, "src", herder.Offsets{}); code(err) != 400 {
		t.Errorf("empty alter: %v", err)
	}
	msg, err = h.ResetOffsets(ctx, "src")
	if err != nil || msg != "The offsets for this connector have been reset successfully" {
		t.Fatalf("reset: %q %v", msg, err)
	}
	if got, _ := h.GetOffsets(ctx, "src"); len(got.Offsets) != 0 {
		t.Errorf("after reset: %+v", got)
	}
	if _, err := h.GetOffsets(ctx, "nope"); code(err) != 404 {
		t.Errorf("offsets of unknown: %v", err)
	}
}

func TestNotStartedRefusesChanges(t *testing.T) {
	h, err := herder.New(herder.Config{Registry: herdertest.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	if h.Ready() {
		t.Error("ready before Start")
	}
	if _, _, err := h.Put(context.Background(), "src", sourceConfig("src"), false, ""); code(err) != 503 {
		t.Errorf("Put before Start = %v", err)
	}
	if _, err := herder.New(herder.Config{}); err == nil {
		t.Error("New without a registry succeeded")
	}
}
