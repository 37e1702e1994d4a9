package itest

// aws-sdk-go-v2's SQS client (JSON 1.0) in process against the SQS server:
// the scenarios the boto3 and JavaScript drivers run, written against the
// Go SDK, which verifies MD5OfMessageBody on send, batch send and receive
// by default; the tests add MD5OfMessageAttributes and
// MD5OfMessageSystemAttributes, computed here from AWS's algorithm. The
// long-poll tests measure how soon a waiting ReceiveMessage answers after
// a send and after a visibility timeout ends, and log it.

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// goSQS is one Go SDK scenario against a server.
type goSQS struct {
	s      *sqsServer
	cl     *awssqs.Client
	prefix string
}

func newGoSQS(s *sqsServer, prefix string) *goSQS {
	return &goSQS{s: s, cl: s.client(), prefix: prefix}
}

// wantSQSError checks that err is an SQS error with code (the typed
// error's name, or the legacy Query code the x-amzn-query-error header
// gives it) and HTTP status; it returns the error's message.
func wantSQSError(t *testing.T, what string, err error, code string, status int) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Errorf("%s: %v, want error %s", what, err, code)
		return ""
	}
	var re *awshttp.ResponseError
	got := 0
	if errors.As(err, &re) {
		got = re.HTTPStatusCode()
	}
	if ae.ErrorCode() != code || got != status {
		t.Errorf("%s: error %s (HTTP %d): %s; want %s (HTTP %d)", what, ae.ErrorCode(), got, ae.ErrorMessage(), code, status)
	}
	return ae.ErrorMessage()
}

// errorf reports a failed check. Against local-aws-sqs, a check the
// emulator is known to fail (deviation, a key of localSQSDeviations) is
// logged instead.
func (g *goSQS) errorf(t *testing.T, deviation, format string, args ...any) {
	t.Helper()
	if why, ok := localSQSDeviations[deviation]; ok && g.s.bridge == nil {
		t.Logf("known local-aws-sqs deviation (%s): "+format, append([]any{why}, args...)...)
		return
	}
	t.Errorf(format, args...)
}

// wantErr is wantSQSError with errorf's allowance for the emulator.
func (g *goSQS) wantErr(t *testing.T, deviation, what string, err error, code string, status int) string {
	t.Helper()
	if _, ok := localSQSDeviations[deviation]; ok && g.s.bridge == nil {
		var ae smithy.APIError
		var re *awshttp.ResponseError
		if errors.As(err, &ae) && (ae.ErrorCode() != code || errors.As(err, &re) && re.HTTPStatusCode() != status) {
			g.errorf(t, deviation, "%s: error %s, want %s (HTTP %d)", what, ae.ErrorCode(), code, status)
			return ae.ErrorMessage()
		}
	}
	return wantSQSError(t, what, err, code, status)
}

func (g *goSQS) create(t *testing.T, name string, attrs map[string]string) string {
	t.Helper()
	out, err := g.cl.CreateQueue(sqsCtx(t), &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return aws.ToString(out.QueueUrl)
}

func (g *goSQS) attrs(t *testing.T, url string, names ...sqstypes.QueueAttributeName) map[string]string {
	t.Helper()
	out, err := g.cl.GetQueueAttributes(sqsCtx(t), &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: names})
	if err != nil {
		t.Fatalf("GetQueueAttributes %s: %v", url, err)
	}
	return out.Attributes
}

// receiveAll receives until want messages arrived, each once.
func (g *goSQS) receiveAll(t *testing.T, url string, want int, in awssqs.ReceiveMessageInput) []sqstypes.Message {
	t.Helper()
	in.QueueUrl, in.MaxNumberOfMessages, in.WaitTimeSeconds = aws.String(url), 10, 1
	var got []sqstypes.Message
	seen := map[string]bool{}
	for deadline := time.Now().Add(30 * time.Second); len(got) < want && time.Now().Before(deadline); {
		out, err := g.cl.ReceiveMessage(sqsCtx(t), &in)
		if err != nil {
			t.Fatalf("ReceiveMessage %s: %v", url, err)
		}
		for _, m := range out.Messages {
			if seen[aws.ToString(m.MessageId)] {
				t.Errorf("message %s received twice", aws.ToString(m.MessageId))
			}
			seen[aws.ToString(m.MessageId)] = true
			got = append(got, m)
		}
	}
	if len(got) != want {
		t.Fatalf("received %d messages from %s, want %d", len(got), url, want)
	}
	return got
}

func (g *goSQS) changeVisibility(t *testing.T, url string, msgs []sqstypes.Message, seconds int32) {
	t.Helper()
	for _, m := range msgs {
		if _, err := g.cl.ChangeMessageVisibility(sqsCtx(t), &awssqs.ChangeMessageVisibilityInput{
			QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle, VisibilityTimeout: seconds}); err != nil {
			t.Fatalf("ChangeMessageVisibility: %v", err)
		}
	}
}

var goAttrs = map[string]msgAttr{
	"s":        {DataType: "String", StringValue: "héllo wörld ✓"},
	"n":        {DataType: "Number", StringValue: "-42.5e3"},
	"b":        {DataType: "Binary", BinaryValue: []byte{0, 1, 2, 0xfe, 0xff}},
	"custom.a": {DataType: "String.json", StringValue: `{"k":1}`},
	"custom.b": {DataType: "Binary.gz", BinaryValue: []byte{0x1f, 0x8b}},
}

// standard runs the Go SDK through every operation on standard queues.
func (g *goSQS) standard(t *testing.T) {
	p := g.prefix
	a := g.create(t, p+"-a", map[string]string{"VisibilityTimeout": "20"})
	b := g.create(t, p+"-b", nil)
	if want := g.s.queueURL(p + "-a"); a != want {
		t.Errorf("QueueUrl %s, want %s", a, want)
	}

	t.Run("queues", func(t *testing.T) {
		ctx := sqsCtx(t)
		if again := g.create(t, p+"-a", map[string]string{"VisibilityTimeout": "20"}); again != a {
			t.Errorf("second CreateQueue: %s, want %s", again, a)
		}
		_, err := g.cl.CreateQueue(ctx, &awssqs.CreateQueueInput{QueueName: aws.String(p + "-a"), Attributes: map[string]string{"VisibilityTimeout": "21"}})
		wantSQSError(t, "CreateQueue with another VisibilityTimeout", err, "QueueAlreadyExists", 400)
		u, err := g.cl.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(p + "-b")})
		if err != nil || aws.ToString(u.QueueUrl) != b {
			t.Errorf("GetQueueUrl: %v %v, want %s", u, err, b)
		}
		_, err = g.cl.GetQueueUrl(ctx, &awssqs.GetQueueUrlInput{QueueName: aws.String(p + "-missing")})
		if msg := wantSQSError(t, "GetQueueUrl of a missing queue", err, "AWS.SimpleQueueService.NonExistentQueue", 400); msg != "The specified queue does not exist." {
			t.Errorf("GetQueueUrl of a missing queue: message %q", msg)
		}
		var pages [][]string
		pg := awssqs.NewListQueuesPaginator(g.cl, &awssqs.ListQueuesInput{QueueNamePrefix: aws.String(p), MaxResults: aws.Int32(1)})
		for pg.HasMorePages() && len(pages) < 10 {
			out, err := pg.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListQueues: %v", err)
			}
			pages = append(pages, out.QueueUrls)
		}
		if want := [][]string{{a}, {b}}; fmt.Sprint(pages) != fmt.Sprint(want) && fmt.Sprint(pages) != fmt.Sprint([][]string{{a}, {b}, nil}) {
			t.Errorf("ListQueues pages with MaxResults 1: %v, want %v", pages, want)
		}
		at := g.attrs(t, a, sqstypes.QueueAttributeNameAll)
		for _, n := range []string{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed", "ApproximateNumberOfMessagesNotVisible",
			"CreatedTimestamp", "DelaySeconds", "LastModifiedTimestamp", "MaximumMessageSize", "MessageRetentionPeriod", "QueueArn",
			"ReceiveMessageWaitTimeSeconds", "VisibilityTimeout"} {
			if _, ok := at[n]; !ok {
				t.Errorf("GetQueueAttributes All lacks %s: %v", n, sortedKeys(at))
			}
		}
		if at["QueueArn"] != queueARN(p+"-a") || at["VisibilityTimeout"] != "20" {
			t.Errorf("QueueArn %s VisibilityTimeout %s", at["QueueArn"], at["VisibilityTimeout"])
		}
		_, err = g.cl.SetQueueAttributes(ctx, &awssqs.SetQueueAttributesInput{QueueUrl: aws.String(b), Attributes: map[string]string{"DelaySeconds": "901"}})
		g.wantErr(t, "Get/SetQueueAttributes", "SetQueueAttributes DelaySeconds 901", err, "InvalidAttributeValue", 400)
		if _, err := g.cl.TagQueue(ctx, &awssqs.TagQueueInput{QueueUrl: aws.String(b), Tags: map[string]string{"k1": "v1", "k2": "v2"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := g.cl.UntagQueue(ctx, &awssqs.UntagQueueInput{QueueUrl: aws.String(b), TagKeys: []string{"k1"}}); err != nil {
			t.Fatal(err)
		}
		tags, err := g.cl.ListQueueTags(ctx, &awssqs.ListQueueTagsInput{QueueUrl: aws.String(b)})
		if err != nil || fmt.Sprint(tags.Tags) != "map[k2:v2]" {
			t.Errorf("ListQueueTags: %v %v, want map[k2:v2]", tags, err)
		}
		if _, err := g.cl.AddPermission(ctx, &awssqs.AddPermissionInput{QueueUrl: aws.String(b), Label: aws.String("p1"),
			AWSAccountIds: []string{sqsAccount}, Actions: []string{"SendMessage"}}); err != nil {
			t.Errorf("AddPermission: %v", err)
		}
		if _, err := g.cl.RemovePermission(ctx, &awssqs.RemovePermissionInput{QueueUrl: aws.String(b), Label: aws.String("p1")}); err != nil {
			t.Errorf("RemovePermission: %v", err)
		}
	})

	sent := map[string]string{} // MessageId -> body
	t.Run("send", func(t *testing.T) {
		ctx := sqsCtx(t)
		body := "go body ✓ " + strings.Repeat("z", 100)
		trace := "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
		out, err := g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(a), MessageBody: aws.String(body),
			MessageAttributes: sdkAttrs(goAttrs),
			MessageSystemAttributes: map[string]sqstypes.MessageSystemAttributeValue{
				"AWSTraceHeader": {DataType: aws.String("String"), StringValue: aws.String(trace)}}})
		if err != nil { // the SDK has checked MD5OfMessageBody
			t.Fatalf("SendMessage: %v", err)
		}
		sent[aws.ToString(out.MessageId)] = body
		if got, want := aws.ToString(out.MD5OfMessageAttributes), md5OfAttributes(goAttrs); got != want {
			g.errorf(t, "SendMessage", "MD5OfMessageAttributes %s, want %s", got, want)
		}
		sys := map[string]msgAttr{"AWSTraceHeader": {DataType: "String", StringValue: trace}}
		if got, want := aws.ToString(out.MD5OfMessageSystemAttributes), md5OfAttributes(sys); got != want {
			t.Errorf("MD5OfMessageSystemAttributes %s, want %s", got, want)
		}
		var entries []sqstypes.SendMessageBatchRequestEntry
		for i := range 5 {
			entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprintf("m%d", i)), MessageBody: aws.String(fmt.Sprintf("go batch %d", i))})
		}
		entries[2].MessageAttributes = sdkAttrs(map[string]msgAttr{"n": {DataType: "Number", StringValue: "2"}})
		bo, err := g.cl.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(a), Entries: entries})
		if err != nil {
			t.Fatalf("SendMessageBatch: %v", err)
		}
		if len(bo.Successful) != 5 || len(bo.Failed) != 0 {
			t.Errorf("SendMessageBatch: %d successful, %+v failed", len(bo.Successful), bo.Failed)
		}
		for _, x := range bo.Successful {
			i, _ := strconv.Atoi(strings.TrimPrefix(aws.ToString(x.Id), "m"))
			sent[aws.ToString(x.MessageId)] = fmt.Sprintf("go batch %d", i)
			if i == 2 && aws.ToString(x.MD5OfMessageAttributes) != md5OfAttributes(map[string]msgAttr{"n": {DataType: "Number", StringValue: "2"}}) {
				t.Errorf("MD5OfMessageAttributes of m2: %s", aws.ToString(x.MD5OfMessageAttributes))
			}
		}
		_, err = g.cl.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(b), Entries: []sqstypes.SendMessageBatchRequestEntry{
			{Id: aws.String("x"), MessageBody: aws.String("1")}, {Id: aws.String("x"), MessageBody: aws.String("2")}}})
		wantSQSError(t, "SendMessageBatch with a repeated id", err, "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", 400)
		delayed, err := g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(b), MessageBody: aws.String("later"), DelaySeconds: 900})
		if err != nil {
			t.Fatalf("SendMessage DelaySeconds 900: %v", err)
		}
		_ = delayed
		if at := g.attrs(t, b, sqstypes.QueueAttributeNameAll); at["ApproximateNumberOfMessagesDelayed"] != "1" || at["ApproximateNumberOfMessages"] != "0" {
			t.Errorf("after a send with DelaySeconds 900: ApproximateNumberOfMessagesDelayed %s, ApproximateNumberOfMessages %s; want 1 and 0",
				at["ApproximateNumberOfMessagesDelayed"], at["ApproximateNumberOfMessages"])
		}
		if out, err := g.cl.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(b), WaitTimeSeconds: 1}); err != nil || len(out.Messages) != 0 {
			t.Errorf("ReceiveMessage of a queue holding only a delayed message: %v %v, want none", out, err)
		}
	})

	handles := map[string]*string{} // body -> receipt handle
	t.Run("receive", func(t *testing.T) {
		msgs := g.receiveAll(t, a, len(sent), awssqs.ReceiveMessageInput{
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll},
			MessageAttributeNames:       []string{"All"}})
		for _, m := range msgs {
			body := aws.ToString(m.Body)
			handles[body] = m.ReceiptHandle
			if sent[aws.ToString(m.MessageId)] != body {
				t.Errorf("message %s: body %q, sent %q", aws.ToString(m.MessageId), body, sent[aws.ToString(m.MessageId)])
			}
			if len(m.MessageAttributes) > 0 && aws.ToString(m.MD5OfMessageAttributes) != md5OfAttributes(fromSDKAttrs(m.MessageAttributes)) {
				g.errorf(t, "SendMessage", "%s: MD5OfMessageAttributes %s", body, aws.ToString(m.MD5OfMessageAttributes))
			}
			for _, n := range []string{"SenderId", "SentTimestamp", "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp"} {
				if m.Attributes[n] == "" {
					g.errorf(t, "MessageSystemAttributeNames", "%s: MessageSystemAttributeNames All lacks %s: %v", body, n, m.Attributes)
				}
			}
			if strings.HasPrefix(body, "go body") {
				if got := fromSDKAttrs(m.MessageAttributes); fmt.Sprint(got) != fmt.Sprint(goAttrs) {
					t.Errorf("MessageAttributes %v, want %v", got, goAttrs)
				}
				if !strings.HasPrefix(m.Attributes["AWSTraceHeader"], "Root=1-5759e988") {
					g.errorf(t, "MessageSystemAttributeNames", "AWSTraceHeader %q", m.Attributes["AWSTraceHeader"])
				}
			}
		}
		// The legacy AttributeNames and a prefix.* attribute filter.
		body := "go body ✓ " + strings.Repeat("z", 100)
		g.changeVisibility(t, a, []sqstypes.Message{{ReceiptHandle: handles[body]}}, 0)
		legacy := awssqs.ReceiveMessageInput{MessageAttributeNames: []string{"custom.*"}}
		//lint:ignore SA1019 the deprecated member is what older clients send; the bridge must take it
		legacy.AttributeNames = []sqstypes.QueueAttributeName{"ApproximateReceiveCount"}
		m := g.receiveAll(t, a, 1, legacy)[0]
		handles[body] = m.ReceiptHandle
		if got := sortedKeys(m.MessageAttributes); fmt.Sprint(got) != "[custom.a custom.b]" {
			t.Errorf("MessageAttributeNames custom.*: %v", got)
		}
		if aws.ToString(m.MD5OfMessageAttributes) != md5OfAttributes(fromSDKAttrs(m.MessageAttributes)) {
			t.Errorf("MD5OfMessageAttributes of the custom.* subset: %s", aws.ToString(m.MD5OfMessageAttributes))
		}
		if fmt.Sprint(m.Attributes) != "map[ApproximateReceiveCount:2]" {
			g.errorf(t, "ChangeMessageVisibility(Batch)", "AttributeNames ApproximateReceiveCount: %v", m.Attributes)
		}
	})

	t.Run("visibility and delete", func(t *testing.T) {
		ctx := sqsCtx(t)
		cv, err := g.cl.ChangeMessageVisibilityBatch(ctx, &awssqs.ChangeMessageVisibilityBatchInput{QueueUrl: aws.String(a),
			Entries: []sqstypes.ChangeMessageVisibilityBatchRequestEntry{
				{Id: aws.String("ok"), ReceiptHandle: handles["go batch 0"], VisibilityTimeout: 0},
				{Id: aws.String("bad"), ReceiptHandle: aws.String("garbage"), VisibilityTimeout: 0}}})
		if err != nil || len(cv.Successful) != 1 || len(cv.Failed) != 1 || aws.ToString(cv.Failed[0].Code) != "ReceiptHandleIsInvalid" || !cv.Failed[0].SenderFault {
			t.Errorf("ChangeMessageVisibilityBatch: %+v %v", cv, err)
		}
		for _, m := range g.receiveAll(t, a, 1, awssqs.ReceiveMessageInput{}) {
			handles[aws.ToString(m.Body)] = m.ReceiptHandle
		}
		var entries []sqstypes.DeleteMessageBatchRequestEntry
		for i, body := range sortedKeys(handles) {
			entries = append(entries, sqstypes.DeleteMessageBatchRequestEntry{Id: aws.String(fmt.Sprint("d", i)), ReceiptHandle: handles[body]})
		}
		first, rest := entries[0], entries[1:]
		if _, err := g.cl.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(a), ReceiptHandle: first.ReceiptHandle}); err != nil {
			t.Errorf("DeleteMessage: %v", err)
		}
		do, err := g.cl.DeleteMessageBatch(ctx, &awssqs.DeleteMessageBatchInput{QueueUrl: aws.String(a), Entries: rest})
		if err != nil || len(do.Successful) != len(rest) || len(do.Failed) != 0 {
			t.Errorf("DeleteMessageBatch: %+v %v", do, err)
		}
		_, err = g.cl.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(a), ReceiptHandle: aws.String("garbage")})
		g.wantErr(t, "DeleteMessage(Batch)", "DeleteMessage with a made-up handle", err, "ReceiptHandleIsInvalid", 404)
		if at := g.attrs(t, a, sqstypes.QueueAttributeNameAll); at["ApproximateNumberOfMessages"] != "0" || at["ApproximateNumberOfMessagesNotVisible"] != "0" {
			t.Errorf("after deleting every message: %s visible, %s in flight", at["ApproximateNumberOfMessages"], at["ApproximateNumberOfMessagesNotVisible"])
		}
	})

	t.Run("long poll", func(t *testing.T) { g.longPoll(t, a) })

	t.Run("purge and delete", func(t *testing.T) {
		ctx := sqsCtx(t)
		if _, err := g.cl.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: aws.String(b)}); err != nil {
			t.Fatalf("PurgeQueue: %v", err)
		}
		if at := g.attrs(t, b, sqstypes.QueueAttributeNameAll); at["ApproximateNumberOfMessagesDelayed"] != "0" {
			g.errorf(t, "PurgeQueue", "ApproximateNumberOfMessagesDelayed after PurgeQueue: %s", at["ApproximateNumberOfMessagesDelayed"])
		}
		_, err := g.cl.PurgeQueue(ctx, &awssqs.PurgeQueueInput{QueueUrl: aws.String(b)})
		wantSQSError(t, "a second PurgeQueue within 60 s", err, "AWS.SimpleQueueService.PurgeQueueInProgress", 403)
		for _, u := range []string{a, b} {
			if _, err := g.cl.DeleteQueue(ctx, &awssqs.DeleteQueueInput{QueueUrl: aws.String(u)}); err != nil {
				t.Errorf("DeleteQueue %s: %v", u, err)
			}
		}
		_, err = g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(a), MessageBody: aws.String("x")})
		wantSQSError(t, "SendMessage to a deleted queue", err, "AWS.SimpleQueueService.NonExistentQueue", 400)
	})
}

// longPoll measures a waiting ReceiveMessage (WaitTimeSeconds 10) woken
// by a send, then by the end of a received message's visibility timeout.
// It logs both latencies; the only bound is "well under the wait time".
func (g *goSQS) longPoll(t *testing.T, url string) {
	const wait = 10 * time.Second
	type result struct {
		msgs []sqstypes.Message
		err  error
		at   time.Time
	}
	poll := func(visibility int32) chan result {
		ch := make(chan result, 1)
		go func() {
			out, err := g.cl.ReceiveMessage(sqsCtx(t), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url),
				WaitTimeSeconds: int32(wait / time.Second), VisibilityTimeout: visibility})
			r := result{err: err, at: time.Now()}
			if out != nil {
				r.msgs = out.Messages
			}
			ch <- r
		}()
		return ch
	}
	ch := poll(1)
	time.Sleep(500 * time.Millisecond) // let the receive reach the server
	sentAt := time.Now()
	if _, err := g.cl.SendMessage(sqsCtx(t), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("wake up")}); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil || len(r.msgs) != 1 {
		t.Fatalf("long poll woken by a send: %v %v", r.msgs, r.err)
	}
	afterSend := r.at.Sub(sentAt)
	// The message was received with a 1 s visibility timeout: a new long
	// poll must be woken when it ends, not when its own wait does.
	start := time.Now()
	r = <-poll(30)
	if r.err != nil || len(r.msgs) != 1 {
		t.Fatalf("long poll woken by a visibility timeout: %v %v", r.msgs, r.err)
	}
	afterExpiry := r.at.Sub(start)
	t.Logf("long poll (WaitTimeSeconds 10) answered %v after a send, and %v after starting while the only message had 1 s of visibility left",
		afterSend.Round(100*time.Microsecond), afterExpiry.Round(100*time.Microsecond))
	if afterSend > wait/2 || afterExpiry > wait/2 {
		t.Errorf("long poll answered %v after a send and %v for a 1 s visibility timeout; want well under the %v wait", afterSend, afterExpiry, wait)
	}
	if _, err := g.cl.DeleteMessage(sqsCtx(t), &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: r.msgs[0].ReceiptHandle}); err != nil {
		t.Error(err)
	}
}

// fifo runs the FIFO rules that need no group blocking.
func (g *goSQS) fifo(t *testing.T) {
	ctx := sqsCtx(t)
	f := g.create(t, g.prefix+"-f.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	_, err := g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(f), MessageBody: aws.String("x")})
	wantSQSError(t, "SendMessage without MessageGroupId", err, "MissingParameter", 400)
	ids := map[string]string{}
	seqs := map[string][]string{}
	for i := range 4 {
		for _, grp := range []string{"g1", "g2"} {
			body := fmt.Sprintf("%s-%d", grp, i)
			out, err := g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(f), MessageBody: aws.String(body), MessageGroupId: aws.String(grp)})
			if err != nil {
				t.Fatalf("SendMessage %s: %v", body, err)
			}
			ids[body] = aws.ToString(out.MessageId)
			seqs[grp] = append(seqs[grp], aws.ToString(out.SequenceNumber))
		}
	}
	for grp, s := range seqs {
		if !slices.IsSortedFunc(s, func(a, b string) int { return cmpDecimal(a, b) }) {
			t.Errorf("SequenceNumbers of %s do not increase: %v", grp, s)
		}
	}
	// Content-based deduplication: the same body again is the same message.
	dup, err := g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(f), MessageBody: aws.String("g1-2"), MessageGroupId: aws.String("g1")})
	if err != nil || aws.ToString(dup.MessageId) != ids["g1-2"] {
		t.Errorf("resend of g1-2: %v %v, want MessageId %s", dup, err, ids["g1-2"])
	}
	var got []string
	for deadline := time.Now().Add(30 * time.Second); len(got) < 8 && time.Now().Before(deadline); {
		out, err := g.cl.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(f), MaxNumberOfMessages: 10, WaitTimeSeconds: 1,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{sqstypes.MessageSystemAttributeNameAll}})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			got = append(got, aws.ToString(m.Body))
			sum := sha256.Sum256([]byte(aws.ToString(m.Body)))
			if m.Attributes["MessageDeduplicationId"] != hex.EncodeToString(sum[:]) || m.Attributes["SequenceNumber"] != seqOf(seqs, aws.ToString(m.Body)) {
				g.errorf(t, "MessageSystemAttributeNames", "%s: system attributes %v", aws.ToString(m.Body), m.Attributes)
			}
			if _, err := g.cl.DeleteMessage(ctx, &awssqs.DeleteMessageInput{QueueUrl: aws.String(f), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	var g1, g2 []string
	for _, b := range got {
		if strings.HasPrefix(b, "g1") {
			g1 = append(g1, b)
		} else {
			g2 = append(g2, b)
		}
	}
	if fmt.Sprint(g1) != "[g1-0 g1-1 g1-2 g1-3]" || fmt.Sprint(g2) != "[g2-0 g2-1 g2-2 g2-3]" {
		t.Errorf("received %v, want each group in order, no duplicates", got)
	}
}

func seqOf(seqs map[string][]string, body string) string {
	grp, i, _ := strings.Cut(body, "-")
	n, _ := strconv.Atoi(i)
	if n < len(seqs[grp]) {
		return seqs[grp][n]
	}
	return ""
}

// cmpDecimal compares non-negative decimal strings.
func cmpDecimal(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// fifoGroups: a group blocked while one of its messages is in flight.
func (g *goSQS) fifoGroups(t *testing.T) {
	ctx := sqsCtx(t)
	f := g.create(t, g.prefix+"-g.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	for i := range 3 {
		for _, grp := range []string{"g1", "g2"} {
			if _, err := g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(f), MessageBody: aws.String(fmt.Sprintf("%s-%d", grp, i)),
				MessageGroupId: aws.String(grp)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	first, err := g.cl.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(f), MaxNumberOfMessages: 1})
	if err != nil || len(first.Messages) != 1 || aws.ToString(first.Messages[0].Body) != "g1-0" {
		t.Fatalf("first receive: %v %v, want g1-0", first, err)
	}
	var rest []string
	for range 3 {
		out, err := g.cl.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(f), MaxNumberOfMessages: 10, WaitTimeSeconds: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Messages {
			rest = append(rest, aws.ToString(m.Body))
		}
	}
	if fmt.Sprint(rest) != "[g2-0 g2-1 g2-2]" {
		g.errorf(t, "FIFO group blocked while in flight", "receives while g1-0 is in flight: %v, want only group g2", rest)
	}
}

// deadLetter: messages move to the dead-letter queue after maxReceiveCount
// receives; move, if set, then moves them back with a move task.
func (g *goSQS) deadLetter(t *testing.T, move bool) {
	ctx := sqsCtx(t)
	dlq := g.create(t, g.prefix+"-dlq", nil)
	arn := g.attrs(t, dlq, sqstypes.QueueAttributeNameQueueArn)["QueueArn"]
	policy, _ := json.Marshal(map[string]any{"deadLetterTargetArn": arn, "maxReceiveCount": 1})
	src := g.create(t, g.prefix+"-src", map[string]string{"RedrivePolicy": string(policy)})
	lo, err := g.cl.ListDeadLetterSourceQueues(ctx, &awssqs.ListDeadLetterSourceQueuesInput{QueueUrl: aws.String(dlq)})
	if err != nil || fmt.Sprint(lo.QueueUrls) != fmt.Sprint([]string{src}) {
		t.Errorf("ListDeadLetterSourceQueues: %v %v", lo, err)
	}
	if _, err := g.cl.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(src), MessageBody: aws.String("poison")}); err != nil {
		t.Fatal(err)
	}
	g.changeVisibility(t, src, g.receiveAll(t, src, 1, awssqs.ReceiveMessageInput{}), 0)
	if out, err := g.cl.ReceiveMessage(ctx, &awssqs.ReceiveMessageInput{QueueUrl: aws.String(src), WaitTimeSeconds: 1}); err != nil || len(out.Messages) != 0 {
		t.Errorf("source after maxReceiveCount receives: %v %v, want nothing", out, err)
	}
	moved := g.receiveAll(t, dlq, 1, awssqs.ReceiveMessageInput{})
	if aws.ToString(moved[0].Body) != "poison" {
		t.Errorf("dead-letter queue holds %q", aws.ToString(moved[0].Body))
	}
	if !move {
		return
	}
	g.changeVisibility(t, dlq, moved, 0)
	_, err = g.cl.StartMessageMoveTask(ctx, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(queueARN(g.prefix + "-src"))})
	if msg := wantSQSError(t, "StartMessageMoveTask from a queue that is no DLQ", err, "InvalidParameterValue", 400); msg != "Source queue must be configured as a Dead Letter Queue." {
		t.Errorf("message %q", msg)
	}
	st, err := g.cl.StartMessageMoveTask(ctx, &awssqs.StartMessageMoveTaskInput{SourceArn: aws.String(arn)})
	if err != nil || aws.ToString(st.TaskHandle) == "" {
		t.Fatalf("StartMessageMoveTask: %v %v", st, err)
	}
	var task sqstypes.ListMessageMoveTasksResultEntry
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		out, err := g.cl.ListMessageMoveTasks(ctx, &awssqs.ListMessageMoveTasksInput{SourceArn: aws.String(arn)})
		if err != nil || len(out.Results) == 0 {
			t.Fatalf("ListMessageMoveTasks: %v %v", out, err)
		}
		if task = out.Results[0]; aws.ToString(task.Status) == "COMPLETED" {
			break
		}
	}
	if aws.ToString(task.Status) != "COMPLETED" || task.ApproximateNumberOfMessagesMoved != 1 {
		t.Errorf("move task: %+v", task)
	}
	back := g.receiveAll(t, src, 1, awssqs.ReceiveMessageInput{})
	if aws.ToString(back[0].Body) != "poison" {
		t.Errorf("moved back: %q", aws.ToString(back[0].Body))
	}
}
