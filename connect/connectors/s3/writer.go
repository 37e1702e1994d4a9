package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/streambridge/bridge/connect"
)

// partitionWriter holds one Kafka partition's open rotation: the files its
// records went to since the last finished rotation.
type partitionWriter struct {
	tp connect.TopicPartition
	// next is the offset after the last record handled (written, skipped
	// or reported); -1 before the first. Records below it are replays and
	// are dropped.
	next int64
	// start is the open rotation's first offset, -1 when none is open.
	start int64
	files map[string]*file // by encoded partition
	count int
	// base is the record time of the rotation's first record
	// (rotate.interval.ms); scheduled the wall-clock time it is finished
	// at (rotate.schedule.interval.ms).
	base, scheduled time.Time
	// mustRotate is set when the rotation is due but finishing it failed:
	// it is finished before anything else.
	mustRotate bool
}

func newPartitionWriter(tp connect.TopicPartition) *partitionWriter {
	return &partitionWriter{tp: tp, next: -1, start: -1, files: map[string]*file{}}
}

// file is one object being written: compressed bytes not yet uploaded, and
// the multipart upload that took the earlier ones.
type file struct {
	key      string
	start    int64
	out      bytes.Buffer
	gz       *gzip.Writer // nil without compression
	size     int64        // bytes written before compression
	uploadID string
	parts    []s3types.CompletedPart
	done     bool
}

func (f *file) write(b []byte) {
	f.size += int64(len(b))
	if f.gz != nil {
		f.gz.Write(b) // into a bytes.Buffer: cannot fail
		return
	}
	f.out.Write(b)
}

// uploader writes files to the bucket.
type uploader struct {
	client   *awss3.Client
	bucket   string
	partSize int
}

// metadata is what every object of a rotation carries: the rotation's first
// offset, which Open rewinds to.
func metadata(rotationStart int64) map[string]string {
	return map[string]string{metaRotationStart: strconv.FormatInt(rotationStart, 10)}
}

// flushParts uploads whole parts while the file holds more than a part.
func (u *uploader) flushParts(ctx context.Context, f *file, rotationStart int64) error {
	for f.out.Len() >= u.partSize {
		if err := u.uploadPart(ctx, f, rotationStart, f.out.Bytes()[:u.partSize]); err != nil {
			return err
		}
		f.out.Next(u.partSize)
	}
	return nil
}

func (u *uploader) uploadPart(ctx context.Context, f *file, rotationStart int64, b []byte) error {
	if f.uploadID == "" {
		out, err := u.client.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{
			Bucket: aws.String(u.bucket), Key: aws.String(f.key), Metadata: metadata(rotationStart)})
		if err != nil {
			return fmt.Errorf("CreateMultipartUpload s3://%s/%s: %w", u.bucket, f.key, err)
		}
		f.uploadID = aws.ToString(out.UploadId)
	}
	n := int32(len(f.parts) + 1)
	out, err := u.client.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(u.bucket), Key: aws.String(f.key),
		UploadId: aws.String(f.uploadID), PartNumber: aws.Int32(n), Body: bytes.NewReader(b), ContentLength: aws.Int64(int64(len(b)))})
	if err != nil {
		return fmt.Errorf("UploadPart %d of s3://%s/%s: %w", n, u.bucket, f.key, err)
	}
	f.parts = append(f.parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
	return nil
}

// finish makes the file an object: one PutObject, or the last part and
// CompleteMultipartUpload. A failed finish may be called again.
func (u *uploader) finish(ctx context.Context, f *file, rotationStart int64) error {
	if f.done {
		return nil
	}
	if f.gz != nil {
		if err := f.gz.Close(); err != nil {
			return err
		}
	}
	if f.uploadID == "" {
		body := f.out.Bytes()
		if _, err := u.client.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(u.bucket), Key: aws.String(f.key),
			Body: bytes.NewReader(body), ContentLength: aws.Int64(int64(len(body))), Metadata: metadata(rotationStart)}); err != nil {
			return fmt.Errorf("PutObject s3://%s/%s: %w", u.bucket, f.key, err)
		}
		f.done = true
		return nil
	}
	if f.out.Len() > 0 {
		if err := u.uploadPart(ctx, f, rotationStart, f.out.Bytes()); err != nil {
			return err
		}
		f.out.Reset()
	}
	if _, err := u.client.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(u.bucket), Key: aws.String(f.key),
		UploadId: aws.String(f.uploadID), MultipartUpload: &s3types.CompletedMultipartUpload{Parts: f.parts}}); err != nil {
		return fmt.Errorf("CompleteMultipartUpload s3://%s/%s: %w", u.bucket, f.key, err)
	}
	f.done = true
	return nil
}

// abort drops an unfinished multipart upload, so no parts linger.
func (u *uploader) abort(ctx context.Context, f *file) {
	if f.uploadID != "" && !f.done {
		_, _ = u.client.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(u.bucket), Key: aws.String(f.key), UploadId: aws.String(f.uploadID)})
	}
}

// rotate finishes every file of w's open rotation, in start offset order.
func (u *uploader) rotate(ctx context.Context, w *partitionWriter) error {
	w.mustRotate = true
	files := make([]*file, 0, len(w.files))
	for _, f := range w.files {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b *file) int { return int(a.start - b.start) })
	for _, f := range files {
		if err := u.finish(ctx, f, w.start); err != nil {
			return err
		}
	}
	w.files = map[string]*file{}
	w.start, w.count, w.mustRotate = -1, 0, false
	w.base, w.scheduled = time.Time{}, time.Time{}
	return nil
}

// lastRotationStart lists the partition's objects and returns the first
// offset of the newest rotation that has an object, from that object's
// metadata (its own start offset when it has none); ok is false when the
// partition has no object.
func (u *uploader) lastRotationStart(ctx context.Context, prefix, topic string, partition int32) (int64, bool, error) {
	var best string
	bestStart := int64(-1)
	p := awss3.NewListObjectsV2Paginator(u.client, &awss3.ListObjectsV2Input{Bucket: aws.String(u.bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, false, fmt.Errorf("ListObjectsV2 s3://%s/%s: %w", u.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if part, start, ok := parseObjectName(key, topic); ok && part == partition && start > bestStart {
				best, bestStart = key, start
			}
		}
	}
	if bestStart < 0 {
		return 0, false, nil
	}
	head, err := u.client.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(u.bucket), Key: aws.String(best)})
	if err != nil {
		return 0, false, fmt.Errorf("HeadObject s3://%s/%s: %w", u.bucket, best, err)
	}
	for k, v := range head.Metadata {
		if equalFold(k, metaRotationStart) {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 && n <= bestStart {
				return n, true, nil
			}
		}
	}
	// An object another writer made: its start is the best guess.
	return bestStart, true, nil
}

func equalFold(a, b string) bool { return len(a) == len(b) && bytes.EqualFold([]byte(a), []byte(b)) }
