package runtime

import (
	"sync/atomic"
	"time"
)

// Progress is what a task has done since it started, for the status
// endpoint: the metrics' figures for one task.
type Progress struct {
	// RecordsIn are records polled (source) or consumed (sink); RecordsOut
	// records written to Kafka (source) or handed to Put (sink).
	RecordsIn  int64 `json:"records_in"`
	RecordsOut int64 `json:"records_out"`
	// Skipped are records errors.tolerance=all dropped.
	Skipped int64 `json:"records_skipped"`
	// Lag is a sink task's records between its position and the high
	// watermarks of its partitions.
	Lag int64 `json:"lag,omitempty"`
	// LastCommit is when offsets were last stored or committed.
	LastCommit time.Time `json:"last_commit,omitzero"`
}

// progress counts a task's Progress; its methods also feed the metrics.
type progress struct {
	id         TaskID
	metrics    *Metrics
	in, out    atomic.Int64
	skipped    atomic.Int64
	lag        atomic.Int64
	lastCommit atomic.Int64 // Unix nanoseconds; 0: never
}

func (p *progress) polled(n int) {
	p.in.Add(int64(n))
	p.metrics.sourcePolled(p.id, n)
}

func (p *progress) written(n int) {
	p.out.Add(int64(n))
	p.metrics.sourceWritten(p.id, n)
}

func (p *progress) read(n int) {
	p.in.Add(int64(n))
	p.metrics.sinkRead(p.id, n)
}

func (p *progress) put(n int) {
	p.out.Add(int64(n))
	p.metrics.sinkPut(p.id, n)
}

func (p *progress) skip() {
	p.skipped.Add(1)
	p.metrics.recordSkipped(p.id)
}

func (p *progress) setLag(lag int64) {
	p.lag.Store(lag)
	p.metrics.setLag(p.id, lag)
}

func (p *progress) committed(at time.Time) {
	p.lastCommit.Store(at.UnixNano())
	p.metrics.committed(p.id, at)
}

func (p *progress) snapshot() Progress {
	out := Progress{RecordsIn: p.in.Load(), RecordsOut: p.out.Load(), Skipped: p.skipped.Load(), Lag: p.lag.Load()}
	if ns := p.lastCommit.Load(); ns != 0 {
		out.LastCommit = time.Unix(0, ns).UTC()
	}
	return out
}

// TaskProgress returns what a running task has done since it started; false
// when no task runs under id.
func (w *Worker) TaskProgress(id TaskID) (Progress, bool) {
	w.mu.Lock()
	t := w.tasks[id]
	w.mu.Unlock()
	if t == nil {
		return Progress{}, false
	}
	return t.progress.snapshot(), true
}
