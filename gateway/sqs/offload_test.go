package sqs

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/gateway/payloads"
	"github.com/streambridge/bridge/mapping/offload"
	"github.com/streambridge/bridge/mapping/recordbatch"
	"github.com/streambridge/bridge/store"
	"github.com/streambridge/bridge/store/embedded"
)

// offloadSDK is the handler with offload on, over an in-memory store, an
// aws-sdk-go-v2 client of it, and the store (for the objects and the
// Kafka side).
type offloadSDK struct {
	h     *Handler
	c     *awssqs.Client
	s     *embedded.Store
	off   *payloads.Offloader
	clock *testClock
}

func newOffloadSDK(t *testing.T, on bool) *offloadSDK {
	t.Helper()
	s, err := embedded.Open(embedded.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	off := payloads.New(s, payloads.Policy{Threshold: payloads.DefaultThreshold}, nil)
	clock := &testClock{now: time.UnixMilli(1_750_000_000_000)}
	cfg := Config{Store: s, Now: clock.Now}
	if on {
		cfg.Offload = off
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Shutdown(context.Background()) })
	return &offloadSDK{h: h, c: sqsClient(t, h), s: s, off: off, clock: clock}
}

func (o *offloadSDK) createQueue(t *testing.T, name string) string {
	t.Helper()
	out, err := o.c.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// produceLarge appends a record of n random bytes to partition 0 of
// stream as the Kafka front end does: offloaded, its batch marked, its
// object referenced. It returns the payload.
func (o *offloadSDK) produceLarge(t *testing.T, stream string, n int) []byte {
	t.Helper()
	ctx := t.Context()
	payload := make([]byte, n)
	rand.Read(payload)
	batch, err := recordbatch.Encode(nil, []recordbatch.Record{{
		Timestamp: time.UnixMilli(1_750_000_000_000),
		Key:       []byte("k"),
		Value:     payload,
		Headers:   []recordbatch.Header{{Key: "trace", Value: []byte("t-1")}},
	}}, recordbatch.EncodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := o.s.DescribeStream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	out, refs, err := o.off.Batch(ctx, &st, 0, batch)
	if err != nil || len(refs) != 1 {
		t.Fatalf("offloading: %d refs, %v", len(refs), err)
	}
	if _, err := o.s.AppendBatch(ctx, stream, 0, out, store.AppendOptions{Objects: refs}); err != nil {
		t.Fatal(err)
	}
	return payload
}

// receiveOne receives the one message the queue should have, asking for
// every attribute. The SDK verifies MD5OfBody and MD5OfMessageAttributes.
func (o *offloadSDK) receiveOne(t *testing.T, url string) sqstypes.Message {
	t.Helper()
	out, err := o.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MessageAttributeNames: []string{"All"}, VisibilityTimeout: 30,
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: %v", err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("received %d messages, want 1", len(out.Messages))
	}
	return out.Messages[0]
}

// expectEmpty checks the queue has no message left once every visibility
// timeout is over.
func (o *offloadSDK) expectEmpty(t *testing.T, url string) {
	t.Helper()
	o.clock.Add(time.Hour)
	out, err := o.c.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Messages) != 0 {
		t.Fatalf("%d messages left, want none", len(out.Messages))
	}
}

func (o *offloadSDK) objectExists(t *testing.T, p offload.Pointer) bool {
	t.Helper()
	_, err := o.s.HeadObject(t.Context(), p.Bucket, p.Key)
	if errors.Is(err, store.ErrObjectNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

// checkPointerMessage checks a received message is in the extended
// clients' form, with size in attribute attr, and returns its pointer.
func checkPointerMessage(t *testing.T, m sqstypes.Message, attr string, size int) offload.Pointer {
	t.Helper()
	p, ok := offload.Decode([]byte(aws.ToString(m.Body)))
	if !ok {
		t.Fatalf("body %q is not a pointer", aws.ToString(m.Body))
	}
	a, ok := m.MessageAttributes[attr]
	if !ok || aws.ToString(a.DataType) != "Number" || aws.ToString(a.StringValue) != strconv.Itoa(size) {
		t.Fatalf("%s = %+v, want Number %d (attributes %v)", attr, a, size, m.MessageAttributes)
	}
	handle := aws.ToString(m.ReceiptHandle)
	hp, _, ok := offload.SplitReceiptHandle(handle)
	if !ok || hp != p || !strings.HasPrefix(handle, "-..s3BucketName.."+"-"+p.Bucket+"-..s3BucketName..--..s3Key..-"+p.Key+"-..s3Key..-") {
		t.Fatalf("receipt handle %q does not carry the pointer %+v as the Java client's do", handle, p)
	}
	return p
}

// storedBatch returns the one batch at the start of partition 0.
func (o *offloadSDK) storedBatch(t *testing.T, stream string) []byte {
	t.Helper()
	res, err := o.s.Read(t.Context(), stream, 0, 0, store.ReadLimits{})
	if err != nil || len(res.Batches) == 0 {
		t.Fatalf("reading %s: %d batches, %v", stream, len(res.Batches), err)
	}
	return res.Batches[0].Raw
}

// A large record a Kafka producer wrote to a queue's topic (offloaded by
// the bridge) is received as the extended clients receive theirs, and
// DeleteMessage of its handle deletes the message and the object.
func TestOffloadReceiveKafkaRecordAsPointer(t *testing.T) {
	o := newOffloadSDK(t, true)
	url := o.createQueue(t, "big")
	payload := o.produceLarge(t, "big", 3<<20)

	m := o.receiveOne(t, url)
	p := checkPointerMessage(t, m, payloads.SizeHeader, len(payload))
	if p.Bucket != payloads.DefaultBucket || !strings.HasPrefix(p.Key, store.OffloadPrefix+"big/0/") {
		t.Fatalf("pointer %+v", p)
	}
	if a := m.MessageAttributes["trace"]; aws.ToString(a.StringValue) != "t-1" {
		t.Errorf("the record's other header: %+v", a)
	}
	// What boto3 does: read the object the pointer names.
	got, err := o.off.Load(t.Context(), p, -1)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("the object holds %d bytes (%v), want the %d-byte payload", len(got), err, len(payload))
	}

	// The handle works for visibility changes, alone and in a batch.
	if _, err := o.c.ChangeMessageVisibility(t.Context(), &awssqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 60,
	}); err != nil {
		t.Fatalf("ChangeMessageVisibility: %v", err)
	}
	cb, err := o.c.ChangeMessageVisibilityBatch(t.Context(), &awssqs.ChangeMessageVisibilityBatchInput{
		QueueUrl: aws.String(url),
		Entries:  []sqstypes.ChangeMessageVisibilityBatchRequestEntry{{Id: aws.String("a"), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: 60}},
	})
	if err != nil || len(cb.Failed) != 0 {
		t.Fatalf("ChangeMessageVisibilityBatch: %v %+v", err, cb.Failed)
	}

	if _, err := o.c.DeleteMessage(t.Context(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: %v", err)
	}
	if o.objectExists(t, p) {
		t.Errorf("the object outlived DeleteMessage")
	}
	o.expectEmpty(t, url)

	// A Kafka consumer reading the record now gets the pointer record.
	pieces, _, _, err := o.off.RestoreBatch(t.Context(), "big", 0, o.storedBatch(t, "big"), 0, 64<<20, true, payloads.RestoreOptions{})
	out := bytes.Join(pieces, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := recordbatch.Decode(out)
	if err != nil || len(recs) != 1 {
		t.Fatal(len(recs), err)
	}
	if _, _, ok := payloads.PointerOf(&recs[0]); !ok {
		t.Errorf("after DeleteMessage a Kafka consumer gets %d bytes, want the pointer record", len(recs[0].Value))
	}
}

// DeleteMessageBatch takes pointer-carrying handles too.
func TestOffloadDeleteMessageBatch(t *testing.T) {
	o := newOffloadSDK(t, true)
	url := o.createQueue(t, "big")
	o.produceLarge(t, "big", 2<<20)
	m := o.receiveOne(t, url)
	p := checkPointerMessage(t, m, payloads.SizeHeader, 2<<20)
	out, err := o.c.DeleteMessageBatch(t.Context(), &awssqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(url),
		Entries:  []sqstypes.DeleteMessageBatchRequestEntry{{Id: aws.String("a"), ReceiptHandle: m.ReceiptHandle}},
	})
	if err != nil || len(out.Failed) != 0 || len(out.Successful) != 1 {
		t.Fatalf("DeleteMessageBatch: %v %+v", err, out)
	}
	if o.objectExists(t, p) {
		t.Errorf("the object outlived DeleteMessageBatch")
	}
	o.expectEmpty(t, url)
}

// A handle whose pointer is not the message's deletes the message, never
// the object it names; nor does a stale handle delete the object a later
// receive's consumer reads.
func TestOffloadForgedHandleDeletesNoObject(t *testing.T) {
	o := newOffloadSDK(t, true)
	ctx := t.Context()
	url := o.createQueue(t, "big")
	o.produceLarge(t, "big", 2<<20)
	o.produceLarge(t, "big", 2<<20)

	// Other objects: one in a client's bucket, one that looks like the
	// bridge's own for this very queue and partition.
	if _, err := o.s.CreateBucket(ctx, "client", store.BucketOptions{}); err != nil {
		t.Fatal(err)
	}
	client := offload.Pointer{Bucket: "client", Key: "precious"}
	lookalike := offload.Pointer{Bucket: payloads.DefaultBucket, Key: store.OffloadPrefix + "big/0/someone-else"}
	for _, op := range []offload.Pointer{client, lookalike} {
		if _, err := o.s.PutObject(ctx, op.Bucket, op.Key, strings.NewReader("keep me"), store.PutOptions{Size: 7}); err != nil {
			t.Fatal(err)
		}
	}
	deleteWith := func(handle string) {
		t.Helper()
		if _, err := o.c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(handle)}); err != nil {
			t.Fatalf("DeleteMessage: %v", err)
		}
	}
	inner := func(m sqstypes.Message) string {
		_, h, _ := offload.SplitReceiptHandle(aws.ToString(m.ReceiptHandle))
		return h
	}

	first := o.receiveOne(t, url)
	p1 := checkPointerMessage(t, first, payloads.SizeHeader, 2<<20)
	// A stale handle (the message was received again since) deletes
	// nothing, as SQS answers it with success.
	o.clock.Add(time.Minute)
	again := o.receiveOne(t, url)
	if aws.ToString(again.MessageId) != aws.ToString(first.MessageId) {
		t.Fatalf("received %s again, want %s", aws.ToString(again.MessageId), aws.ToString(first.MessageId))
	}
	deleteWith(aws.ToString(first.ReceiptHandle))
	if !o.objectExists(t, p1) {
		t.Fatal("a stale handle deleted the object")
	}
	// The message's handle with the look-alike's pointer: the message goes,
	// both objects stay.
	deleteWith(offload.EmbedInReceiptHandle(lookalike, inner(again)))
	if !o.objectExists(t, p1) || !o.objectExists(t, lookalike) {
		t.Errorf("a handle naming another object deleted one: message's %v, other's %v", o.objectExists(t, p1), o.objectExists(t, lookalike))
	}

	second := o.receiveOne(t, url)
	p2 := checkPointerMessage(t, second, payloads.SizeHeader, 2<<20)
	deleteWith(offload.EmbedInReceiptHandle(client, inner(second)))
	if !o.objectExists(t, p2) || !o.objectExists(t, client) {
		t.Errorf("a handle naming a client's object deleted one: message's %v, client's %v", o.objectExists(t, p2), o.objectExists(t, client))
	}
	o.expectEmpty(t, url)

	// A pointer in front of a handle the bridge did not issue is refused.
	_, err := o.c.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(offload.EmbedInReceiptHandle(p1, "nonsense"))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ReceiptHandleIsInvalid" {
		t.Fatalf("DeleteMessage of a made-up handle: %v", err)
	}
}

// putClientObject writes an object as an extended client does before it
// sends its pointer.
func (o *offloadSDK) putClientObject(t *testing.T, p offload.Pointer, payload []byte) {
	t.Helper()
	if _, err := o.s.CreateBucket(t.Context(), p.Bucket, store.BucketOptions{}); err != nil && !errors.Is(err, store.ErrBucketExists) {
		t.Fatal(err)
	}
	if _, err := o.s.PutObject(t.Context(), p.Bucket, p.Key, bytes.NewReader(payload), store.PutOptions{Size: int64(len(payload))}); err != nil {
		t.Fatal(err)
	}
}

// checkRestored checks the stored batch is marked and that a Kafka
// consumer reads its record restored: the payload as value, no size header.
func (o *offloadSDK) checkRestored(t *testing.T, stream string, payload []byte) {
	t.Helper()
	raw := o.storedBatch(t, stream)
	info, _, err := recordbatch.Decode(raw)
	if err != nil || !info.ClientPointers() {
		t.Fatalf("the pointer message's batch is not marked ClientPointers (%v)", err)
	}
	pieces, _, fits, err := o.off.RestoreBatch(t.Context(), stream, 0, raw, 0, 64<<20, false, payloads.RestoreOptions{})
	out := bytes.Join(pieces, nil)
	if err != nil || !fits {
		t.Fatal(fits, err)
	}
	info, recs, err := recordbatch.Decode(out)
	if err != nil || len(recs) != 1 || payloads.Marked(info) {
		t.Fatalf("restored: %d records, marked %v, %v", len(recs), payloads.Marked(info), err)
	}
	if !bytes.Equal(recs[0].Value, payload) {
		t.Errorf("a Kafka consumer reads %q, want the %d-byte payload", recs[0].Value[:min(len(recs[0].Value), 80)], len(payload))
	}
	for _, h := range recs[0].Headers {
		if h.Key == payloads.SizeHeader || h.Key == payloads.LegacySizeHeader {
			t.Errorf("the restored record keeps its size header %s", h.Key)
		}
	}
}

// A message an extended client sent in pointer form (it wrote the object
// itself) is stored as sent, marked for Kafka consumers to read restored,
// and received in pointer form; the object is the client's: DeleteMessage
// leaves it, as the client deletes it.
func TestOffloadSentPointerReadRestored(t *testing.T) {
	for _, tc := range []struct {
		name, attr, body string
	}{
		{"current", payloads.SizeHeader, `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"ext-bucket","s3Key":"k-1"}]`},
		// The Python client's json.dumps, with spaces.
		{"python", payloads.SizeHeader, `["software.amazon.payloadoffloading.PayloadS3Pointer", {"s3BucketName": "ext-bucket", "s3Key": "k-1"}]`},
		// The first Java client: an object alone and SQSLargePayloadSize.
		{"legacy", payloads.LegacySizeHeader, `{"s3BucketName":"ext-bucket","s3Key":"k-1"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOffloadSDK(t, true)
			url := o.createQueue(t, "q")
			payload := make([]byte, 2<<20+3)
			rand.Read(payload)
			p := offload.Pointer{Bucket: "ext-bucket", Key: "k-1"}
			o.putClientObject(t, p, payload)
			size := strconv.Itoa(len(payload))
			sent, err := o.c.SendMessage(t.Context(), &awssqs.SendMessageInput{
				QueueUrl:    aws.String(url),
				MessageBody: aws.String(tc.body),
				MessageAttributes: map[string]sqstypes.MessageAttributeValue{
					tc.attr: {DataType: aws.String("Number"), StringValue: aws.String(size)},
					"color": {DataType: aws.String("String"), StringValue: aws.String("blue")},
				},
			})
			if err != nil {
				t.Fatalf("SendMessage: %v", err)
			}
			o.checkRestored(t, "q", payload)

			m := o.receiveOne(t, url)
			if aws.ToString(m.Body) != tc.body || aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) {
				t.Fatalf("received %q, want the body sent", aws.ToString(m.Body))
			}
			if got := checkPointerMessage(t, m, tc.attr, len(payload)); got != p {
				t.Fatalf("pointer %+v", got)
			}
			if aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
				t.Errorf("MD5OfMessageAttributes %s on receive, %s on send", aws.ToString(m.MD5OfMessageAttributes), aws.ToString(sent.MD5OfMessageAttributes))
			}
			if _, err := o.c.DeleteMessage(t.Context(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
			if !o.objectExists(t, p) {
				t.Errorf("DeleteMessage deleted the client's object")
			}
			o.expectEmpty(t, url)
		})
	}
}

// SendMessageBatch marks the batch of a partition that holds a pointer
// message; the other messages read as they were sent.
func TestOffloadSendBatchMarks(t *testing.T) {
	o := newOffloadSDK(t, true)
	url := o.createQueue(t, "q")
	payload := bytes.Repeat([]byte("x"), 1<<20+1)
	p := offload.Pointer{Bucket: "ext-bucket", Key: "k-2"}
	o.putClientObject(t, p, payload)
	out, err := o.c.SendMessageBatch(t.Context(), &awssqs.SendMessageBatchInput{
		QueueUrl: aws.String(url),
		Entries: []sqstypes.SendMessageBatchRequestEntry{
			{Id: aws.String("ptr"), MessageBody: aws.String(string(offload.Encode(p))), MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				payloads.SizeHeader: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(len(payload)))},
			}},
			{Id: aws.String("plain"), MessageBody: aws.String("hello")},
		},
	})
	if err != nil || len(out.Successful) != 2 {
		t.Fatalf("SendMessageBatch: %v %+v", err, out)
	}
	raw := o.storedBatch(t, "q")
	pieces, _, _, err := o.off.RestoreBatch(t.Context(), "q", 0, raw, 0, 64<<20, true, payloads.RestoreOptions{})
	restored := bytes.Join(pieces, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, recs, err := recordbatch.Decode(restored)
	if err != nil || len(recs) != 2 || !bytes.Equal(recs[0].Value, payload) || string(recs[1].Value) != "hello" {
		t.Fatalf("restored batch: %d records, %v", len(recs), err)
	}
}

// What is not a pointer message is not marked: a pointer body without a
// size attribute, a size attribute with another body, and anything when
// offload is off. A pointer into the bridge's own objects is refused.
func TestOffloadSendNotPointer(t *testing.T) {
	ptr := string(offload.Encode(offload.Pointer{Bucket: "b", Key: "k"}))
	size := map[string]sqstypes.MessageAttributeValue{payloads.SizeHeader: {DataType: aws.String("Number"), StringValue: aws.String("5")}}
	for _, tc := range []struct {
		name  string
		on    bool
		body  string
		attrs map[string]sqstypes.MessageAttributeValue
	}{
		{"no size attribute", true, ptr, nil},
		{"not a pointer", true, "hello", size},
		{"offload off", false, ptr, size},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOffloadSDK(t, tc.on)
			url := o.createQueue(t, "q")
			if _, err := o.c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(tc.body), MessageAttributes: tc.attrs}); err != nil {
				t.Fatal(err)
			}
			info, _, err := recordbatch.Decode(o.storedBatch(t, "q"))
			if err != nil || payloads.Marked(info) {
				t.Fatalf("marked %v (%v), want not", payloads.Marked(info), err)
			}
			m := o.receiveOne(t, url)
			if strings.HasPrefix(aws.ToString(m.ReceiptHandle), "-..") {
				t.Errorf("handle %q carries a pointer", aws.ToString(m.ReceiptHandle))
			}
		})
	}

	o := newOffloadSDK(t, true)
	url := o.createQueue(t, "q")
	own := string(offload.Encode(offload.Pointer{Bucket: payloads.DefaultBucket, Key: store.OffloadPrefix + "q/0/x"}))
	_, err := o.c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(own), MessageAttributes: size})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("a pointer into the bridge's objects: %v", err)
	}
}

// A message over MaximumMessageSize is refused, as on AWS: SQS sends are
// never offloaded by the bridge.
func TestOffloadSendsAreNotOffloaded(t *testing.T) {
	o := newOffloadSDK(t, true)
	url := o.createQueue(t, "q")
	_, err := o.c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(strings.Repeat("x", MaxMaximumMessageSize+1))})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("a message over 1 MiB: %v", err)
	}
	if _, err := o.c.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(strings.Repeat("x", MaxMaximumMessageSize))}); err != nil {
		t.Fatal(err)
	}
	info, recs, err := recordbatch.Decode(o.storedBatch(t, "q"))
	if err != nil || payloads.Marked(info) || len(recs[0].Value) != MaxMaximumMessageSize {
		t.Fatalf("a 1 MiB message stored marked %v, %d bytes (%v)", payloads.Marked(info), len(recs[0].Value), err)
	}
}

// A pointer record moved to a dead-letter queue keeps its form there; its
// object stays the source record's, which DeleteMessage in the dead-letter
// queue does not delete.
func TestOffloadDeadLetterKeepsPointer(t *testing.T) {
	o := newOffloadSDK(t, true)
	dlq := o.createQueue(t, "dlq")
	out, err := o.c.CreateQueue(t.Context(), &awssqs.CreateQueueInput{QueueName: aws.String("big"), Attributes: map[string]string{
		"RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"1"}`,
	}})
	if err != nil {
		t.Fatal(err)
	}
	url := aws.ToString(out.QueueUrl)
	o.produceLarge(t, "big", 2<<20)
	p := checkPointerMessage(t, o.receiveOne(t, url), payloads.SizeHeader, 2<<20)
	o.expectEmpty(t, url) // the second receive moves it

	m := o.receiveOne(t, dlq)
	if got := checkPointerMessage(t, m, payloads.SizeHeader, 2<<20); got != p {
		t.Fatalf("pointer %+v in the dead-letter queue, want %+v", got, p)
	}
	if _, err := o.c.DeleteMessage(t.Context(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(dlq), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatal(err)
	}
	if !o.objectExists(t, p) {
		t.Errorf("DeleteMessage in the dead-letter queue deleted the source record's object")
	}
}
