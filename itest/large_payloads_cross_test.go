package itest

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awskinesis "github.com/aws/aws-sdk-go-v2/service/kinesis"
	ktypes "github.com/aws/aws-sdk-go-v2/service/kinesis/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ---- pointers a producer forges ----

func TestLargePayloadsForgedPointer(t *testing.T) {
	t.Run("reads-no-other-object", testForgedPointerReadsAnyObject)
}

// forgedBatch produces, in one batch, a small record whose value is a
// pointer to bucket/key with an ExtendedPayloadSize header of size (made by
// the producer, not the bridge), then a 2 MiB record, which makes the
// bridge offload and mark the batch. It returns the forged record's offset.
func forgedBatch(t *testing.T, k *kinesisBridge, topic, bucket, key string, size int) int64 {
	t.Helper()
	ptr, _ := json.Marshal([]any{pointerClass, map[string]string{"s3BucketName": bucket, "s3Key": key}})
	cl := k.kafka(append(largeClientOpts(), kgo.ProducerLinger(200*time.Millisecond))...)
	forged := &kgo.Record{Topic: topic, Key: []byte("forged"), Value: ptr,
		Headers: []kgo.RecordHeader{{Key: offloadSizeHeader, Value: []byte(strconv.Itoa(size))}}}
	big := &kgo.Record{Topic: topic, Key: []byte("big"), Value: randomBytes(2 << 20)}
	if err := cl.ProduceSync(kctx(t), forged, big).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	if big.Offset != forged.Offset+1 {
		t.Fatalf("forged at %d, big at %d: want one batch", forged.Offset, big.Offset)
	}
	return forged.Offset
}

// A producer must not read objects of the bridge's S3-style API through a
// record it makes to look like a pointer, in a batch the bridge offloads:
// only the bridge's own objects for the partition are restored
// (payloads.Restorable), so the consumer gets the forged record as sent.
func testForgedPointerReadsAnyObject(t *testing.T) {
	k := startKinesisBridge(t)
	largeTopic(t, k, "forge")
	s3c := s3Client(k)
	ctx := kctx(t)
	secret := []byte("TOP-SECRET-OBJECT-OF-ANOTHER-TENANT")
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("private-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("private-bucket"), Key: aws.String("secret"), Body: bytes.NewReader(secret)}); err != nil {
		t.Fatal(err)
	}
	off := forgedBatch(t, k, "forge", "private-bucket", "secret", len(secret))
	for _, r := range franzConsume(t, k, "forge", 2, largeClientOpts()...) {
		if r.Offset == off && bytes.Equal(r.Value, secret) {
			t.Errorf("the producer's own pointer record at %d was restored: the consumer read private-bucket/secret (%q)", off, r.Value)
		}
	}
}

// ---- the other front ends ----

// TestLargePayloadsCrossProtocol: Kinesis GetRecords restores a payload a
// Kafka producer offloaded (within its 10 MiB response), SQS receives one in
// the extended clients' pointer form (aws-sdk-go-v2), and a pointer message
// an SQS client sends is restored for Kafka consumers.
func TestLargePayloadsCrossProtocol(t *testing.T) {
	k := startKinesisBridge(t)
	ctx := kctx(t)
	s3c := s3Client(k)

	t.Run("kinesis-getrecords-restores", func(t *testing.T) {
		const topic = "large-kinesis"
		largeTopic(t, k, topic)
		value := randomBytes(5 << 20)
		if err := k.kafka(largeClientOpts()...).ProduceSync(ctx, &kgo.Record{Topic: topic, Key: []byte("pk"), Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		kc := k.client()
		it, err := kc.GetShardIterator(ctx, &awskinesis.GetShardIteratorInput{StreamName: aws.String(topic),
			ShardId: aws.String("shardId-000000000000"), ShardIteratorType: ktypes.ShardIteratorTypeTrimHorizon})
		if err != nil {
			t.Fatal(err)
		}
		out, err := kc.GetRecords(ctx, &awskinesis.GetRecordsInput{ShardIterator: it.ShardIterator})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Records) != 1 || !bytes.Equal(out.Records[0].Data, value) || aws.ToString(out.Records[0].PartitionKey) != "pk" {
			t.Errorf("GetRecords: %d records, want the 5 MiB one restored byte-exact with partition key pk", len(out.Records))
		}
	})

	t.Run("sqs-receives-pointer-form", func(t *testing.T) {
		sq := sdkSQS(k)
		url := createSQSQueue(t, sq, "large-queue", nil, nil)
		alter, err := k.kadm().AlterTopicConfigs(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: strPtr(strconv.Itoa(largeMaxMessage))}}, "large-queue")
		if err == nil {
			_, err = alter.On("large-queue", nil)
		}
		if err != nil {
			t.Fatalf("raising the queue's max.message.bytes: %v", err)
		}
		value := randomBytes(2 << 20)
		if err := k.kafka(largeClientOpts()...).ProduceSync(ctx, &kgo.Record{Topic: "large-queue", Value: value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
		msgs := receiveAll(t, sq, url, 1)
		if len(msgs) != 1 {
			t.Fatalf("received %d messages, want 1", len(msgs))
		}
		m := msgs[0]
		bucket, key, err := decodePointer([]byte(aws.ToString(m.Body)))
		if err != nil {
			t.Fatalf("body %s: %v", showBytes([]byte(aws.ToString(m.Body))), err)
		}
		if a, ok := m.MessageAttributes[offloadSizeHeader]; !ok || aws.ToString(a.StringValue) != strconv.Itoa(len(value)) {
			t.Errorf("attribute %s: %+v, want %d", offloadSizeHeader, a, len(value))
		}
		// The Java extended client's receipt handle carries the pointer.
		if h := aws.ToString(m.ReceiptHandle); !strings.Contains(h, "-..s3BucketName..-"+bucket+"-..s3BucketName..-") ||
			!strings.Contains(h, "-..s3Key..-"+key+"-..s3Key..-") {
			t.Errorf("receipt handle %q does not carry %s/%s the Java way", h, bucket, key)
		}
		obj, err := s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		if !bytes.Equal(got, value) {
			t.Errorf("the object the pointer names holds %d bytes, want the %d-byte record value", len(got), len(value))
		}
	})

	t.Run("sqs-client-pointer-restored-for-kafka", func(t *testing.T) {
		sq := sdkSQS(k)
		url := createSQSQueue(t, sq, "pointer-queue", nil, nil)
		value := randomBytes(3 << 20)
		if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("client-bucket")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("client-bucket"), Key: aws.String("payload-1"), Body: bytes.NewReader(value)}); err != nil {
			t.Fatal(err)
		}
		ptr, _ := json.Marshal([]any{pointerClass, map[string]string{"s3BucketName": "client-bucket", "s3Key": "payload-1"}})
		if _, err := sq.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(string(ptr)),
			MessageAttributes: map[string]sqstypes.MessageAttributeValue{
				offloadSizeHeader: {DataType: aws.String("Number"), StringValue: aws.String(strconv.Itoa(len(value)))},
			}}); err != nil {
			t.Fatal(err)
		}
		got := franzConsume(t, k, "pointer-queue", 1, largeClientOpts()...)
		if len(got) != 1 || !bytes.Equal(got[0].Value, value) {
			t.Errorf("Kafka consumer got %d records (first %d bytes), want the 3 MiB payload the SQS client's pointer names", len(got), len(got[0].Value))
		}
	})
}
