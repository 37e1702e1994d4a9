package sqs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/connect"
)

// SQS's batch limits.
const (
	maxBatchEntries = 10
	// defaultMaxMessageSize is used when the queue does not say.
	defaultMaxMessageSize = 256 << 10
	maxAttributes         = 10
	maxIDLength           = 128
)

// SinkTask sends records to the queue; see the package comment.
type SinkTask struct {
	tc       connect.SinkTaskContext
	sqs      *awssqs.Client
	queueURL string
	fifo     bool
	group    string
	headers  bool
	retries  int
	// maxSize is the queue's MaximumMessageSize: the limit of one message
	// and of one batch's total, which SQS counts the same way.
	maxSize int

	stopOnce sync.Once
	ctx      context.Context
	cancel   context.CancelFunc
}

// entry is one record on its way to SQS.
type entry struct {
	rec  *connect.Record
	req  sqstypes.SendMessageBatchRequestEntry
	size int
}

// Start connects, resolves the queue and reads its MaximumMessageSize.
func (t *SinkTask) Start(ctx context.Context, tc connect.SinkTaskContext, cfg connect.Config) error {
	vals, err := parse(SinkDef, cfg)
	if err != nil {
		return err
	}
	c, _, url, err := client(ctx, vals)
	if err != nil {
		return err
	}
	t.tc, t.sqs, t.queueURL = tc, c, url
	t.fifo = isFIFO(connect.Config{QueueURL: url})
	t.group, t.headers, t.retries = vals.String(MessageGroupID), vals.Bool(HeadersAsAttributes), vals.Int(MaxRetries)
	out, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameMaximumMessageSize}})
	if err != nil {
		return fmt.Errorf("GetQueueAttributes %s: %w", url, err)
	}
	t.maxSize = defaultMaxMessageSize
	if n, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameMaximumMessageSize)]); err == nil && n > 0 {
		t.maxSize = n
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	return nil
}

// Open does nothing: the sink keeps no state per partition.
func (t *SinkTask) Open(context.Context, []connect.TopicPartition) error { return nil }

// Close does nothing: Put wrote everything it was given.
func (t *SinkTask) Close(context.Context, []connect.TopicPartition) error { return nil }

// PreCommit returns offsets unchanged: Put is synchronous.
func (t *SinkTask) PreCommit(_ context.Context, offsets map[connect.TopicPartition]int64) (map[connect.TopicPartition]int64, error) {
	return offsets, nil
}

// Stop makes a Put in progress return.
func (t *SinkTask) Stop() error {
	t.stopOnce.Do(func() {
		if t.cancel != nil {
			t.cancel()
		}
	})
	return nil
}

// Put sends recs in order, in batches as large as SQS takes.
func (t *SinkTask) Put(ctx context.Context, recs []connect.Record) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	pending := make([]entry, 0, len(recs))
	for i := range recs {
		e, err := t.entry(&recs[i])
		if err != nil {
			if err := t.tc.Report(ctx, recs[i], err); err != nil {
				return err
			}
			continue
		}
		pending = append(pending, e)
	}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if attempt > t.retries {
				return connect.Retriable(fmt.Errorf("SendMessageBatch %s: %d messages not accepted after %d retries", t.queueURL, len(pending), t.retries))
			}
			if err := sleep(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		var retry []entry
		for _, batch := range t.batches(pending) {
			again, err := t.send(ctx, batch)
			if err != nil {
				return err
			}
			retry = append(retry, again...)
		}
		pending = retry
	}
	return nil
}

// batches splits entries in order at 10 entries and at maxSize bytes.
func (t *SinkTask) batches(entries []entry) [][]entry {
	var out [][]entry
	var cur []entry
	size := 0
	for _, e := range entries {
		if len(cur) == maxBatchEntries || (len(cur) > 0 && size+e.size > t.maxSize) {
			out = append(out, cur)
			cur, size = nil, 0
		}
		cur = append(cur, e)
		size += e.size
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// send sends one batch and returns the entries to send again: those SQS
// failed on its side, or all of them when the call itself failed.
func (t *SinkTask) send(ctx context.Context, batch []entry) ([]entry, error) {
	in := &awssqs.SendMessageBatchInput{QueueUrl: aws.String(t.queueURL)}
	for i, e := range batch {
		e.req.Id = aws.String(strconv.Itoa(i))
		in.Entries = append(in.Entries, e.req)
	}
	out, err := t.sqs.SendMessageBatch(ctx, in)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return batch, nil
	}
	var retry []entry
	for _, f := range out.Failed {
		i, err := strconv.Atoi(aws.ToString(f.Id))
		if err != nil || i < 0 || i >= len(batch) {
			return nil, fmt.Errorf("SendMessageBatch %s: answer names unknown entry %q", t.queueURL, aws.ToString(f.Id))
		}
		if !f.SenderFault {
			retry = append(retry, batch[i])
			continue
		}
		err = fmt.Errorf("SQS refused the message: %s: %s", aws.ToString(f.Code), aws.ToString(f.Message))
		if err := t.tc.Report(ctx, *batch[i].rec, err); err != nil {
			return nil, err
		}
	}
	return retry, nil
}

// entry builds the message of one record, or says why it cannot be sent.
func (t *SinkTask) entry(rec *connect.Record) (entry, error) {
	body, err := messageBody(rec.Value)
	if err != nil {
		return entry{}, err
	}
	e := entry{rec: rec, req: sqstypes.SendMessageBatchRequestEntry{MessageBody: aws.String(body)}, size: len(body)}
	if t.headers {
		e.req.MessageAttributes = headerAttributes(rec.Headers)
		for name, v := range e.req.MessageAttributes {
			e.size += len(name) + len(aws.ToString(v.DataType)) + len(aws.ToString(v.StringValue))
		}
	}
	if e.size > t.maxSize {
		return entry{}, fmt.Errorf("message of %d bytes is larger than the queue's MaximumMessageSize of %d bytes", e.size, t.maxSize)
	}
	if t.fifo {
		group := t.group
		if group == "" {
			group = keyGroup(rec.Key)
		}
		e.req.MessageGroupId = aws.String(fifoID(group))
		// The record's position: the same record sent again after a
		// crash has the same id and SQS drops it.
		e.req.MessageDeduplicationId = aws.String(fifoID(fmt.Sprintf("%s-%d-%d", rec.Topic, rec.Partition, rec.Offset)))
	}
	return e, nil
}

// keyGroup is the message group of a record key.
func keyGroup(key any) string {
	switch k := key.(type) {
	case nil:
		return "default"
	case string:
		return k
	case []byte:
		return string(k)
	default:
		return fmt.Sprint(k)
	}
}

// fifoID returns s when SQS takes it as a group or deduplication id (1 to
// 128 characters of printable ASCII), else its SHA-256 in hex, so any key
// still maps to one id.
func fifoID(s string) string {
	ok := len(s) > 0 && len(s) <= maxIDLength
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] >= 0x21 && s[i] <= 0x7e
	}
	if ok {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func backoff(attempt int) time.Duration {
	d := 100 * time.Millisecond << min(attempt-1, 6)
	return min(d, 5*time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
