package itest

// Queues and Kafka: one bridge, SQS clients (aws-sdk-go-v2) on one side and
// franz-go on the other, over the same stream.
//
//   - SQS-sent messages read by a Kafka consumer: body = value, attributes =
//     headers (with the documented sqs-attribute-types header for types other
//     than String), MessageGroupId = key on a FIFO queue.
//   - Kafka-produced records received as SQS messages: headers = String
//     attributes, key = MessageGroupId, MD5s the SDK verifies.
//   - a queue tagged streambridge:kafka-group=G: what consumer group G
//     commits is deleted for SQS receivers, which get only the rest.

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sdkSQS returns an aws-sdk-go-v2 SQS client for the bridge, with the
// SDK's MD5 checks on (its default).
func sdkSQS(k *kinesisBridge, opts ...func(*awssqs.Options)) *awssqs.Client {
	return awssqs.New(awssqs.Options{
		Region:       kinesisRegion,
		BaseEndpoint: aws.String(k.endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDITEST", "itest-secret", ""),
	}, opts...)
}

func createSQSQueue(t *testing.T, cl *awssqs.Client, name string, attrs map[string]string, tags map[string]string) string {
	t.Helper()
	out, err := cl.CreateQueue(kctx(t), &awssqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs, Tags: tags})
	if err != nil {
		t.Fatalf("CreateQueue %s: %v", name, err)
	}
	return *out.QueueUrl
}

// receiveAll receives from url until a receive of wait seconds comes back
// empty, deleting nothing, with a visibility timeout long enough that
// nothing comes back meanwhile.
func receiveAll(t *testing.T, cl *awssqs.Client, url string, wait int32) []sqstypes.Message {
	t.Helper()
	var all []sqstypes.Message
	for {
		out, err := cl.ReceiveMessage(kctx(t), &awssqs.ReceiveMessageInput{
			QueueUrl: aws.String(url), MaxNumberOfMessages: 10, WaitTimeSeconds: wait, VisibilityTimeout: 600,
			MessageAttributeNames: []string{"All"}, MessageSystemAttributeNames: []sqstypes.MessageSystemAttributeName{"All"},
		})
		if err != nil {
			t.Fatalf("ReceiveMessage: %v", err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		all = append(all, out.Messages...)
	}
}

func TestSQSAndKafka(t *testing.T) {
	k := startKinesisBridge(t)
	cl := sdkSQS(k)
	t.Run("sqs-to-kafka", func(t *testing.T) { testSQSToKafka(t, k, cl) })
	t.Run("kafka-to-sqs", func(t *testing.T) { testKafkaToSQS(t, k, cl) })
	t.Run("kafka-group-deletes", func(t *testing.T) { testKafkaGroupDeletes(t, k, cl) })
}

func testSQSToKafka(t *testing.T, k *kinesisBridge, cl *awssqs.Client) {
	ctx := kctx(t)
	url := createSQSQueue(t, cl, "to-kafka.fifo", map[string]string{"FifoQueue": "true", "ContentBasedDeduplication": "true"}, nil)
	for i := range 12 {
		_, err := cl.SendMessage(ctx, &awssqs.SendMessageInput{
			QueueUrl: aws.String(url), MessageBody: aws.String(fmt.Sprintf("body-%02d", i)),
			MessageGroupId: aws.String(fmt.Sprintf("group-%d", i%3)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				"color": {DataType: aws.String("String"), StringValue: aws.String("blue")},
				"n":     {DataType: aws.String("Number.int"), StringValue: aws.String(strconv.Itoa(i))},
				"raw":   {DataType: aws.String("Binary"), BinaryValue: []byte{0, 1, byte(i)}},
			},
		})
		if err != nil {
			t.Fatalf("SendMessage %d: %v", i, err)
		}
	}
	c := k.kafka(kgo.ConsumeTopics("to-kafka.fifo"), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	var got []*kgo.Record
	for len(got) < 12 {
		fs := c.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("poll: %v (have %d records)", err, len(got))
		}
		got = append(got, fs.Records()...)
	}
	for _, r := range got {
		i, err := strconv.Atoi(string(r.Value[len("body-"):]))
		if err != nil {
			t.Fatalf("record value %q", r.Value)
		}
		if want := fmt.Sprintf("group-%d", i%3); string(r.Key) != want {
			t.Errorf("record %d: key %q, want the MessageGroupId %q", i, r.Key, want)
		}
		headers := map[string]string{}
		for _, h := range r.Headers {
			headers[h.Key] = string(h.Value)
		}
		if headers["color"] != "blue" || headers["n"] != strconv.Itoa(i) || headers["raw"] != string([]byte{0, 1, byte(i)}) {
			t.Errorf("record %d: headers %q", i, headers)
		}
		var types map[string]string
		if err := json.Unmarshal([]byte(headers["sqs-attribute-types"]), &types); err != nil ||
			types["n"] != "Number.int" || types["raw"] != "Binary" || types["color"] != "" {
			t.Errorf("record %d: sqs-attribute-types %q", i, headers["sqs-attribute-types"])
		}
	}
}

func testKafkaToSQS(t *testing.T, k *kinesisBridge, cl *awssqs.Client) {
	ctx := kctx(t)
	url := createSQSQueue(t, cl, "from-kafka-queue", nil, nil)
	p := k.kafka(kgo.DefaultProduceTopic("from-kafka-queue"))
	var recs []*kgo.Record
	for i := range 15 {
		recs = append(recs, &kgo.Record{
			Key:     []byte(fmt.Sprintf("key-%d", i)),
			Value:   []byte(fmt.Sprintf("kafka-%02d", i)),
			Headers: []kgo.RecordHeader{{Key: "trace", Value: []byte(fmt.Sprintf("t%d", i))}, {Key: "bin", Value: []byte{0xff, 0}}},
		})
	}
	if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	msgs := receiveAll(t, cl, url, 1)
	if len(msgs) != 15 {
		t.Fatalf("received %d messages, want the 15 produced", len(msgs))
	}
	slices.SortFunc(msgs, func(a, b sqstypes.Message) int { return compareStrings(*a.Body, *b.Body) })
	for i, m := range msgs {
		if want := fmt.Sprintf("kafka-%02d", i); *m.Body != want {
			t.Fatalf("message %d: body %q, want %q", i, *m.Body, want)
		}
		if a := m.MessageAttributes["trace"]; *a.DataType != "String" || *a.StringValue != fmt.Sprintf("t%d", i) {
			t.Errorf("message %d: attribute trace = %+v", i, a)
		}
		if a := m.MessageAttributes["bin"]; *a.DataType != "Binary" || string(a.BinaryValue) != "\xff\x00" {
			t.Errorf("message %d: attribute bin = %+v", i, a)
		}
		if m.Attributes["MessageGroupId"] != fmt.Sprintf("key-%d", i) {
			t.Errorf("message %d: MessageGroupId %q, want the record key", i, m.Attributes["MessageGroupId"])
		}
	}
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func testKafkaGroupDeletes(t *testing.T, k *kinesisBridge, cl *awssqs.Client) {
	ctx := kctx(t)
	const queue, group = "jobs", "workers"
	url := createSQSQueue(t, cl, queue, nil, map[string]string{"streambridge:kafka-group": group})
	entries := func(from int) []sqstypes.SendMessageBatchRequestEntry {
		var es []sqstypes.SendMessageBatchRequestEntry
		for i := from; i < from+10; i++ {
			es = append(es, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: aws.String(fmt.Sprintf("job-%02d", i))})
		}
		return es
	}
	for from := 0; from < 30; from += 10 {
		if _, err := cl.SendMessageBatch(ctx, &awssqs.SendMessageBatchInput{QueueUrl: aws.String(url), Entries: entries(from)}); err != nil {
			t.Fatal(err)
		}
	}
	// A Kafka worker in group "workers" does the first 12 jobs and commits.
	c := k.kafka(kgo.ConsumerGroup(group), kgo.ConsumeTopics(queue), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(), kgo.FetchMaxWait(200*time.Millisecond))
	var done []*kgo.Record
	for len(done) < 12 {
		fs := c.PollRecords(ctx, 12-len(done))
		if err := fs.Err0(); err != nil {
			t.Fatal(err)
		}
		done = append(done, fs.Records()...)
	}
	if err := c.CommitRecords(ctx, done...); err != nil {
		t.Fatalf("commit: %v", err)
	}
	// SQS receivers get only the other 18.
	msgs := receiveAll(t, cl, url, 1)
	var bodies []string
	for _, m := range msgs {
		bodies = append(bodies, *m.Body)
	}
	slices.Sort(bodies)
	var want []string
	for i := 12; i < 30; i++ {
		want = append(want, fmt.Sprintf("job-%02d", i))
	}
	if !slices.Equal(bodies, want) {
		t.Fatalf("SQS receivers got %q\nwant the jobs the group did not commit, %q", bodies, want)
	}
	attrs, err := cl.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{"All"}})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["ApproximateNumberOfMessages"] != "0" || attrs.Attributes["ApproximateNumberOfMessagesNotVisible"] != "18" {
		t.Errorf("after the receives: %v", attrs.Attributes)
	}
}
