package sqs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/streambridge/bridge/mapping/offload"
)

// maxUndeleted bounds the objects whose deletion failed that a task keeps
// trying again: past it the oldest are given up on (and logged), so an S3
// that refuses every DeleteObject does not grow the task without end.
const maxUndeleted = 10000

// deletePayloadObjects deletes the objects of resolved pointer messages
// that were just deleted, and those an earlier Commit failed to delete, as
// the Java extended client deletes a message's object after the message
// (cleanupS3Payload). The message goes first: a crash between the two
// leaves an object behind, never a message whose object is gone. An object
// already gone counts as deleted (S3's DeleteObject answers 204 for a
// missing key).
func (t *SourceTask) deletePayloadObjects(ctx context.Context, deleted []offload.Pointer) error {
	t.mu.Lock()
	todo := append(t.undeleted, deleted...)
	t.undeleted = nil
	t.mu.Unlock()
	var failed []offload.Pointer
	var errs []error
	for _, p := range todo {
		_, err := t.s3.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(p.Bucket), Key: aws.String(p.Key)})
		if err != nil {
			failed = append(failed, p)
			errs = append(errs, fmt.Errorf("DeleteObject s3://%s/%s: %w", p.Bucket, p.Key, err))
		}
	}
	if n := len(failed) - maxUndeleted; n > 0 {
		slog.Warn("sqs source: giving up deleting payload objects of deleted messages", "objects", n, "first", failed[0].Bucket+"/"+failed[0].Key)
		failed = failed[n:]
	}
	t.mu.Lock()
	t.undeleted = append(failed, t.undeleted...)
	t.mu.Unlock()
	return errors.Join(errs...)
}
