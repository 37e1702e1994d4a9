package itest

// The S3 sink of connect_connectors_test.go, into gofakes3 and into the
// bridge's S3, plus the SQS helpers of its SQS cases.

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/twmb/franz-go/pkg/kgo"
)

type sqsCreateQueueInput = awssqs.CreateQueueInput

func sqsQueueURL(t *testing.T, sc *awssqs.Client, name string) string {
	t.Helper()
	out, err := sc.GetQueueUrl(ctxFor(t), &awssqs.GetQueueUrlInput{QueueName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.QueueUrl)
}

// sqsQueueDepth is how many messages the queue holds, visible or not.
func sqsQueueDepth(ctx context.Context, sc *awssqs.Client, url string) (int, error) {
	out, err := sc.GetQueueAttributes(ctx, &awssqs.GetQueueAttributesInput{QueueUrl: aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
			sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible}})
	if err != nil {
		return 0, err
	}
	total := 0
	for _, k := range []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameApproximateNumberOfMessages,
		sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible} {
		n, err := strconv.Atoi(out.Attributes[string(k)])
		if err != nil {
			return 0, fmt.Errorf("%s %q: %v", k, out.Attributes[string(k)], err)
		}
		total += n
	}
	return total, nil
}

// s3Cases write a topic with S3SinkConnector (flush.size 4, JSON lines,
// plain and gzip) into gofakes3 and into the bridge, and read the objects
// back with aws-sdk-go-v2: Confluent's names, one JSON line per record.
func connectS3Cases(t *testing.T, cb connectBridge, awsURL string) {
	gofakes3 := "http://" + startBenchChild(t, "gofakes3-server")
	for _, c := range []struct {
		name, endpoint, compression string
	}{
		{"S3Gofakes3", gofakes3, "none"},
		{"S3Gofakes3Gzip", gofakes3, "gzip"},
		{"S3Bridge", awsURL, "none"},
		{"S3BridgeGzip", awsURL, "gzip"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			topic, bucket := "s3-"+strings.ToLower(c.name), "e2e-"+strings.ToLower(c.name)
			s3c := s3ClientAt(c.endpoint)
			ctx := ctxFor(t)
			if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
				t.Fatal(err)
			}
			createTopic(t, cb.kafka, topic, 1)
			var recs []*kgo.Record
			for i := range 8 {
				recs = append(recs, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, `{"id":%d,"name":"n%d"}`, i, i)})
			}
			produceAll(t, cb.kafka, recs)
			config := awsSettings(c.endpoint)
			for k, v := range map[string]any{
				"connector.class":                "io.streambridge.connect.s3.S3SinkConnector",
				"topics":                         topic,
				"s3.bucket.name":                 bucket,
				"flush.size":                     "4",
				"compression":                    c.compression,
				"value.converter":                "org.apache.kafka.connect.json.JsonConverter",
				"value.converter.schemas.enable": "false",
			} {
				config[k] = v
			}
			createConnector(t, cb, strings.ToLower(c.name), config)

			ext := ".json"
			if c.compression == "gzip" {
				ext += ".gz"
			}
			want := []string{
				fmt.Sprintf("topics/%s/partition=0/%s+0+0000000000%s", topic, topic, ext),
				fmt.Sprintf("topics/%s/partition=0/%s+0+0000000004%s", topic, topic, ext),
			}
			var keys []string
			eventually(t, "two objects in "+bucket, func() error {
				out, err := s3c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
				if err != nil {
					return err
				}
				keys = keys[:0]
				for _, o := range out.Contents {
					keys = append(keys, aws.ToString(o.Key))
				}
				if len(keys) < len(want) {
					return fmt.Errorf("objects %q", keys)
				}
				return nil
			})
			slices.Sort(keys)
			if !slices.Equal(keys, want) {
				t.Fatalf("objects %q, want %q", keys, want)
			}
			var lines []string
			for _, key := range keys {
				obj, err := s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(obj.Body)
				obj.Body.Close()
				if err != nil {
					t.Fatal(err)
				}
				if c.compression == "gzip" {
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatalf("%s: %v", key, err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatalf("%s: %v", key, err)
					}
				}
				lines = append(lines, strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")...)
			}
			if len(lines) != len(recs) {
				t.Fatalf("%d lines, want %d: %q", len(lines), len(recs), lines)
			}
			for i, r := range recs {
				var got, want any
				if err := json.Unmarshal([]byte(lines[i]), &got); err != nil {
					t.Fatalf("line %d %q: %v", i, lines[i], err)
				}
				_ = json.Unmarshal(r.Value, &want)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("line %d is %s, want %s", i, lines[i], r.Value)
				}
			}
		})
	}
}
