package kinesis

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/internal/bufpool"
)

// SourceTask reads its shards with GetRecords, each shard's calls one after
// the other in a goroutine of their own and the shards' at the same time
// (up to maxConcurrentReads); Poll hands out the answers that are in. A
// shard that is behind is read ahead: its next call starts as soon as Poll
// takes its answer, so the next Poll finds it read while the runtime was
// producing the last records (KCL's prefetching, one call deep). A shard
// that is caught up waits kinesis.poll.interval.ms between calls.
//
// Invariants:
//   - A shard is read only once every parent of it that the task holds is
//     finished: read to its end (NextShardIterator absent) and every record
//     handed out of it committed (CommitRecord). The connector gives a
//     lineage to one task, so a parent the task does not hold is one
//     Kinesis no longer lists (past retention): there is nothing left to
//     read in it.
//   - Records of one shard are handed out in sequence order, and the
//     iterator always continues from the last record handed out, so a
//     renewed (expired) iterator neither skips nor repeats.
//   - Nothing is acknowledged upstream: the stored offsets are the only
//     state, so a restart resumes after the last record Kafka acknowledged.
type SourceTask struct {
	client       *awskinesis.Client
	stream       string
	topic        string
	position     string
	at           time.Time
	pollInterval time.Duration
	limit        int32
	preserve     bool
	deaggregate  bool
	headers      bool

	shards []*shardReader
	byID   map[string]*shardReader
	next   int // the shard the next round starts with, for fairness
	// answered wakes a waiting Poll when a shard's call is done.
	answered chan struct{}

	// mu guards the fields CommitRecord changes: shardReader.pending and
	// shardReader.ended.
	mu sync.Mutex

	stopCtx context.Context
	stop    context.CancelFunc
	log     *slog.Logger

	// tc finds the stored offsets of child shards adopted while reading.
	tc connect.SourceTaskContext
	// efo, when set, reads with enhanced fan-out (source_efo.go).
	efo *efoReader
	// pointers, when set, restores PayloadS3Pointer records from S3
	// (source_pointers.go).
	pointers *pointerResolver
	// answerPool keeps the buffers GetRecords answers are read into
	// (answers.go).
	answerPool *bufpool.Pool
}

// shardReader is one shard's reading state.
type shardReader struct {
	info      shardInfo
	partition int32
	srcPart   map[string]any
	parents   []*shardReader // those the task holds

	iterator *string
	// last is the position of the last record handed out (or skipped on a
	// resume): where a renewed iterator continues.
	last *position
	// resume, while set, skips user records of an aggregate that were
	// handed out before a restart: the iterator starts AT its sequence.
	resume *position

	notBefore time.Time
	backoff   time.Duration
	// ahead, while set, is the shard's call in flight, or done and not yet
	// taken: until it is done it alone touches the fields above.
	ahead *readAhead
	// skipped: kinesis.position=LATEST and the shard was closed before the
	// connector started, without a stored offset: there is nothing "from
	// now on" in it, nor in children that only it begat.
	skipped bool

	// subscribed: an enhanced fan-out subscriber reads the shard
	// (source_efo.go). Poll's goroutine only.
	subscribed bool

	// Guarded by SourceTask.mu.
	ended   bool
	pending int
}

// finished reports whether every record of the shard was read and
// committed. Call with SourceTask.mu held.
func (s *shardReader) finished() bool { return s.ended && s.pending == 0 }

// readAhead is a shard's GetRecords call (startRead).
type readAhead struct {
	done chan struct{}
	recs []connect.Record
	err  error
}

// Fixed waits of the read loop.
const (
	// maxPollWait is how long Poll blocks with nothing to hand out.
	maxPollWait = time.Second
	// maxConcurrentReads bounds the GetRecords calls a task has in flight.
	maxConcurrentReads = 8
	// parentCheck is how often a child waiting for its parents' commits looks.
	parentCheck = 50 * time.Millisecond
	// Throttled or failing shards back off from minBackoff, doubling to maxBackoff.
	minBackoff = 100 * time.Millisecond
	maxBackoff = 10 * time.Second
)

var (
	keySchema   = &connect.Schema{Type: connect.TypeString}
	valueSchema = connect.OptionalBytesSchema
)

// Start implements connect.SourceTask: it reads the stored offset of each
// of its shards.
func (t *SourceTask) Start(ctx context.Context, tc connect.SourceTaskContext, cfg connect.Config) error {
	vals, err := parse(SourceDef(), cfg)
	if err != nil {
		return err
	}
	t.answerPool = newAnswerPool()
	infos, err := decodeShards(cfg[shardsConfig])
	if err != nil {
		return err
	}
	t.tc = tc
	var cbor []func(*awskinesis.Options)
	if vals.Bool(CBORConfig) {
		cbor = append(cbor, withCBOR)
	}
	t.client, err = newClient(ctx, vals, cbor...)
	if err != nil {
		return err
	}
	t.stream, t.topic = vals.String(StreamConfig), vals.String(TopicConfig)
	t.position = vals.String(PositionConfig)
	if t.position == positionAtTimestamp {
		if t.at, err = parseTimestamp(vals.String(PositionTimeConfig)); err != nil {
			return fmt.Errorf("%s: %w", PositionTimeConfig, err)
		}
	}
	t.pollInterval = vals.Millis(PollIntervalConfig)
	t.limit = int32(vals.Int(RecordsLimitConfig))
	t.preserve = vals.String(KafkaPartitionConfig) == "preserve"
	t.deaggregate = vals.Bool(DeaggregateConfig)
	t.headers = vals.Bool(HeadersConfig)
	t.stopCtx, t.stop = context.WithCancel(context.Background())
	t.answered = make(chan struct{}, 1)
	t.log = slog.Default().With("connector", "kinesis-source", "stream", t.stream)

	t.byID = make(map[string]*shardReader, len(infos))
	for _, info := range infos {
		s, err := t.newShardReader(info)
		if err != nil {
			return err
		}
		t.shards = append(t.shards, s)
		t.byID[info.ID] = s
	}
	for _, s := range t.shards {
		for _, p := range s.info.parents() {
			if ps, ok := t.byID[p]; ok {
				s.parents = append(s.parents, ps)
			}
		}
	}
	if t.position == positionLatest {
		t.skipUnread()
	}
	if vals.Bool(ResolvePointersConfig) {
		if t.pointers, err = newPointerResolver(ctx, vals, t.log); err != nil {
			return err
		}
	}
	if vals.String(ConsumerTypeConfig) == consumerEFO {
		return t.startEFO(ctx, vals, cfg)
	}
	return nil
}

// newShardReader returns the reading state of a shard, from its stored
// offset.
func (t *SourceTask) newShardReader(info shardInfo) (*shardReader, error) {
	s := &shardReader{info: info, partition: connect.NoPartition, srcPart: sourcePartition(t.stream, info.ID)}
	var err error
	if t.preserve {
		if s.partition, err = shardIndex(info.ID); err != nil {
			return nil, err
		}
	}
	stored, err := t.tc.Offset(s.srcPart)
	if err != nil {
		return nil, fmt.Errorf("stored offset of shard %s: %w", info.ID, err)
	}
	if s.last, err = parsePosition(stored); err != nil {
		return nil, fmt.Errorf("shard %s: %w", info.ID, err)
	}
	if s.last != nil && s.last.Closed {
		s.ended = true // read to its end and committed before
	}
	if s.last != nil && s.last.Subsequence >= 0 && t.deaggregate {
		s.resume = s.last
	}
	return s, nil
}

// skipUnread marks the shards LATEST leaves out: closed before the connector
// started, never read (no stored offset), and begotten only by shards left
// out too. Parents are decided before their children, whatever the order
// of the configuration.
func (t *SourceTask) skipUnread() {
	decided := map[*shardReader]bool{}
	var decide func(s *shardReader)
	decide = func(s *shardReader) {
		if decided[s] {
			return
		}
		decided[s] = true
		for _, p := range s.parents {
			decide(p)
		}
		if s.info.ClosedAtStart && s.last == nil && !t.readParent(s) {
			s.skipped, s.ended = true, true
		}
	}
	for _, s := range t.shards {
		decide(s)
	}
}

// Poll implements connect.SourceTask.
func (t *SourceTask) Poll(ctx context.Context) ([]connect.Record, error) {
	var recs []connect.Record
	var err error
	if t.efo != nil {
		recs, err = t.pollEFO(ctx)
	} else {
		recs, err = t.pollGetRecords(ctx)
	}
	if err == nil && t.pointers != nil && len(recs) > 0 {
		err = t.pointers.resolve(ctx, recs, t.stopCtx)
	}
	return recs, err
}

// pollGetRecords hands out what the shards' GetRecords calls brought,
// waiting up to maxPollWait for records.
func (t *SourceTask) pollGetRecords(ctx context.Context) ([]connect.Record, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(t.stopCtx, cancel)()
	deadline := time.Now().Add(maxPollWait)
	for {
		recs, wait, err := t.round()
		if err != nil || len(recs) > 0 {
			return recs, err
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil
		}
		timer := time.NewTimer(min(wait, left))
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, nil
		case <-t.answered:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// round takes the answers of the calls that are done, starts a call on
// every shard that is due and has none (up to maxConcurrentReads in
// flight), and returns the records taken, or how long until a shard is due.
//
// A shard has at most one call at a time (GetRecords needs the iterator
// the previous answer gave), and its next call starts as soon as its
// answer is taken, whatever the task's other shards are doing: a round
// that waited for all of them would leave the quicker shards idle while
// the slowest answered, which on a busy machine was half of the time.
func (t *SourceTask) round() ([]connect.Record, time.Duration, error) {
	wait := maxPollWait
	var out []connect.Record
	inFlight := 0
	var taken []*shardReader
	for i := range t.shards {
		s := t.shards[(t.next+i)%len(t.shards)]
		if s.ahead == nil {
			continue
		}
		select {
		case <-s.ahead.done:
			taken = append(taken, s)
		default:
			inFlight++
		}
	}
	if len(t.shards) > 0 {
		t.next = (t.next + 1) % len(t.shards)
	}
	for _, s := range taken {
		a := s.ahead
		s.ahead = nil
		if err := a.err; err != nil {
			if t.stopCtx.Err() != nil {
				continue // stopping: the call was cut short
			}
			if s.info.Closed && errorCode(err) == codeNotFound {
				// A closed shard past the retention period is gone, and
				// with it anything left to read: its children may go on.
				t.log.Warn("kinesis source: closed shard expired before it was read to its end", "shard", s.info.ID, "err", err)
				t.markEnded(s)
				continue
			}
			if !transient(err) {
				return nil, 0, fmt.Errorf("shard %s: %w", s.info.ID, err)
			}
			s.backoff = min(max(2*s.backoff, minBackoff), maxBackoff)
			s.notBefore = time.Now().Add(s.backoff)
			t.log.Debug("kinesis source: backing off", "shard", s.info.ID, "wait", s.backoff, "err", err)
			continue
		}
		s.backoff = 0
		out = append(out, a.recs...)
	}
	now := time.Now()
	for i := range t.shards {
		s := t.shards[(t.next+i)%len(t.shards)]
		if s.ahead != nil {
			continue
		}
		ended, ready := t.readable(s)
		switch {
		case ended:
		case !ready:
			wait = min(wait, parentCheck)
		case now.Before(s.notBefore):
			wait = min(wait, s.notBefore.Sub(now))
		case inFlight < maxConcurrentReads:
			t.startRead(s)
			inFlight++
		}
	}
	return out, wait, nil
}

// startRead makes s's next call in a goroutine of its own, under the task's
// lifetime, not a Poll's: a stopped task drops what it read, which was
// neither handed out nor committed. Until the call is done it alone touches
// s's reading state; its end wakes a waiting Poll.
func (t *SourceTask) startRead(s *shardReader) {
	a := &readAhead{done: make(chan struct{})}
	s.ahead = a
	go func() {
		a.recs, a.err = t.read(t.stopCtx, s)
		close(a.done)
		select {
		case t.answered <- struct{}{}:
		default:
		}
	}()
}

// readable reports whether s has ended and, if not, whether its parents
// are finished so that it may be read.
func (t *SourceTask) readable(s *shardReader) (ended, ready bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return s.ended, t.parentsFinished(s)
}

// parentsFinished reports whether s may be read. Call with t.mu held.
func (t *SourceTask) parentsFinished(s *shardReader) bool {
	for _, p := range s.parents {
		if !p.finished() {
			return false
		}
	}
	return true
}

// read makes one GetRecords call on s (getting an iterator first when it
// has none) and returns its records as Connect records.
func (t *SourceTask) read(ctx context.Context, s *shardReader) ([]connect.Record, error) {
	if s.iterator == nil {
		it, err := t.shardIterator(ctx, s)
		if err != nil {
			return nil, err
		}
		s.iterator = it
		if it == nil { // a closed shard with nothing after our position
			t.markEnded(s)
			return nil, nil
		}
	}
	slot := answerSlot{pool: t.answerPool}
	resp, err := t.client.GetRecords(withAnswerSlot(ctx, &slot), &awskinesis.GetRecordsInput{ShardIterator: s.iterator, Limit: aws.Int32(t.limit)})
	if err != nil {
		if errorCode(err) == codeExpiredIterator {
			// Iterators live five minutes; renew from the last record.
			s.iterator = nil
			s.notBefore = time.Time{}
			return nil, nil
		}
		return nil, err
	}
	out := make([]connect.Record, 0, len(resp.Records))
	refs := make([]sourceRef, 0, len(resp.Records))
	var last position
	for _, r := range resp.Records {
		out, refs = t.convert(s, r, out, refs, &last)
	}
	s.iterator = resp.NextShardIterator
	t.handOut(s, out, refs, last, slot.buf, s.iterator == nil)
	s.notBefore = time.Now().Add(t.pollInterval)
	if len(resp.Records) > 0 && aws.ToInt64(resp.MillisBehindLatest) > 0 {
		s.notBefore = time.Time{} // behind: read on at once
	}
	return out, nil
}

func (t *SourceTask) markEnded(s *shardReader) {
	t.mu.Lock()
	s.ended = true
	t.mu.Unlock()
}

// readParent reports whether the task reads (or read) one of s's parents,
// so that s must be read from its start for nothing to be lost.
func (t *SourceTask) readParent(s *shardReader) bool {
	for _, p := range s.parents {
		if !p.skipped {
			return true
		}
	}
	return false
}

// shardIterator returns an iterator from s's position: after its last
// record, at a partly handed-out aggregate, else from the configured
// position, except that under LATEST a child of a shard the task reads
// starts at TRIM_HORIZON.
func (t *SourceTask) shardIterator(ctx context.Context, s *shardReader) (*string, error) {
	start := t.startingPosition(s)
	in := &awskinesis.GetShardIteratorInput{StreamName: aws.String(t.stream), ShardId: aws.String(s.info.ID),
		ShardIteratorType: start.Type, StartingSequenceNumber: start.SequenceNumber, Timestamp: start.Timestamp}
	resp, err := t.client.GetShardIterator(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("GetShardIterator: %w", err)
	}
	return resp.ShardIterator, nil
}

// startingPosition is where reading s starts (GetShardIterator's type, or
// SubscribeToShard's StartingPosition): after its last record, at a partly
// handed-out aggregate, else from the configured position, except that
// under LATEST a child of a shard the task reads starts at TRIM_HORIZON.
func (t *SourceTask) startingPosition(s *shardReader) types.StartingPosition {
	switch {
	case s.resume != nil:
		return types.StartingPosition{Type: types.ShardIteratorTypeAtSequenceNumber, SequenceNumber: aws.String(s.resume.Sequence)}
	case s.last != nil:
		return types.StartingPosition{Type: types.ShardIteratorTypeAfterSequenceNumber, SequenceNumber: aws.String(s.last.Sequence)}
	case t.position == positionAtTimestamp:
		// Right for children too: their records after the time are the
		// ones after what their parents gave from the same time.
		return types.StartingPosition{Type: types.ShardIteratorTypeAtTimestamp, Timestamp: aws.Time(t.at)}
	case t.position == positionTrimHorizon || t.readParent(s):
		return types.StartingPosition{Type: types.ShardIteratorTypeTrimHorizon}
	default:
		return types.StartingPosition{Type: types.ShardIteratorTypeLatest}
	}
}

// convert appends the Connect records of one Kinesis record (itself, or the
// user records of a KPL aggregate minus those a resume skips) to out and
// their positions to refs, and sets *last to the position of the last one
// handed out or skipped.
func (t *SourceTask) convert(s *shardReader, r types.Record, out []connect.Record, refs []sourceRef, last *position) ([]connect.Record, []sourceRef) {
	seq := aws.ToString(r.SequenceNumber)
	if t.deaggregate && isAggregate(r.Data) {
		subs, err := deaggregate(r.Data)
		if err == nil {
			skipUpTo := int64(-1)
			if s.resume != nil && s.resume.Sequence == seq {
				skipUpTo = s.resume.Subsequence
			}
			s.resume = nil
			for k, sub := range subs {
				pos := position{Sequence: seq, Subsequence: int64(k)}
				*last = pos
				if int64(k) <= skipUpTo {
					continue
				}
				out = append(out, t.record(s, r, pos, sub.PartitionKey, sub.Data))
				refs = append(refs, sourceRef{pos: pos})
			}
			return out, refs
		}
		t.log.Warn("kinesis source: record starts like a KPL aggregate but is not one; copied as it is",
			"shard", s.info.ID, "sequence", seq, "err", err)
	}
	s.resume = nil
	pos := position{Sequence: seq, Subsequence: -1}
	*last = pos
	return append(out, t.record(s, r, pos, aws.ToString(r.PartitionKey), r.Data)), append(refs, sourceRef{pos: pos})
}

// handOut finishes the records converted from one answer (buf, its buffer
// or nil): each gets its sourceRef as Handle, which gives its offset
// (connect.LazyOffset: a map per record was a tenth of a copy's CPU), the
// last one's with "closed" when the shard ended (end), which lets a
// restart skip the shard without a call. last is the position of the last
// record handed out or skipped: where the shard reads on.
func (t *SourceTask) handOut(s *shardReader, recs []connect.Record, refs []sourceRef, last position, buf []byte, end bool) {
	if n := len(recs); n > 0 {
		a := &answer{shard: s, buf: buf, left: n}
		for i := range recs {
			refs[i].answer = a
			recs[i].Handle = &refs[i]
		}
		refs[n-1].pos.Closed = end
		s.last = &refs[n-1].pos
	} else if last.Sequence != "" {
		s.last = &last // every record skipped: resumed past an aggregate
	}
	t.mu.Lock()
	s.pending += len(recs)
	if end {
		s.ended = true
	}
	t.mu.Unlock()
	if buf != nil && len(recs) == 0 {
		t.answerPool.Put(buf)
	}
}

func (t *SourceTask) record(s *shardReader, r types.Record, pos position, key string, data []byte) connect.Record {
	rec := connect.Record{
		Topic:           t.topic,
		Partition:       s.partition,
		Offset:          -1,
		KeySchema:       keySchema,
		Key:             key,
		ValueSchema:     valueSchema,
		Value:           data,
		SourcePartition: s.srcPart,
	}
	if r.ApproximateArrivalTimestamp != nil {
		rec.Timestamp = *r.ApproximateArrivalTimestamp
	}
	if t.headers {
		rec.Headers = []connect.Header{
			{Key: "kinesis.shard", Value: []byte(s.info.ID)},
			{Key: "kinesis.sequence", Value: []byte(pos.Sequence)},
		}
		if pos.Subsequence >= 0 {
			rec.Headers = append(rec.Headers, connect.Header{Key: "kinesis.subsequence", Value: []byte(strconv.FormatInt(pos.Subsequence, 10))})
		}
	}
	return rec
}

// CommitRecord implements connect.SourceTask: once every record of an ended
// shard is committed, its children may be read; once every record of an
// answer is, its buffer is reused.
func (t *SourceTask) CommitRecord(_ context.Context, rec connect.Record) error {
	ref, ok := rec.Handle.(*sourceRef)
	if !ok {
		return nil
	}
	a := ref.answer
	t.mu.Lock()
	if a.shard.pending > 0 {
		a.shard.pending--
	}
	free := a.committed(rec.Offset >= 0)
	t.mu.Unlock()
	if free != nil {
		t.answerPool.Put(free)
	}
	return nil
}

// sequenceOf is the sequence number of a record the task handed out.
func sequenceOf(rec connect.Record) string {
	if ref, ok := rec.Handle.(*sourceRef); ok {
		return ref.pos.Sequence
	}
	return ""
}

// Commit implements connect.SourceTask: Kinesis keeps no consumer state.
func (t *SourceTask) Commit(context.Context) error { return nil }

// Stop implements connect.SourceTask.
func (t *SourceTask) Stop() error {
	if t.stop != nil {
		t.stop()
	}
	if t.efo != nil {
		t.stopEFO()
	}
	return nil
}
