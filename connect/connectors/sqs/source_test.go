package sqs

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
	"github.com/streambridge/bridge/mapping/offload"
)

// startSource starts a source task on the bridge's clock.
func startSource(t *testing.T, b *bridge, cfg connect.Config) *SourceTask {
	t.Helper()
	task := &SourceTask{now: b.clock.Now, manualExtend: true}
	if err := task.Start(t.Context(), &connecttest.SourceContext{}, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task
}

// pollN polls until n records came or an empty poll.
func pollN(t *testing.T, task *SourceTask, n int) []connect.Record {
	t.Helper()
	var out []connect.Record
	for len(out) < n {
		recs, err := task.Poll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			break
		}
		out = append(out, recs...)
	}
	return out
}

func values(recs []connect.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Value.(string))
	}
	return out
}

func TestSourceDeletesOnlyAfterCommit(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "orders", map[string]string{"VisibilityTimeout": "30"})
	var sent []string
	for i := range 12 {
		body := fmt.Sprintf("order-%d", i)
		sent = append(sent, body)
		if _, err := b.sqs.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"shop": {DataType: aws.String("String"), StringValue: aws.String("s1")},
				"n":    {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(i))},
				"raw":  {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, byte(i)}},
			}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := b.config(QueueURL, url, Topic, "orders-topic", WaitTimeSeconds, "0")

	// The first task receives everything and dies before Commit.
	first := startSource(t, b, cfg)
	recs := pollN(t, first, len(sent))
	if got := values(recs); !slices.Equal(sortedCopy(got), sortedCopy(sent)) {
		t.Fatalf("first task got %q, want %q", got, sent)
	}
	r := recs[0]
	if r.Topic != "orders-topic" || r.Key != nil || r.Partition != connect.NoPartition || r.Timestamp.IsZero() {
		t.Errorf("record = %+v", r)
	}
	if r.SourcePartition["queue"] != url || r.SourceOffset["message_id"] == "" {
		t.Errorf("source position = %v %v", r.SourcePartition, r.SourceOffset)
	}
	if id, _ := r.Header(HeaderMessageID); string(id) != r.SourceOffset["message_id"] {
		t.Errorf("message id header %q", id)
	}
	if v, _ := r.Header("sqs.attr.shop"); string(v) != "s1" {
		t.Errorf("attribute header shop = %q", v)
	}
	if v, _ := r.Header("sqs.attr.raw"); !bytes.HasPrefix(v, []byte{0, 1}) {
		t.Errorf("attribute header raw = %q", v)
	}
	for _, rec := range recs {
		first.CommitRecord(t.Context(), rec) // acknowledged, but never committed
	}
	first.Stop()
	if vis, inflight := b.counts(t, url); vis != "0" || inflight != "12" {
		t.Fatalf("after the crash: %s visible, %s in flight; want 0, 12", vis, inflight)
	}

	// After the visibility timeout the messages are back for a new task.
	b.clock.Add(31 * time.Second)
	second := startSource(t, b, cfg)
	recs = pollN(t, second, len(sent))
	if got := values(recs); !slices.Equal(sortedCopy(got), sortedCopy(sent)) {
		t.Fatalf("second task got %q, want every message again", got)
	}
	// Only acknowledged records' messages are deleted by Commit.
	for _, rec := range recs[:5] {
		second.CommitRecord(t.Context(), rec)
	}
	if err := second.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	if vis, inflight := b.counts(t, url); vis != "0" || inflight != "7" {
		t.Fatalf("after committing 5: %s visible, %s in flight; want 0, 7", vis, inflight)
	}
	for _, rec := range recs[5:] {
		second.CommitRecord(t.Context(), rec)
	}
	if err := second.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(time.Hour)
	if left := b.receiveAll(t, url); len(left) != 0 {
		t.Fatalf("messages left after Commit: %q", left)
	}
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }

func TestSourceFIFOKeepsGroupOrder(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "events.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"})
	groups := []string{"g1", "g2", "g3"}
	want := map[string][]string{}
	for i := range 8 {
		for _, g := range groups {
			body := fmt.Sprintf("%s-%d", g, i)
			want[g] = append(want[g], body)
			if _, err := b.sqs.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url),
				MessageBody: aws.String(body), MessageGroupId: aws.String(g)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	c := &SourceConnector{}
	cfg := b.config(QueueURL, url, Topic, "events", WaitTimeSeconds, "0", MaxMessages, "4")
	if err := c.Start(t.Context(), nil, cfg); err != nil {
		t.Fatal(err)
	}
	if tcs, _ := c.TaskConfigs(5); len(tcs) != 1 {
		t.Fatalf("a FIFO queue got %d tasks, want 1", len(tcs))
	}
	task := startSource(t, b, cfg)
	got := map[string][]string{}
	for total := 0; total < 24; {
		recs := pollN(t, task, 1)
		if len(recs) == 0 {
			// Everything received is held until Commit; SQS hands a
			// group's next messages only once those are deleted.
			if err := task.Commit(t.Context()); err != nil {
				t.Fatal(err)
			}
			if recs = pollN(t, task, 1); len(recs) == 0 {
				t.Fatalf("no messages after Commit; got %d of 24", total)
			}
		}
		for _, r := range recs {
			g, _ := r.Key.(string)
			if hg, _ := r.Header(HeaderMessageGroupID); string(hg) != g {
				t.Errorf("group header %q, key %q", hg, g)
			}
			got[g] = append(got[g], r.Value.(string))
			task.CommitRecord(t.Context(), r)
			total++
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("per group: %q\nwant %q", got, want)
	}
}

func TestSourceExtendsVisibility(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "slow", nil)
	for _, body := range []string{"a", "b"} {
		if _, err := b.sqs.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	task := startSource(t, b, b.config(QueueURL, url, Topic, "t", WaitTimeSeconds, "0", VisibilityTimeoutSeconds, "30"))
	recs := pollN(t, task, 2)
	if len(recs) != 2 {
		t.Fatalf("got %d records", len(recs))
	}
	// Held for less than half the timeout: nothing to extend yet.
	b.clock.Add(10 * time.Second)
	if err := task.extend(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(6 * time.Second) // 16 s: past half
	if err := task.extend(t.Context()); err != nil {
		t.Fatal(err)
	}
	// A message acknowledged and committed is gone; the other is held.
	task.CommitRecord(t.Context(), recs[0])
	if err := task.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	b.clock.Add(20 * time.Second) // 36 s after receipt, 20 after the extension
	if vis, inflight := b.counts(t, url); vis != "0" || inflight != "1" {
		t.Fatalf("%s visible, %s in flight; want the held message still invisible", vis, inflight)
	}
	b.clock.Add(11 * time.Second) // the extension's 30 s ran out
	if vis, _ := b.counts(t, url); vis != "1" {
		t.Fatalf("%s visible after the extension ran out; want 1", vis)
	}
}

func TestSourceResolvesS3Pointers(t *testing.T) {
	b := startBridge(t)
	ctx := t.Context()
	if _, err := b.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("payloads")}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("large payload ", 1000)
	if _, err := b.s3.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("payloads"), Key: aws.String("k/1"), Body: strings.NewReader(big)}); err != nil {
		t.Fatal(err)
	}
	url := b.createQueue(t, "extended", nil)
	pointer := string(offload.Encode(offload.Pointer{Bucket: "payloads", Key: "k/1"}))
	for _, m := range []struct {
		body  string
		attrs map[string]sqstypes.MessageAttributeValue
	}{
		{pointer, map[string]sqstypes.MessageAttributeValue{offload.AttrPayloadSize: {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(len(big)))}}},
		{pointer, nil}, // no size attribute: a message that only looks like a pointer
	} {
		if _, err := b.sqs.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(m.body), MessageAttributes: m.attrs}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		resolve string
		want    []string
	}{
		{"true", []string{big, pointer}},
		{"false", []string{pointer, pointer}},
	} {
		task := startSource(t, b, b.config(QueueURL, url, Topic, "t", WaitTimeSeconds, "0", ResolveS3Pointers, tc.resolve))
		got := values(pollN(t, task, 2))
		if !slices.Equal(sortedCopy(got), sortedCopy(tc.want)) {
			t.Errorf("resolve=%s: got %d records (%.40q...)", tc.resolve, len(got), got)
		}
		task.Stop()
		b.clock.Add(time.Minute) // back for the next task
	}
}

func TestSourceQueueByNameAndTasks(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "named", nil)
	if _, err := b.sqs.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String("x")}); err != nil {
		t.Fatal(err)
	}
	cfg := b.config(QueueName, "named", Topic, "t", WaitTimeSeconds, "0")
	c := &SourceConnector{}
	if err := c.Start(t.Context(), nil, cfg); err != nil {
		t.Fatal(err)
	}
	if tcs, _ := c.TaskConfigs(3); len(tcs) != 3 {
		t.Errorf("a standard queue got %d tasks, want 3", len(tcs))
	}
	task := startSource(t, b, cfg)
	if got := values(pollN(t, task, 1)); !slices.Equal(got, []string{"x"}) {
		t.Fatalf("got %q", got)
	}
}

func TestStopEndsLongPoll(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "quiet", nil)
	task := startSource(t, b, b.config(QueueURL, url, Topic, "t", WaitTimeSeconds, "20"))
	done := make(chan error, 1)
	go func() {
		_, err := task.Poll(context.Background())
		done <- err
	}()
	task.Stop()
	if err := <-done; err != nil {
		t.Fatalf("Poll after Stop: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		def  connect.ConfigDef
		cfg  connect.Config
		want map[string]string // setting → part of its message
	}{
		{"no queue", SourceDef, connect.Config{Topic: "t"}, map[string]string{QueueURL: "One of sqs.queue.url and sqs.queue.name is required."}},
		{"both", SinkDef, connect.Config{QueueURL: "http://x/q", QueueName: "q"}, map[string]string{QueueName: "Only one of"}},
		{"no topic", SourceDef, connect.Config{QueueName: "q"}, map[string]string{Topic: `Missing required configuration "topic"`}},
		{"wait", SourceDef, connect.Config{QueueName: "q", Topic: "t", WaitTimeSeconds: "21"}, map[string]string{WaitTimeSeconds: "Value must be no more than 20"}},
		{"visibility", SourceDef, connect.Config{QueueName: "q", Topic: "t", VisibilityTimeoutSeconds: "0"}, map[string]string{VisibilityTimeoutSeconds: "Value must be -1 or between 1 and 43200"}},
		{"max", SourceDef, connect.Config{QueueName: "q", Topic: "t", MaxMessages: "0"}, map[string]string{MaxMessages: "Value must be at least 1"}},
		{"endpoint", SinkDef, connect.Config{QueueName: "q", "aws.endpoint.url": "ftp://x"}, map[string]string{"aws.endpoint.url": "not an http or https URL"}},
	} {
		errs := tc.def.Validate(tc.cfg)
		for k, v := range validateQueue(tc.cfg) {
			if errs == nil {
				errs = map[string][]string{}
			}
			errs[k] = append(errs[k], v...)
		}
		for setting, part := range tc.want {
			if !strings.Contains(strings.Join(errs[setting], "|"), part) {
				t.Errorf("%s: errors of %s = %q, want %q", tc.name, setting, errs[setting], part)
			}
		}
		if _, err := parse(tc.def, tc.cfg); err == nil {
			t.Errorf("%s: parse accepted it", tc.name)
		}
	}
	var r connect.Registry
	r.Register(Plugins()...)
	for _, name := range []string{SourceClass, "SqsSink", "SqsSourceConnector"} {
		if _, ok := r.Lookup(name); !ok {
			t.Errorf("%s not registered", name)
		}
	}
}

func TestSourceFIFOCrashRedeliversInOrder(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "crash.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true", "VisibilityTimeout": "30"})
	var want []string
	for i := range 6 {
		body := fmt.Sprintf("m%d", i)
		want = append(want, body)
		if _, err := b.sqs.SendMessage(t.Context(), &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(body), MessageGroupId: aws.String("g")}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := b.config(QueueURL, url, Topic, "t", WaitTimeSeconds, "0", MaxMessages, "3")
	first := startSource(t, b, cfg)
	if got := values(pollN(t, first, 3)); !slices.Equal(got, want[:3]) {
		t.Fatalf("first task got %q", got)
	}
	first.Stop() // dies before Commit
	b.clock.Add(31 * time.Second)
	second := startSource(t, b, cfg)
	var got []string
	for len(got) < len(want) {
		recs := pollN(t, second, 1)
		if len(recs) == 0 {
			t.Fatalf("stuck after %q", got)
		}
		for _, r := range recs {
			got = append(got, r.Value.(string))
			second.CommitRecord(t.Context(), r)
		}
		if err := second.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("after the crash: %q, want %q", got, want)
	}
}
