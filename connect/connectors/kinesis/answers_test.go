package kinesis

import (
	"bytes"
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/streambridge/bridge/connect"
)

// TestAnswerReuse follows two answers of a shard through commits in an
// order across both: each buffer comes back once its last record is
// committed, and not at all when one of its records was dropped.
func TestAnswerReuse(t *testing.T) {
	var s shardReader
	a := &answer{shard: &s, buf: make([]byte, 10), left: 3}
	b := &answer{shard: &s, buf: make([]byte, 20), left: 2}
	abuf := a.buf
	steps := []struct {
		answer   *answer
		produced bool
		free     []byte
	}{
		{b, true, nil},
		{a, true, nil},
		{a, true, nil},
		{a, true, abuf},
		{b, false, nil}, // dropped: b's buffer is left to the collector
	}
	for i, st := range steps {
		got := st.answer.committed(st.produced)
		if (got == nil) != (st.free == nil) || (got != nil && &got[0] != &st.free[0]) {
			t.Fatalf("step %d: commit gave buffer %p, want %p", i, got, st.free)
		}
	}
	if a.buf != nil || b.buf != nil {
		t.Errorf("answers still hold their buffers after their last commits")
	}
}

func TestAnswerBuffer(t *testing.T) {
	// Without a slot in the context, an answer gets a buffer of its own.
	if got := answerBuffer(context.Background(), 5); len(got) != 5 {
		t.Errorf("answerBuffer without a slot: len %d", len(got))
	}
	slot := answerSlot{pool: newAnswerPool()}
	got := answerBuffer(withAnswerSlot(context.Background(), &slot), 5)
	if len(got) != 5 || &got[0] != &slot.buf[0] {
		t.Errorf("answerBuffer with a slot: len %d, or its buffer is not left in the slot", len(got))
	}
}

// TestSourceReusesAnswersOnlyOnceCommitted reads a shard in answers of 7
// records while committing only the first record of each poll: no answer's
// buffer may be reused while records cut from it are uncommitted, so every
// record keeps the data GetRecords gave. Once everything is committed as
// produced the buffers are back in the task's pool.
func TestSourceReusesAnswersOnlyOnceCommitted(t *testing.T) {
	tg := startBridge(t)
	tg.createStream(t, "src", 1)
	tg.put(t, "src", entries("rec", 70, 5))
	want := map[string][]byte{}
	for _, recs := range tg.readAll(t, "src") {
		for _, r := range recs {
			want[aws.ToString(r.SequenceNumber)] = r.Data
		}
	}
	run := startSource(t, tg.config(connect.Config{StreamConfig: "src", TopicConfig: "out", RecordsLimitConfig: "7"}), 1, nil)
	run.hold = true
	task := run.tasks[0]
	produced := func(rec connect.Record) connect.Record {
		rec.Offset = 0
		return rec
	}
	committed := map[int]bool{}
	for empty := 0; len(run.got) < len(want) && empty < 30; {
		before := len(run.got)
		if run.pollOnce() == 0 {
			empty++
			continue
		}
		if err := task.CommitRecord(t.Context(), produced(run.got[before])); err != nil {
			t.Fatal(err)
		}
		committed[before] = true
	}
	if len(run.got) != len(want) {
		t.Fatalf("%d records, want %d", len(run.got), len(want))
	}
	check := func(when string) {
		t.Helper()
		for _, rec := range run.got {
			seq := connect.OffsetOf(rec)["sequence"].(string)
			if !bytes.Equal(rec.Value.([]byte), want[seq]) {
				t.Fatalf("%s: record %s holds %q, GetRecords gave %q", when, seq, rec.Value, want[seq])
			}
		}
	}
	check("with most records uncommitted")
	if task.answerPool.Bytes() != 0 {
		t.Errorf("%d bytes of buffers back in the pool while every answer has uncommitted records", task.answerPool.Bytes())
	}
	for i, rec := range run.got {
		if !committed[i] {
			if err := task.CommitRecord(t.Context(), produced(rec)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if task.answerPool.Bytes() == 0 {
		t.Errorf("no buffer back in the pool once every record was committed")
	}
}
