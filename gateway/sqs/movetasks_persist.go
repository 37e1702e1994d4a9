package sqs

// How message move tasks outlive a restart, as SQS's do. Each task has a
// record in the state area, under its source queue's prefix, so DeleteQueue
// drops it with the queue's other state:
//
//	t <queue> 0x00 <task id>  ->  JSON moveTaskRecord
//
// A task's record is written before StartMessageMoveTask answers, when
// CancelMessageMoveTask asks it to stop (CANCELLING, durable before the
// answer, so a crash does not resume a cancelled task), with its progress
// at most every moveSaveInterval, and when it ends. A Shutdown leaves a
// running task's record RUNNING: the next start resumes it (New), counting
// on from the messages it had moved, with its rate paced anew from the
// resumption. A task that was CANCELLING is then CANCELLED. A crash can
// lose the last interval's count (the API calls it approximate) but no
// message: each step moves before it deletes (movetasks.go).

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/streambridge/bridge/store"
)

const tagMoveTask = 't'

// moveSaveInterval bounds how often a running task writes its progress.
const moveSaveInterval = time.Second

// moveTaskRecord is a task as its record keeps it.
type moveTaskRecord struct {
	ID      string `json:"id"`
	Source  string `json:"source"`
	Dest    string `json:"dest,omitempty"`
	Rate    int64  `json:"rate,omitempty"`
	Started int64  `json:"started"`
	ToMove  int64  `json:"toMove"`
	Status  string `json:"status"`
	Moved   int64  `json:"moved"`
	Failure string `json:"failure,omitempty"`
}

func moveTaskPrefix(queue string) string { return string(tagMoveTask) + queue + "\x00" }

// moveTaskKey is where a task of a source queue of this bridge is kept.
func (h *Handler) moveTaskKey(source, id string) string {
	queue, _ := h.queueOfARN(source) // a task's source was checked at its start
	return moveTaskPrefix(queue) + id
}

// recordOf snapshots a task; the caller holds moves.mu.
func recordOf(t *moveTask) moveTaskRecord {
	return moveTaskRecord{ID: t.id, Source: t.source, Dest: t.dest, Rate: t.rate, Started: t.started,
		ToMove: t.toMove, Status: t.status, Moved: t.moved, Failure: t.failure}
}

// saveMoveTask writes rec, and deletes the records of the tasks in
// dropped, unless the task's source queue was deleted meanwhile (gone):
// DeleteQueue dropped its records, and writing one back would show an old
// task on a new queue of the same name.
func (h *Handler) saveMoveTask(ctx context.Context, rec moveTaskRecord, dropped ...*moveTask) error {
	m := &h.moves
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	gone := m.byID[rec.ID] == nil
	m.mu.Unlock()
	if gone {
		return nil
	}
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	writes := []store.KV{{Namespace: stateNamespace, Key: h.moveTaskKey(rec.Source, rec.ID), Value: v}}
	for _, d := range dropped {
		writes = append(writes, store.KV{Namespace: stateNamespace, Key: h.moveTaskKey(d.source, d.id)})
	}
	return h.store.Update(ctx, writes...)
}

// forgetMoveTasks drops the tasks of a source queue being deleted, from
// memory and from then on from the store: a save that has not written by
// the time this returns writes nothing (saveMoveTask), so DeleteQueue can
// drop the records that were written after it. A running task is stopped.
func (h *Handler) forgetMoveTasks(source string) {
	m := &h.moves
	m.saveMu.Lock()
	defer m.saveMu.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.bySource[source] {
		delete(m.byID, t.id)
		t.halt()
	}
	delete(m.bySource, source)
}

// resumeMoveTasks loads the tasks the store keeps and starts again those
// that were running (New).
func (h *Handler) resumeMoveTasks(ctx context.Context) error {
	var recs []moveTaskRecord
	err := h.store.Scan(ctx, stateNamespace, string(tagMoveTask), func(key string, v []byte) error {
		var rec moveTaskRecord
		if err := json.Unmarshal(v, &rec); err != nil || rec.ID == "" || !strings.HasSuffix(key, "\x00"+rec.ID) {
			// One unreadable record costs its task, not the start.
			h.log.Error("sqs: skipping a corrupt message move task record", "key", key, "err", err)
			return nil
		}
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return err
	}
	slices.SortFunc(recs, func(a, b moveTaskRecord) int {
		return cmp.Or(strings.Compare(a.Source, b.Source), cmp.Compare(a.Started, b.Started), strings.Compare(a.ID, b.ID))
	})
	// Keep the newest maxListedMoveTasks of each source, as add does; more
	// are left only by a start whose record was written and whose drop of
	// the oldest was not.
	var extra []store.KV
	kept, perSource := recs[:0:0], map[string]int{}
	for _, rec := range slices.Backward(recs) {
		if perSource[rec.Source]++; perSource[rec.Source] > maxListedMoveTasks {
			extra = append(extra, store.KV{Namespace: stateNamespace, Key: h.moveTaskKey(rec.Source, rec.ID)})
			continue
		}
		kept = append(kept, rec)
	}
	slices.Reverse(kept)
	recs = kept
	if len(extra) > 0 {
		if err := h.store.Update(ctx, extra...); err != nil {
			return err
		}
	}
	m := &h.moves
	m.mu.Lock()
	m.init()
	var resumed, cancelled []*moveTask
	for _, rec := range recs {
		t := &moveTask{id: rec.ID, source: rec.Source, dest: rec.Dest, rate: rec.Rate, started: rec.Started,
			toMove: rec.ToMove, status: rec.Status, moved: rec.Moved, failure: rec.Failure,
			stop: make(chan struct{}), done: make(chan struct{})}
		t.handle = encodeTaskHandle(t.id, t.source)
		switch t.status {
		case moveRunning:
			resumed = append(resumed, t)
			m.wg.Add(1)
		case moveCancelling:
			t.status = moveCancelled
			cancelled = append(cancelled, t)
			close(t.done)
		default:
			close(t.done)
		}
		m.bySource[t.source] = append(m.bySource[t.source], t)
		m.byID[t.id] = t
	}
	m.mu.Unlock()
	for _, t := range cancelled {
		if err := h.saveMoveTask(ctx, recordOf(t)); err != nil {
			return err
		}
	}
	for _, t := range resumed {
		h.log.Info("sqs: resuming a message move task", "task", t.id, "source", t.source, "moved", t.moved)
		go h.runMove(t)
	}
	return nil
}
