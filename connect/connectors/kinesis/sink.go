package kinesis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/kinesis/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/mapping"
)

// SinkConnector hands each of tasks.max tasks the connector's configuration:
// the runtime spreads the topics' partitions over them.
type SinkConnector struct{ cfg connect.Config }

// Start implements connect.Connector.
func (c *SinkConnector) Start(_ context.Context, _ connect.ConnectorContext, cfg connect.Config) error {
	if _, err := parse(SinkDef(), cfg); err != nil {
		return err
	}
	c.cfg = maps.Clone(cfg)
	return nil
}

// TaskConfigs implements connect.Connector.
func (c *SinkConnector) TaskConfigs(maxTasks int) ([]connect.Config, error) {
	out := make([]connect.Config, maxTasks)
	for i := range out {
		out[i] = maps.Clone(c.cfg)
	}
	return out, nil
}

// Stop implements connect.Connector.
func (c *SinkConnector) Stop() error { return nil }

// NewTask implements connect.SinkConnector.
func (c *SinkConnector) NewTask() connect.SinkTask { return &SinkTask{} }

// SinkTask writes records with PutRecords synchronously: Put returns once
// Kinesis took every record (or the error handling took the ones it cannot
// take), so PreCommit hands back the offsets it was given.
//
// Order per Kafka partition: records go out in Put's order; when Kinesis
// refuses an entry, the entries of the same Kafka partition after it that
// were not sent yet wait, and the refused entries go again (alone, not the
// ones Kinesis took) before them. What Kinesis cannot promise either way:
// an entry after a refused one in the same PutRecords call may have been
// taken, so it lands before the retried one.
type SinkTask struct {
	client       *awskinesis.Client
	stream       string
	keyMode      string
	keyField     string
	hashByPart   bool
	hashKeys     []string // starting hash keys of the open shards, in hash order
	maxRecords   int
	maxBytes     int
	retries      int
	firstBackoff time.Duration
	tc           connect.SinkTaskContext
	log          *slog.Logger
	// maxRecord is the stream's record limit (data and partition key).
	maxRecord int
	// offload, when set, writes records over offloadAt bytes to S3 and
	// puts pointers to them (sink_offload.go).
	offload   *offloader
	offloadAt int

	stopCtx context.Context
	stop    context.CancelFunc

	// written holds the records of a Put that failed retriably which
	// Kinesis (or the error handling) did take, so the runtime's second
	// hand of the same records does not write or report them twice.
	written map[connect.TopicPartition]map[int64]bool
	// done marks, during a Put, the records it is done with, by index.
	done []bool

	// onRound, when set (tests), hears how many entries each PutRecords
	// round sent and how many Kinesis refused.
	onRound func(sent, refused int)
}

// Start implements connect.SinkTask.
func (t *SinkTask) Start(ctx context.Context, tc connect.SinkTaskContext, cfg connect.Config) error {
	vals, err := parse(SinkDef(), cfg)
	if err != nil {
		return err
	}
	if t.client, err = newClient(ctx, vals); err != nil {
		return err
	}
	t.tc = tc
	t.stream = vals.String(StreamConfig)
	t.keyMode = vals.String(PartitionKeyConfig)
	if f, ok := strings.CutPrefix(t.keyMode, "field:"); ok {
		t.keyMode, t.keyField = "field", f
	}
	t.hashByPart = vals.String(ExplicitHashKeyConfig) == "partition"
	t.maxRecords, t.maxBytes = vals.Int(BatchRecordsConfig), vals.Int(BatchBytesConfig)
	t.retries, t.firstBackoff = vals.Int(PutRetriesConfig), vals.Millis(PutBackoffConfig)
	t.log = slog.Default().With("connector", "kinesis-sink", "stream", t.stream)
	t.stopCtx, t.stop = context.WithCancel(context.Background())
	t.maxRecord = t.streamRecordLimit(ctx)
	if t.offload, err = newOffloader(ctx, vals); err != nil {
		return err
	}
	if t.offload != nil {
		t.offloadAt = vals.Int(OffloadThresholdConfig)
		if t.offloadAt == 0 || t.offloadAt > t.maxRecord {
			t.offloadAt = t.maxRecord
		}
	}
	if t.hashByPart {
		return t.loadHashKeys(ctx)
	}
	return nil
}

// loadHashKeys lists the open shards for kinesis.explicit.hash.key=partition.
func (t *SinkTask) loadHashKeys(ctx context.Context) error {
	shards, err := listShards(ctx, t.client, t.stream)
	if err != nil {
		return err
	}
	type open struct {
		start string
		key   mapping.HashKey
	}
	var opens []open
	for _, s := range shards {
		if s.Closed {
			continue
		}
		k, err := mapping.ParseHashKey(s.StartingHashKey)
		if err != nil {
			return fmt.Errorf("shard %s: starting hash key: %w", s.ID, err)
		}
		opens = append(opens, open{s.StartingHashKey, k})
	}
	if len(opens) == 0 {
		return fmt.Errorf("stream %s has no open shard", t.stream)
	}
	slices.SortFunc(opens, func(a, b open) int { return a.key.Cmp(b.key) })
	t.hashKeys = t.hashKeys[:0]
	for _, o := range opens {
		t.hashKeys = append(t.hashKeys, o.start)
	}
	return nil
}

// Open implements connect.SinkTask: a new assignment starts afresh, and
// the shard map is read again (the stream may have been resharded).
func (t *SinkTask) Open(ctx context.Context, _ []connect.TopicPartition) error {
	t.written = nil
	if t.hashByPart {
		return t.loadHashKeys(ctx)
	}
	return nil
}

// Close implements connect.SinkTask.
func (t *SinkTask) Close(context.Context, []connect.TopicPartition) error {
	t.written = nil
	return nil
}

// PreCommit implements connect.SinkTask: Put is synchronous.
func (t *SinkTask) PreCommit(_ context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return offsets, nil
}

// Stop implements connect.SinkTask: a Put waiting to retry returns.
func (t *SinkTask) Stop() error {
	if t.stop != nil {
		t.stop()
	}
	return nil
}

// entry is one record on its way to Kinesis.
type entry struct {
	seq  int // its place in Put's records
	rec  *connect.Record
	tp   connect.TopicPartition
	req  types.PutRecordsRequestEntry
	size int
}

// Put implements connect.SinkTask.
func (t *SinkTask) Put(ctx context.Context, recs []connect.Record) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(t.stopCtx, cancel)()

	t.done = make([]bool, len(recs))
	defer func() {
		if errors.Is(err, connect.ErrRetriable) {
			t.keepDone(recs)
		} else {
			t.written = nil
		}
		t.done = nil
	}()
	queue := make([]*entry, 0, len(recs))
	for i := range recs {
		rec := &recs[i]
		tp := connect.TopicPartition{Topic: rec.Topic, Partition: rec.Partition}
		if t.written[tp][rec.Offset] {
			continue
		}
		e, err := t.entryOf(ctx, rec, tp)
		if err != nil {
			if errors.Is(err, connect.ErrRetriable) {
				return err // an offload that may succeed later
			}
			if err := t.tc.Report(ctx, *rec, err); err != nil {
				return err
			}
			t.done[i] = true
			continue
		}
		e.seq = i
		queue = append(queue, e)
	}
	backoff := t.firstBackoff
	for attempt := 0; ; attempt++ {
		retry, lastErr, err := t.round(ctx, queue)
		if err != nil {
			return err
		}
		if len(retry) == 0 {
			return nil
		}
		if attempt >= t.retries {
			return connect.Retriable(fmt.Errorf("%d records not taken by Kinesis after %d retries: %w", len(retry), t.retries, lastErr))
		}
		t.log.Debug("kinesis sink: retrying refused entries", "entries", len(retry), "wait", backoff, "err", lastErr)
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			return connect.Retriable(fmt.Errorf("put interrupted: %w", ctx.Err()))
		case <-timer.C:
		}
		backoff = min(2*backoff, maxBackoff)
		queue = retry
	}
}

// keepDone remembers, after a Put that failed retriably, which of its
// records are done with (Kinesis took them, or the error handling did), so
// the same records handed again are neither written nor reported twice.
func (t *SinkTask) keepDone(recs []connect.Record) {
	for i, done := range t.done {
		if !done {
			continue
		}
		tp := connect.TopicPartition{Topic: recs[i].Topic, Partition: recs[i].Partition}
		if t.written == nil {
			t.written = map[connect.TopicPartition]map[int64]bool{}
		}
		if t.written[tp] == nil {
			t.written[tp] = map[int64]bool{}
		}
		t.written[tp][recs[i].Offset] = true
	}
}

// entryOf makes a record's PutRecords entry, or says why it cannot go.
func (t *SinkTask) entryOf(ctx context.Context, rec *connect.Record, tp connect.TopicPartition) (*entry, error) {
	data, err := encodeValue(rec.Value, rec.ValueSchema)
	if err != nil {
		return nil, err
	}
	pk, err := partitionKeyOf(t.keyMode, t.keyField, rec)
	if err != nil {
		return nil, err
	}
	size := len(data) + len(pk)
	if t.offload != nil && size > t.offloadAt {
		if data, err = t.offload.put(ctx, data); err != nil {
			return nil, err
		}
		size = len(data) + len(pk)
	}
	if size > t.maxRecord {
		return nil, fmt.Errorf("record of %d bytes (data and partition key) is over Kinesis's limit of %d", size, t.maxRecord)
	}
	e := &entry{rec: rec, tp: tp, size: size,
		req: types.PutRecordsRequestEntry{Data: data, PartitionKey: aws.String(pk)}}
	if t.hashByPart && len(t.hashKeys) > 0 {
		e.req.ExplicitHashKey = aws.String(t.hashKeys[int(uint32(tp.Partition))%len(t.hashKeys)])
	}
	return e, nil
}

// round sends queue in PutRecords calls within the batch limits and returns
// the entries to send again, in queue order: those Kinesis refused for a
// reason that passes, and the not yet sent entries of their Kafka
// partitions, which must not overtake them. A refusal that will not pass
// goes to the error handling; err is set when that gives up, or when a call
// failed for good.
func (t *SinkTask) round(ctx context.Context, queue []*entry) (retry []*entry, lastErr, err error) {
	blocked := map[connect.TopicPartition]bool{}
	for len(queue) > 0 {
		var batch []*entry
		bytes := 0
		rest := queue[:0:0]
		for i, e := range queue {
			if blocked[e.tp] {
				retry = append(retry, e)
				continue
			}
			if len(batch) == t.maxRecords || (len(batch) > 0 && bytes+e.size > t.maxBytes) {
				rest = queue[i:]
				break
			}
			batch = append(batch, e)
			bytes += e.size
		}
		queue = rest
		if len(batch) == 0 {
			continue
		}
		refused, callErr, err := t.putBatch(ctx, batch)
		if err != nil {
			return nil, nil, err
		}
		if callErr != nil {
			lastErr = callErr
		}
		for _, e := range refused {
			blocked[e.tp] = true
		}
		retry = mergeInOrder(retry, refused)
	}
	return retry, lastErr, nil
}

// mergeInOrder merges two lists of entries that are each in Put's order.
func mergeInOrder(a, b []*entry) []*entry {
	if len(b) == 0 {
		return a
	}
	out := make([]*entry, 0, len(a)+len(b))
	for len(a) > 0 && len(b) > 0 {
		if a[0].seq < b[0].seq {
			out, a = append(out, a[0]), a[1:]
		} else {
			out, b = append(out, b[0]), b[1:]
		}
	}
	return append(append(out, a...), b...)
}

// putBatch makes one PutRecords call and returns the entries to send again.
// callErr is the reason; err ends Put.
func (t *SinkTask) putBatch(ctx context.Context, batch []*entry) (refused []*entry, callErr, err error) {
	reqs := make([]types.PutRecordsRequestEntry, len(batch))
	for i, e := range batch {
		reqs[i] = e.req
	}
	resp, callErr := t.client.PutRecords(ctx, &awskinesis.PutRecordsInput{StreamName: aws.String(t.stream), Records: reqs})
	if callErr != nil {
		if ctx.Err() != nil {
			return nil, nil, connect.Retriable(fmt.Errorf("put interrupted: %w", ctx.Err()))
		}
		if !transient(callErr) {
			return nil, nil, fmt.Errorf("PutRecords %s: %w", t.stream, callErr)
		}
		t.report(len(batch), len(batch))
		return batch, callErr, nil
	}
	if len(resp.Records) != len(batch) {
		return nil, nil, fmt.Errorf("PutRecords %s: %d results for %d records", t.stream, len(resp.Records), len(batch))
	}
	for i, r := range resp.Records {
		e := batch[i]
		code := aws.ToString(r.ErrorCode)
		switch code {
		case "":
			t.done[e.seq] = true
		case codeThroughput, codeInternalFailure, codeKMSThrottling:
			refused = append(refused, e)
			callErr = fmt.Errorf("%s: %s", code, aws.ToString(r.ErrorMessage))
		default:
			if err := t.tc.Report(ctx, *e.rec, fmt.Errorf("kinesis refused the record: %s: %s", code, aws.ToString(r.ErrorMessage))); err != nil {
				return nil, nil, err
			}
			t.done[e.seq] = true
		}
	}
	t.report(len(batch), len(refused))
	return refused, callErr, nil
}

func (t *SinkTask) report(sent, refused int) {
	if t.onRound != nil {
		t.onRound(sent, refused)
	}
}
