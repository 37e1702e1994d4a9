package sqs

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	awssqs "github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/streambridge/bridge/mapping/offload"
)

// TestSourceDeletesS3PayloadsAfterCommit: an extended client's pointer
// message (object written first, then the pointer sent with
// ExtendedPayloadSize, as the Java and Python clients do) becomes a record
// holding the payload byte for byte; the object is left alone until the
// message is deleted at Commit, and deleted then unless
// sqs.delete.s3.payloads=false, or the pointer was copied as it is.
func TestSourceDeletesS3PayloadsAfterCommit(t *testing.T) {
	for _, tc := range []struct {
		name          string
		resolve       string
		deletePayload string
		wantPayload   bool // the record holds the payload, not the pointer
		wantObject    bool // the object is there after Commit
	}{
		{"resolve and delete", "true", "true", true, false},
		{"resolve and keep", "true", "false", true, true},
		{"pointer kept", "false", "true", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBridge(t)
			ctx := t.Context()
			if _, err := b.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("ext-payloads")}); err != nil {
				t.Fatal(err)
			}
			// 300 KiB with every byte value: over SQS's old 256 KiB limit.
			payload := bytes.Repeat([]byte("0123456789abcdef-\u00e9"), 300<<10/18)
			key := "9c2e1b7e-5f0a-4f51-9d1f-2a7f0c3b8e11"
			if _, err := b.s3.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("ext-payloads"), Key: aws.String(key), Body: bytes.NewReader(payload)}); err != nil {
				t.Fatal(err)
			}
			url := b.createQueue(t, "extended", map[string]string{"VisibilityTimeout": "30"})
			pointer := string(offload.Encode(offload.Pointer{Bucket: "ext-payloads", Key: key}))
			if _, err := b.sqs.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(pointer),
				MessageAttributes: map[string]sqstypes.MessageAttributeValue{
					offload.AttrPayloadSize: {DataType: aws.String("Number"), StringValue: aws.String(fmt.Sprint(len(payload)))}}}); err != nil {
				t.Fatal(err)
			}
			task := startSource(t, b, b.config(QueueURL, url, Topic, "t", WaitTimeSeconds, "0",
				ResolveS3Pointers, tc.resolve, DeleteS3Payloads, tc.deletePayload))
			recs := pollN(t, task, 1)
			if len(recs) != 1 {
				t.Fatalf("%d records, want 1", len(recs))
			}
			want := pointer
			if tc.wantPayload {
				want = string(payload)
			}
			if got := recs[0].Value.(string); got != want {
				t.Fatalf("record value: %d bytes (%.40q...), want %d bytes (%.40q...)", len(got), got, len(want), want)
			}
			if !b.hasObject(t, "ext-payloads", key, payload) {
				t.Fatal("the object went before the message was committed")
			}
			if err := task.Commit(ctx); err != nil { // nothing acknowledged yet
				t.Fatal(err)
			}
			if !b.hasObject(t, "ext-payloads", key, payload) {
				t.Fatal("the object went with a Commit that deleted no message")
			}
			if err := task.CommitRecord(ctx, recs[0]); err != nil {
				t.Fatal(err)
			}
			if err := task.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			b.clock.Add(time.Hour)
			if left := b.receiveAll(t, url); len(left) != 0 {
				t.Fatalf("message left after Commit: %.60q", left)
			}
			if got := b.hasObject(t, "ext-payloads", key, payload); got != tc.wantObject {
				t.Fatalf("object there after Commit: %v, want %v", got, tc.wantObject)
			}
		})
	}
}

// TestSourceRetriesFailedPayloadDeletes: a DeleteObject that fails (S3
// answers AccessDenied) leaves the message deleted and the object for the next
// Commit, which deletes it.
func TestSourceRetriesFailedPayloadDeletes(t *testing.T) {
	b := startBridge(t)
	ctx := t.Context()
	if _, err := b.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("ext")}); err != nil {
		t.Fatal(err)
	}
	payload := []byte(strings.Repeat("x", 1000))
	if _, err := b.s3.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("ext"), Key: aws.String("k"), Body: bytes.NewReader(payload)}); err != nil {
		t.Fatal(err)
	}
	url := b.createQueue(t, "q", nil)
	if _, err := b.sqs.SendMessage(ctx, &awssqs.SendMessageInput{QueueUrl: aws.String(url),
		MessageBody: aws.String(string(offload.Encode(offload.Pointer{Bucket: "ext", Key: "k"}))),
		MessageAttributes: map[string]sqstypes.MessageAttributeValue{
			offload.AttrPayloadSize: {DataType: aws.String("Number"), StringValue: aws.String("1000")}}}); err != nil {
		t.Fatal(err)
	}
	task := startSource(t, b, b.config(QueueURL, url, Topic, "t", WaitTimeSeconds, "0"))
	recs := pollN(t, task, 1)
	if len(recs) != 1 || recs[0].Value.(string) != string(payload) {
		t.Fatalf("records %d", len(recs))
	}
	b.setWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if r.Method == http.MethodDelete {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>")
			return
		}
		next.ServeHTTP(w, r)
	})
	_ = task.CommitRecord(ctx, recs[0])
	if err := task.Commit(ctx); err == nil {
		t.Fatal("Commit reported no error for a failed DeleteObject")
	}
	if !b.hasObject(t, "ext", "k", payload) {
		t.Fatal("object gone while S3 refused deletes")
	}
	b.setWrap(nil)
	if err := task.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if b.hasObject(t, "ext", "k", payload) {
		t.Fatal("object still there after the second Commit")
	}
	b.clock.Add(time.Hour)
	if left := b.receiveAll(t, url); len(left) != 0 {
		t.Fatalf("message left: %d", len(left))
	}
}

// hasObject reports whether bucket/key holds want (it fails the test when
// it holds anything else).
func (b *bridge) hasObject(t *testing.T, bucket, key string, want []byte) bool {
	t.Helper()
	out, err := b.s3.GetObject(t.Context(), &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		if strings.Contains(err.Error(), "NoSuchKey") {
			return false
		}
		t.Fatal(err)
	}
	defer out.Body.Close()
	got, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("s3://%s/%s holds %d other bytes", bucket, key, len(got))
	}
	return true
}
