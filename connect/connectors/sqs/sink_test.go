package sqs

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/connect"
	"github.com/streambridge/bridge/connect/connecttest"
)

func startSink(t *testing.T, b *bridge, cfg connect.Config) (*SinkTask, *connecttest.SinkContext) {
	t.Helper()
	tc := &connecttest.SinkContext{Tolerate: true}
	task := &SinkTask{}
	if err := task.Start(t.Context(), tc, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { task.Stop() })
	return task, tc
}

func sinkRecords(topic string, from int64, values ...any) []connect.Record {
	var out []connect.Record
	for i, v := range values {
		out = append(out, connect.Record{Topic: topic, Partition: 0, Offset: from + int64(i), Value: v})
	}
	return out
}

func TestSinkSplitsBatches(t *testing.T) {
	for _, tc := range []struct {
		name      string
		maxSize   string
		values    []any
		wantSizes []int
		reported  int
	}{
		{"ten entries", "", repeat(25, "m"), []int{10, 10, 5}, 0},
		{"bytes", "1024", repeat(5, strings.Repeat("x", 400)), []int{2, 2, 1}, 0},
		{"too large", "1024", []any{"a", strings.Repeat("y", 1025), "b"}, []int{2}, 1},
		{"unsendable", "", []any{"ok", nil, "", string([]byte{0xff}), "\x01", map[string]any{"k": 1}}, []int{2}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBridge(t)
			attrs := map[string]string{}
			if tc.maxSize != "" {
				attrs["MaximumMessageSize"] = tc.maxSize
			}
			url := b.createQueue(t, "out", attrs)
			var mu sync.Mutex
			var sizes []int
			b.setWrap(rewriteBatch(&sizes, &mu, nil))
			task, sc := startSink(t, b, b.config(QueueURL, url))
			recs := sinkRecords("t", 100, tc.values...)
			if err := task.Put(t.Context(), recs); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sizes, tc.wantSizes) {
				t.Errorf("batch sizes %v, want %v", sizes, tc.wantSizes)
			}
			if len(sc.Reported) != tc.reported {
				t.Errorf("reported %d: %v", len(sc.Reported), sc.Reported)
			}
			var want []string
			for _, r := range recs {
				if body, err := messageBody(r.Value); err == nil && len(body) <= 1024 || tc.maxSize == "" && err == nil {
					want = append(want, body)
				}
			}
			if got := b.receiveAll(t, url); !slices.Equal(sortedCopy(got), sortedCopy(want)) {
				t.Errorf("queue holds %d messages, want %d", len(got), len(want))
			}
			offsets := map[connect.TopicPartition]int64{{Topic: "t", Partition: 0}: 100 + int64(len(recs))}
			if got, _ := task.PreCommit(t.Context(), offsets); got[connect.TopicPartition{Topic: "t"}] != offsets[connect.TopicPartition{Topic: "t"}] {
				t.Errorf("PreCommit = %v", got)
			}
		})
	}
}

func repeat(n int, prefix string) []any {
	var out []any
	for i := range n {
		out = append(out, fmt.Sprintf("%s-%d", prefix, i))
	}
	return out
}

func TestSinkHeadersBecomeAttributes(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "attrs", nil)
	task, _ := startSink(t, b, b.config(QueueURL, url))
	rec := connect.Record{Topic: "t", Offset: 1, Value: "v", Headers: []connect.Header{
		{Key: "trace-id", Value: []byte("abc")},
		{Key: "AWS.reserved", Value: []byte("x")}, // refused name
		{Key: "bin", Value: []byte{0xff, 0}},      // not text
		{Key: "empty", Value: nil},
		{Key: "trace-id", Value: []byte("last wins")},
	}}
	if err := task.Put(t.Context(), []connect.Record{rec}); err != nil {
		t.Fatal(err)
	}
	out, err := b.sqs.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MessageAttributeNames: []string{"All"}})
	if err != nil || len(out.Messages) != 1 {
		t.Fatalf("receive: %v %v", out, err)
	}
	attrs := out.Messages[0].MessageAttributes
	if len(attrs) != 1 || aws.ToString(attrs["trace-id"].StringValue) != "last wins" {
		t.Fatalf("attributes %v", attrs)
	}
}

func TestSinkFIFODeduplicatesRedelivery(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "out.fifo", map[string]string{"FifoQueue": "true"})
	var recs []connect.Record
	for i := range 12 {
		recs = append(recs, connect.Record{Topic: "orders", Partition: 3, Offset: int64(i), Key: []byte(fmt.Sprintf("k%d", i%3)), Value: fmt.Sprintf("v%d", i)})
	}
	task, _ := startSink(t, b, b.config(QueueURL, url))
	if err := task.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	// A crash before the offset commit: a new task gets the same records.
	task.Stop()
	again, _ := startSink(t, b, b.config(QueueURL, url))
	if err := again.Put(t.Context(), recs[4:]); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for {
		out, err := b.sqs.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
			MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Messages) == 0 {
			break
		}
		for _, m := range out.Messages {
			g := m.Attributes["MessageGroupId"]
			got[g] = append(got[g], aws.ToString(m.Body))
			if dedup := m.Attributes["MessageDeduplicationId"]; !strings.HasPrefix(dedup, "orders-3-") {
				t.Errorf("deduplication id %q", dedup)
			}
			if _, err := b.sqs.DeleteMessage(t.Context(), &awssqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string][]string{"k0": {"v0", "v3", "v6", "v9"}, "k1": {"v1", "v4", "v7", "v10"}, "k2": {"v2", "v5", "v8", "v11"}}
	for g, w := range want {
		if !slices.Equal(got[g], w) {
			t.Errorf("group %s: %q, want %q (each once, in order)", g, got[g], w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("groups %v", got)
	}
}

func TestSinkRetriesOnlyServerFaults(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "flaky", nil)
	var mu sync.Mutex
	var sizes []int
	// The first call: entry 0 fails on SQS's side, entry 1 as the sender's
	// fault; both are left out of what reaches the queue.
	b.setWrap(rewriteBatch(&sizes, &mu, func(call int, entries []map[string]any) ([]map[string]any, []map[string]any) {
		if call > 0 {
			return entries, nil
		}
		return entries[2:], []map[string]any{
			{"Id": entries[0]["Id"], "Code": "InternalError", "Message": "try again", "SenderFault": false},
			{"Id": entries[1]["Id"], "Code": "InvalidParameterValue", "Message": "refused", "SenderFault": true},
		}
	}))
	task, sc := startSink(t, b, b.config(QueueURL, url))
	recs := sinkRecords("t", 0, "a", "b", "c", "d")
	if err := task.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{4, 1}) {
		t.Errorf("calls sent %v entries, want [4 1]: only the server fault again", sizes)
	}
	if len(sc.Reported) != 1 || sc.Reported[0].Record.Value != "b" || !strings.Contains(sc.Reported[0].Err.Error(), "InvalidParameterValue: refused") {
		t.Errorf("reported %v", sc.Reported)
	}
	if got := b.receiveAll(t, url); !slices.Equal(sortedCopy(got), []string{"a", "c", "d"}) {
		t.Errorf("queue holds %q", got)
	}
}

func TestSinkReportErrorFailsPut(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "strict", nil)
	tc := &connecttest.SinkContext{} // errors.tolerance=none
	task := &SinkTask{}
	if err := task.Start(t.Context(), tc, b.config(QueueURL, url)); err != nil {
		t.Fatal(err)
	}
	if err := task.Put(t.Context(), sinkRecords("t", 0, "ok", nil)); err == nil || !strings.Contains(err.Error(), "null value") {
		t.Fatalf("Put = %v, want the null value's error", err)
	}
}

func FuzzMessageBody(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte{0xff, 0xfe})
	f.Add([]byte("\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		body, err := messageBody(b)
		if err == nil && (!validText(body) || body == "") {
			t.Fatalf("accepted %q", b)
		}
		for name := range headerAttributes([]connect.Header{{Key: string(b), Value: b}}) {
			if !validAttributeName(name) {
				t.Fatalf("attribute name %q", name)
			}
		}
		id := fifoID(string(b))
		if len(id) == 0 || len(id) > maxIDLength || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			t.Fatalf("fifoID(%q) = %q", b, id)
		}
	})
}

func TestSinkFIFOGroupSetting(t *testing.T) {
	b := startBridge(t)
	url := b.createQueue(t, "fixed.fifo", map[string]string{"FifoQueue": "true"})
	task, _ := startSink(t, b, b.config(QueueURL, url, MessageGroupID, "all"))
	recs := []connect.Record{
		{Topic: "t", Partition: 0, Offset: 0, Key: "a", Value: "1"},
		{Topic: "t", Partition: 1, Offset: 0, Key: nil, Value: "2"},
		{Topic: "t", Partition: 0, Offset: 1, Key: strings.Repeat("é", 100), Value: "3"},
	}
	if err := task.Put(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	out, err := b.sqs.ReceiveMessage(t.Context(), &awssqs.ReceiveMessageInput{QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, m := range out.Messages {
		if g := m.Attributes["MessageGroupId"]; g != "all" {
			t.Errorf("group %q", g)
		}
		bodies = append(bodies, aws.ToString(m.Body))
	}
	if !slices.Equal(bodies, []string{"1", "2", "3"}) {
		t.Fatalf("bodies %q, want all three in order (different partitions, one offset each: distinct dedup ids)", bodies)
	}
}
