package file

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

// TestTailRandomRotationsAndRestarts interleaves, in a seeded random order,
// writes of numbered lines, rotations by rename (several may pass before the
// task notices one), polls, and restarts that store only part of what was
// polled (the rest was "in flight"). The records must always be the lines in
// order, consecutive, a restart resuming right after the last stored one:
// nothing lost, nothing repeated beyond what was never acknowledged.
func TestTailRandomRotationsAndRestarts(t *testing.T) {
	for seed := range uint64(4) {
		multiline := seed%2 == 1
		t.Run(fmt.Sprintf("seed=%d,multiline=%v", seed, multiline), func(t *testing.T) { tailRandomRun(t, seed, multiline) })
	}
}

// tailRandomRun runs one sequence; with multiline, each record is a start
// line and a continuation line, joined by multiline.start.pattern.
func tailRandomRun(t *testing.T, seed uint64, multiline bool) {
	rng := rand.New(rand.NewPCG(seed, 16))
	dir := t.TempDir()
	log := filepath.Join(dir, "app.log")
	appendFile(t, log, "")
	base := time.Now()
	rotations := 0
	// Each file's modification time is set from its rotation number, so the
	// order does not hang on the file system's timestamp resolution.
	touch := func() {
		at := base.Add(time.Duration(rotations) * time.Second)
		if err := os.Chtimes(log, at, at); err != nil {
			t.Fatal(err)
		}
	}
	touch()

	var tc connecttest.SourceContext
	cfg := connect.Config{FilePatternConfig: log + "*", TopicConfig: "t", PollIntervalConfig: "1", InitialPositionConfig: StartOfFile}
	suffix := ""
	if multiline {
		cfg[MultilineStartConfig] = "^L"
		suffix = "\n  more"
	}
	start := func() *tailTask {
		task := &tailTask{}
		if err := task.Start(context.Background(), &tc, cfg); err != nil {
			t.Fatal(err)
		}
		return task
	}
	task := start()
	defer func() { task.Stop() }()

	written, next := 0, 0 // lines written; the line the next record must hold
	var sinceRestart []connect.Record
	committed := false
	restarts := 0
	poll := func() {
		recs, err := task.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if want := "L" + strconv.Itoa(next) + suffix; r.Value != want {
				t.Fatalf("got %q, want %q (written %d, rotations %d)", r.Value, want, written, rotations)
			}
			next++
		}
		sinceRestart = append(sinceRestart, recs...)
	}
	for range 400 {
		switch op := rng.IntN(10); {
		case op < 4:
			var b strings.Builder
			for range 1 + rng.IntN(4) {
				fmt.Fprintf(&b, "L%d%s\n", written, suffix)
				written++
			}
			appendFile(t, log, b.String())
			touch()
		case op < 8:
			poll()
		case op < 9:
			rotations++
			if err := os.Rename(log, fmt.Sprintf("%s.%d", log, rotations)); err != nil {
				t.Fatal(err)
			}
			appendFile(t, log, "")
			touch()
		default:
			// The runtime stored the offsets of a prefix of what was polled.
			k := rng.IntN(len(sinceRestart) + 1)
			if k > 0 {
				tc.Store(sinceRestart[k-1])
				committed = true
			}
			if !committed {
				continue // nothing stored yet: a restart would start from the newest file
			}
			next -= len(sinceRestart) - k
			restarts++
			task.Stop()
			task = start()
			sinceRestart = nil
		}
	}
	for empty := 0; next < written; {
		before := next
		poll()
		if next == before {
			if empty++; empty > 5000 {
				t.Fatalf("stuck at line %d of %d", next, written)
			}
		}
	}
	pollNothing(t, task)
	t.Logf("%d lines, %d rotations, %d restarts", written, rotations, restarts)
}
