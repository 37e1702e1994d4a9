package runtime

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/streambridge/bridge/connect"
)

// maxPollRecords is how many records one Put gets at most (the consumer's
// max.poll.records default in Kafka Connect).
const maxPollRecords = 500

// sinkRunner is a sink task's loop: consume in the connector's group
// (connect-NAME), convert, transform, Put; every offset flush interval, at a
// revocation and at the end, PreCommit and commit what it returned.
//
// Invariants: the task is called from one goroutine at a time (mu is held
// across every call, from the loop and from the group's callbacks); a
// committed offset never passes what PreCommit returned; records reach Put
// in offset order per partition.
type sinkRunner struct {
	t         *taskRun
	task      connect.SinkTask
	taskCfg   connect.Config
	cl        *kgo.Client
	keyConv   connect.Converter
	valueConv connect.Converter
	chain     Chain
	errs      *errorHandler
	dlq       *deadLetterQueue

	mu      sync.Mutex
	started bool // Start returned; Open/Close may be called
	closed  bool // Stop called; callbacks must not touch the task
	// assigned is the group's assignment, which the client may receive
	// before Start returns (it joins as soon as it is made): run opens what
	// was assigned by then.
	assigned  map[connect.TopicPartition]bool
	current   map[connect.TopicPartition]int64 // next offset after what Put got
	committed map[connect.TopicPartition]int64
	rewinds   map[connect.TopicPartition]int64 // asked by the task, not applied yet
	raw       map[rawKey]*kgo.Record           // the batch being Put, for Report
	topics    map[string]bool
	lag       map[connect.TopicPartition]int64

	commitAsked atomic.Bool
}

type rawKey struct {
	tp     connect.TopicPartition
	offset int64
}

func newSinkRunner(t *taskRun, task connect.SinkTask, connCfg, taskCfg connect.Config) (*sinkRunner, error) {
	vals, err := common(connect.PluginSink, connCfg)
	if err != nil {
		return nil, err
	}
	s := &sinkRunner{
		t: t, task: task, taskCfg: taskCfg,
		assigned:  make(map[connect.TopicPartition]bool),
		current:   make(map[connect.TopicPartition]int64),
		committed: make(map[connect.TopicPartition]int64),
		rewinds:   make(map[connect.TopicPartition]int64),
		topics:    make(map[string]bool),
		lag:       make(map[connect.TopicPartition]int64),
	}
	if s.keyConv, err = t.w.converter(connCfg, true); err != nil {
		return nil, err
	}
	if s.valueConv, err = t.w.converter(connCfg, false); err != nil {
		return nil, err
	}
	if s.chain, err = t.w.chain(connCfg); err != nil {
		return nil, err
	}
	topics, regex := vals.List(connect.TopicsConfig), vals.String(connect.TopicsRegexConfig)
	if (len(topics) == 0) == (regex == "") {
		return nil, errors.New("Must configure one of topics or topics.regex")
	}
	opts := []kgo.Opt{
		kgo.ClientID(fmt.Sprintf("connector-consumer-%s-%d", t.id.Connector, t.id.Task)),
		kgo.ConsumerGroup("connect-" + t.id.Connector),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		kgo.AdjustFetchOffsetsFn(s.adjustOffsets),
	}
	if regex != "" {
		if _, err := regexp.Compile(regex); err != nil {
			return nil, fmt.Errorf("Invalid value %s for configuration topics.regex: %v", regex, err)
		}
		opts = append(opts, kgo.ConsumeRegex(), kgo.ConsumeTopics(regex))
	} else {
		opts = append(opts, kgo.ConsumeTopics(topics...))
	}
	if connCfg["consumer.override.isolation.level"] == "read_committed" {
		opts = append(opts, kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	}
	opts = append(opts, t.w.cfg.Kafka...)
	if s.cl, err = kgo.NewClient(append(opts, t.w.cfg.Consumer...)...); err != nil {
		return nil, err
	}
	if s.dlq = newDeadLetterQueue(vals, s.cl); s.dlq != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.dlq.ensureTopic(ctx); err != nil {
			s.cl.Close()
			return nil, fmt.Errorf("dead letter queue topic %s: %w", s.dlq.topic, err)
		}
	}
	s.errs = newErrorHandler(t, vals, s.dlq)
	return s, nil
}

func (s *sinkRunner) run(ctx context.Context) error {
	s.mu.Lock()
	err := s.task.Start(ctx, sinkContext{s}, s.taskCfg)
	s.started = err == nil
	if err == nil && len(s.assigned) > 0 {
		if err := s.task.Open(ctx, sinkContext{s}.Assignment()); err != nil {
			s.t.log.Error("sink task Open failed", "err", err)
		}
	}
	s.mu.Unlock()
	if err != nil {
		s.cl.Close()
		return fmt.Errorf("sink task start: %w", err)
	}
	err = s.loop(ctx)
	s.shutdown(err == nil)
	return err
}

func (s *sinkRunner) loop(ctx context.Context) error {
	interval := s.t.w.cfg.OffsetFlushInterval
	nextCommit := time.Now().Add(interval)
	for s.t.waitWhilePaused(ctx) {
		s.mu.Lock()
		s.applyRewinds()
		s.mu.Unlock()
		// The poll ends at the next commit time, so that a quiet topic's
		// last records are committed too.
		pollCtx, cancel := context.WithDeadline(ctx, nextCommit)
		fetches := s.cl.PollRecords(pollCtx, maxPollRecords)
		cancel()
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				s.t.log.Warn("sink task fetch", "topic", topic, "partition", p, "err", err)
			}
		})
		s.mu.Lock()
		err := s.process(ctx, fetches)
		if err == nil && (time.Now().After(nextCommit) || s.commitAsked.Swap(false)) {
			s.commit(ctx)
			nextCommit = time.Now().Add(interval)
		}
		s.mu.Unlock()
		s.cl.AllowRebalance()
		if err != nil {
			return err
		}
	}
	return nil
}

// process converts and transforms one poll's records and Puts them.
func (s *sinkRunner) process(ctx context.Context, fetches kgo.Fetches) error {
	var batch []connect.Record
	next := make(map[connect.TopicPartition]int64)
	clear(s.raw)
	if s.raw == nil {
		s.raw = make(map[rawKey]*kgo.Record)
	}
	var read int
	var failed error
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		tp := connect.TopicPartition{Topic: p.Topic, Partition: p.Partition}
		for _, r := range p.Records {
			if failed != nil || !s.assigned[tp] {
				return
			}
			read++
			next[tp] = r.Offset + 1
			s.lag[tp] = p.HighWatermark - (r.Offset + 1)
			rec, keep, err := s.convert(ctx, r)
			if err != nil {
				failed = err
				return
			}
			if keep {
				s.raw[rawKey{tp, r.Offset}] = r
				batch = append(batch, rec)
			}
			if !s.topics[p.Topic] {
				s.topics[p.Topic] = true
				s.t.w.activeTopic(s.t.id.Connector, p.Topic)
			}
		}
	})
	if failed != nil {
		return failed
	}
	s.t.progress.read(read)
	if len(batch) > 0 {
		if err := s.put(ctx, batch); err != nil {
			return err
		}
		s.t.progress.put(len(batch))
	}
	maps.Copy(s.current, next)
	var lag int64
	for _, l := range s.lag {
		lag += l
	}
	s.t.progress.setLag(lag)
	return nil
}

// convert turns a consumed record into the task's record: keep is false when
// a transform dropped it or errors.tolerance=all skipped it.
func (s *sinkRunner) convert(ctx context.Context, r *kgo.Record) (rec connect.Record, keep bool, err error) {
	rec = connect.Record{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp}
	for _, h := range r.Headers {
		rec.Headers = append(rec.Headers, connect.Header{Key: h.Key, Value: h.Value})
	}
	skip, err := s.errs.execute(ctx, StageKeyConverter, r, func() (err error) {
		rec.KeySchema, rec.Key, err = s.keyConv.ToConnect(r.Topic, r.Key)
		return err
	})
	if err != nil || skip {
		return rec, false, err
	}
	skip, err = s.errs.execute(ctx, StageValueConverter, r, func() (err error) {
		rec.ValueSchema, rec.Value, err = s.valueConv.ToConnect(r.Topic, r.Value)
		return err
	})
	if err != nil || skip {
		return rec, false, err
	}
	if s.chain == nil {
		return rec, true, nil
	}
	out := &rec
	skip, err = s.errs.execute(ctx, StageTransformation, r, func() (err error) {
		out, err = s.chain.Apply(&rec)
		return err
	})
	if err != nil || skip || out == nil {
		return rec, false, err
	}
	return *out, true, nil
}

// put hands the task a batch, again after a backoff while it fails
// retriably (Kafka Connect redelivers the same records).
func (s *sinkRunner) put(ctx context.Context, batch []connect.Record) error {
	delay := firstRetryDelay
	for {
		err := s.task.Put(ctx, batch)
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return nil
		case !errors.Is(err, connect.ErrRetriable):
			return fmt.Errorf("sink task put: %w", err)
		}
		s.t.log.Warn("sink task put failed; retrying the same records", "err", err, "after", delay)
		if !sleep(ctx, delay) {
			return nil
		}
		delay = min(2*delay, time.Minute)
	}
}

// commit asks the task what may be committed and commits it. Called with mu.
func (s *sinkRunner) commit(ctx context.Context) {
	current := make(map[connect.TopicPartition]int64)
	for tp, off := range s.current {
		if s.assigned[tp] {
			current[tp] = off
		}
	}
	if len(current) == 0 {
		return
	}
	safe, err := s.task.PreCommit(ctx, current)
	if err != nil {
		s.t.log.Error("sink task PreCommit failed; offsets not committed", "err", err)
		return
	}
	offsets := make(map[string]map[int32]kgo.EpochOffset)
	for tp, off := range safe {
		if !s.assigned[tp] || off <= s.committed[tp] {
			continue
		}
		if offsets[tp.Topic] == nil {
			offsets[tp.Topic] = make(map[int32]kgo.EpochOffset)
		}
		offsets[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
	}
	if len(offsets) == 0 {
		return
	}
	var commitErr error
	s.cl.CommitOffsetsSync(ctx, offsets, func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
		commitErr = err
		if err != nil {
			return
		}
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil {
					commitErr = errors.Join(commitErr, fmt.Errorf("%s-%d: %w", t.Topic, p.Partition, perr))
				}
			}
		}
	})
	if commitErr != nil {
		s.t.log.Error("sink task offset commit failed", "err", commitErr)
		return
	}
	for topic, parts := range offsets {
		for p, eo := range parts {
			s.committed[connect.TopicPartition{Topic: topic, Partition: p}] = eo.Offset
		}
	}
	s.t.progress.committed(time.Now())
}

// applyRewinds moves the consumer to the offsets the task asked for outside
// Open. Called with mu, from the polling goroutine (kgo's SetOffsets rule).
func (s *sinkRunner) applyRewinds() {
	if len(s.rewinds) == 0 {
		return
	}
	set := make(map[string]map[int32]kgo.EpochOffset)
	for tp, off := range s.rewinds {
		if !s.assigned[tp] {
			continue
		}
		if set[tp.Topic] == nil {
			set[tp.Topic] = make(map[int32]kgo.EpochOffset)
		}
		set[tp.Topic][tp.Partition] = kgo.EpochOffset{Epoch: -1, Offset: off}
		s.current[tp] = off
	}
	clear(s.rewinds)
	s.cl.SetOffsets(set)
}

func toTPs(m map[string][]int32) []connect.TopicPartition {
	var out []connect.TopicPartition
	for _, t := range slices.Sorted(maps.Keys(m)) {
		for _, p := range m[t] {
			out = append(out, connect.TopicPartition{Topic: t, Partition: p})
		}
	}
	return out
}

func (s *sinkRunner) onAssigned(ctx context.Context, _ *kgo.Client, added map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	tps := toTPs(added)
	for _, tp := range tps {
		s.assigned[tp] = true
	}
	if !s.started {
		return // run opens them once Start returns
	}
	if err := s.task.Open(ctx, tps); err != nil {
		s.t.log.Error("sink task Open failed", "err", err)
	}
}

// adjustOffsets applies the rewinds a task asked for in Open before fetching
// starts.
func (s *sinkRunner) adjustOffsets(_ context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for tp, off := range s.rewinds {
		if parts, ok := offsets[tp.Topic]; ok {
			if _, ok := parts[tp.Partition]; ok {
				parts[tp.Partition] = kgo.NewOffset().At(off).WithEpoch(-1)
				s.current[tp] = off
				delete(s.rewinds, tp)
			}
		}
	}
	return offsets, nil
}

func (s *sinkRunner) onRevoked(ctx context.Context, _ *kgo.Client, revoked map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if !s.started {
		s.forget(toTPs(revoked))
		return
	}
	s.commit(ctx)
	s.release(ctx, toTPs(revoked))
}

func (s *sinkRunner) onLost(ctx context.Context, _ *kgo.Client, lost map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if !s.started {
		s.forget(toTPs(lost))
		return
	}
	s.release(ctx, toTPs(lost))
}

// release closes partitions in the task and forgets them. Called with mu.
func (s *sinkRunner) release(ctx context.Context, tps []connect.TopicPartition) {
	if err := s.task.Close(ctx, tps); err != nil {
		s.t.log.Warn("sink task Close", "err", err)
	}
	s.forget(tps)
}

// forget drops partitions the task no longer owns. Called with mu.
func (s *sinkRunner) forget(tps []connect.TopicPartition) {
	for _, tp := range tps {
		delete(s.assigned, tp)
		delete(s.current, tp)
		delete(s.committed, tp)
		delete(s.lag, tp)
	}
}

// shutdown commits (after a clean stop), closes the partitions, stops the
// task and leaves the group.
func (s *sinkRunner) shutdown(clean bool) {
	final, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	s.mu.Lock()
	if clean {
		s.commit(final)
	}
	s.release(final, slices.Collect(maps.Keys(s.assigned)))
	if err := s.task.Stop(); err != nil {
		s.t.log.Warn("sink task stop", "err", err)
	}
	s.closed = true
	s.mu.Unlock()
	s.cl.AllowRebalance()
	s.cl.Close()
}

// sinkContext is a sink task's connect.SinkTaskContext. Its methods are
// called by the task during Start, Open, Put and PreCommit, with mu held.
type sinkContext struct{ s *sinkRunner }

func (c sinkContext) Rewind(tp connect.TopicPartition, next int64) { c.s.rewinds[tp] = next }

func (c sinkContext) Assignment() []connect.TopicPartition {
	out := slices.Collect(maps.Keys(c.s.assigned))
	slices.SortFunc(out, func(a, b connect.TopicPartition) int {
		if a.Topic != b.Topic {
			if a.Topic < b.Topic {
				return -1
			}
			return 1
		}
		return int(a.Partition - b.Partition)
	})
	return out
}

func (c sinkContext) RequestCommit() { c.s.commitAsked.Store(true) }

// Report finds the consumed record behind rec, for the dead letter queue, by
// its position; a transform may have renamed its topic.
func (c sinkContext) Report(ctx context.Context, rec connect.Record, err error) error {
	raw := c.s.raw[rawKey{connect.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}, rec.Offset}]
	if raw == nil {
		for k, r := range c.s.raw {
			if k.tp.Partition == rec.Partition && k.offset == rec.Offset {
				raw = r
				break
			}
		}
	}
	if raw == nil && c.s.dlq != nil {
		// Only the batch in Put is kept as consumed; a record reported
		// later cannot be written as it was.
		c.s.t.log.Warn("errant record reported outside put: not written to the dead letter queue",
			"topic", rec.Topic, "partition", rec.Partition, "offset", rec.Offset)
	}
	return c.s.errs.report(ctx, StageTaskPut, raw, err)
}
