package sqs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/mapping/offload"
)

var stringSchema = &connect.Schema{Type: connect.TypeString}
var optionalStringSchema = &connect.Schema{Type: connect.TypeString, Optional: true}

// SourceTask receives messages and returns them as records; see the package
// comment for when it deletes them.
type SourceTask struct {
	sqs *awssqs.Client
	s3  *awss3.Client // nil when pointers are left alone
	// deletePayloads: the objects of resolved pointer messages are deleted
	// after their messages (sqs.delete.s3.payloads).
	deletePayloads bool
	queueURL       string
	topic          string
	wait           int32
	max            int32
	// visibility is the timeout messages are received and extended with.
	visibility     time.Duration
	visibilityAsk  int32 // 0: the queue's own, not sent with ReceiveMessage
	attrHeaders    bool
	messageHeaders bool

	now func() time.Time
	// manualExtend leaves extending to the caller of extend (tests on a
	// clock of their own).
	manualExtend bool

	stopOnce sync.Once
	stopped  chan struct{}
	cancel   context.CancelFunc // ends the task's own calls on Stop
	ctx      context.Context
	done     chan struct{} // the extender has returned

	mu sync.Mutex
	// held are the messages received and not yet deleted, by message id
	// (a redelivered message replaces its older receipt handle).
	held map[string]*heldMessage
	// undeleted are objects of deleted messages whose DeleteObject failed:
	// the next Commit tries them again.
	undeleted []offload.Pointer
}

type heldMessage struct {
	receipt string
	// since is when the message was received or last extended.
	since time.Time
	acked bool
	// payload is the object a resolved pointer message's record was read
	// from, to delete once the message is deleted; nil for others.
	payload *offload.Pointer
}

// Start connects, resolves the queue and, when no visibility timeout is set,
// reads the queue's.
func (t *SourceTask) Start(ctx context.Context, _ connect.SourceTaskContext, cfg connect.Config) error {
	vals, err := parse(SourceDef, cfg)
	if err != nil {
		return err
	}
	c, awsCfg, url, err := client(ctx, vals)
	if err != nil {
		return err
	}
	t.sqs, t.queueURL, t.topic = c, url, vals.String(Topic)
	t.wait, t.max = int32(vals.Int(WaitTimeSeconds)), int32(vals.Int(MaxMessages))
	t.attrHeaders, t.messageHeaders = vals.Bool(AttributesAsHeaders), vals.Bool(MessageHeaders)
	if vals.Bool(ResolveS3Pointers) {
		t.s3 = awss3.NewFromConfig(awsCfg, func(o *awss3.Options) { o.UsePathStyle = awsCfg.BaseEndpoint != nil })
		t.deletePayloads = vals.Bool(DeleteS3Payloads)
	}
	if v := vals.Int(VisibilityTimeoutSeconds); v >= 0 {
		t.visibilityAsk = int32(v)
		t.visibility = time.Duration(v) * time.Second
	} else {
		out, err := c.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
			AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameVisibilityTimeout}})
		if err != nil {
			return fmt.Errorf("GetQueueAttributes %s: %w", url, err)
		}
		secs, err := strconv.Atoi(out.Attributes[string(sqstypes.QueueAttributeNameVisibilityTimeout)])
		if err != nil {
			return fmt.Errorf("queue %s: VisibilityTimeout %q: %w", url, out.Attributes["VisibilityTimeout"], err)
		}
		t.visibility = time.Duration(secs) * time.Second
	}
	if t.now == nil {
		t.now = time.Now
	}
	t.held = make(map[string]*heldMessage)
	t.stopped = make(chan struct{})
	t.done = make(chan struct{})
	t.ctx, t.cancel = context.WithCancel(context.Background())
	go t.extendLoop()
	return nil
}

// Poll long-polls the queue once.
func (t *SourceTask) Poll(ctx context.Context) ([]connect.Record, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel)
	defer stop()
	in := &awssqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(t.queueURL),
		MaxNumberOfMessages:         t.max,
		WaitTimeSeconds:             t.wait,
		VisibilityTimeout:           t.visibilityAsk,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
	}
	received := t.now()
	out, err := t.sqs.ReceiveMessage(ctx, in)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil // stopped, or the runtime gave up on this poll
		}
		return nil, connect.Retriable(fmt.Errorf("ReceiveMessage %s: %w", t.queueURL, err))
	}
	recs := make([]connect.Record, 0, len(out.Messages))
	payloads := make([]*offload.Pointer, len(out.Messages))
	for i, m := range out.Messages {
		rec, p, err := t.record(ctx, m)
		if err != nil {
			// Left undeleted, the message comes back after its
			// visibility timeout and is tried again.
			return nil, connect.Retriable(err)
		}
		recs = append(recs, rec)
		if t.deletePayloads {
			payloads[i] = p
		}
	}
	t.mu.Lock()
	for i, m := range out.Messages {
		t.held[aws.ToString(m.MessageId)] = &heldMessage{receipt: aws.ToString(m.ReceiptHandle), since: received, payload: payloads[i]}
	}
	t.mu.Unlock()
	return recs, nil
}

// record turns one message into a record. payload is the object a
// pointer message was restored from, nil for other messages.
func (t *SourceTask) record(ctx context.Context, m sqstypes.Message) (rec connect.Record, payload *offload.Pointer, err error) {
	id := aws.ToString(m.MessageId)
	body := aws.ToString(m.Body)
	if t.s3 != nil && isPointerMessage(m) {
		p, _ := offload.Decode([]byte(body))
		b, err := t.load(ctx, p)
		if err != nil {
			return connect.Record{}, nil, fmt.Errorf("message %s: payload s3://%s/%s: %w", id, p.Bucket, p.Key, err)
		}
		body, payload = string(b), &p
	}
	rec = connect.Record{
		Topic:           t.topic,
		Partition:       connect.NoPartition,
		Offset:          -1,
		ValueSchema:     stringSchema,
		Value:           body,
		SourcePartition: map[string]any{"queue": t.queueURL},
		SourceOffset:    map[string]any{"message_id": id},
	}
	if ms, err := strconv.ParseInt(m.Attributes[string(sqstypes.MessageSystemAttributeNameSentTimestamp)], 10, 64); err == nil {
		rec.Timestamp = time.UnixMilli(ms)
	}
	group, hasGroup := m.Attributes[string(sqstypes.MessageSystemAttributeNameMessageGroupId)]
	if hasGroup {
		// The group is the key so the producer's partitioner keeps a group
		// in one partition, where Kafka keeps its order.
		rec.KeySchema, rec.Key = optionalStringSchema, group
	}
	if t.messageHeaders {
		rec.Headers = append(rec.Headers, connect.Header{Key: HeaderMessageID, Value: []byte(id)})
		if hasGroup {
			rec.Headers = append(rec.Headers, connect.Header{Key: HeaderMessageGroupID, Value: []byte(group)})
		}
	}
	if t.attrHeaders {
		rec.Headers = append(rec.Headers, attributeHeaders(m.MessageAttributes)...)
	}
	return rec, payload, nil
}

// isPointerMessage tells an extended client's message: a pointer body marked
// by the payload size attribute, or a body in the pointer's class form.
func isPointerMessage(m sqstypes.Message) bool {
	p, ok := offload.Decode([]byte(aws.ToString(m.Body)))
	if !ok || p.Bucket == "" {
		return false
	}
	_, sized := m.MessageAttributes[offload.AttrPayloadSize]
	_, legacy := m.MessageAttributes[offload.AttrLegacyPayloadSize]
	return sized || legacy
}

func (t *SourceTask) load(ctx context.Context, p offload.Pointer) ([]byte, error) {
	out, err := t.s3.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// CommitRecord marks the record's message as safe to delete.
func (t *SourceTask) CommitRecord(_ context.Context, rec connect.Record) error {
	id, _ := rec.SourceOffset["message_id"].(string)
	t.mu.Lock()
	defer t.mu.Unlock()
	if h := t.held[id]; h != nil {
		h.acked = true
	}
	return nil
}

// Commit deletes the messages whose records Kafka acknowledged.
func (t *SourceTask) Commit(ctx context.Context) error {
	t.mu.Lock()
	var ids []string
	var entries []sqstypes.DeleteMessageBatchRequestEntry
	for id, h := range t.held {
		if h.acked {
			ids = append(ids, id)
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(len(entries))), ReceiptHandle: aws.String(h.receipt)})
		}
	}
	t.mu.Unlock()
	var errs []error
	var deleted []offload.Pointer // payloads of the messages deleted now
	for start := 0; start < len(entries); start += 10 {
		batch := entries[start:min(start+10, len(entries))]
		out, err := t.sqs.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(t.queueURL), Entries: batch})
		if err != nil {
			// Kept as acked: the next Commit tries them again.
			errs = append(errs, fmt.Errorf("DeleteMessageBatch %s: %w", t.queueURL, err))
			continue
		}
		failed := map[string]bool{}
		for _, f := range out.Failed {
			if !f.SenderFault {
				failed[aws.ToString(f.Id)] = true // SQS's fault: try again
			}
			// A sender's fault (an expired receipt handle) cannot succeed
			// later: the message comes back and is copied again.
		}
		t.mu.Lock()
		for i, e := range batch {
			if !failed[aws.ToString(e.Id)] {
				if h := t.held[ids[start+i]]; h.payload != nil {
					deleted = append(deleted, *h.payload)
				}
				delete(t.held, ids[start+i])
			}
		}
		t.mu.Unlock()
	}
	if err := t.deletePayloadObjects(ctx, deleted); err != nil {
		errs = append(errs, err)
	}
	return connect.Retriable(errors.Join(errs...))
}

// extendLoop extends held messages' visibility until Stop.
func (t *SourceTask) extendLoop() {
	defer close(t.done)
	if t.visibility <= 0 || t.manualExtend {
		return // a zero timeout cannot be kept by extending
	}
	tick := time.NewTicker(max(t.visibility/4, 100*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-t.stopped:
			return
		case <-tick.C:
			_ = t.extend(t.ctx)
		}
	}
}

// extend gives every message held for half its visibility timeout or longer
// another full timeout.
func (t *SourceTask) extend(ctx context.Context) error {
	now := t.now()
	t.mu.Lock()
	var ids []string
	var entries []sqstypes.ChangeMessageVisibilityBatchRequestEntry
	for id, h := range t.held {
		if now.Sub(h.since) >= t.visibility/2 {
			ids = append(ids, id)
			entries = append(entries, sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				Id: aws.String(strconv.Itoa(len(entries))), ReceiptHandle: aws.String(h.receipt),
				VisibilityTimeout: int32(t.visibility / time.Second)})
		}
	}
	t.mu.Unlock()
	var errs []error
	for start := 0; start < len(entries); start += 10 {
		batch := entries[start:min(start+10, len(entries))]
		out, err := t.sqs.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(t.queueURL), Entries: batch})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		failed := map[string]bool{}
		for _, f := range out.Failed {
			failed[aws.ToString(f.Id)] = true
		}
		t.mu.Lock()
		for i, e := range batch {
			if h := t.held[ids[start+i]]; h != nil && !failed[aws.ToString(e.Id)] {
				h.since = now
			}
		}
		t.mu.Unlock()
	}
	return errors.Join(errs...)
}

// Stop ends Poll and the extender. Messages not deleted come back to the
// queue when their visibility timeout runs out.
func (t *SourceTask) Stop() error {
	if t.stopped == nil {
		return nil // never started
	}
	t.stopOnce.Do(func() {
		close(t.stopped)
		t.cancel()
	})
	<-t.done
	return nil
}

// attributeHeaders turns message attributes into headers.
func attributeHeaders(attrs map[string]sqstypes.MessageAttributeValue) []connect.Header {
	out := make([]connect.Header, 0, len(attrs))
	for _, name := range sortedNames(attrs) {
		v := attrs[name]
		var b []byte
		if v.BinaryValue != nil {
			b = v.BinaryValue
		} else {
			b = []byte(aws.ToString(v.StringValue))
		}
		out = append(out, connect.Header{Key: HeaderAttrPrefix + name, Value: b})
	}
	return out
}
