package sqsfloor

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/streambridge/bridge/bench/sqsbench"
)

// TestBench runs every phase of the load generator against the floor: it
// must serve the bench whole, or its figures would be of a run that
// failed.
func TestBench(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(map[bool]string{false: "memory", true: "log"}[durable], func(t *testing.T) {
			h := &Handler{}
			if durable {
				l, err := OpenSyncLog(filepath.Join(t.TempDir(), "log"), 1<<20)
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				h.Log = l
			}
			srv := httptest.NewServer(h)
			defer srv.Close()
			res, err := sqsbench.Run(t.Context(), sqsbench.Config{
				Endpoint: srv.URL, Queue: "floor", BodySize: 300, Messages: 5000,
				Senders: 2, Receivers: 2, Deleters: 2, Batch: 10, WaitSeconds: 1,
			})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, p := range res.Phases {
				names = append(names, p.Name)
				if p.Messages != 5000 || p.Duplicates != 0 {
					t.Errorf("phase %s: %d messages, %d duplicates; want 5000 and none", p.Name, p.Messages, p.Duplicates)
				}
			}
			if got := strings.Join(names, " "); got != "send receive delete pipeline" {
				t.Errorf("phases %q", got)
			}
		})
	}
}

// TestSyncLog writes more than the ring holds from concurrent callers and
// reads the file back: every record is where the ring put it, in one of
// the orders the callers could have been served in.
func TestSyncLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "log")
	const size = 1 << 20
	l, err := OpenSyncLog(path, size)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != size {
		t.Fatalf("log file: %v, %v; want %d bytes", fi, err, size)
	}
	// 6 writers, 42 records each of 5,001 bytes, all the same byte per
	// record (1 to 252): 1.2 MiB, so the ring wraps once, mid-record.
	const writers, records, recSize = 6, 42, 5001
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for r := range records {
				if err := l.Write(bytes.Repeat([]byte{byte(1 + w*records + r)}, recSize)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Write([]byte("late")); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v, want os.ErrClosed", err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != size {
		t.Fatalf("log file grew to %d bytes; want %d", len(got), size)
	}
	// The ring holds the last size bytes of the writes, from offset end
	// (the total written modulo size) on, wrapping once: whole records of
	// recSize equal bytes, the oldest one cut.
	total := writers * records * recSize
	end := total % size
	stream := append(append([]byte{}, got[end:]...), got[:end]...)
	first := (recSize - end%recSize) % recSize
	seen := map[byte]bool{}
	for i := first; i < len(stream); i += recSize {
		rec := stream[i : i+recSize]
		if c := bytes.Count(rec, rec[:1]); c != recSize || rec[0] == 0 || seen[rec[0]] {
			t.Fatalf("record at %d of the ring: %d of %d bytes equal to %d (seen before: %v)", i, c, recSize, rec[0], seen[rec[0]])
		}
		seen[rec[0]] = true
	}
}

// TestAnswers checks what the bench does not exercise: the SDK accepts the
// floor's answers (MD5s, JSON strings that need escaping) and its errors
// map to SQS's codes.
func TestAnswers(t *testing.T) {
	srv := httptest.NewServer(&Handler{})
	defer srv.Close()
	ctx := t.Context()
	cl := sqs.New(sqs.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
		Retryer:     aws.NopRetryer{},
	})
	wantCode := func(err error, code string) {
		t.Helper()
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != code {
			t.Errorf("error %v; want %s", err, code)
		}
	}
	_, err := cl.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q.fifo")})
	wantCode(err, "InvalidParameterValue")
	_, err = cl.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(srv.URL + "/000000000000/none"),
		Entries: []types.SendMessageBatchRequestEntry{{Id: aws.String("a"), MessageBody: aws.String("x")}}})
	wantCode(err, "AWS.SimpleQueueService.NonExistentQueue")
	_, err = cl.ListQueues(ctx, &sqs.ListQueuesInput{})
	wantCode(err, "AWS.SimpleQueueService.UnsupportedOperation")

	q, err := cl.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String("q")})
	if err != nil {
		t.Fatal(err)
	}
	bodies := []string{"plain", "quote \" backslash \\ tab \t", "é ünïcode ✓"}
	var entries []types.SendMessageBatchRequestEntry
	for i, b := range bodies {
		entries = append(entries, types.SendMessageBatchRequestEntry{Id: aws.String(string(rune('a' + i))), MessageBody: aws.String(b)})
	}
	if _, err := cl.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: q.QueueUrl, Entries: entries}); err != nil {
		t.Fatal(err) // the SDK checks each MD5OfMessageBody
	}
	start := time.Now()
	got, err := cl.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
	if err != nil {
		t.Fatal(err) // and each MD5OfBody
	}
	if len(got.Messages) != len(bodies) || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("received %d messages after %v; want %d at once", len(got.Messages), time.Since(start), len(bodies))
	}
	for i, m := range got.Messages {
		if *m.Body != bodies[i] {
			t.Errorf("message %d: body %q, want %q", i, *m.Body, bodies[i])
		}
	}
	del, err := cl.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: q.QueueUrl, Entries: []types.DeleteMessageBatchRequestEntry{
		{Id: aws.String("ok"), ReceiptHandle: got.Messages[0].ReceiptHandle},
		{Id: aws.String("bad"), ReceiptHandle: aws.String("no-such-handle")},
		{Id: aws.String("ok2"), ReceiptHandle: got.Messages[1].ReceiptHandle},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(del.Successful) != 2 || len(del.Failed) != 1 || *del.Failed[0].Id != "bad" || *del.Failed[0].Code != "ReceiptHandleIsInvalid" {
		t.Errorf("DeleteMessageBatch answered %+v, %+v", del.Successful, del.Failed)
	}
	attrs, err := cl.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl})
	if err != nil {
		t.Fatal(err)
	}
	if a := attrs.Attributes; a["ApproximateNumberOfMessages"] != "0" || a["ApproximateNumberOfMessagesNotVisible"] != "1" {
		t.Errorf("attributes %v; want 0 visible, 1 in flight", a)
	}
	start = time.Now()
	empty, err := cl.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: q.QueueUrl, WaitTimeSeconds: 1})
	if err != nil || len(empty.Messages) != 0 || time.Since(start) < 900*time.Millisecond {
		t.Errorf("long poll of an empty queue: %d messages, %v, after %v; want none after 1 s", len(empty.Messages), err, time.Since(start))
	}
	if _, err := cl.DeleteQueue(ctx, &sqs.DeleteQueueInput{QueueUrl: q.QueueUrl}); err != nil {
		t.Fatal(err)
	}
	_, err = cl.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: q.QueueUrl})
	wantCode(err, "AWS.SimpleQueueService.NonExistentQueue")
}
