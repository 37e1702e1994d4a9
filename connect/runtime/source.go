package runtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"
	"unsafe"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/streambridge/bridge/connect"
)

// sourceRunner is a source task's loop: poll, transform, convert, produce;
// then, every offset flush interval and at the end, store the offsets of
// records Kafka acknowledged and let the task commit upstream.
//
// Invariant: an offset is stored only when its record and every record
// polled before it from the same source partition were acknowledged by
// Kafka (or dropped by a transform or errors.tolerance=all): a restart
// resumes after the last stored offset and so duplicates at most what was
// written since the last flush, and loses nothing.
type sourceRunner struct {
	t         *taskRun
	task      connect.SourceTask
	taskCfg   connect.Config
	cl        *kgo.Client
	keyConv   connect.Converter
	valueConv connect.Converter
	chain     Chain
	errs      *errorHandler
	submitted submitted
	topics    map[string]bool
	// produceCtx is canceled when the loop has returned.
	produceCtx context.Context
	promise    func(*kgo.Record, error) // onProduced, made once
	slab       []produced               // what nextProduced hands out next

	mu         sync.Mutex
	acked      []*connect.Record // acknowledged, CommitRecord not yet called
	spare      []*connect.Record // acked's other buffer
	produceErr error             // a produce failure errors.tolerance=none does not allow
	ackedSince int               // acknowledged since the last commit
}

// extra are client options after the worker's (the exactly-once runner's
// transactional id).
func newSourceRunner(t *taskRun, task connect.SourceTask, connCfg, taskCfg connect.Config, extra ...kgo.Opt) (*sourceRunner, error) {
	vals, err := common(connect.PluginSource, connCfg)
	if err != nil {
		return nil, err
	}
	s := &sourceRunner{t: t, task: task, taskCfg: taskCfg, topics: make(map[string]bool)}
	s.promise = s.onProduced
	if s.keyConv, err = t.w.converter(connCfg, true); err != nil {
		return nil, err
	}
	if s.valueConv, err = t.w.converter(connCfg, false); err != nil {
		return nil, err
	}
	if s.chain, err = t.w.chain(connCfg); err != nil {
		return nil, err
	}
	opts := append([]kgo.Opt{
		kgo.ClientID(fmt.Sprintf("connector-producer-%s-%d", t.id.Connector, t.id.Task)),
		kgo.AllowAutoTopicCreation(),
		kgo.RecordPartitioner(sourcePartitioner{kgo.StickyKeyPartitioner(nil)}),
		kgo.ProducerLinger(5 * time.Millisecond),
	}, t.w.cfg.Kafka...)
	opts = append(append(opts, t.w.cfg.Producer...), extra...)
	if s.cl, err = kgo.NewClient(opts...); err != nil {
		return nil, err
	}
	s.errs = newErrorHandler(t, vals, nil)
	return s, nil
}

func (s *sourceRunner) run(ctx context.Context) error {
	defer s.cl.Close()
	// Records in flight outlive a stop (they are flushed before the last
	// commit), so they are produced under a context of their own.
	var cancel context.CancelFunc
	s.produceCtx, cancel = context.WithCancel(context.Background())
	defer cancel()
	if err := s.task.Start(ctx, sourceContext{s}, s.taskCfg); err != nil {
		return fmt.Errorf("source task start: %w", err)
	}
	defer func() {
		if err := s.task.Stop(); err != nil {
			s.t.log.Warn("source task stop", "err", err)
		}
	}()
	interval := s.t.w.cfg.OffsetFlushInterval
	nextCommit := time.Now().Add(interval)
	delay := firstRetryDelay
	for s.t.waitWhilePaused(ctx) {
		recs, err := s.task.Poll(ctx)
		switch {
		case ctx.Err() != nil:
		case errors.Is(err, connect.ErrRetriable):
			s.t.log.Warn("source task poll failed; polling again", "err", err, "after", delay)
			sleep(ctx, delay)
			delay = min(2*delay, time.Minute)
		case err != nil:
			return fmt.Errorf("source task poll: %w", err)
		default:
			delay = firstRetryDelay
			s.t.progress.polled(len(recs))
			for i := range recs {
				if err := s.send(ctx, &recs[i]); err != nil {
					return err
				}
			}
		}
		if err := s.commitRecords(ctx); err != nil {
			return err
		}
		if time.Now().After(nextCommit) {
			if err := s.commit(ctx); err != nil {
				return err
			}
			nextCommit = time.Now().Add(interval)
		}
	}
	// Stopping: wait for what was produced, then store its offsets.
	final, cancelFinal := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancelFinal()
	if err := s.cl.Flush(final); err != nil {
		s.t.log.Warn("source task stopping before every record was acknowledged", "err", err)
	}
	if err := s.commitRecords(final); err != nil {
		return err
	}
	return s.commit(final)
}

// send transforms, converts and produces one record. rec points into the
// poll's slice, which the runtime owns from then on: it is kept, not copied,
// until the record is committed.
func (s *sourceRunner) send(ctx context.Context, rec *connect.Record) error {
	pos := s.submitted.submit(rec)
	out := rec
	if s.chain != nil {
		skip, err := s.errs.execute(ctx, StageTransformation, nil, func() (err error) {
			out, err = s.chain.Apply(rec)
			return err
		})
		if err != nil {
			return err
		}
		if skip || out == nil {
			s.ack(pos, rec)
			return nil
		}
	}
	p := s.nextProduced()
	p.rec, p.pos, p.explicit = rec, pos, out.Partition >= 0
	kr := &p.kr
	kr.Topic, kr.Timestamp, kr.Partition, kr.Context = out.Topic, out.Timestamp, out.Partition, p
	if skip, err := s.errs.execute(ctx, StageKeyConverter, nil, func() (err error) {
		kr.Key, err = s.keyConv.FromConnect(out.Topic, out.KeySchema, out.Key)
		return err
	}); err != nil || skip {
		s.ack(pos, rec)
		return err
	}
	if skip, err := s.errs.execute(ctx, StageValueConverter, nil, func() (err error) {
		kr.Value, err = s.valueConv.FromConnect(out.Topic, out.ValueSchema, out.Value)
		return err
	}); err != nil || skip {
		s.ack(pos, rec)
		return err
	}
	for _, h := range out.Headers {
		kr.Headers = append(kr.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	if !s.topics[out.Topic] {
		s.topics[out.Topic] = true
		s.t.w.activeTopic(s.t.id.Connector, out.Topic)
	}
	s.cl.Produce(s.produceCtx, kr, s.promise)
	return nil
}

// onProduced is every record's promise: it finds the record's produced
// through the kgo record's Context.
func (s *sourceRunner) onProduced(written *kgo.Record, err error) {
	p := written.Context.(*produced)
	if err != nil && s.produceCtx.Err() == nil {
		if rerr := s.errs.report(s.produceCtx, StageKafkaProduce, nil, err); rerr != nil {
			s.mu.Lock()
			s.produceErr = errors.Join(s.produceErr, rerr)
			s.mu.Unlock()
			return
		}
	}
	if err != nil {
		return // stopping: the record's offset stays unstored
	}
	s.t.progress.written(1)
	p.rec.Partition, p.rec.Offset = written.Partition, written.Offset
	s.ack(p.pos, p.rec)
}

// produced is a record on its way to Kafka with what its promise needs.
// The loop takes them from slabs of producedSlab (nextProduced): a copy of
// hundreds of thousands of records a second allocated two objects per
// record (the kgo record and its promise's closure), which were a tenth of
// its CPU. A slab is collected once none of its records is referenced.
//
// A produced is its kgo record's Context (the promise finds it there);
// the partitioner reads explicit there too.
type produced struct {
	context.Context // context.Background(): kgo passes it to hooks only
	kr              kgo.Record
	rec             *connect.Record
	pos             submittedRecord
	explicit        bool // the connector chose the partition
}

const producedSlab = 256

// nextProduced takes the next produced from the loop's slab. Only the
// loop's goroutine calls it.
func (s *sourceRunner) nextProduced() *produced {
	if len(s.slab) == 0 {
		s.slab = make([]produced, producedSlab)
	}
	p := &s.slab[0]
	s.slab = s.slab[1:]
	p.Context = context.Background()
	return p
}

// ack marks a record done: acknowledged, dropped or tolerated.
func (s *sourceRunner) ack(pos submittedRecord, rec *connect.Record) {
	s.submitted.ack(pos)
	s.mu.Lock()
	s.acked = append(s.acked, rec)
	s.ackedSince++
	s.mu.Unlock()
}

// commitRecords hands the task the records acknowledged since the last call,
// from the loop's goroutine.
func (s *sourceRunner) commitRecords(ctx context.Context) error {
	s.mu.Lock()
	acked, err := s.acked, s.produceErr
	s.acked, s.spare = s.spare[:0], nil
	s.mu.Unlock()
	if err != nil {
		return err
	}
	for i := range acked {
		if err := s.task.CommitRecord(ctx, *acked[i]); err != nil {
			s.t.log.Warn("source task CommitRecord", "err", err)
		}
	}
	// The two buffers take turns, so a busy task does not grow a new one
	// per poll.
	clear(acked)
	s.mu.Lock()
	s.spare = acked[:0]
	s.mu.Unlock()
	return nil
}

// commit stores the offsets that may be stored and lets the task commit.
func (s *sourceRunner) commit(ctx context.Context) error {
	s.mu.Lock()
	since := s.ackedSince
	s.ackedSince = 0
	s.mu.Unlock()
	offsets := s.submitted.committable()
	if len(offsets) > 0 {
		if err := s.t.w.cfg.Offsets.Put(ctx, s.t.id.Connector, offsets); err != nil {
			// Kafka Connect logs a failed flush and tries again at the next;
			// a stop cancels a periodic flush, and the final one retries it.
			if ctx.Err() == nil {
				s.t.log.Error("could not store source offsets", "err", err)
			}
			s.submitted.requeue(offsets)
			return nil
		}
		s.t.progress.committed(time.Now())
	}
	if since > 0 {
		if err := s.task.Commit(ctx); err != nil {
			s.t.log.Warn("source task commit", "err", err)
		}
	}
	return nil
}

// sourceContext is a source task's connect.SourceTaskContext.
type sourceContext struct{ s *sourceRunner }

func (c sourceContext) Offset(partition map[string]any) (map[string]any, error) {
	return c.s.t.w.cfg.Offsets.Get(c.s.t.ctx, c.s.t.id.Connector, partition)
}

// explicitPartition reports whether a record's connector chose its
// partition.
func explicitPartition(r *kgo.Record) bool {
	p, ok := r.Context.(*produced)
	return ok && p.explicit
}

// sourcePartitioner keeps a partition a source record names and lets the
// default partitioner (murmur2 of the key, as Kafka's producers) place the
// others.
type sourcePartitioner struct{ def kgo.Partitioner }

func (p sourcePartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	return sourceTopicPartitioner{p.def.ForTopic(topic)}
}

type sourceTopicPartitioner struct{ def kgo.TopicPartitioner }

func (p sourceTopicPartitioner) RequiresConsistency(r *kgo.Record) bool {
	return explicitPartition(r) || p.def.RequiresConsistency(r)
}

func (p sourceTopicPartitioner) Partition(r *kgo.Record, n int) int {
	if explicitPartition(r) {
		return int(r.Partition) % n
	}
	return p.def.Partition(r, n)
}

func (p sourceTopicPartitioner) OnNewBatch() {
	if nb, ok := p.def.(kgo.TopicPartitionerOnNewBatch); ok {
		nb.OnNewBatch()
	}
}

// submitted tracks polled records per source partition in poll order, so
// that only offsets with every earlier record acknowledged are stored (Kafka
// Connect's SubmittedRecords).
type submitted struct {
	mu         sync.Mutex
	partitions map[string]*submittedQueue

	// keys remembers the keys of the partition maps seen last, by the
	// map's identity: connectors that share one map per partition (most
	// do) are keyed without encoding it per record. Entries hold their map,
	// so an address is never reused by another map while it is cached.
	// Only the polling goroutine calls submit.
	keys map[unsafe.Pointer]partitionKey
}

type partitionKey struct {
	partition map[string]any
	key       string
}

// maxCachedKeys bounds keys; a task with more partitions than this in
// flight encodes some of them again.
const maxCachedKeys = 256

// keyOf is a source partition's identity: its JSON.
func (s *submitted) keyOf(partition map[string]any) string {
	if partition == nil {
		return "null"
	}
	id := reflect.ValueOf(partition).UnsafePointer()
	if k, ok := s.keys[id]; ok {
		return k.key
	}
	b, _ := json.Marshal(partition)
	if s.keys == nil || len(s.keys) >= maxCachedKeys {
		s.keys = make(map[unsafe.Pointer]partitionKey)
	}
	s.keys[id] = partitionKey{partition, string(b)}
	return string(b)
}

// submittedQueue is one source partition's records in poll order, from
// sequence number base on: their offsets and whether each is acknowledged.
// The slices are values, not pointers to records, so that tracking a record
// costs no allocation of its own.
type submittedQueue struct {
	partition map[string]any
	// offsets are the records' SourceOffset maps, their Handles when those
	// are connect.LazyOffsets (asked only for the offset stored), or nil.
	offsets []any
	acked   []bool
	base    uint64
	// done is the latest offset whose record and all before it are acked,
	// not yet stored.
	done any
	// idle: the queue was empty at the last committable and nothing was
	// submitted since; empty again at the next, it is dropped.
	idle bool
}

// submittedRecord is a handle on one submitted record.
type submittedRecord struct {
	q   *submittedQueue
	seq uint64
}

func (s *submitted) submit(rec *connect.Record) submittedRecord {
	partition := rec.SourcePartition
	var offset any
	if rec.SourceOffset != nil {
		offset = rec.SourceOffset
	} else if l, ok := rec.Handle.(connect.LazyOffset); ok {
		offset = l
	}
	key := s.keyOf(partition)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.partitions == nil {
		s.partitions = make(map[string]*submittedQueue)
	}
	q := s.partitions[key]
	if q == nil {
		q = &submittedQueue{partition: partition}
		s.partitions[key] = q
	}
	q.offsets = append(q.offsets, offset)
	q.acked = append(q.acked, false)
	q.idle = false
	return submittedRecord{q, q.base + uint64(len(q.offsets)-1)}
}

func (s *submitted) ack(r submittedRecord) {
	s.mu.Lock()
	r.q.acked[r.seq-r.q.base] = true
	s.mu.Unlock()
}

// committable pops every partition's acknowledged prefix and returns the
// latest offset of each.
func (s *submitted) committable() []SourceOffset {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []SourceOffset
	for key, q := range s.partitions {
		n := 0
		for n < len(q.acked) && q.acked[n] {
			if q.offsets[n] != nil {
				q.done = q.offsets[n]
			}
			n++
		}
		// Drop the prefix and move the rest (records not yet acknowledged,
		// usually few) to the front, keeping the arrays: a partition's
		// queue grows to a commit interval's records once and is reused
		// from then on, rather than grown from nothing by doubling after
		// every commit (fresh memory to fault in and zero, 2-4% of a fast
		// copy's CPU). What moved is cleared behind it, so no map or
		// handle is kept alive.
		rest := copy(q.offsets, q.offsets[n:])
		clear(q.offsets[rest:])
		copy(q.acked, q.acked[n:])
		q.offsets, q.acked, q.base = q.offsets[:rest], q.acked[:rest], q.base+uint64(n)
		if q.done != nil && q.partition != nil {
			out = append(out, SourceOffset{Partition: q.partition, Offset: offsetValue(q.done)})
			q.done = nil
		}
		if len(q.offsets) == 0 && q.done == nil {
			if q.idle {
				delete(s.partitions, key) // a partition no longer polled
			}
			q.idle = true
		}
	}
	return out
}

// offsetValue is a submitted offset's map.
func offsetValue(offset any) map[string]any {
	if l, ok := offset.(connect.LazyOffset); ok {
		return l.SourceOffset()
	}
	m, _ := offset.(map[string]any)
	return m
}

// requeue puts back offsets a failed store did not keep, unless a later
// offset of the partition is already waiting.
func (s *submitted) requeue(offsets []SourceOffset) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range offsets {
		key, _ := json.Marshal(o.Partition)
		q := s.partitions[string(key)]
		if q == nil {
			q = &submittedQueue{partition: o.Partition}
			s.partitions[string(key)] = q
		}
		if q.done == nil {
			q.done = o.Offset
		}
	}
}
